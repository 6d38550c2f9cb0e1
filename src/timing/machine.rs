//! What this machine can do: cores, SIMD, caches, memory bandwidth and peak
//! FLOP/s — measured, because what the operating system reports can be wrong
//! (a VM's sysfs may report the host's whole last-level cache).
//!
//! ```no_run
//! use parlab::timing::Machine;
//! let m = Machine::probe_quick()?; // a second or two, at most 192 MiB
//! println!("{m}");
//! m.save("machine.json")?;
//! let again = Machine::load("machine.json")?;
//! assert_eq!(again.cpu_model, m.cpu_model);
//! # Ok::<(), parlab::Error>(())
//! ```
//!
//! Keep the returned value in a variable (or a file): statics do not survive
//! from one evcxr cell to the next.
//!
//! # How it measures
//! - **Working-set sweep**: a read-only sum over 4 KiB, 8 KiB, … up to the
//!   probe's memory budget, on one thread and on all of them. The bandwidth
//!   falls at each cache boundary; where it stops falling (the last sizes
//!   agree within 20 %) the data comes from memory. That *plateau* — not the
//!   cache size sysfs reports — decides which arrays are "larger than the
//!   caches": [`Machine::memory_from_bytes`]. The sweep also gives a read
//!   ceiling per cache level ([`Ceiling`]) for rooflines.
//! - **Memory bandwidth** on arrays in that plateau, one contiguous chunk per
//!   thread: a read-only sum, and STREAM's copy (`a = b`), add (`a = b + c`)
//!   and triad (`a = b + s·c`) each with **ordinary** and with **streaming**
//!   (non-temporal) stores. Bytes are counted as STREAM counts them (each
//!   array read or written once); an ordinary store also reads the line it
//!   writes (write-allocate), which is why its add shows fewer GB/s than the
//!   streaming add: the physical limit of an add is the faster of the two
//!   ([`Machine::bandwidth`]).
//! - **Peak FLOP/s**: fused multiply-adds on independent register accumulators
//!   (12, more than FMA latency × FMA ports), using the widest instructions the
//!   CPU has, chosen at run time (AVX-512, AVX2+FMA, SSE2, scalar), so the figure
//!   is the hardware's even in a notebook build without `target-cpu=native`.
//!
//! The probe then tells the kernels what it found (unless
//! [`ProbeConfig::apply`] is false): the working-set size from which they use
//! streaming stores, and the vector width of the read-bound loops (SSE2 or the
//! widest, whichever read faster from memory); see [`crate::kernels::stores`].

use crate::error::{Error, ErrorKind, Result};
use crate::kernels::stores;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::Instant;

/// Version of the saved [`Machine`] format.
pub const MACHINE_FORMAT_VERSION: u32 = 3;

/// One decision of the probe and the evidence for it: the default is kept
/// unless the alternative was faster by more than [`CLEAR_MARGIN`] in the
/// median of interleaved rounds (more rounds when the first ones were too
/// close to call).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// `"cache"`, `"L3"` or `"memory"`.
    pub regime: String,
    /// `"read width"` or `"stores"`.
    pub what: String,
    /// What was chosen (`"avx512"`, `"streaming"` …).
    pub choice: String,
    /// What it was measured against (`"sse2"`, `"ordinary"`); empty when
    /// nothing was measured (the regime was out of the probe's reach).
    pub alternative: String,
    /// Bytes of the working set measured.
    pub working_set: usize,
    /// Interleaved rounds.
    pub rounds: usize,
    /// Rounds in which the alternative was faster by more than the margin.
    pub alternative_won: usize,
    /// Median over the rounds of (default's time / alternative's time):
    /// above 1, the alternative was faster.
    pub median_ratio: Option<f64>,
}

impl Decision {
    fn untested(regime: &str, what: &str, choice: &str) -> Decision {
        Decision {
            regime: regime.into(),
            what: what.into(),
            choice: choice.into(),
            alternative: String::new(),
            working_set: 0,
            rounds: 0,
            alternative_won: 0,
            median_ratio: None,
        }
    }
}

/// How much faster an alternative must be, in the median of the interleaved
/// rounds, to replace the default. Measured on the Zen 4 VM (2026-12-07):
/// one thread's reads from memory ran 1.09–1.21× faster with SSE2 than with
/// AVX-512 in the medians of twelve batches of five rounds on a quiet
/// machine, 0.82–1.39× while other builds ran, and 1.00–1.12× in two probes
/// of one CI run seconds apart; per-round ratios scattered by ±50 %. A
/// margin inside that scatter (10 % was tried) made five probes in a row
/// disagree. Where the gain is that small and that unsteady, keeping the
/// default costs little; where a choice matters (twice as fast in cache,
/// 1.3–1.6× for streaming stores) it is far past the margin.
pub const CLEAR_MARGIN: f64 = 1.25;

/// One point of the working-set sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Bytes read by all threads together (each thread its own part).
    pub bytes: usize,
    /// Read bandwidth, 10⁹ bytes per second.
    pub read: f64,
}

/// The read bandwidth of one level of the memory hierarchy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ceiling {
    /// `"L1"`, `"L2"`, `"L3"` … or `"memory"`.
    pub level: String,
    /// The cache's size as the operating system reports it (`None` for memory).
    pub cache_bytes: Option<usize>,
    /// Working set (all threads) at which the figure was measured.
    pub working_set: usize,
    /// Read bandwidth, 10⁹ bytes per second.
    pub read: f64,
}

/// Bandwidths for one thread count, 10⁹ bytes per second, counted as STREAM
/// counts (every array read once, every array written once; the
/// write-allocate read of an ordinary store is not counted).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamPoint {
    /// Threads of the pool.
    pub threads: usize,
    /// `Σ a[i]`: reads only.
    pub read: f64,
    /// `a[i] = b[i]`, ordinary stores.
    pub copy: f64,
    /// `a[i] = b[i] + c[i]`, ordinary stores.
    pub add: f64,
    /// `a[i] = b[i] + s·c[i]`, ordinary stores.
    pub triad: f64,
    /// `a[i] = b[i]`, streaming stores.
    pub copy_nt: f64,
    /// `a[i] = b[i] + c[i]`, streaming stores.
    pub add_nt: f64,
    /// `a[i] = b[i] + s·c[i]`, streaming stores.
    pub triad_nt: f64,
    /// Read ceilings of the cache levels and of memory, from the sweep.
    pub ceilings: Vec<Ceiling>,
    /// The working-set sweep.
    pub sweep: Vec<SweepPoint>,
}

impl StreamPoint {
    /// The physical limit of an add (or a triad: the same bytes) from memory:
    /// the faster of ordinary and streaming stores.
    pub fn add_limit(&self) -> f64 {
        self.add.max(self.add_nt).max(self.triad).max(self.triad_nt)
    }

    /// The read ceiling of a level (`"L1"`, `"L2"`, `"L3"`, `"memory"`).
    pub fn ceiling(&self, level: &str) -> Option<f64> {
        self.ceilings
            .iter()
            .find(|c| c.level == level)
            .map(|c| c.read)
    }
}

/// Peak floating-point rates for one thread count, 10⁹ operations per second
/// (a fused multiply-add counts as 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakPoint {
    /// Threads of the pool.
    pub threads: usize,
    /// Single precision.
    pub f32: f64,
    /// Double precision.
    pub f64: f64,
}

/// Floating-point precision, to look up a peak rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// `f32`.
    F32,
    /// `f64`.
    F64,
}

/// A data or unified cache of CPU 0, as the operating system reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheInfo {
    /// 1, 2, 3 …
    pub level: u8,
    /// Size in bytes.
    pub bytes: usize,
    /// How many logical CPUs share it.
    pub shared_by: usize,
}

