//! Timing one closure: `%timeit` for Rust.
//!
//! ```
//! use parlab::timing::Bench;
//! use std::time::Duration;
//!
//! let v: Vec<f64> = (0..1000).map(|i| i as f64).collect();
//! let r = Bench::new()
//!     .samples(5)
//!     .min_sample_time(Duration::from_millis(1))
//!     .warmup(Duration::from_millis(1))
//!     .run(|| v.iter().sum::<f64>())
//!     .unwrap();
//! assert_eq!(r.samples.len(), 5);
//! assert!(r.min() <= r.median() && r.median() <= r.max());
//! println!("{r}"); // e.g. "812 ns ± 3 ns per loop (median ± IQR/2 of 5 runs, 1 000 loops each)"
//! ```
//!
//! How a measurement goes:
//!
//! 1. **Calibration and warm-up.** The closure runs with 1, 2, 5, 10, 20, … calls
//!    per sample until a sample lasts at least
//!    [`min_sample_time`](Bench::min_sample_time) (10 ms by default), and goes on
//!    running until [`warmup`](Bench::warmup) has passed (100 ms by default). None
//!    of this is counted: the first calls pay for page faults and cold caches
//!    (6× the median was seen here).
//! 2. **Samples.** [`samples`](Bench::samples) samples (7 by default), each timing
//!    `loops` calls with one pair of clock reads; a sample's value is its time
//!    divided by `loops`, minus the clock's own cost, which is measured first.
//! 3. **Statistics.** See [`Summary`].
//!
//! A closure that panics does not take the notebook down: the panic is caught, its
//! message captured rather than printed, and an [`ErrorKind::Panicked`] error says
//! whether it happened in the warm-up or in which sample.
//!
//! # Faster and slower machines
//!
//! How many calls a measurement makes depends on how fast the CPU is: a CPU 3×
//! faster makes 3× the calls in the same [`min_sample_time`](Bench::min_sample_time).
//! Nothing a helper returns besides the timings (verdicts, outputs, names,
//! shapes, errors) may depend on that number. To try a helper as a faster or
//! slower machine would run it, set the environment variable
//! [`PARLAB_BENCH_TIME_SCALE`](TIME_SCALE_VAR) to a positive number `s` before
//! the process starts: every time budget parlab calibrates against is
//! multiplied by `s` ([`time_scale`]), which makes the number of calls what a
//! CPU `s`× faster would make (`s = 3`), or `s`× slower (`s = 1/3 ≈ 0.333`):
//!
//! - [`Bench`]'s [`min_sample_time`](Bench::min_sample_time) and
//!   [`warmup`](Bench::warmup), so also [`Compare`](super::Compare),
//!   [`SizeSweep`](super::SizeSweep) and [`ThreadSweep`](super::ThreadSweep);
//! - the seconds of FMA work of the peak measurement in
//!   [`Machine::probe_with`](super::Machine::probe_with);
//! - the shortest run the exercise checkers read a CPU-time share from (they
//!   call the student's function until a run lasts that long), and (for
//!   `s > 1` only) the work of the speed-up measurement of exercise 5.4,
//!   divided by `s`.
//!
//! ```text
//! PARLAB_BENCH_TIME_SCALE=3 cargo test --test timing_api   # as a CPU 3× faster would
//! ```
//!
//! `tests/time_scale.rs` runs every notebook-facing helper that times
//! something under scales 1e-3, 1/3, 1 and 3 and fails when any result other
//! than a timing differs between them.
//!
//! The variable is read once per process (once per notebook cell in evcxr,
//! where every cell is its own library); an unset variable means 1, a value
//! that is not a positive finite number is ignored with a warning on stderr.

use super::stats::Summary;
pub use crate::catch::catch_panic;
use crate::error::{Error, ErrorKind, Result};
use crate::par::Par;
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// The environment variable holding the process-wide time scale: see
/// [`time_scale`] and "Faster and slower machines" in the [module](self) docs.
pub const TIME_SCALE_VAR: &str = "PARLAB_BENCH_TIME_SCALE";

/// The process-wide factor every time budget parlab calibrates against is
/// multiplied by — [`Bench`]'s minimum sample time and warm-up among them —
/// read once from [`PARLAB_BENCH_TIME_SCALE`](TIME_SCALE_VAR): 1 when unset;
/// `3` makes the number of calls a CPU 3× faster would make, `0.333` those of
/// one 3× slower. A value that is not a positive finite number is ignored
/// (1, with a warning on stderr).
///
/// ```
/// // Unset in doctests: budgets are what the settings say.
/// if std::env::var_os(parlab::timing::bench::TIME_SCALE_VAR).is_none() {
///     assert_eq!(parlab::timing::time_scale(), 1.0);
/// }
/// ```
pub fn time_scale() -> f64 {
    static SCALE: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *SCALE.get_or_init(|| {
        let raw = std::env::var(TIME_SCALE_VAR).ok();
        parse_time_scale(raw.as_deref()).unwrap_or_else(|e| {
            eprintln!("parlab: {e}; timing with a scale of 1");
            1.0
        })
    })
}

