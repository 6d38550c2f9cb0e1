//! What this machine can do: cores, SIMD, memory bandwidth and peak FLOP/s.
//!
//! ```no_run
//! use parlab::timing::Machine;
//! let m = Machine::probe().unwrap(); // about 2 s
//! println!("{m}");
//! m.save("machine.json").unwrap();
//! let again = Machine::load("machine.json").unwrap();
//! assert_eq!(again.cpu_model, m.cpu_model);
//! ```
//!
//! Keep the returned value in a variable (or a file): statics do not survive
//! from one evcxr cell to the next.
//!
//! # How it measures
//! - **Bandwidth**: STREAM's copy (`a = b`), add (`a = b + c`) and triad
//!   (`a = b + s·c`) on `f64` arrays far larger than the last-level cache,
//!   counted as STREAM counts (16 bytes per element for copy, 24 for add and
//!   triad; the write-allocate read is not counted), best of several runs, on a
//!   local pool of each thread count with one contiguous chunk per thread.
//! - **Peak FLOP/s**: fused multiply-adds on independent register accumulators
//!   (12, more than FMA latency × FMA ports), using the widest instructions the
//!   CPU has, chosen at run time (AVX-512, AVX2+FMA, SSE2, scalar), so the figure
//!   is the hardware's even in a notebook build without `target-cpu=native`.

use crate::error::{Error, ErrorKind, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::Instant;

/// Version of the saved [`Machine`] format.
pub const MACHINE_FORMAT_VERSION: u32 = 1;

/// STREAM bandwidths for one thread count, 10⁹ bytes per second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StreamPoint {
    /// Threads of the pool.
    pub threads: usize,
    /// `a[i] = b[i]`.
    pub copy: f64,
    /// `a[i] = b[i] + c[i]`.
    pub add: f64,
    /// `a[i] = b[i] + s·c[i]`.
    pub triad: f64,
}