/// How long and how hard to probe.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Memory the probe may use, bytes: the sweep goes up to the largest
    /// power of two within it, the three STREAM arrays share it.
    pub max_bytes: usize,
    /// Timed repetitions of each measurement (the best counts, as in STREAM).
    pub stream_reps: usize,
    /// Seconds of FMA work per peak measurement (multiplied by
    /// [`time_scale`](crate::timing::time_scale)).
    pub peak_seconds: f64,
    /// Thread counts to measure (empty: 1, 2, 4, … up to all hardware threads,
    /// and all of them).
    pub threads: Vec<usize>,
    /// Tell the kernels what was measured (streaming threshold, read width).
    pub apply: bool,
}

impl Default for ProbeConfig {
    /// What [`Machine::probe`] uses: 512 MiB, 3 repetitions, 40 ms per peak
    /// measurement, every default thread count: ≈ 2–4 s.
    fn default() -> Self {
        ProbeConfig {
            max_bytes: 512 << 20,
            stream_reps: 3,
            peak_seconds: 0.04,
            threads: Vec::new(),
            apply: true,
        }
    }
}

impl ProbeConfig {
    /// The smallest probe — 64 KiB, one repetition, 0.1 ms per peak
    /// measurement, one thread, nothing passed on to the kernels — for tests
    /// and examples that need a [`Machine`] to draw or print, not its figures.
    pub fn tiny() -> ProbeConfig {
        ProbeConfig {
            max_bytes: 1 << 16,
            stream_reps: 1,
            peak_seconds: 1e-4,
            threads: vec![1],
            apply: false,
        }
    }

    /// What [`Machine::probe_quick`] uses: 192 MiB, 2 repetitions, 10 ms per
    /// peak measurement, one thread and all of them.
    pub fn quick() -> ProbeConfig {
        let hw = crate::par::available_threads();
        ProbeConfig {
            max_bytes: 192 << 20,
            stream_reps: 2,
            peak_seconds: 0.01,
            threads: if hw > 1 { vec![1, hw] } else { vec![1] },
            apply: true,
        }
    }
}

/// The machine's description and measured limits. Serializable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// Format version of the saved file ([`MACHINE_FORMAT_VERSION`]).
    pub format_version: u32,
    /// CPU model from `/proc/cpuinfo` (or the architecture name when unavailable).
    pub cpu_model: String,
    /// Hardware threads available to this process.
    pub threads: usize,
    /// SIMD extensions detected at run time, e.g. `["sse2", "avx2", "fma", "avx512f"]`.
    pub simd: Vec<String>,
    /// Instruction set used for the peak measurement.
    pub peak_isa: String,
    /// Data and unified caches of CPU 0 as the operating system reports them.
    pub caches: Vec<CacheInfo>,
    /// Size of the last-level cache read from sysfs, bytes (`None` when unknown).
    pub llc_bytes: Option<usize>,
    /// Working set (bytes, all arrays together) from which reads come from
    /// memory: where the one-thread sweep reached its plateau, or the largest
    /// size swept when it did not ([`plateau_found`](Machine::plateau_found)).
    pub memory_from_bytes: usize,
    /// Whether the sweep's last sizes agreed, i.e. memory was really reached.
    pub plateau_found: bool,
    /// Working set from which a call is past one core's private caches (the
    /// L2 size the operating system reports).
    pub l3_from_bytes: usize,
    /// Working set from which the kernels use streaming stores: where memory
    /// starts, unless ordinary stores measured clearly faster there
    /// ([`NEVER`]).
    pub streaming_threshold: usize,
    /// Vector width of the memory-bound loops in the private caches
    /// (`"sse2"`, `"avx2"`, `"avx512"`).
    pub cache_simd: String,
    /// Vector width of the memory-bound loops in the last-level cache.
    pub l3_simd: String,
    /// Vector width of the memory-bound loops from memory.
    pub memory_simd: String,
    /// How each decision was reached.
    pub decisions: Vec<Decision>,
    /// Bytes per STREAM array.
    pub array_bytes: usize,
    /// Bandwidth for each measured thread count.
    pub stream: Vec<StreamPoint>,
    /// Peak FLOP/s for each measured thread count.
    pub peak: Vec<PeakPoint>,
    /// Wall time the probe took, seconds.
    pub probe_seconds: f64,
    /// When the probe ran, seconds since the Unix epoch.
    pub probed_at_unix: u64,
}

impl Machine {
    /// Probes with the default [`ProbeConfig`] (≈ 2–4 s, at most 512 MiB).
    ///
    /// # Errors
    /// [`ErrorKind::Threads`] when a pool cannot be built;
    /// [`ErrorKind::InvalidInput`] as [`probe_with`](Machine::probe_with).
    pub fn probe() -> Result<Machine> {
        Machine::probe_with(&ProbeConfig::default())
    }

    /// A rougher probe for the start of a notebook: [`ProbeConfig::quick`]
    /// (a second or two, at most 192 MiB).
    ///
    /// # Errors
    /// As [`Machine::probe`].
    pub fn probe_quick() -> Result<Machine> {
        Machine::probe_with(&ProbeConfig::quick())
    }