/// The scale a value of [`TIME_SCALE_VAR`] stands for (`None`: unset).
fn parse_time_scale(raw: Option<&str>) -> std::result::Result<f64, String> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Ok(1.0);
    };
    let value = match raw.split_once('/') {
        // `1/3` reads as a third.
        Some((n, d)) => n
            .trim()
            .parse::<f64>()
            .ok()
            .zip(d.trim().parse::<f64>().ok())
            .map(|(n, d)| n / d),
        None => raw.parse::<f64>().ok(),
    };
    match value {
        Some(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!(
            "{TIME_SCALE_VAR}={raw:?} is not a positive number (such as 3, 0.333 or 1/3)"
        )),
    }
}

/// Short settings for the unit tests of the timing modules: 3 samples of
/// 200 µs, no warm-up.
#[cfg(test)]
pub(crate) fn test_bench() -> Bench {
    Bench::new()
        .samples(3)
        .warmup(Duration::ZERO)
        .min_sample_time(Duration::from_micros(200))
}

/// Settings of a measurement; [`Bench::run`] measures.
#[derive(Debug, Clone)]
pub struct Bench {
    name: String,
    samples: usize,
    warmup: Duration,
    min_sample_time: Duration,
    batch: usize,
    confidence: f64,
    resamples: usize,
    par: Option<Par>,
}

impl Default for Bench {
    fn default() -> Self {
        Bench::new()
    }
}

impl Bench {
    /// 7 samples of at least 10 ms each after 100 ms of warm-up; 95 % bootstrap
    /// interval of the median.
    pub fn new() -> Self {
        Bench {
            name: String::new(),
            samples: 7,
            warmup: Duration::from_millis(100),
            min_sample_time: Duration::from_millis(10),
            batch: 64,
            confidence: 0.95,
            resamples: 2000,
            par: None,
        }
    }

    /// Runs the measurement on a pool of `par` threads (built before the clock
    /// starts) and records that count in the result, where it picks the
    /// machine's limit (`Throughput::vs`). `Par::Seq` runs on a pool of one,
    /// so even a `par_` kernel is measured serially.
    ///
    /// Without it the measurement runs on the calling thread and records the
    /// size of the pool it is in.
    ///
    /// ```
    /// use parlab::par::Par;
    /// use parlab::timing::Bench;
    /// use std::time::Duration;
    /// let quick = Bench::new().samples(2).warmup(Duration::ZERO).min_sample_time(Duration::from_micros(100));
    /// let r = quick.clone().par(Par::threads(3)).run(rayon::current_num_threads)?;
    /// assert_eq!(r.threads, 3);
    /// assert_eq!(quick.par(Par::Seq).run(rayon::current_num_threads)?.threads, 1);
    /// # Ok::<(), parlab::Error>(())
    /// ```
    pub fn par(mut self, par: Par) -> Self {
        self.par = Some(par);
        self
    }

    /// `.par(Par::threads(n))`: runs on `n` threads and records `n`.
    pub fn threads(self, n: usize) -> Self {
        self.par(Par::threads(n))
    }

    /// Forgets the [`par`](Bench::par) setting: for a measurement that
    /// already runs on the right pool, while keeping its thread count.
    pub(crate) fn here(mut self) -> Self {
        self.par = None;
        self
    }

    /// The [`Par`] given with [`par`](Bench::par), if any.
    pub fn par_setting(&self) -> Option<Par> {
        self.par
    }

    /// A name carried into the result (tables, exports).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Number of timed samples (at least 1; 0 is refused by [`run`](Bench::run)).
    pub fn samples(mut self, n: usize) -> Self {
        self.samples = n;
        self
    }

    /// How long to run the closure before timing it (at least one call is
    /// made); multiplied by [`time_scale`] when the measurement runs.
    pub fn warmup(mut self, d: Duration) -> Self {
        self.warmup = d;
        self
    }

    /// The shortest a sample may be; the number of calls per sample grows until a
    /// sample lasts this long, so the clock's resolution and cost do not matter.
    /// Multiplied by [`time_scale`] when the measurement runs.
    pub fn min_sample_time(mut self, d: Duration) -> Self {
        self.min_sample_time = d;
        self
    }

    /// With [`run_with_setup`](Bench::run_with_setup): how many fresh inputs are
    /// prepared at once and timed with one pair of clock reads (64 by default).
    /// Lower it when inputs are large.
    pub fn batch(mut self, n: usize) -> Self {
        self.batch = n.max(1);
        self
    }

    /// Confidence level of the bootstrap interval of the median (0.95 by default).
    pub fn confidence(mut self, c: f64) -> Self {
        self.confidence = c;
        self
    }