impl StreamPoint {
    /// The best of copy, add and triad: the bandwidth limit used by
    /// [`Machine::bandwidth`].
    pub fn best(&self) -> f64 {
        self.copy.max(self.add).max(self.triad)
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

/// How long and how hard to probe.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    /// Bytes of each of the three STREAM arrays.
    pub array_bytes: usize,
    /// Timed repetitions of each STREAM kernel (the best counts).
    pub stream_reps: usize,
    /// Seconds of FMA work per peak measurement.
    pub peak_seconds: f64,
    /// Thread counts to measure (empty: 1, 2, 4, … up to all hardware threads,
    /// and all of them).
    pub threads: Vec<usize>,
}

impl Default for ProbeConfig {
    /// 3 arrays of 64 MiB (6× a 32 MiB L3; 2× the last-level cache when that is
    /// larger), 6 repetitions, 40 ms per peak measurement: about 1–2 s on 2 cores.
    fn default() -> Self {
        ProbeConfig {
            array_bytes: (64usize << 20).max(2 * last_level_cache_bytes().unwrap_or(0)),
            stream_reps: 6,
            peak_seconds: 0.04,
            threads: Vec::new(),
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
    /// Size of the last-level cache read from sysfs, bytes (`None` when unknown).
    pub llc_bytes: Option<usize>,
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
    /// Probes with the default [`ProbeConfig`] (about 2 s).
    ///
    /// # Errors
    /// [`ErrorKind::Threads`] when a pool cannot be built.
    pub fn probe() -> Result<Machine> {
        Machine::probe_with(&ProbeConfig::default())
    }

    /// A rougher probe in about a quarter of the time: 3 × 48 MiB arrays, fewer
    /// repetitions, shorter peak runs.
    ///
    /// # Errors
    /// As [`Machine::probe`].
    pub fn probe_quick() -> Result<Machine> {
        Machine::probe_with(&ProbeConfig {
            array_bytes: (48usize << 20).max(2 * last_level_cache_bytes().unwrap_or(0)),
            stream_reps: 3,
            peak_seconds: 0.01,
            threads: Vec::new(),
        })
    }

    /// Probes with explicit settings.
    ///
    /// # Errors
    /// As [`Machine::probe`]; [`ErrorKind::InvalidInput`] for arrays under 1 KiB
    /// or 0 repetitions.
    pub fn probe_with(cfg: &ProbeConfig) -> Result<Machine> {
        if cfg.array_bytes < 1024 || cfg.stream_reps == 0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "probe needs arrays of at least 1 KiB and 1 repetition, got {} bytes and {} repetitions",
                    cfg.array_bytes, cfg.stream_reps
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
        let llc = last_level_cache_bytes();
        let n = cfg.array_bytes / 8;
        let mut a = vec![0.0f64; n];
        let mut b = vec![0.0f64; n];
        let mut c = vec![0.0f64; n];
        let mut stream = Vec::new();
        let mut peak = Vec::new();
        let iters32 = calibrate_fma(isa, Precision::F32, cfg.peak_seconds);
        let iters64 = calibrate_fma(isa, Precision::F64, cfg.peak_seconds);
        for &t in &threads {
            let pool = crate::par::pool(t)?;
            // Touch the pages from this pool first, so the first timed run
            // pays no page faults.
            pool.install(|| {
                let ch = n.div_ceil(t);
                a.par_chunks_mut(ch).for_each(|x| x.fill(1.0));
                b.par_chunks_mut(ch).for_each(|x| x.fill(2.0));
                c.par_chunks_mut(ch).for_each(|x| x.fill(0.5));
            });
            stream.push(stream_point(
                &pool,
                t,
                &mut a,
                &mut b,
                &mut c,
                cfg.stream_reps,
            ));
            let f32 = peak_gflops(&pool, isa, Precision::F32, iters32);
            let f64 = peak_gflops(&pool, isa, Precision::F64, iters64);
            peak.push(PeakPoint {
                threads: t,
                f32,
                f64,
            });
        }
        Ok(Machine {
            format_version: MACHINE_FORMAT_VERSION,
            cpu_model: cpu_model(),
            threads: hw,
            simd: simd_features(),
            peak_isa: isa.name().to_string(),
            llc_bytes: llc,
            array_bytes: n * 8,
            stream,
            peak,
            probe_seconds: start.elapsed().as_secs_f64(),
            probed_at_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        })
    }

    /// Best STREAM bandwidth (GB/s) measured on `threads` threads, or on the
    /// largest measured count below it; `None` if nothing was measured.
    pub fn bandwidth(&self, threads: usize) -> Option<f64> {
        nearest(&self.stream, threads, |p| p.threads).map(StreamPoint::best)
    }

    /// Peak GFLOP/s on `threads` threads (or the largest measured count below it).
    pub fn peak_gflops(&self, threads: usize, precision: Precision) -> Option<f64> {
        nearest(&self.peak, threads, |p| p.threads).map(|p| match precision {
            Precision::F32 => p.f32,
            Precision::F64 => p.f64,
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

fn stream_point(
    pool: &rayon::ThreadPool,
    threads: usize,
    a: &mut [f64],
    b: &mut [f64],
    c: &mut [f64],
    reps: usize,
) -> StreamPoint {
    let n = a.len();
    let ch = n.div_ceil(threads);
    let s = black_box(3.0f64);
    let mut best = [f64::INFINITY; 3];
    pool.install(|| {
        // One untimed round, then `reps` timed ones; the fastest counts (STREAM).
        for rep in 0..=reps {
            let t = Instant::now();
            a.par_chunks_mut(ch)
                .zip(b.par_chunks(ch))
                .for_each(|(a, b)| a.copy_from_slice(b));
            let t_copy = t.elapsed().as_secs_f64();
            let t = Instant::now();
            a.par_chunks_mut(ch)
                .zip(b.par_chunks(ch))
                .zip(c.par_chunks(ch))
                .for_each(|((a, b), c)| {
                    for ((x, y), z) in a.iter_mut().zip(b).zip(c) {
                        *x = y + z;
                    }
                });
            let t_add = t.elapsed().as_secs_f64();
            let t = Instant::now();
            b.par_chunks_mut(ch)
                .zip(a.par_chunks(ch))
                .zip(c.par_chunks(ch))
                .for_each(|((b, a), c)| {
                    for ((x, y), z) in b.iter_mut().zip(a).zip(c) {
                        *x = y + s * z;
                    }
                });
            let t_triad = t.elapsed().as_secs_f64();
            if rep > 0 {
                for (bst, t) in best.iter_mut().zip([t_copy, t_add, t_triad]) {
                    *bst = bst.min(t);
                }
            }
        }
    });
    black_box((&a[n / 2], &b[n / 3]));
    let bytes = (n * 8) as f64;
    StreamPoint {
        threads,
        copy: 2.0 * bytes / best[0] / 1e9,
        add: 3.0 * bytes / best[1] / 1e9,
        triad: 3.0 * bytes / best[2] / 1e9,
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
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Isa::Avx2Fma;
            }
            Isa::Sse2
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

/// Iterations that take about `seconds` on one thread.
fn calibrate_fma(isa: Isa, p: Precision, seconds: f64) -> u64 {
    let mut iters = 10_000u64;
    loop {
        let t = Instant::now();
        black_box(isa.run(p, iters));
        let e = t.elapsed().as_secs_f64();
        if e > 2e-3 || iters > 1 << 40 {
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
    let dir = std::fs::read_dir("/sys/devices/system/cpu/cpu0/cache").ok()?;
    dir.filter_map(|e| {
        let text = std::fs::read_to_string(e.ok()?.path().join("size")).ok()?;
        parse_cache_size(text.trim())
    })
    .max()
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
            array_bytes: 1 << 20,
            stream_reps: 1,
            peak_seconds: 0.002,
            threads: vec![1, 2],
        }
    }

    #[test]
    fn tiny_probe_gives_positive_figures() {
        let m = Machine::probe_with(&tiny()).unwrap();
        assert_eq!(m.stream.len(), 2);
        for p in &m.stream {
            assert!(p.copy > 0.0 && p.add > 0.0 && p.triad > 0.0, "{p:?}");
        }
        for p in &m.peak {
            assert!(p.f32 > 0.0 && p.f64 > 0.0, "{p:?}");
        }
        assert!(!m.cpu_model.is_empty());
        assert_eq!(m.bandwidth(1), Some(m.stream[0].best()));
        assert_eq!(m.bandwidth(64), Some(m.stream[1].best()));
        assert_eq!(m.peak_gflops(2, Precision::F64), Some(m.peak[1].f64));
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
}