    /// Probes with explicit settings.
    ///
    /// # Errors
    /// As [`Machine::probe`]; [`ErrorKind::InvalidInput`] for a budget under
    /// 64 KiB, 0 repetitions or a thread count of 0.
    pub fn probe_with(cfg: &ProbeConfig) -> Result<Machine> {
        if cfg.max_bytes < (64 << 10) || cfg.stream_reps == 0 || cfg.threads.contains(&0) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "probe needs at least 64 KiB, 1 repetition and threads ≥ 1, got {} bytes, {} repetitions and threads {:?}",
                    cfg.max_bytes, cfg.stream_reps, cfg.threads
                ),
            ));
        }
        let start = Instant::now();
        let hw = crate::par::available_threads();
        let threads = if cfg.threads.is_empty() {
            default_thread_counts(hw)
        } else {
            cfg.threads.clone()
        };
        let isa = Isa::detect();
        let caches = caches();
        let llc = caches.iter().map(|c| c.bytes).max();
        // On huge pages where the system allows, as numpy's arrays and parlab::mem's.
        let mut buf = crate::mem::zeros::<f64, _>(cfg.max_bytes / 8)
            .into_raw_vec_and_offset()
            .0;
        {
            // Touch every page first, from all threads, so no timed run pays
            // page faults.
            let all = crate::par::pool(*threads.iter().max().unwrap_or(&1))?;
            let ch = buf.len().div_ceil(all.current_num_threads()).max(1);
            all.install(|| {
                buf.par_chunks_mut(ch).for_each(|x| {
                    x.iter_mut()
                        .enumerate()
                        .for_each(|(i, v)| *v = (i % 7) as f64)
                })
            });
        }
        let largest = prev_power_of_two(buf.len() * 8);
        let wide = crate::kernels::simd_level();
        let defaults = stores::Tuning::default_for_this_cpu();
        // Rounds of every comparison, interleaved; odd, at least 5.
        let rounds = (2 * cfg.stream_reps + 1).max(5);
        let mut stream = Vec::new();
        let mut peak = Vec::new();
        let mut memory_from = largest;
        let mut plateau_found = false;
        let iters32 = calibrate_fma(isa, Precision::F32, cfg.peak_seconds);
        let iters64 = calibrate_fma(isa, Precision::F64, cfg.peak_seconds);
        let mut sweeps = Vec::new();
        for &t in &threads {
            let pool = crate::par::pool(t)?;
            // Cache levels are measured with the widest loads.
            let mut sweep = sweep(&pool, t, &buf, largest, wide, rounds);
            let (mut from, mut found) = plateau(&sweep, defaults.l3_from);
            // Other guests sharing the last-level cache can only make reads
            // reach memory sooner, never later: a plateau below the cache the
            // system reports may be their doing (or the truth, as on a VM
            // shown the host's whole L3). Sweep again and keep each size's
            // best of both sweeps, so one disturbed sweep does not decide.
            if t == threads[0] && from < llc.unwrap_or(usize::MAX) {
                let again = self::sweep(&pool, t, &buf, largest, wide, rounds);
                for (p, q) in sweep.iter_mut().zip(&again) {
                    p.read = p.read.max(q.read);
                }
                (from, found) = plateau(&sweep, defaults.l3_from);
            }
            if t == threads[0] {
                memory_from = from;
                plateau_found = found;
            }
            sweeps.push((t, sweep, from));
        }
        // The decisions, each keeping its default unless the alternative won
        // clearly in the median of interleaved rounds.
        let mut tuning = defaults;
        tuning.memory_from = if plateau_found {
            memory_from
        } else {
            defaults.memory_from.max(largest)
        };
        tuning.l3_from = defaults.l3_from.min(tuning.memory_from);
        tuning.streaming_from = if defaults.streaming_from >= NEVER {
            NEVER
        } else {
            tuning.memory_from
        };
        let mut decisions = Vec::new();
        let pool1 = crate::par::pool(1)?;
        for regime in stores::Regime::ALL {
            let bytes = match regime {
                stores::Regime::Cache => (tuning.l3_from / 2).max(16 << 10),
                stores::Regime::L3 => prev_power_of_two(
                    ((tuning.l3_from as f64) * (tuning.memory_from as f64)).sqrt() as usize,
                ),
                // From memory, but no larger than it takes: twice where
                // memory starts (the full probe's buffer is 4× that).
                stores::Regime::Memory => largest.min(2 * tuning.memory_from),
            };
            if wide == 0 || tuning.regime(bytes) != regime || bytes > largest {
                decisions.push(Decision::untested(
                    regime.name(),
                    "read width",
                    stores::simd_level_name(tuning.simd(regime)),
                ));
                continue;
            }
            let x = &buf[..bytes / 8];
            let passes = ((16usize << 20) / bytes).max(1);
            let v = compare(DECISION_ROUNDS, |k| {
                let level = if k == 0 { wide } else { 0 };
                let t = Instant::now();
                pool1.install(|| {
                    for _ in 0..passes {
                        black_box(read_par(black_box(x), level));
                    }
                });
                t.elapsed().as_secs_f64()
            });
            tuning.read_simd[regime as usize] = if v.switch { 0 } else { wide };
            decisions.push(Decision {
                regime: regime.name().into(),
                what: "read width".into(),
                choice: stores::simd_level_name(tuning.simd(regime)).into(),
                alternative: "sse2".into(),
                working_set: bytes,
                rounds: v.rounds,
                alternative_won: v.wins,
                median_ratio: Some(v.median),
            });
        }
        // Streaming stores, measured with the kernels' own loops on arrays as
        // large as the budget allows, on all the threads measured (where the
        // bus is busiest).
        let array_elems = (buf.len() / 3).max(1);
        // The decision's arrays: from memory, no larger than it takes.
        let decision_elems = array_elems.min(tuning.memory_from / 8).max(1);
        let add_bytes = decision_elems * 24;
        if tuning.streaming_from < NEVER && add_bytes >= tuning.memory_from {
            let pools = [crate::par::pool(*threads.iter().max().unwrap_or(&1))?];
            let level = tuning.simd(stores::Regime::Memory);
            let (x, rest) = buf.split_at_mut(decision_elems);
            let (y, rest) = rest.split_at_mut(decision_elems);
            let out = &mut rest[..decision_elems];
            let v = compare(DECISION_ROUNDS, |k| {
                let m = stores::Mode {
                    level,
                    streaming: k == 0,
                };
                let mut total = 0.0;
                for pool in &pools {
                    let t = Instant::now();
                    pool.install(|| add_par(m, x, y, out));
                    total += t.elapsed().as_secs_f64();
                }
                total
            });
            if v.switch {
                tuning.streaming_from = NEVER;
            }
            decisions.push(Decision {
                regime: "memory".into(),
                what: "stores".into(),
                choice: if tuning.streaming_from < NEVER {
                    "streaming"
                } else {
                    "ordinary"
                }
                .into(),
                alternative: "ordinary".into(),
                working_set: add_bytes,
                rounds: v.rounds,
                alternative_won: v.wins,
                median_ratio: Some(v.median),
            });
        } else {
            decisions.push(Decision::untested(
                "memory",
                "stores",
                if tuning.streaming_from < NEVER {
                    "streaming"
                } else {
                    "ordinary"
                },
            ));
        }
        let memory_level = tuning.simd(stores::Regime::Memory);
        for (t, sweep, from) in sweeps {
            let pool = crate::par::pool(t)?;
            let mut point = stream_point(
                &pool,
                t,
                &mut buf,
                array_elems,
                cfg.stream_reps,
                memory_level,
            );
            point.read = {
                let x = &buf[..array_elems * 3];
                let mut best = f64::INFINITY;
                for _ in 0..=cfg.stream_reps {
                    let s = Instant::now();
                    black_box(pool.install(|| read_par(x, memory_level)));
                    best = best.min(s.elapsed().as_secs_f64());
                }
                (x.len() * 8) as f64 / best / 1e9
            };
            point.ceilings = ceilings(&caches, t, &sweep, from);
            point.sweep = sweep;
            stream.push(point);
            let f32 = peak_gflops(&pool, isa, Precision::F32, iters32);
            let f64 = peak_gflops(&pool, isa, Precision::F64, iters64);
            peak.push(PeakPoint {
                threads: t,
                f32,
                f64,
            });
        }
        drop(buf);
        let m = Machine {
            format_version: MACHINE_FORMAT_VERSION,
            cpu_model: cpu_model(),
            threads: hw,
            simd: simd_features(),
            peak_isa: isa.name().to_string(),
            caches,
            llc_bytes: llc,
            memory_from_bytes: memory_from,
            plateau_found,
            l3_from_bytes: tuning.l3_from,
            streaming_threshold: tuning.streaming_from,
            cache_simd: stores::simd_level_name(tuning.simd(stores::Regime::Cache)).to_string(),
            l3_simd: stores::simd_level_name(tuning.simd(stores::Regime::L3)).to_string(),
            memory_simd: stores::simd_level_name(memory_level).to_string(),
            decisions,
            array_bytes: array_elems * 8,
            stream,
            peak,
            probe_seconds: start.elapsed().as_secs_f64(),
            probed_at_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        };
        if cfg.apply {
            m.apply();
        }
        Ok(m)
    }

    /// Tells the kernels what this probe found: streaming stores from
    /// [`streaming_threshold`](Machine::streaming_threshold) bytes on, and
    /// the read width [`memory_simd`](Machine::memory_simd). The probe does
    /// this itself; call it after [`load`](Machine::load) to use a saved
    /// probe of *this* machine.
    pub fn apply(&self) {
        stores::set_tuning(self.tuning());
    }

    /// The kernels' decisions this probe found (what [`apply`](Machine::apply)
    /// puts in force).
    pub fn tuning(&self) -> stores::Tuning {
        let level = |name: &str| stores::parse_simd_level(name).unwrap_or(2);
        stores::Tuning {
            l3_from: self.l3_from_bytes,
            memory_from: self.memory_from_bytes,
            read_simd: [
                level(&self.cache_simd),
                level(&self.l3_simd),
                level(&self.memory_simd),
            ],
            streaming_from: self.streaming_threshold,
        }
    }

    /// Whether this description (e.g. [`load`](Machine::load)ed from a file)
    /// is of the machine this process runs on: same CPU model, hardware
    /// threads, SIMD extensions and caches.
    pub fn is_this_machine(&self) -> bool {
        self.cpu_model == cpu_model()
            && self.threads == crate::par::available_threads()
            && self.simd == simd_features()
            && self.caches == caches()
    }

    /// A saved probe of this machine, applied, or a new quick probe saved
    /// there — so that a class probes once per machine rather than once per
    /// notebook. The file is re-probed when it is missing, unreadable, of
    /// another format version or of another machine ([`is_this_machine`](Machine::is_this_machine)).
    ///
    /// # Errors
    /// As [`probe_quick`](Machine::probe_quick) and [`save`](Machine::save).
    pub fn load_or_probe(path: impl AsRef<std::path::Path>) -> Result<Machine> {
        let path = path.as_ref();
        if let Ok(m) = Machine::load(path)
            && m.is_this_machine()
        {
            m.apply();
            return Ok(m);
        }
        let m = Machine::probe_quick()?;
        if let Some(dir) = path.parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(|e| {
                Error::new(
                    ErrorKind::Io,
                    format!("cannot create {}: {e}", dir.display()),
                )
            })?;
        }
        m.save(path)?;
        Ok(m)
    }

    /// The physical limit of an add (and of a triad, which moves the same
    /// bytes) on `threads` threads, GB/s counted as STREAM counts: the faster
    /// of ordinary and streaming stores. Measured on the largest count ≤
    /// `threads` (the smallest measured one when `threads` is below all).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the probe measured no bandwidth at all
    /// (a `Machine` built or loaded without it).
    pub fn bandwidth(&self, threads: usize) -> Result<f64> {
        self.stream_point(threads).map(StreamPoint::add_limit)
    }

    /// Read-only bandwidth from memory on `threads` threads (GB/s): the limit
    /// of a sum or a dot product.
    ///
    /// # Errors
    /// As [`bandwidth`](Machine::bandwidth).
    pub fn read_bandwidth(&self, threads: usize) -> Result<f64> {
        self.stream_point(threads).map(|p| p.read)
    }

    /// All figures for `threads` threads (the largest measured count ≤ it).
    ///
    /// # Errors
    /// As [`bandwidth`](Machine::bandwidth).
    pub fn stream_point(&self, threads: usize) -> Result<&StreamPoint> {
        nearest(&self.stream, threads, |p| p.threads).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("this Machine has no bandwidth figures (for {threads} threads or any other): probe it"),
            )
        })
    }

    /// Whether arrays of `bytes` in all come from memory rather than from a
    /// cache, on this machine as measured.
    ///
    /// ```
    /// # let m = parlab::timing::Machine::probe_with(&parlab::timing::machine::ProbeConfig {
    /// #     max_bytes: 1 << 20, stream_reps: 1, peak_seconds: 1e-4, threads: vec![1], apply: false }).unwrap();
    /// assert!(!m.from_memory(1000));
    /// ```
    pub fn from_memory(&self, bytes: usize) -> bool {
        bytes >= self.memory_from_bytes
    }

    /// A sentence about where arrays of `bytes` in all live on this machine,
    /// for notebooks: "12 MiB: in the caches (memory from ≈ 64 MiB here)".
    pub fn describe_working_set(&self, bytes: usize) -> String {
        if !self.plateau_found {
            let place = if self.from_memory(bytes) {
                "at least as large as anything the probe swept"
            } else {
                "within the sizes the probe swept"
            };
            return format!(
                "{}: {place}; reads were still getting slower at {}, so no size was seen to come from memory for sure",
                fmt_bytes(bytes),
                fmt_bytes(self.memory_from_bytes)
            );
        }
        let place = if self.from_memory(bytes) {
            "from memory"
        } else {
            "in the caches"
        };
        format!(
            "{}: {place} (reads come from memory from ≈ {} here)",
            fmt_bytes(bytes),
            fmt_bytes(self.memory_from_bytes)
        )
    }

    /// Peak GFLOP/s on `threads` threads (or the largest measured count below it).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the probe measured no peak at all.
    pub fn peak_gflops(&self, threads: usize, precision: Precision) -> Result<f64> {
        nearest(&self.peak, threads, |p| p.threads)
            .map(|p| match precision {
                Precision::F32 => p.f32,
                Precision::F64 => p.f64,
            })
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!("this Machine has no peak FLOP/s figures (for {threads} threads or any other): probe it"),
                )
            })
    }

    /// Saves as JSON, atomically (a temporary file, then rename).
    ///
    /// # Errors
    /// [`ErrorKind::Io`] naming the path.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::export::save_json(path.as_ref(), self)
    }

    /// Loads a probe saved by [`save`](Machine::save), e.g. one shared by a class.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when the file cannot be read; [`ErrorKind::Format`]
    /// naming the file when it is not valid JSON, not a machine description, or
    /// from another format version.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Machine> {
        crate::export::load_json(path.as_ref(), MACHINE_FORMAT_VERSION)
    }
}