    /// Times `f`. Its result goes through [`black_box`] so the compiler cannot
    /// skip the work, and is dropped inside the timed region (as `%timeit` does).
    /// A closure that can fail goes to [`try_run`](Bench::try_run).
    ///
    /// # Errors
    /// [`ErrorKind::Panicked`] when `f` panics, naming the warm-up or the sample;
    /// [`ErrorKind::InvalidInput`] for 0 samples, or when `f` returns a
    /// `Result` (timing it here would time an error path unnoticed);
    /// [`ErrorKind::Threads`] when the pool of [`par`](Bench::par) cannot start.
    pub fn run<R>(&self, mut f: impl FnMut() -> R + Send) -> Result<BenchResult> {
        if super::fallible::is_result::<R>() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{} returns a Result ({}): time it with `try_run`, which stops at an Err, \
                     instead of `run`",
                    self.what(),
                    std::any::type_name::<R>()
                ),
            ));
        }
        self.measure(&mut |loops: u64, overhead: f64| {
            let t = Instant::now();
            for _ in 0..loops {
                black_box(f());
            }
            (t.elapsed().as_secs_f64() - overhead).max(0.0)
        })
    }

    /// Times a closure that can fail, such as a parlab kernel: `f` is called
    /// once first, and an `Err` there (or in any timed call) is returned
    /// instead of a timing. Checking the result costs one branch per call.
    ///
    /// ```
    /// use parlab::timing::Bench;
    /// use parlab::ndarray::Array1;
    /// use std::time::Duration;
    /// let quick = Bench::new().samples(2).warmup(Duration::ZERO).min_sample_time(Duration::from_micros(100));
    /// let (a, b) = (Array1::<f64>::ones(100), Array1::<f64>::ones(100));
    /// let mut c = Array1::<f64>::zeros(100);
    /// let r = quick.clone().try_run(|| parlab::kernels::add(a.view(), b.view(), c.view_mut()))?;
    /// assert_eq!(r.samples.len(), 2);
    /// let mut short = Array1::<f64>::zeros(99);
    /// let e = quick.try_run(|| parlab::kernels::add(a.view(), b.view(), short.view_mut())).unwrap_err();
    /// assert!(e.to_string().contains("shapes differ"), "{e}");
    /// # Ok::<(), parlab::Error>(())
    /// ```
    ///
    /// # Errors
    /// `f`'s own error, else as [`run`](Bench::run).
    pub fn try_run<R, E: Into<Error> + Send>(
        &self,
        mut f: impl FnMut() -> std::result::Result<R, E> + Send,
    ) -> Result<BenchResult> {
        let failed = |e: E| {
            let e: Error = e.into();
            Error::new(e.kind(), format!("{} failed: {}", self.what(), e.message()))
        };
        catch_panic(&mut f)
            .map_err(|m| {
                Error::new(
                    ErrorKind::Panicked,
                    format!("{} panicked: {m}", self.what()),
                )
            })?
            .map_err(failed)?;
        let mut first_error: Option<E> = None;
        let result = self.measure(&mut |loops: u64, overhead: f64| {
            let t = Instant::now();
            for _ in 0..loops {
                match f() {
                    Ok(v) => {
                        black_box(v);
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                        break;
                    }
                }
            }
            (t.elapsed().as_secs_f64() - overhead).max(0.0)
        });
        match first_error {
            Some(e) => Err(failed(e)),
            None => result,
        }
    }

    /// "benchmark `name`", or "the benchmarked closure" without a name.
    fn what(&self) -> String {
        if self.name.is_empty() {
            "the benchmarked closure".to_string()
        } else {
            format!("benchmark `{}`", self.name)
        }
    }

    /// Times `f` on fresh inputs from `setup`, which is not timed (criterion's
    /// `iter_batched`): for kernels that modify their input in place.
    ///
    /// Inputs are made [`batch`](Bench::batch) at a time before the clock starts;
    /// the outputs are dropped after it stops.
    ///
    /// ```
    /// use parlab::timing::Bench;
    /// use std::time::Duration;
    /// let r = Bench::new()
    ///     .samples(3)
    ///     .warmup(Duration::ZERO)
    ///     .min_sample_time(Duration::from_millis(1))
    ///     .run_with_setup(|| vec![3.0, 1.0, 2.0], |mut v| { v.sort_by(f64::total_cmp); v })
    ///     .unwrap();
    /// assert_eq!(r.samples.len(), 3);
    /// ```
    ///
    /// # Errors
    /// As [`run`](Bench::run); a panic in `setup` is reported the same way.
    pub fn run_with_setup<I: Send, R: Send>(
        &self,
        mut setup: impl FnMut() -> I + Send,
        mut f: impl FnMut(I) -> R + Send,
    ) -> Result<BenchResult> {
        let batch = self.batch as u64;
        let mut inputs: Vec<I> = Vec::new();
        let mut outputs: Vec<R> = Vec::new();
        self.measure(&mut |loops: u64, overhead: f64| {
            let mut total = 0.0;
            let mut left = loops;
            while left > 0 {
                let n = left.min(batch);
                left -= n;
                inputs.extend((0..n).map(|_| setup()));
                outputs.reserve(n as usize);
                let t = Instant::now();
                for input in inputs.drain(..) {
                    outputs.push(black_box(f(black_box(input))));
                }
                total += (t.elapsed().as_secs_f64() - overhead).max(0.0);
                outputs.clear();
            }
            total
        })
    }

    /// `timed(loops, overhead)` runs `loops` calls and returns their time in seconds.
    fn measure(&self, timed: &mut (dyn FnMut(u64, f64) -> f64 + Send)) -> Result<BenchResult> {
        if self.samples == 0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "a benchmark needs at least 1 sample, got 0",
            ));
        }
        match self.par {
            Some(par) => par.pool()?.install(|| self.measure_here(timed)),
            None => self.measure_here(timed),
        }
    }

    fn measure_here(&self, timed: &mut (dyn FnMut(u64, f64) -> f64 + Send)) -> Result<BenchResult> {
        let overhead = timer_overhead();
        let threads = rayon::current_num_threads();
        let scale = time_scale();
        let min = self.min_sample_time.as_secs_f64() * scale;
        let warmup = self.warmup.as_secs_f64() * scale;
        let mut phase = Phase::Warmup;
        let mut warmup_calls = 0u64;
        let mut loops = 1u64;
        let mut samples = Vec::with_capacity(self.samples);
        let (mut load, mut usage_before, mut wall_seconds) = (None, None, 0.0);
        let outcome = catch_panic(|| {
            // Calibration doubles as warm-up: 1, 2, 5, 10, 20, 50, … calls,
            // jumping ahead when a sample is far too short.
            let start = Instant::now();
            loop {
                let t = timed(loops, overhead);
                warmup_calls += loops;
                if t >= min || loops >= 1 << 40 {
                    break;
                }
                let target = if t > 0.0 {
                    (loops as f64 * min / t * 0.5) as u64
                } else {
                    0
                };
                loops = up_125(target.max(loops + 1));
            }
            while start.elapsed().as_secs_f64() < warmup {
                timed(loops, overhead);
                warmup_calls += loops;
            }
            load = super::cpu::load_average();
            usage_before = super::cpu::Usage::now();
            let wall = Instant::now();
            for k in 0..self.samples {
                phase = Phase::Sample(k);
                samples.push(timed(loops, overhead) / loops as f64);
            }
            wall_seconds = wall.elapsed().as_secs_f64();
        });
        if let Err(message) = outcome {
            let when = match phase {
                Phase::Warmup => "during the warm-up".to_string(),
                Phase::Sample(k) => format!("in sample {} of {}", k + 1, self.samples),
            };
            return Err(Error::new(
                ErrorKind::Panicked,
                format!("{} panicked {when}: {message}", self.what()),
            ));
        }
        let summary = Summary::with_confidence(&samples, self.confidence, self.resamples)?;
        let calls = loops * self.samples as u64;
        let cpu = usage_before
            .zip(super::cpu::Usage::now())
            .map(|(b, a)| super::cpu::CpuUsage::between(b, a, wall_seconds, calls));
        Ok(BenchResult {
            name: self.name.clone(),
            samples,
            loops,
            warmup_calls,
            timer_overhead: overhead,
            threads,
            summary,
            cpu,
            contention: super::cpu::contention_warning(threads, load),
        })
    }
}