/// A streaming threshold that no call reaches: ordinary stores always.
pub use crate::kernels::stores::NEVER;

/// The verdict of one comparison: the rounds run, the alternative's clear
/// wins among them, the median of default / alternative, and whether to
/// switch.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Verdict {
    rounds: usize,
    wins: usize,
    median: f64,
    switch: bool,
}

/// Interleaved rounds in one batch of a decision's comparison (the full
/// probe takes no more than the quick one: its decisions are the same).
const DECISION_ROUNDS: usize = 5;

/// How many batches of rounds a comparison may take when its median lands
/// between "no faster" and the margin (see [`compare`]).
const MAX_BATCHES: usize = 3;

/// Compares `time(0)` (the default) with `time(1)` (the alternative) in
/// interleaved rounds, each round starting with the other one in turn,
/// after one untimed run of each; in each round each side's time is the best
/// of three, so that one preemption (which slows a short timing by 10× and
/// more on a shared machine) does not decide a round.
///
/// The alternative is chosen when the median over the rounds of default /
/// alternative exceeds [`CLEAR_MARGIN`]. A median between 1 and twice the
/// margin's distance from 1 is too close to call from one batch: another
/// batch of `rounds` is run, up to [`MAX_BATCHES`], and the verdict is the
/// median of all of them. A ratio that truly sits at the margin can still go
/// either way, but the band where it can shrinks with every batch, while a
/// clear case (most CPUs, most decisions) costs one batch.
fn compare(rounds: usize, mut time: impl FnMut(usize) -> f64) -> Verdict {
    time(0);
    time(1);
    let mut time = |k: usize| (0..3).map(|_| time(k)).fold(f64::INFINITY, f64::min);
    let mut ratios: Vec<f64> = Vec::with_capacity(rounds * MAX_BATCHES);
    let median = |r: &[f64]| {
        let mut r = r.to_vec();
        r.sort_by(f64::total_cmp);
        r.get(r.len() / 2).copied().unwrap_or(f64::NAN)
    };
    for _ in 0..MAX_BATCHES {
        for _ in 0..rounds {
            let order = if ratios.len().is_multiple_of(2) {
                [0, 1]
            } else {
                [1, 0]
            };
            let mut t = [0.0; 2];
            for k in order {
                t[k] = time(k);
            }
            ratios.push(t[0] / t[1]);
        }
        let m = median(&ratios);
        let undecided = m > 1.0 && m < 1.0 + 2.0 * (CLEAR_MARGIN - 1.0);
        if !undecided {
            break;
        }
    }
    let m = median(&ratios);
    Verdict {
        rounds: ratios.len(),
        wins: ratios.iter().filter(|&&r| r > CLEAR_MARGIN).count(),
        median: m,
        switch: m > CLEAR_MARGIN,
    }
}

/// `out = x + y` on the current pool, one contiguous chunk per thread, with
/// the kernels' own loop in mode `m`.
fn add_par(m: stores::Mode, x: &[f64], y: &[f64], out: &mut [f64]) {
    let ch = out.len().div_ceil(rayon::current_num_threads()).max(1);
    out.par_chunks_mut(ch)
        .zip(x.par_chunks(ch).zip(y.par_chunks(ch)))
        .for_each(|(o, (x, y))| crate::kernels::add_slices(m, x, y, o));
}

/// `1.5 MiB`, `64 MiB`, `4 KiB`.
pub fn fmt_bytes(b: usize) -> String {
    let b = b as f64;
    let (v, u) = if b >= (1u64 << 30) as f64 {
        (b / (1u64 << 30) as f64, "GiB")
    } else if b >= (1 << 20) as f64 {
        (b / (1 << 20) as f64, "MiB")
    } else if b >= 1024.0 {
        (b / 1024.0, "KiB")
    } else {
        (b, "bytes")
    };
    if v.fract() == 0.0 || v >= 100.0 {
        format!("{v:.0} {u}")
    } else {
        format!("{v:.1} {u}")
    }
}

/// `c = a + b` with streaming stores, one contiguous chunk per thread of the
/// current rayon pool: the fastest add this machine does from memory (the
/// limit loop of the benchmarks).
///
/// # Panics
/// When the slices differ in length.
pub fn limit_add_streaming(a: &[f64], b: &[f64], c: &mut [f64]) {
    limit_add("limit_add_streaming", true, a, b, c);
}

/// `c = a + b` with ordinary stores, one contiguous chunk per thread of the
/// current rayon pool, at the memory regime's width: the limit of a kernel
/// that keeps ordinary stores.
///
/// # Panics
/// When the slices differ in length.
pub fn limit_add_ordinary(a: &[f64], b: &[f64], c: &mut [f64]) {
    limit_add("limit_add_ordinary", false, a, b, c);
}

/// The two limit adds: the kernels' own loop at the memory regime's width.
fn limit_add(name: &str, streaming: bool, a: &[f64], b: &[f64], c: &mut [f64]) {
    assert!(
        a.len() == c.len() && b.len() == c.len(),
        "{name}: lengths differ"
    );
    let m = stores::Mode {
        level: stores::memory_simd_level(),
        streaming,
    };
    add_par(m, a, b, c);
}

/// `Σ a[i]` read with the probe's chosen width, one contiguous chunk per
/// thread of the current rayon pool: the fastest read (the limit loop of the
/// benchmarks). The sum is in no fixed order: for the limit only.
pub fn limit_read(a: &[f64]) -> f64 {
    read_par(a, stores::memory_simd_level())
}

fn read_par(a: &[f64], level: u8) -> f64 {
    let ch = a.len().div_ceil(rayon::current_num_threads()).max(1);
    a.par_chunks(ch)
        .map(|x| crate::kernels::sum_slice_at(level, x))
        .sum()
}

fn prev_power_of_two(x: usize) -> usize {
    if x == 0 {
        0
    } else {
        1 << (usize::BITS - 1 - x.leading_zeros())
    }
}

/// Read bandwidth at working sets of 4 KiB, 8 KiB, … `largest` bytes in all,
/// each of `t` threads reading its own part, many passes inside one
/// broadcast so that scheduling costs nothing. `rounds` interleaved rounds
/// over all sizes, the best of each size: on a shared machine other work
/// only ever slows a timing down (a short one, preempted once, by 10× and
/// more), so the best is the figure that repeats.
fn sweep(
    pool: &rayon::ThreadPool,
    t: usize,
    buf: &[f64],
    largest: usize,
    level: u8,
    rounds: usize,
) -> Vec<SweepPoint> {
    let mut sizes = Vec::new();
    let mut per_thread = 4096usize;
    while per_thread * t <= largest {
        sizes.push(per_thread);
        per_thread *= 2;
    }
    let mut times = vec![Vec::with_capacity(rounds); sizes.len()];
    // ≥ 16 MiB read per thread per timing: long enough for the clock and the
    // broadcast; one pass of the large sizes.
    let passes = |per: usize| ((16usize << 20) / per).max(1);
    for round in 0..=rounds {
        for (i, &per) in sizes.iter().enumerate() {
            let elems = per / 8;
            let p = passes(per);
            let s = Instant::now();
            let r = pool.broadcast(|ctx| {
                let x = &buf[ctx.index() * elems..][..elems];
                let mut acc = 0.0;
                for _ in 0..p {
                    acc += crate::kernels::sum_slice_at(level, black_box(x));
                }
                acc
            });
            let e = s.elapsed().as_secs_f64();
            black_box(r);
            // The first round warms the caches and the clock: untimed.
            if round > 0 {
                times[i].push(e);
            }
        }
    }
    sizes
        .iter()
        .zip(&times)
        .map(|(&per, ts)| {
            let best = ts.iter().copied().fold(f64::INFINITY, f64::min);
            SweepPoint {
                bytes: per * t,
                read: (per * t * passes(per)) as f64 / best / 1e9,
            }
        })
        .collect()
}

/// Where the sweep's tail is flat: the first size from which every later one
/// reads at most 25 % faster than memory (the mean of the two largest
/// sizes), and whether at least two sizes are there. Reads only slow down as
/// the working set grows, so a size within the band is memory however noisy
/// the figures. Memory never starts within the private caches (`above`
/// bytes, the L2 the system reports).
fn plateau(sweep: &[SweepPoint], above: usize) -> (usize, bool) {
    let Some(last) = sweep.last() else {
        return (0, false);
    };
    let tail = &sweep[sweep.len().saturating_sub(2)..];
    let memory = tail.iter().map(|p| p.read).sum::<f64>() / tail.len() as f64;
    let mut start = sweep.len() - 1;
    while start > 0 && sweep[start - 1].bytes > above && sweep[start - 1].read <= 1.25 * memory {
        start -= 1;
    }
    let found = sweep.len() - start >= 2;
    (
        if found {
            sweep[start].bytes
        } else {
            last.bytes
        },
        found,
    )
}

/// Read ceilings per cache level from a sweep: the best read at working sets
/// that fit (at most half the level's size, per thread for a private cache)
/// and exceed the level below; memory from the plateau.
fn ceilings(
    caches: &[CacheInfo],
    t: usize,
    sweep: &[SweepPoint],
    memory_from: usize,
) -> Vec<Ceiling> {
    let mut out = Vec::new();
    let mut below = 0usize; // per-thread capacity of the level below
    for c in caches {
        // What one thread of `t` can hold of this level.
        let share = c.shared_by.clamp(1, t);
        let cap = c.bytes / share;
        let best = sweep
            .iter()
            .filter(|p| {
                let per = p.bytes / t;
                per > below && per <= cap / 2 && p.bytes < memory_from
            })
            .max_by(|a, b| a.read.total_cmp(&b.read));
        if let Some(p) = best {
            out.push(Ceiling {
                level: format!("L{}", c.level),
                cache_bytes: Some(c.bytes),
                working_set: p.bytes,
                read: p.read,
            });
        }
        below = cap;
    }
    let mut tail: Vec<&SweepPoint> = sweep.iter().filter(|p| p.bytes >= memory_from).collect();
    tail.sort_by(|a, b| a.read.total_cmp(&b.read));
    // The lower median: a conservative memory figure.
    if let Some(mid) = tail.get(tail.len().saturating_sub(1) / 2) {
        out.push(Ceiling {
            level: "memory".into(),
            cache_bytes: None,
            working_set: mid.bytes,
            read: mid.read,
        });
    }
    out
}

fn nearest<T>(v: &[T], threads: usize, key: impl Fn(&T) -> usize) -> Option<&T> {
    v.iter()
        .filter(|p| key(p) <= threads)
        .max_by_key(|p| key(p))
        .or_else(|| v.iter().min_by_key(|p| key(p)))
}

fn default_thread_counts(hw: usize) -> Vec<usize> {
    let mut v: Vec<usize> = std::iter::successors(Some(1usize), |&t| Some(t * 2))
        .take_while(|&t| t < hw)
        .collect();
    v.push(hw);
    v
}