/// The smallest of 1, 2, 5, 10, 20, 50, … that is at least `n`.
fn up_125(n: u64) -> u64 {
    let mut scale = 1u64;
    loop {
        for s in [1, 2, 5] {
            if s * scale >= n {
                return s * scale;
            }
        }
        scale = scale.saturating_mul(10);
    }
}

#[derive(Clone, Copy)]
enum Phase {
    Warmup,
    Sample(usize),
}

/// The result of a measurement: every sample plus their statistics.
///
/// All times are in seconds **per call** (one loop iteration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BenchResult {
    /// The name given with [`Bench::name`] (may be empty).
    pub name: String,
    /// Seconds per call, one value per sample, in the order measured.
    pub samples: Vec<f64>,
    /// Calls per sample.
    pub loops: u64,
    /// Calls made before the first sample (calibration and warm-up).
    pub warmup_calls: u64,
    /// Cost of one pair of clock reads in seconds, measured before the run and
    /// subtracted from every timed batch.
    pub timer_overhead: f64,
    /// Threads of the rayon pool the measurement ran in, or the count given
    /// with [`Bench::threads`].
    pub threads: usize,
    /// Statistics of [`samples`](Self::samples).
    pub summary: Summary,
    /// CPU time, effective parallelism, context switches and page faults
    /// over the samples (`None` when not measured, e.g. loaded from an older
    /// file or built with [`from_samples`](BenchResult::from_samples)).
    #[serde(default)]
    pub cpu: Option<super::cpu::CpuUsage>,
    /// Why the thread count may not be what ran at once: more threads than
    /// the process may use, or a busy machine (see
    /// [`contention_warning`](super::cpu::contention_warning)).
    #[serde(default)]
    pub contention: Option<String>,
}

impl BenchResult {
    /// A result from samples measured elsewhere (seconds per call), e.g. to
    /// compare with a saved run.
    ///
    /// # Errors
    /// As [`Summary::new`].
    pub fn from_samples(name: impl Into<String>, samples: Vec<f64>, loops: u64) -> Result<Self> {
        let summary = Summary::new(&samples)?;
        Ok(BenchResult {
            name: name.into(),
            samples,
            loops,
            warmup_calls: 0,
            timer_overhead: 0.0,
            threads: rayon::current_num_threads(),
            summary,
            cpu: None,
            contention: None,
        })
    }

    /// Fastest sample, seconds per call.
    pub fn min(&self) -> f64 {
        self.summary.min
    }
    /// Slowest sample, seconds per call.
    pub fn max(&self) -> f64 {
        self.summary.max
    }
    /// Median sample, seconds per call: the figure parlab reports.
    pub fn median(&self) -> f64 {
        self.summary.median
    }
    /// Mean of the samples, seconds per call.
    pub fn mean(&self) -> f64 {
        self.summary.mean
    }
    /// Sample standard deviation, seconds.
    pub fn std_dev(&self) -> f64 {
        self.summary.std_dev
    }
    /// Interquartile range, seconds.
    pub fn iqr(&self) -> f64 {
        self.summary.iqr
    }
    /// Bootstrap confidence interval of the median, seconds.
    pub fn median_ci(&self) -> (f64, f64) {
        self.summary.median_ci
    }
    /// The median as a [`Duration`].
    pub fn median_duration(&self) -> Duration {
        Duration::from_secs_f64(self.median())
    }

    /// A warning when the samples are too spread to trust the median to a few
    /// percent: the slowest sample took at least twice the fastest (`%timeit`
    /// warns at 4×), or the IQR exceeds 10 % of the median.
    pub fn noise_warning(&self) -> Option<String> {
        let s = &self.summary;
        let ratio = if s.min > 0.0 { s.max / s.min } else { 1.0 };
        let rel_iqr = if s.median > 0.0 {
            s.iqr / s.median
        } else {
            0.0
        };
        if ratio >= 2.0 {
            Some(format!(
                "The slowest run took {ratio:.1} times longer than the fastest: another program \
                 may have been running, or the kernel's data was not yet in memory or cache."
            ))
        } else if rel_iqr > 0.10 {
            Some(format!(
                "The middle half of the runs spreads over {:.0} % of the median: timings are noisy.",
                rel_iqr * 100.0
            ))
        } else {
            None
        }
    }

    /// Rates from the [`Work`] one call does, at the median time.
    ///
    /// ```
    /// use parlab::timing::{BenchResult, Work};
    /// let r = BenchResult::from_samples("add", vec![1e-3; 3], 1).unwrap();
    /// let t = r.throughput(Work::new().bytes(24e6).flops(1e6));
    /// assert!((t.gb_per_s.unwrap() - 24.0).abs() < 1e-9);
    /// assert!((t.gflop_per_s.unwrap() - 1.0).abs() < 1e-9);
    /// assert_eq!(r.throughput(Work::new().bytes(24e6)).gflop_per_s, None);
    /// ```
    pub fn throughput(&self, work: Work) -> Throughput {
        let t = self.median();
        let rate = |x: Option<f64>| x.filter(|_| t > 0.0).map(|x| x / t / 1e9);
        Throughput {
            name: self.name.clone(),
            seconds: t,
            threads: self.threads,
            work,
            gb_per_s: rate(work.bytes),
            gflop_per_s: rate(work.flops),
        }
    }
}

impl BenchResult {
    /// Flat rows for export: `min`, `median`, `mean`, `std_dev`, `iqr`,
    /// `ci_low`, `ci_high` (unit `s`, per call) and every `sample`, tagged with
    /// `size` and the result's thread count.
    pub fn rows(&self, size: usize) -> Vec<crate::export::Row> {
        use crate::export::Row;
        let s = &self.summary;
        let mut rows: Vec<Row> = [
            ("min", s.min),
            ("median", s.median),
            ("mean", s.mean),
            ("std_dev", s.std_dev),
            ("iqr", s.iqr),
            ("ci_low", s.median_ci.0),
            ("ci_high", s.median_ci.1),
        ]
        .iter()
        .map(|&(stat, v)| Row::new(&self.name, size, self.threads, stat, v, "s"))
        .collect();
        rows.extend(
            self.samples
                .iter()
                .map(|&v| Row::new(&self.name, size, self.threads, "sample", v, "s")),
        );
        rows
    }
}

/// The work one call of a kernel does: bytes moved to or from memory and/or
/// floating-point operations. Either may be left out; a given value must be
/// positive and finite (a zero, negative or NaN amount is dropped, as if not
/// given).
///
/// ```
/// use parlab::timing::Work;
/// let n = 1024.0 * 1024.0;
/// let add = Work::new().bytes(3.0 * 4.0 * n).flops(n); // c = a + b, f32
/// assert_eq!(add.bytes_per_call(), Some(12.0 * n));
/// assert_eq!(Work::new().flops_per_call(), None);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Work {
    bytes: Option<f64>,
    flops: Option<f64>,
}