/// STREAM's copy, add and triad with ordinary and streaming stores on three
/// arrays of `n` elements carved out of `buf`, one contiguous chunk per
/// thread; the best of `reps` timed runs after one untimed one.
fn stream_point(
    pool: &rayon::ThreadPool,
    threads: usize,
    buf: &mut [f64],
    n: usize,
    reps: usize,
    level: u8,
) -> StreamPoint {
    let (a, rest) = buf.split_at_mut(n);
    let (b, rest) = rest.split_at_mut(n);
    let c = &mut rest[..n];
    let ch = n.div_ceil(threads).max(1);
    let s = black_box(3.0f64);
    let one = black_box(1.0f64);
    let mut best = [f64::INFINITY; 6];
    use stores::probe::copy_into;
    pool.install(|| {
        for rep in 0..=reps {
            let mut times = [0.0; 6];
            for (k, time) in times.iter_mut().enumerate() {
                let m = stores::Mode {
                    level,
                    streaming: k >= 3,
                };
                let t = Instant::now();
                match k % 3 {
                    0 => a
                        .par_chunks_mut(ch)
                        .zip(b.par_chunks(ch))
                        .for_each(|(a, b)| copy_into(m, b, a, one)),
                    1 => a
                        .par_chunks_mut(ch)
                        .zip(b.par_chunks(ch).zip(c.par_chunks(ch)))
                        .for_each(|(a, (b, c))| crate::kernels::add_slices(m, b, c, a)),
                    _ => b
                        .par_chunks_mut(ch)
                        .zip(a.par_chunks(ch).zip(c.par_chunks(ch)))
                        .for_each(|(b, (a, c))| crate::kernels::triad_slices(m, a, c, b, s)),
                }
                *time = t.elapsed().as_secs_f64();
            }
            if rep > 0 {
                for (bst, t) in best.iter_mut().zip(times) {
                    *bst = bst.min(t);
                }
            }
        }
    });
    black_box((&a[n / 2], &b[n / 3]));
    let bytes = (n * 8) as f64;
    let gb = |k: usize, arrays: f64| arrays * bytes / best[k] / 1e9;
    StreamPoint {
        threads,
        read: 0.0,
        copy: gb(0, 2.0),
        add: gb(1, 3.0),
        triad: gb(2, 3.0),
        copy_nt: gb(3, 2.0),
        add_nt: gb(4, 3.0),
        triad_nt: gb(5, 3.0),
        ceilings: Vec::new(),
        sweep: Vec::new(),
    }
}

/// The instruction set for the FMA loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    #[cfg(target_arch = "x86_64")]
    Avx512,
    #[cfg(target_arch = "x86_64")]
    Avx2Fma,
    #[cfg(target_arch = "x86_64")]
    Sse2,
    #[allow(dead_code)] // the only variant off x86-64
    Scalar,
}

impl Isa {
    fn detect() -> Isa {
        #[cfg(target_arch = "x86_64")]
        match crate::kernels::hardware_simd_level() {
            2 => Isa::Avx512,
            1 => Isa::Avx2Fma,
            _ => Isa::Sse2,
        }
        #[cfg(not(target_arch = "x86_64"))]
        Isa::Scalar
    }

    fn name(self) -> &'static str {
        match self {
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 => "avx512f",
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2Fma => "avx2+fma",
            #[cfg(target_arch = "x86_64")]
            Isa::Sse2 => "sse2",
            Isa::Scalar => "scalar",
        }
    }

    /// Runs `iters` iterations; returns the flops done and a value to keep.
    fn run(self, p: Precision, iters: u64) -> (f64, f64) {
        let it = iters as f64;
        // 12 accumulators; flops per iteration = 12 × lanes × (2 for FMA or mul+add).
        match (self, p) {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: detect() saw avx512f.
            (Isa::Avx512, Precision::F64) => (it * 12.0 * 16.0, unsafe { x86::avx512_f64(iters) }),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: detect() saw avx512f.
            (Isa::Avx512, Precision::F32) => (it * 12.0 * 32.0, unsafe { x86::avx512_f32(iters) }),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: detect() saw avx2 and fma.
            (Isa::Avx2Fma, Precision::F64) => (it * 12.0 * 8.0, unsafe { x86::avx2_f64(iters) }),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: detect() saw avx2 and fma.
            (Isa::Avx2Fma, Precision::F32) => (it * 12.0 * 16.0, unsafe { x86::avx2_f32(iters) }),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: SSE2 is part of every x86-64 CPU.
            (Isa::Sse2, Precision::F64) => (it * 12.0 * 4.0, unsafe { x86::sse2_f64(iters) }),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: SSE2 is part of every x86-64 CPU.
            (Isa::Sse2, Precision::F32) => (it * 12.0 * 8.0, unsafe { x86::sse2_f32(iters) }),
            (Isa::Scalar, Precision::F64) => (it * 12.0 * 2.0, scalar_f64(iters)),
            (Isa::Scalar, Precision::F32) => (it * 12.0 * 2.0, scalar_f32(iters) as f64),
        }
    }
}

/// Iterations that take about `seconds` on one thread (both that and the
/// 2 ms calibration run scaled by [`time_scale`](super::time_scale)).
fn calibrate_fma(isa: Isa, p: Precision, seconds: f64) -> u64 {
    let scale = super::time_scale();
    let seconds = seconds * scale;
    let mut iters = 10_000u64;
    loop {
        let t = Instant::now();
        black_box(isa.run(p, iters));
        let e = t.elapsed().as_secs_f64();
        if e > 2e-3 * scale || iters > 1 << 40 {
            return ((iters as f64 * seconds / e) as u64).max(1000);
        }
        iters *= 4;
    }
}

fn peak_gflops(pool: &rayon::ThreadPool, isa: Isa, p: Precision, iters: u64) -> f64 {
    let mut best = f64::INFINITY;
    let mut flops = 0.0;
    for _ in 0..3 {
        let t = Instant::now();
        let per_thread = pool.broadcast(|_| isa.run(p, black_box(iters)));
        best = best.min(t.elapsed().as_secs_f64());
        flops = per_thread.iter().map(|r| r.0).sum();
        black_box(per_thread);
    }
    flops / best / 1e9
}