impl Work {
    /// No work given yet.
    pub fn new() -> Work {
        Work::default()
    }
    /// Bytes moved per call (STREAM counting: each array read or written once).
    pub fn bytes(mut self, bytes: f64) -> Work {
        self.bytes = (bytes > 0.0 && bytes.is_finite()).then_some(bytes);
        self
    }
    /// Floating-point operations per call.
    pub fn flops(mut self, flops: f64) -> Work {
        self.flops = (flops > 0.0 && flops.is_finite()).then_some(flops);
        self
    }
    /// The bytes per call, if given.
    pub fn bytes_per_call(&self) -> Option<f64> {
        self.bytes
    }
    /// The flops per call, if given.
    pub fn flops_per_call(&self) -> Option<f64> {
        self.flops
    }
    /// Whether neither was given.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_none() && self.flops.is_none()
    }
    /// FLOP per byte, when both are given.
    pub fn intensity(&self) -> Option<f64> {
        Some(self.flops? / self.bytes?)
    }
}

/// Memory and arithmetic rates of a measured kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Throughput {
    /// Name of the benchmark.
    pub name: String,
    /// Median seconds per call.
    pub seconds: f64,
    /// Threads the measurement ran on.
    pub threads: usize,
    /// The work per call the rates come from.
    pub work: Work,
    /// Bandwidth, 10⁹ bytes per second.
    pub gb_per_s: Option<f64>,
    /// Arithmetic rate, 10⁹ floating-point operations per second.
    pub gflop_per_s: Option<f64>,
}

impl Throughput {
    /// How far these rates are from the machine's limits on the same number of
    /// threads, counting flops against the `f64` peak (see
    /// [`vs_precision`](Throughput::vs_precision) for `f32`).
    ///
    /// ```
    /// use parlab::timing::{BenchResult, Machine};
    /// use parlab::timing::machine::{PeakPoint, StreamPoint};
    /// let mut m = Machine::probe_with(&parlab::timing::machine::ProbeConfig {
    ///     max_bytes: 1 << 16, stream_reps: 1, peak_seconds: 1e-4, threads: vec![1], apply: false,
    /// }).unwrap();
    /// m.stream = vec![StreamPoint { threads: 1, copy: 30.0, add: 40.0, triad: 38.0, ..Default::default() }];
    /// m.peak = vec![PeakPoint { threads: 1, f32: 256.0, f64: 128.0 }];
    /// let r = BenchResult::from_samples("add", vec![1e-3; 3], 1).unwrap();
    /// let e = r.throughput(parlab::timing::Work::new().bytes(20e6)).vs(&m);
    /// assert_eq!(e.bandwidth_fraction().ok(), Some(0.5)); // 20 GB/s of 40
    /// ```
    pub fn vs(&self, machine: &crate::timing::Machine) -> Efficiency {
        self.vs_precision(machine, crate::timing::machine::Precision::F64)
    }

    /// As [`vs`](Throughput::vs) with the peak of the given precision.
    pub fn vs_precision(
        &self,
        machine: &crate::timing::Machine,
        precision: crate::timing::machine::Precision,
    ) -> Efficiency {
        Efficiency {
            throughput: self.clone(),
            bandwidth_limit: machine.bandwidth(self.threads).ok(),
            peak_gflops: machine.peak_gflops(self.threads, precision).ok(),
            precision_f32: precision == crate::timing::machine::Precision::F32,
            reads_only: false,
        }
    }

    /// As [`vs`](Throughput::vs) for a kernel that only reads (a sum, a dot
    /// product): judged against the read limit from memory
    /// ([`Machine::read_bandwidth`](crate::timing::Machine::read_bandwidth)),
    /// not the add limit.
    ///
    /// ```
    /// use parlab::timing::{BenchResult, Machine};
    /// use parlab::timing::machine::StreamPoint;
    /// let mut m = Machine::probe_with(&parlab::timing::machine::ProbeConfig {
    ///     max_bytes: 1 << 16, stream_reps: 1, peak_seconds: 1e-4, threads: vec![1], apply: false,
    /// }).unwrap();
    /// m.stream = vec![StreamPoint { threads: 1, read: 25.0, add: 40.0, ..Default::default() }];
    /// let r = BenchResult::from_samples("sum", vec![1e-3; 3], 1).unwrap();
    /// let e = r.throughput(parlab::timing::Work::new().bytes(20e6)).vs_read(&m);
    /// assert_eq!(e.bandwidth_fraction().ok(), Some(0.8)); // 20 GB/s of 25
    /// assert!(e.to_string().contains("of the read limit"));
    /// ```
    pub fn vs_read(&self, machine: &crate::timing::Machine) -> Efficiency {
        Efficiency {
            bandwidth_limit: machine.read_bandwidth(self.threads).ok(),
            reads_only: true,
            ..self.vs(machine)
        }
    }
}

/// A kernel's rates next to the machine's limits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Efficiency {
    /// The kernel's rates.
    pub throughput: Throughput,
    /// The physical limit of an add from memory on the same threads, GB/s
    /// ([`Machine::bandwidth`](crate::timing::Machine::bandwidth)).
    pub bandwidth_limit: Option<f64>,
    /// Peak GFLOP/s on the same threads.
    pub peak_gflops: Option<f64>,
    /// Whether the peak is the `f32` one (else `f64`).
    pub precision_f32: bool,
    /// Whether `bandwidth_limit` is the read limit (a kernel that only
    /// reads: sum, dot) rather than the add limit.
    #[serde(default)]
    pub reads_only: bool,
}