macro_rules! scalar_fma {
    ($name:ident, $t:ty) => {
        fn $name(iters: u64) -> $t {
            let x: $t = black_box(0.999_999);
            let y: $t = black_box(1e-6);
            let mut acc: [$t; 12] = core::array::from_fn(|i| i as $t);
            for _ in 0..iters {
                for a in acc.iter_mut() {
                    *a = *a * x + y;
                }
            }
            acc.iter().sum()
        }
    };
}
scalar_fma!(scalar_f64, f64);
scalar_fma!(scalar_f32, f32);

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;
    use std::hint::black_box;

    /// Twelve independent accumulator chains, `acc = acc·x + y`, written out so
    /// they stay in registers even at opt-level 2.
    macro_rules! chains {
        ($ty:ty, $set1:ident, $step:expr, $sum:expr, $iters:expr, $elem:ty) => {{
            let x = $set1(black_box(0.999_999 as $elem));
            let y = $set1(black_box(1e-6 as $elem));
            let mut a: [$ty; 12] = [$set1(0.0 as $elem); 12];
            for (i, ai) in a.iter_mut().enumerate() {
                *ai = $set1(i as $elem);
            }
            let [
                mut a0,
                mut a1,
                mut a2,
                mut a3,
                mut a4,
                mut a5,
                mut a6,
                mut a7,
                mut a8,
                mut a9,
                mut a10,
                mut a11,
            ] = a;
            for _ in 0..$iters {
                a0 = $step(a0, x, y);
                a1 = $step(a1, x, y);
                a2 = $step(a2, x, y);
                a3 = $step(a3, x, y);
                a4 = $step(a4, x, y);
                a5 = $step(a5, x, y);
                a6 = $step(a6, x, y);
                a7 = $step(a7, x, y);
                a8 = $step(a8, x, y);
                a9 = $step(a9, x, y);
                a10 = $step(a10, x, y);
                a11 = $step(a11, x, y);
            }
            let s = [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11];
            s.iter().map(|v| $sum(*v) as f64).sum::<f64>()
        }};
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn avx512_f64(iters: u64) -> f64 {
        chains!(
            __m512d,
            _mm512_set1_pd,
            |a, x, y| _mm512_fmadd_pd(a, x, y),
            |v| _mm512_reduce_add_pd(v),
            iters,
            f64
        )
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn avx512_f32(iters: u64) -> f64 {
        chains!(
            __m512,
            _mm512_set1_ps,
            |a, x, y| _mm512_fmadd_ps(a, x, y),
            |v| _mm512_reduce_add_ps(v),
            iters,
            f32
        )
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn avx2_f64(iters: u64) -> f64 {
        chains!(
            __m256d,
            _mm256_set1_pd,
            |a, x, y| _mm256_fmadd_pd(a, x, y),
            |v: __m256d| {
                let mut o = [0.0f64; 4];
                // SAFETY: `o` holds 4 f64, the unaligned store writes 32 bytes.
                unsafe { _mm256_storeu_pd(o.as_mut_ptr(), v) };
                o.iter().sum::<f64>()
            },
            iters,
            f64
        )
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn avx2_f32(iters: u64) -> f64 {
        chains!(
            __m256,
            _mm256_set1_ps,
            |a, x, y| _mm256_fmadd_ps(a, x, y),
            |v: __m256| {
                let mut o = [0.0f32; 8];
                // SAFETY: `o` holds 8 f32, the unaligned store writes 32 bytes.
                unsafe { _mm256_storeu_ps(o.as_mut_ptr(), v) };
                o.iter().sum::<f32>()
            },
            iters,
            f32
        )
    }

    // SSE2 is part of x86-64: no FMA, a multiply and an add (2 flops).
    #[target_feature(enable = "sse2")]
    pub(super) fn sse2_f64(iters: u64) -> f64 {
        chains!(
            __m128d,
            _mm_set1_pd,
            |a, x, y| _mm_add_pd(_mm_mul_pd(a, x), y),
            |v: __m128d| {
                let mut o = [0.0f64; 2];
                // SAFETY: `o` holds 2 f64, the unaligned store writes 16 bytes.
                unsafe { _mm_storeu_pd(o.as_mut_ptr(), v) };
                o.iter().sum::<f64>()
            },
            iters,
            f64
        )
    }

    #[target_feature(enable = "sse2")]
    pub(super) fn sse2_f32(iters: u64) -> f64 {
        chains!(
            __m128,
            _mm_set1_ps,
            |a, x, y| _mm_add_ps(_mm_mul_ps(a, x), y),
            |v: __m128| {
                let mut o = [0.0f32; 4];
                // SAFETY: `o` holds 4 f32, the unaligned store writes 16 bytes.
                unsafe { _mm_storeu_ps(o.as_mut_ptr(), v) };
                o.iter().sum::<f32>()
            },
            iters,
            f32
        )
    }
}

/// The CPU model name from `/proc/cpuinfo`, or the architecture when unavailable.
pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name") || l.starts_with("Model"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| format!("unknown {} CPU", std::env::consts::ARCH))
}

/// Size of the largest CPU cache of CPU 0 from
/// `/sys/devices/system/cpu/cpu0/cache/index*/size` (Linux), in bytes.
pub fn last_level_cache_bytes() -> Option<usize> {
    caches().iter().map(|c| c.bytes).max()
}

/// The data and unified caches of CPU 0 from
/// `/sys/devices/system/cpu/cpu0/cache/index*` (Linux), by level; empty when
/// the system does not say.
pub fn caches() -> Vec<CacheInfo> {
    let Ok(dir) = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache") else {
        return Vec::new();
    };
    let mut v: Vec<CacheInfo> = dir
        .filter_map(|e| {
            let path = e.ok()?.path();
            let read = |f: &str| std::fs::read_to_string(path.join(f)).ok();
            let kind = read("type")?;
            if kind.trim() == "Instruction" {
                return None;
            }
            Some(CacheInfo {
                level: read("level")?.trim().parse().ok()?,
                bytes: parse_cache_size(read("size")?.trim())?,
                shared_by: read("shared_cpu_list").map_or(1, |l| cpu_list_len(l.trim())),
            })
        })
        .collect();
    v.sort_by_key(|c| c.level);
    v.dedup_by_key(|c| c.level);
    v
}

/// `0-3,8` → 5.
fn cpu_list_len(s: &str) -> usize {
    s.split(',')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('-') {
            Some((a, b)) => match (a.parse::<usize>(), b.parse::<usize>()) {
                (Ok(a), Ok(b)) if b >= a => b - a + 1,
                _ => 1,
            },
            None => 1,
        })
        .sum::<usize>()
        .max(1)
}

/// `32768K` → 33 554 432; also `M`, `G` and plain bytes.
fn parse_cache_size(s: &str) -> Option<usize> {
    let (num, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1 << 10),
        'M' | 'm' => (&s[..s.len() - 1], 1 << 20),
        'G' | 'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.trim().parse::<usize>().ok().map(|n| n * mult)
}