impl Efficiency {
    /// Fraction of that limit reached (above 1 when data stays in cache).
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when no bytes per call were given, or the
    /// machine has no bandwidth figures.
    pub fn bandwidth_fraction(&self) -> Result<f64> {
        let g = self
            .throughput
            .gb_per_s
            .ok_or_else(|| self.missing("bytes"))?;
        let l = self
            .bandwidth_limit
            .ok_or_else(|| self.missing("bandwidth"))?;
        Ok(g / l)
    }
    /// Fraction of peak FLOP/s reached.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when no flops per call were given, or the
    /// machine has no peak figures.
    pub fn peak_fraction(&self) -> Result<f64> {
        let g = self
            .throughput
            .gflop_per_s
            .ok_or_else(|| self.missing("flops"))?;
        let l = self.peak_gflops.ok_or_else(|| self.missing("peak"))?;
        Ok(g / l)
    }

    fn missing(&self, what: &str) -> Error {
        let name = &self.throughput.name;
        let name = if name.is_empty() {
            "the kernel".to_string()
        } else {
            format!("`{name}`")
        };
        Error::new(
            ErrorKind::InvalidInput,
            match what {
                "bytes" | "flops" => format!(
                    "no {what} per call were given for {name}: pass a `Work::new().{what}(…)`"
                ),
                _ => format!("the Machine has no {what} figures to judge {name} against"),
            },
        )
    }
}

/// Cost in seconds of one `Instant::now()` pair, the median of 15 runs of 1 000.
pub fn timer_overhead() -> f64 {
    let mut v: Vec<f64> = (0..15)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..1000 {
                black_box(Instant::now());
            }
            t.elapsed().as_secs_f64() / 1000.0
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Times `f` with the default [`Bench`] settings.
///
/// # Panics
/// When `f` panics (with a message naming the sample, not the raw panic output).
/// Use [`try_bench`] to get an error instead.
pub fn bench<R>(f: impl FnMut() -> R + Send) -> BenchResult {
    match try_bench(f) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

/// Times `f` with the default [`Bench`] settings.
///
/// # Errors
/// [`ErrorKind::Panicked`] when `f` panics.
pub fn try_bench<R>(f: impl FnMut() -> R + Send) -> Result<BenchResult> {
    Bench::new().run(f)
}

/// Times `f` on fresh inputs from `setup` (not timed) with the default
/// [`Bench`] settings; see [`Bench::run_with_setup`].
///
/// # Errors
/// [`ErrorKind::Panicked`] when `setup` or `f` panics.
pub fn try_bench_with_setup<I: Send, R: Send>(
    setup: impl FnMut() -> I + Send,
    f: impl FnMut(I) -> R + Send,
) -> Result<BenchResult> {
    Bench::new().run_with_setup(setup, f)
}

/// As [`try_bench_with_setup`], panicking with the error's message.
///
/// # Panics
/// When `setup` or `f` panics.
pub fn bench_with_setup<I: Send, R: Send>(
    setup: impl FnMut() -> I + Send,
    f: impl FnMut(I) -> R + Send,
) -> BenchResult {
    match try_bench_with_setup(setup, f) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick() -> Bench {
        Bench::new()
            .samples(5)
            .warmup(Duration::from_millis(1))
            .min_sample_time(Duration::from_micros(500))
    }

    #[test]
    fn autorange_reaches_the_minimum_sample_time() {
        let v: Vec<u64> = (0..100).collect();
        let r = quick().run(|| v.iter().sum::<u64>()).unwrap();
        assert!(r.loops > 1, "loops {}", r.loops);
        let min = 0.5e-3 * time_scale();
        assert!(r.median() * r.loops as f64 >= min * 0.5, "{r:?}");
        assert_eq!(r.samples.len(), 5);
        assert!(r.warmup_calls >= r.loops);
        assert!(r.timer_overhead > 0.0 && r.timer_overhead < 1e-5);
    }

    #[test]
    fn slow_closure_runs_once_per_sample() {
        // Longer than quick()'s 500 µs minimum sample, at any time scale.
        let nap = Duration::from_millis(1).max(Duration::from_micros(1000).mul_f64(time_scale()));
        let r = quick().samples(3).run(|| std::thread::sleep(nap)).unwrap();
        assert_eq!(r.loops, 1);
        assert!(r.min() >= 0.9 * nap.as_secs_f64(), "{}", r.min());
    }

    #[test]
    fn panic_names_the_sample_and_prints_nothing() {
        let mut calls = 0u32;
        let e = Bench::new()
            .samples(4)
            .warmup(Duration::ZERO)
            .min_sample_time(Duration::ZERO)
            .name("bad")
            .run(|| {
                calls += 1;
                assert!(calls < 3, "call {calls} failed");
            })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Panicked);
        // Call 1 is the warm-up, calls 2, 3 are samples 1, 2.
        assert!(
            e.to_string()
                .starts_with("benchmark `bad` panicked in sample 2 of 4: call 3 failed"),
            "{e}"
        );
        assert!(!e.to_string().contains("panicked at"), "{e}");
        let e = quick().run(|| -> u8 { panic!("early") }).unwrap_err();
        assert!(e.to_string().contains("during the warm-up: early"), "{e}");
        // Still usable afterwards.
        assert!(quick().run(|| 1 + 1).is_ok());
    }

    #[test]
    fn bench_inside_a_worker_of_a_bench_does_not_deadlock() {
        use rayon::prelude::*;
        let outer = quick()
            .samples(1)
            .run(|| {
                crate::par::Par::threads(2)
                    .install(|| {
                        (0..2)
                            .into_par_iter()
                            .map(|_| quick().samples(1).run(|| 1).is_ok())
                            .all(|ok| ok)
                    })
                    .unwrap()
            })
            .unwrap();
        assert_eq!(outer.samples.len(), 1);
    }

    #[test]
    fn panic_in_a_rayon_worker_is_caught() {
        use rayon::prelude::*;
        let e = crate::par::Par::threads(2)
            .install(|| {
                quick().run(|| {
                    (0..64).into_par_iter().for_each(|i| {
                        if i == 63 {
                            panic!("worker {i}")
                        }
                    })
                })
            })
            .unwrap()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Panicked);
        assert!(
            e.to_string().contains("during the warm-up: worker 63"),
            "{e}"
        );
    }

    #[test]
    fn setup_is_not_timed() {
        let r = quick()
            .samples(3)
            .min_sample_time(Duration::from_micros(200))
            .run_with_setup(
                || {
                    std::thread::sleep(Duration::from_micros(100));
                    vec![1u8; 16]
                },
                |v| v.len(),
            )
            .unwrap();
        assert!(
            r.median() < 50e-6,
            "setup leaked into the timing: {}",
            r.median()
        );
        let e = quick()
            .run_with_setup(|| -> u8 { panic!("no input") }, |x| x)
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Panicked);
    }

    #[test]
    fn time_scales_parse() {
        assert_eq!(parse_time_scale(None), Ok(1.0));
        assert_eq!(parse_time_scale(Some(" ")), Ok(1.0));
        assert_eq!(parse_time_scale(Some("3")), Ok(3.0));
        assert_eq!(parse_time_scale(Some("1e-3")), Ok(1e-3));
        assert_eq!(parse_time_scale(Some("1/4")), Ok(0.25));
        for bad in ["0", "-2", "fast", "inf", "NaN", "1/0", "3/"] {
            let e = parse_time_scale(Some(bad)).unwrap_err();
            assert!(e.contains("PARLAB_BENCH_TIME_SCALE"), "{bad}: {e}");
        }
    }

    #[test]
    fn loop_counts_follow_1_2_5() {
        let got: Vec<u64> = [0, 1, 2, 3, 6, 11, 49, 51]
            .iter()
            .map(|&n| up_125(n))
            .collect();
        assert_eq!(got, [1, 1, 2, 5, 10, 20, 50, 100]);
    }

    #[test]
    fn zero_samples_is_refused() {
        let e = Bench::new().samples(0).run(|| ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn noise_warning_fires_on_spread() {
        let r = BenchResult::from_samples("x", vec![1.0, 1.0, 1.0, 3.0], 1).unwrap();
        assert!(r.noise_warning().unwrap().contains("3.0 times"));
        let r = BenchResult::from_samples("x", vec![1.0, 1.01, 0.99], 1).unwrap();
        assert!(r.noise_warning().is_none());
    }

    #[test]
    fn a_result_is_refused_by_run_and_checked_by_try_run() {
        let e = quick()
            .name("k")
            .run(|| -> Result<()> { Ok(()) })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(
            e.to_string().contains("benchmark `k` returns a Result"),
            "{e}"
        );
        assert!(e.to_string().contains("try_run"), "{e}");
        let mut calls = 0;
        let e = quick()
            .name("k")
            .try_run(|| {
                calls += 1;
                if calls > 3 {
                    Err(Error::new(
                        ErrorKind::ShapeMismatch,
                        "shapes differ: a is 2, b is 3",
                    ))
                } else {
                    Ok(calls)
                }
            })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        assert_eq!(
            e.to_string(),
            "benchmark `k` failed: shapes differ: a is 2, b is 3"
        );
        assert!(
            !quick()
                .try_run(|| Ok::<_, Error>(1))
                .unwrap()
                .samples
                .is_empty()
        );
    }

    #[test]
    fn par_runs_on_its_pool_and_records_it() {
        let r = quick().par(Par::threads(3)).run(rayon::current_num_threads);
        let r = r.unwrap();
        assert_eq!(r.threads, 3);
        let seq = quick()
            .par(Par::Seq)
            .run(rayon::current_num_threads)
            .unwrap();
        assert_eq!(seq.threads, 1);
        let e = quick().par(Par::Threads(0)).run(|| 1).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Threads);
    }

    #[test]
    fn threads_are_recorded() {
        let r = crate::par::with_threads(2, || quick().samples(1).run(|| 1)).unwrap();
        assert_eq!(r.threads, 2);
        let serial =
            crate::par::with_threads(2, || quick().threads(1).samples(1).run(|| 1)).unwrap();
        assert_eq!(serial.threads, 1, "a declared thread count wins");
    }
}