/// SIMD extensions the CPU has (detected at run time, not compile time).
pub fn simd_features() -> Vec<String> {
    #[allow(unused_mut)]
    let mut v: Vec<String> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! check {
            ($($f:tt),*) => {
                $( if std::arch::is_x86_feature_detected!($f) { v.push($f.to_string()); } )*
            };
        }
        check!(
            "sse2", "sse4.2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            v.push("neon".to_string());
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ProbeConfig {
        ProbeConfig {
            max_bytes: 1 << 20,
            stream_reps: 1,
            peak_seconds: 0.002,
            threads: vec![1, 2],
            apply: false,
        }
    }

    /// A timing function for `compare`: the default takes 1.0, the
    /// alternative `1 / speedup`, with every `spike`-th call of either side
    /// ten times slower (a preemption).
    fn timed(speedup: f64, spike: usize) -> impl FnMut(usize) -> f64 {
        let mut calls = 0usize;
        move |k| {
            calls += 1;
            let t = if k == 0 { 1.0 } else { 1.0 / speedup };
            if spike > 0 && calls.is_multiple_of(spike) {
                10.0 * t
            } else {
                t
            }
        }
    }

    #[test]
    fn compare_switches_only_past_the_margin_and_takes_more_rounds_when_close() {
        // Clear cases take one batch.
        for (speedup, switch) in [(2.0, true), (1.6, true), (1.0, false), (0.5, false)] {
            let v = compare(5, timed(speedup, 0));
            assert_eq!(v.switch, switch, "{speedup}: {v:?}");
            assert_eq!(v.rounds, 5, "{speedup}: {v:?}");
            assert!((v.median - speedup).abs() < 1e-12, "{v:?}");
        }
        // Close to the margin on either side: every batch is run, and the
        // verdict still follows the median.
        for (speedup, switch) in [(1.3, true), (1.2, false)] {
            let v = compare(5, timed(speedup, 0));
            assert_eq!((v.switch, v.rounds), (switch, 5 * MAX_BATCHES), "{v:?}");
        }
        // A preemption every seventh call cannot decide: best of three.
        for (speedup, switch) in [(1.6, true), (1.0, false), (0.7, false)] {
            let v = compare(5, timed(speedup, 7));
            assert_eq!(v.switch, switch, "{speedup}: {v:?}");
        }
        // Wins count the rounds past the margin.
        assert_eq!(compare(5, timed(1.6, 0)).wins, 5);
        assert_eq!(compare(5, timed(1.0, 0)).wins, 0);
    }

    #[test]
    fn tiny_probe_gives_positive_figures() {
        let m = Machine::probe_with(&tiny()).unwrap();
        assert_eq!(m.stream.len(), 2);
        for p in &m.stream {
            for v in [
                p.read, p.copy, p.add, p.triad, p.copy_nt, p.add_nt, p.triad_nt,
            ] {
                assert!(v > 0.0 && v.is_finite(), "{p:?}");
            }
            // 4 KiB … 1 MiB in all: 9 sizes on one thread, 8 on two.
            assert_eq!(p.sweep.len(), if p.threads == 1 { 9 } else { 8 }, "{p:?}");
            assert!(p.ceilings.iter().any(|c| c.level == "memory"), "{p:?}");
        }
        for p in &m.peak {
            assert!(p.f32 > 0.0 && p.f64 > 0.0, "{p:?}");
        }
        assert!(!m.cpu_model.is_empty());
        assert_eq!(m.bandwidth(1).ok(), Some(m.stream[0].add_limit()));
        assert_eq!(m.bandwidth(64).ok(), Some(m.stream[1].add_limit()));
        assert_eq!(m.read_bandwidth(1).ok(), Some(m.stream[0].read));
        assert_eq!(m.peak_gflops(2, Precision::F64).ok(), Some(m.peak[1].f64));
    }

    #[test]
    fn every_isa_computes_the_same_fixed_point() {
        // acc → y/(1−x) = 1 from any start; all paths must agree roughly.
        let isas = {
            #[allow(unused_mut)]
            let mut v = vec![Isa::Scalar];
            #[cfg(target_arch = "x86_64")]
            {
                v.push(Isa::Sse2);
                v.push(Isa::detect());
            }
            v
        };
        for isa in isas {
            let (flops, v) = isa.run(Precision::F64, 100);
            assert!(flops > 0.0 && v.is_finite(), "{isa:?}");
        }
    }

    #[test]
    fn cache_sizes_parse() {
        assert_eq!(parse_cache_size("32768K"), Some(32 << 20));
        assert_eq!(parse_cache_size("1M"), Some(1 << 20));
        assert_eq!(parse_cache_size("512"), Some(512));
        assert_eq!(parse_cache_size("x"), None);
        assert_eq!(parse_cache_size(""), None);
    }

    #[test]
    fn thread_counts_end_with_all_threads() {
        assert_eq!(default_thread_counts(1), vec![1]);
        assert_eq!(default_thread_counts(2), vec![1, 2]);
        assert_eq!(default_thread_counts(6), vec![1, 2, 4, 6]);
        assert_eq!(default_thread_counts(8), vec![1, 2, 4, 8]);
    }

    #[test]
    fn save_and_load_round_trip() {
        let m = Machine::probe_with(&ProbeConfig {
            threads: vec![1],
            ..tiny()
        })
        .unwrap();
        let dir = std::env::temp_dir().join(format!("parlab-machine-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("machine.json");
        m.save(&p).unwrap();
        let again = Machine::load(&p).unwrap();
        // Bit for bit (serde_json's float_roundtrip).
        assert_eq!(again, m);
        assert_eq!(again.stream[0].sweep.len(), m.stream[0].sweep.len());
        assert_eq!(again.memory_from_bytes, m.memory_from_bytes);
        // serde_json parses floats to within an ulp, not always exactly.
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
        assert_eq!(
            (&again.cpu_model, &again.simd, again.threads),
            (&m.cpu_model, &m.simd, m.threads)
        );
        for (x, y) in again.peak.iter().zip(&m.peak) {
            assert!(close(x.f64, y.f64) && close(x.f32, y.f32), "{x:?} {y:?}");
        }
        for (x, y) in again.stream.iter().zip(&m.stream) {
            assert!(close(x.add, y.add) && close(x.copy, y.copy) && close(x.triad, y.triad));
        }
        std::fs::write(&p, "[1, 2]").unwrap();
        let e = Machine::load(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        assert!(
            e.to_string().contains("machine.json: no `format_version`"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_config_is_refused() {
        let e = Machine::probe_with(&ProbeConfig {
            stream_reps: 0,
            ..tiny()
        })
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }

    fn pts(v: &[(usize, f64)]) -> Vec<SweepPoint> {
        v.iter()
            .map(|&(bytes, read)| SweepPoint { bytes, read })
            .collect()
    }

    #[test]
    fn plateau_is_where_the_sweep_stops_falling() {
        let mib = 1usize << 20;
        // L3 until 16 MiB, memory from 64 MiB.
        let s = pts(&[
            (4 * mib, 90.0),
            (16 * mib, 80.0),
            (32 * mib, 40.0),
            (64 * mib, 21.0),
            (128 * mib, 20.0),
        ]);
        assert_eq!(plateau(&s, mib), (64 * mib, true));
        // Still falling at the largest size: no plateau, the largest size.
        let s = pts(&[(4 * mib, 90.0), (16 * mib, 60.0), (32 * mib, 30.0)]);
        assert_eq!(plateau(&s, mib), (32 * mib, false));
        assert_eq!(plateau(&[], mib), (0, false));
        // Everything as slow as memory (a loaded machine): not within L2.
        let s = pts(&[
            (mib / 2, 20.0),
            (mib, 20.0),
            (2 * mib, 20.0),
            (4 * mib, 20.0),
        ]);
        assert_eq!(plateau(&s, mib), (2 * mib, true));
        // A slow last round on a shared machine does not move memory's start.
        let s = pts(&[
            (16 * mib, 80.0),
            (32 * mib, 40.0),
            (64 * mib, 21.0),
            (128 * mib, 22.0),
            (256 * mib, 17.0),
        ]);
        assert_eq!(plateau(&s, mib), (64 * mib, true));
    }

    #[test]
    fn ceilings_follow_the_levels_and_ignore_an_inflated_l3() {
        let kib = 1usize << 10;
        let mib = 1usize << 20;
        let caches = vec![
            CacheInfo {
                level: 1,
                bytes: 32 * kib,
                shared_by: 1,
            },
            CacheInfo {
                level: 2,
                bytes: mib,
                shared_by: 1,
            },
            // A VM reporting the host's L3: far beyond the measured plateau.
            CacheInfo {
                level: 3,
                bytes: 480 * mib,
                shared_by: 2,
            },
        ];
        let s = pts(&[
            (4 * kib, 200.0),
            (8 * kib, 210.0),
            (16 * kib, 205.0),
            (32 * kib, 120.0),
            (64 * kib, 110.0),
            (256 * kib, 100.0),
            (512 * kib, 98.0),
            (2 * mib, 60.0),
            (8 * mib, 55.0),
            (32 * mib, 30.0),
            (64 * mib, 15.0),
            (128 * mib, 14.5),
        ]);
        let (from, found) = plateau(&s, 0);
        assert!(found);
        assert_eq!(from, 64 * mib);
        let c = ceilings(&caches, 1, &s, from);
        let get = |l: &str| {
            c.iter()
                .find(|x| x.level == l)
                .map(|x| (x.read, x.working_set))
        };
        assert_eq!(get("L1"), Some((210.0, 8 * kib)));
        assert_eq!(get("L2"), Some((110.0, 64 * kib)));
        assert_eq!(get("L3"), Some((60.0, 2 * mib)));
        assert_eq!(get("memory").map(|x| x.0), Some(14.5));
    }

    #[test]
    fn cpu_lists_count() {
        assert_eq!(cpu_list_len("0"), 1);
        assert_eq!(cpu_list_len("0-3,8"), 5);
        assert_eq!(cpu_list_len("0-1"), 2);
        assert_eq!(cpu_list_len(""), 1);
    }

    #[test]
    fn limit_loops_compute_the_add_and_the_sum() {
        let n = 300_001;
        let a: Vec<f64> = (0..n).map(|i| i as f64).collect();
        let b = vec![0.5; n];
        let mut c = vec![f64::NAN; n];
        crate::par::Par::threads(2)
            .install(|| limit_add_streaming(&a, &b, &mut c))
            .unwrap();
        assert!(c.iter().enumerate().all(|(i, &x)| x == i as f64 + 0.5));
        let mut d = vec![f64::NAN; n];
        crate::par::Par::threads(2)
            .install(|| limit_add_ordinary(&a, &b, &mut d))
            .unwrap();
        assert_eq!(c, d);
        let s = crate::par::Par::threads(2)
            .install(|| limit_read(&b))
            .unwrap();
        assert_eq!(s, 0.5 * n as f64);
    }

    #[test]
    fn bytes_read_well() {
        assert_eq!(fmt_bytes(4096), "4 KiB");
        assert_eq!(fmt_bytes(12 << 20), "12 MiB");
        assert_eq!(fmt_bytes(3 << 19), "1.5 MiB");
        assert_eq!(fmt_bytes(480 << 20), "480 MiB");
        assert_eq!(fmt_bytes(100), "100 bytes");
    }
}
