//! Sweeps: the same kernels over problem sizes (like perfplot) or over thread
//! counts (strong scaling, with an Amdahl's-law fit).
//!
//! ```
//! use parlab::timing::{Bench, ThreadSweep};
//! use rayon::prelude::*;
//! use std::time::Duration;
//!
//! let v: Vec<f64> = (0..100_000).map(|i| i as f64).collect();
//! let s = ThreadSweep::new([1, 2])
//!     .bench(Bench::new().samples(3).warmup(Duration::ZERO).min_sample_time(Duration::from_millis(1)))
//!     .run(|| v.par_chunks(10_000).map(|c| c.iter().sum::<f64>()).sum::<f64>())
//!     .unwrap();
//! assert_eq!(s.points.len(), 2);
//! assert_eq!(s.points[0].speedup, 1.0);
//! assert!(s.serial_fraction.is_some());
//! ```

use super::bench::{Bench, BenchResult, Work, catch_panic};
use super::fallible::{KernelOutput, Written};
use super::stats::amdahl_serial_fraction;
use crate::error::{Error, ErrorKind, Result};
use crate::export::Row;
use crate::par::Par;
use crate::progress::Progress;
use crate::verify::{Comparable, Tol, check};

/// Times one closure on local pools of several sizes.
#[derive(Debug, Clone)]
pub struct ThreadSweep {
    threads: Vec<usize>,
    bench: Bench,
    name: String,
    progress: Progress,
}

impl ThreadSweep {
    /// Thread counts to measure, in the order given; include 1 for the Amdahl fit.
    pub fn new(threads: impl IntoIterator<Item = usize>) -> Self {
        ThreadSweep {
            threads: threads.into_iter().collect(),
            bench: Bench::new(),
            name: String::new(),
            progress: Progress::auto(),
        }
    }

    /// 1, 2, 4, … up to all hardware threads (and all of them).
    pub fn up_to_all() -> Self {
        let hw = crate::par::available_threads();
        let mut v: Vec<usize> = std::iter::successors(Some(1usize), |t| Some(t * 2))
            .take_while(|&t| t < hw)
            .collect();
        v.push(hw);
        ThreadSweep::new(v)
    }

    /// Measurement settings.
    pub fn bench(mut self, bench: Bench) -> Self {
        self.bench = bench;
        self
    }

    /// A name for the results.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Where and when a line is printed as each thread count is done
    /// (default [`Progress::auto`]: on stdout, once the sweep has run for a second).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Times `f` inside a local pool of each thread count. Each pool is built
    /// before its measurement starts, outside the timed region.
    ///
    /// # Errors
    /// [`ErrorKind::Threads`] for a thread count of 0 or a pool that cannot be
    /// built; [`ErrorKind::InvalidInput`] for an empty list; errors of
    /// [`Bench::run`].
    pub fn run<R>(&self, mut f: impl FnMut() -> R + Send) -> Result<Scaling> {
        self.each(|b| b.run(&mut f))
    }

    /// Runs `measure` with the bench for each thread count, in order.
    fn each(&self, mut measure: impl FnMut(Bench) -> Result<BenchResult>) -> Result<Scaling> {
        if self.threads.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "no thread counts to sweep",
            ));
        }
        let mut results = Vec::with_capacity(self.threads.len());
        let title = match self.name.as_str() {
            "" => "ThreadSweep".to_string(),
            name => format!("ThreadSweep {name}"),
        };
        let mut steps = self.progress.start(title, self.threads.len());
        for &t in &self.threads {
            let b = self.bench.clone().name(self.name.clone());
            results.push(measure(b.par(Par::Threads(t)))?);
            steps.step(format_args!("{t} thread{}", if t == 1 { "" } else { "s" }));
        }
        Ok(Scaling::from_results(self.name.clone(), results))
    }

    /// As [`run`](ThreadSweep::run) for a closure that can fail, such as a
    /// parlab kernel: an `Err` ends the sweep with that error.
    ///
    /// ```
    /// use parlab::timing::{Bench, ThreadSweep};
    /// use parlab::ndarray::Array2;
    /// use std::time::Duration;
    /// let (a, b) = (Array2::<f32>::ones((256, 256)), Array2::<f32>::ones((256, 256)));
    /// let mut c = Array2::<f32>::zeros((256, 256));
    /// let quick = Bench::new().samples(2).warmup(Duration::ZERO).min_sample_time(Duration::from_micros(200));
    /// let s = ThreadSweep::new([1, 2])
    ///     .bench(quick)
    ///     .try_run(|| parlab::kernels::par_add(a.view(), b.view(), c.view_mut()))?;
    /// assert_eq!(s.points.len(), 2);
    /// # Ok::<(), parlab::Error>(())
    /// ```
    ///
    /// # Errors
    /// `f`'s error, else as [`run`](ThreadSweep::run).
    pub fn try_run<R, E: Into<Error> + Send>(
        &self,
        mut f: impl FnMut() -> std::result::Result<R, E> + Send,
    ) -> Result<Scaling> {
        self.each(|b| b.try_run(&mut f))
    }
}

/// Times `f` on each of `threads` with default settings.
///
/// # Errors
/// As [`ThreadSweep::run`].
pub fn sweep_threads<R>(threads: &[usize], f: impl FnMut() -> R + Send) -> Result<Scaling> {
    ThreadSweep::new(threads.iter().copied()).run(f)
}

/// One thread count of a [`Scaling`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ScalingPoint {
    /// Threads.
    pub threads: usize,
    /// The measurement.
    pub result: BenchResult,
    /// Median time at the smallest thread count over this one.
    pub speedup: f64,
    /// 95 % bootstrap interval of the speed-up (both sample sets resampled).
    #[serde(default)]
    pub speedup_ci: Option<(f64, f64)>,
    /// `speedup × p₀ / p` (1 is perfect scaling), `p₀` the smallest thread count.
    pub efficiency: f64,
    /// Amdahl's prediction for this thread count from the fitted serial fraction.
    pub amdahl: Option<f64>,
}

/// Strong scaling: one kernel, several thread counts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Scaling {
    /// Name of the kernel.
    pub name: String,
    /// One point per thread count, in the order measured.
    pub points: Vec<ScalingPoint>,
    /// Least-squares fit of Amdahl's serial fraction (see
    /// [`amdahl_serial_fraction`]) over the thread counts this machine can run
    /// at once (more threads than hardware threads only share them, which the
    /// law does not model: fitted, that reads as serial code); `None` without
    /// a 1-thread point and a parallel one it can run.
    pub serial_fraction: Option<f64>,
    /// 95 % bootstrap interval of [`serial_fraction`](Self::serial_fraction):
    /// the samples at every thread count resampled, the fit made again.
    #[serde(default)]
    pub serial_fraction_ci: Option<(f64, f64)>,
}

/// The `format_version` a saved [`Scaling`] carries.
pub const SCALING_FORMAT_VERSION: u32 = 1;

impl Scaling {
    /// Saves as JSON with its format version, atomically; [`load`](Scaling::load)
    /// reads it back bit for bit.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] naming the path.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::export::save_versioned(path.as_ref(), self, SCALING_FORMAT_VERSION)
    }

    /// Loads what [`save`](Scaling::save) wrote.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when unreadable; [`ErrorKind::Format`] naming the file
    /// when it is not such a file, or of another format version.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Scaling> {
        crate::export::load_versioned(path.as_ref(), SCALING_FORMAT_VERSION)
    }

    /// Speedups and the Amdahl fit from measurements (one per thread count).
    ///
    /// # Panics
    /// When `results` is empty.
    pub fn from_results(name: String, results: Vec<BenchResult>) -> Scaling {
        Scaling::from_results_on(name, results, crate::par::available_threads())
    }

    /// As [`from_results`](Scaling::from_results) for a machine of `cores`
    /// hardware threads.
    pub(crate) fn from_results_on(
        name: String,
        results: Vec<BenchResult>,
        cores: usize,
    ) -> Scaling {
        let base = results
            .iter()
            .min_by_key(|r| r.threads)
            .expect("at least one result");
        let (p0, t0) = (base.threads, base.median());
        let pts: Vec<(usize, f64)> = results
            .iter()
            .map(|r| (r.threads, t0 / r.median()))
            .collect();
        let runnable: Vec<usize> = (0..results.len())
            .filter(|&i| results[i].threads <= cores.max(1))
            .collect();
        let fit = |medians: &[f64]| {
            let t0 = medians[0];
            let pts: Vec<(usize, f64)> = runnable
                .iter()
                .zip(&medians[1..])
                .map(|(&i, &m)| (results[i].threads, t0 / m))
                .collect();
            amdahl_serial_fraction(&pts)
        };
        let base_index = results
            .iter()
            .position(|r| r.threads == p0)
            .expect("the base is one of the results");
        let mut groups: Vec<&[f64]> = vec![&results[base_index].samples];
        groups.extend(runnable.iter().map(|&i| results[i].samples.as_slice()));
        let (serial_fraction, serial_fraction_ci) = if p0 == 1 {
            let mut medians = vec![t0];
            medians.extend(runnable.iter().map(|&i| results[i].median()));
            (
                fit(&medians),
                super::stats::bootstrap_medians_ci(&groups, fit, 0.95, 1000, 0x5eed),
            )
        } else {
            (None, None)
        };
        let base_samples = results[base_index].samples.clone();
        let speedup_cis: Vec<Option<(f64, f64)>> = results
            .iter()
            .map(|r| {
                super::stats::bootstrap_medians_ci(
                    &[&base_samples, &r.samples],
                    |m| Some(m[0] / m[1]),
                    0.95,
                    1000,
                    0x5eed,
                )
            })
            .collect();
        let points = results
            .into_iter()
            .zip(pts)
            .zip(speedup_cis)
            .map(|((result, (p, s)), ci)| ScalingPoint {
                threads: p,
                speedup: s,
                speedup_ci: ci,
                efficiency: s * p0 as f64 / p as f64,
                amdahl: serial_fraction.map(|f| super::stats::amdahl_speedup(f, p)),
                result,
            })
            .collect();
        Scaling {
            name,
            points,
            serial_fraction,
            serial_fraction_ci,
        }
    }

    /// Flat rows: the timing statistics, speedup and efficiency per thread count.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for p in &self.points {
            rows.extend(p.result.rows(0));
            rows.push(Row::new(
                &self.name, 0, p.threads, "speedup", p.speedup, "x",
            ));
            rows.push(Row::new(
                &self.name,
                0,
                p.threads,
                "efficiency",
                p.efficiency,
                "1",
            ));
        }
        if let Some(s) = self.serial_fraction {
            rows.push(Row::new(&self.name, 0, 0, "amdahl_serial_fraction", s, "1"));
        }
        rows
    }
}

/// What the sizes of a size sweep are, for the x axis of its charts and the
/// head of its table.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum SizeUnit {
    /// A number of elements (a vector's length): `n (elements)`.
    #[default]
    Elements,
    /// The side n of n×n matrices: `n (n×n matrix)`, ticks at the sizes.
    Square,
    /// Bytes (a working set): `working set (bytes)`, ticks as `4 KiB`, `1 MiB`.
    Bytes,
    /// An axis label of your own, e.g. `n (b is n×n, a is 128×n)`.
    Label(String),
}

impl SizeUnit {
    /// The x-axis label of a chart against this size.
    pub fn axis_label(&self) -> String {
        match self {
            SizeUnit::Elements => "n (elements)".into(),
            SizeUnit::Square => "n (n×n matrix)".into(),
            SizeUnit::Bytes => "working set (bytes)".into(),
            SizeUnit::Label(l) => l.clone(),
        }
    }

    /// A size as its label reads it: `4096`, `1024`, `32 KiB`.
    pub fn format(&self, n: usize) -> String {
        match self {
            SizeUnit::Bytes => crate::timing::machine::fmt_bytes(n),
            _ => n.to_string(),
        }
    }
}

/// The work per call at a size.
type WorkFn<'a> = Box<dyn Fn(usize) -> Work + Send + 'a>;

/// A kernel of a size sweep returns its output, or writes it into a buffer
/// made for each size.
type Returning<'a, I, O> = Box<dyn FnMut(&I) -> Result<O> + Send + 'a>;
type Writing<'a, I, O> = Box<dyn FnMut(&I, &mut O) -> Result<()> + Send + 'a>;

enum SizedKernel<'a, I, O> {
    Returns(Returning<'a, I, O>),
    Into {
        make: Box<dyn FnMut(usize) -> O + Send + 'a>,
        f: Writing<'a, I, O>,
    },
}

/// Kernels over problem sizes, like perfplot: `setup(n)` makes the input for
/// size `n` (not timed), every kernel runs on it, outputs are checked against
/// the first kernel's, then each is timed.
///
/// ```
/// use parlab::timing::{Bench, SizeSweep, Work};
/// use std::time::Duration;
///
/// let r = SizeSweep::new([1_000, 10_000], |n| (0..n).map(|i| i as f64).collect::<Vec<_>>())
///     .bench(Bench::new().samples(3).warmup(Duration::ZERO).min_sample_time(Duration::from_millis(1)))
///     .kernel("sum", |v| v.iter().sum::<f64>())
///     .kernel("fold", |v| v.iter().fold(0.0, |a, x| a + x))
///     .work(|n| Work::new().bytes(8.0 * n as f64).flops(n as f64))
///     .run()
///     .unwrap();
/// assert_eq!(r.results.len(), 2);       // kernels
/// assert_eq!(r.results[0].len(), 2);    // sizes
/// ```
pub struct SizeSweep<'a, I, O> {
    sizes: Vec<usize>,
    setup: Box<dyn FnMut(usize) -> I + Send + 'a>,
    kernels: Vec<(String, SizedKernel<'a, I, O>)>,
    bench: Bench,
    tol: Box<dyn Fn(usize) -> Tol + Send + 'a>,
    work: Option<WorkFn<'a>>,
    size_unit: SizeUnit,
    progress: Progress,
}

impl<'a, I: Sync, O: Comparable + Send> SizeSweep<'a, I, O> {
    /// Sizes to sweep and the input for each. Closures must be `Send` so the
    /// sweep can move into a local pool ([`par`](SizeSweep::par)).
    pub fn new(
        sizes: impl IntoIterator<Item = usize>,
        setup: impl FnMut(usize) -> I + Send + 'a,
    ) -> Self {
        SizeSweep {
            sizes: sizes.into_iter().collect(),
            setup: Box::new(setup),
            kernels: Vec::new(),
            bench: Bench::new(),
            tol: Box::new(|_| Tol::new(1e-8, 1e-5)),
            work: None,
            size_unit: SizeUnit::Elements,
            progress: Progress::auto(),
        }
    }

    /// Where and when a line is printed as each size is done (default
    /// [`Progress::auto`]: on stdout, once the sweep has run for a second).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// What the sizes are, for the charts' x axis (default: elements).
    pub fn size_unit(mut self, unit: SizeUnit) -> Self {
        self.size_unit = unit;
        self
    }

    /// The sizes are the side n of n×n matrices: charts read `n (n×n matrix)`.
    pub fn square(self) -> Self {
        self.size_unit(SizeUnit::Square)
    }

    /// The sizes are bytes: charts read `working set (bytes)` in KiB and MiB.
    pub fn sizes_in_bytes(self) -> Self {
        self.size_unit(SizeUnit::Bytes)
    }

    /// Adds a kernel returning its output, or a `Result` of it; the first is
    /// the reference for the output checks.
    pub fn kernel<K: KernelOutput<Output = O>>(
        mut self,
        name: impl Into<String>,
        mut f: impl FnMut(&I) -> K + Send + 'a,
    ) -> Self {
        self.kernels.push((
            name.into(),
            SizedKernel::Returns(Box::new(move |i| f(i).into_output())),
        ));
        self
    }

    /// Adds a kernel that writes into a buffer: `make(n)` builds the buffer
    /// for size `n` (not timed; fill it with NaN to catch a kernel that leaves
    /// part of it unwritten), `f(input, buffer)` writes it and returns `()` or
    /// a `Result<()>`.
    ///
    /// ```
    /// use parlab::ndarray::Array1;
    /// use parlab::timing::{Bench, SizeSweep};
    /// use std::time::Duration;
    /// let quick = Bench::new().samples(2).warmup(Duration::ZERO).min_sample_time(Duration::from_micros(100));
    /// let r = SizeSweep::new([100, 1000], |n| Array1::<f64>::ones(n))
    ///     .bench(quick)
    ///     .kernel_into("add", |n| Array1::from_elem(n, f64::NAN), |x, out| {
    ///         parlab::kernels::add(x.view(), x.view(), out.view_mut())
    ///     })
    ///     .kernel_into("par_add", |n| Array1::from_elem(n, f64::NAN), |x, out| {
    ///         parlab::kernels::par_add(x.view(), x.view(), out.view_mut())
    ///     })
    ///     .run()?;
    /// assert_eq!(r.names, ["add", "par_add"]);
    /// # Ok::<(), parlab::Error>(())
    /// ```
    pub fn kernel_into<W: Written>(
        mut self,
        name: impl Into<String>,
        make: impl FnMut(usize) -> O + Send + 'a,
        mut f: impl FnMut(&I, &mut O) -> W + Send + 'a,
    ) -> Self {
        self.kernels.push((
            name.into(),
            SizedKernel::Into {
                make: Box::new(make),
                f: Box::new(move |i, o| f(i, o).into_status()),
            },
        ));
        self
    }

    /// Measurement settings.
    pub fn bench(mut self, bench: Bench) -> Self {
        self.bench = bench;
        self
    }

    /// One tolerance for every size (default `abs 1e-8, rel 1e-5`).
    pub fn tol(mut self, tol: Tol) -> Self {
        self.tol = Box::new(move |_| tol);
        self
    }

    /// A tolerance per size, e.g. `|n| Tol::eps_n::<f32>(n)`.
    pub fn tol_for(mut self, tol: impl Fn(usize) -> Tol + Send + 'a) -> Self {
        self.tol = Box::new(tol);
        self
    }

    /// The [`Work`] per call at size `n`, for throughput figures.
    pub fn work(mut self, work: impl Fn(usize) -> Work + Send + 'a) -> Self {
        self.work = Some(Box::new(work));
        self
    }

    /// Runs every size on `par` threads and records that count (as
    /// [`Bench::par`]; default: the bench's `par`, else the calling pool).
    pub fn par(mut self, par: Par) -> Self {
        self.bench = self.bench.par(par);
        self
    }

    /// `.par(Par::threads(n))`.
    pub fn threads(self, n: usize) -> Self {
        self.par(Par::threads(n))
    }

    /// Checks and times every kernel at every size.
    ///
    /// # Errors
    /// [`ErrorKind::Mismatch`] naming kernel, size, index and difference;
    /// [`ErrorKind::Panicked`] naming kernel and size; [`ErrorKind::Threads`];
    /// [`ErrorKind::InvalidInput`] without kernels or sizes.
    pub fn run(self) -> Result<SizeScaling> {
        match self.bench.par_setting() {
            Some(p) => p.pool()?.install(move || self.run_here()),
            None => self.run_here(),
        }
    }

    fn run_here(mut self) -> Result<SizeScaling> {
        if self.kernels.is_empty() || self.sizes.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "a size sweep needs at least one kernel and one size",
            ));
        }
        let names: Vec<String> = self.kernels.iter().map(|k| k.0.clone()).collect();
        let mut results: Vec<Vec<BenchResult>> = vec![Vec::new(); names.len()];
        let mut work = Vec::new();
        let mut steps = self
            .progress
            .start(format!("SizeSweep {}", names.join(", ")), self.sizes.len());
        for &n in &self.sizes {
            let setup = &mut self.setup;
            let input = catch_panic(|| setup(n)).map_err(|m| {
                Error::new(
                    ErrorKind::Panicked,
                    format!("setup panicked at size {n}: {m}"),
                )
            })?;
            let tol = (self.tol)(n);
            let mut reference: Option<O> = None;
            let mut buffers: Vec<Option<O>> = Vec::with_capacity(self.kernels.len());
            for (name, kernel) in self.kernels.iter_mut() {
                let panicked = |m: String| {
                    Error::new(
                        ErrorKind::Panicked,
                        format!("kernel `{name}` panicked at size {n}: {m}"),
                    )
                };
                let failed = |e: Error| {
                    Error::new(
                        e.kind(),
                        format!("kernel `{name}` failed at size {n}: {}", e.message()),
                    )
                };
                let out = match kernel {
                    SizedKernel::Returns(f) => {
                        buffers.push(None);
                        catch_panic(|| f(&input))
                            .map_err(panicked)?
                            .map_err(failed)?
                    }
                    SizedKernel::Into { make, f } => {
                        let mut buf = catch_panic(|| make(n)).map_err(panicked)?;
                        catch_panic(|| f(&input, &mut buf))
                            .map_err(panicked)?
                            .map_err(failed)?;
                        // The checked output is this buffer; the timed calls
                        // write into a fresh one from `make`.
                        buffers.push(Some(catch_panic(|| make(n)).map_err(panicked)?));
                        buf
                    }
                };
                match &reference {
                    None => reference = Some(out),
                    Some(r) => {
                        check(r, &out, tol).map_err(|e| {
                            Error::new(
                                e.kind(),
                                format!(
                                    "kernel `{name}` disagrees with `{}` at size {n}: {}",
                                    names[0],
                                    e.message()
                                ),
                            )
                        })?;
                    }
                }
            }
            drop(reference);
            for (k, ((name, kernel), buf)) in self.kernels.iter_mut().zip(buffers).enumerate() {
                // Already on the sweep's pool: the bench must not build another.
                let bench = self.bench.clone().name(name.clone()).here();
                let r = match (kernel, buf) {
                    (SizedKernel::Returns(f), _) => bench.try_run(|| f(&input))?,
                    (SizedKernel::Into { f, .. }, Some(mut out)) => {
                        bench.try_run(|| f(&input, &mut out))?
                    }
                    (SizedKernel::Into { .. }, None) => unreachable!("a buffer per kernel_into"),
                };
                results[k].push(r);
            }
            work.push(self.work.as_ref().map_or_else(Work::new, |w| w(n)));
            steps.step(format_args!("n = {n}"));
        }
        Ok(SizeScaling {
            sizes: self.sizes,
            names,
            results,
            work,
            size_unit: self.size_unit,
        })
    }
}

/// Results of a [`SizeSweep`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct SizeScaling {
    /// The sizes, in order.
    pub sizes: Vec<usize>,
    /// Kernel names, in order.
    pub names: Vec<String>,
    /// `results[kernel][size]`.
    pub results: Vec<Vec<BenchResult>>,
    /// The work per call at each size (empty [`Work`] when not given).
    pub work: Vec<Work>,
    /// What the sizes are ([`SizeSweep::size_unit`]); elements in files
    /// saved before it existed.
    #[serde(default)]
    pub size_unit: SizeUnit,
}

/// The `format_version` a saved [`SizeScaling`] carries.
pub const SIZE_SCALING_FORMAT_VERSION: u32 = 1;

impl SizeScaling {
    /// Saves as JSON with its format version, atomically; [`load`](SizeScaling::load)
    /// reads it back bit for bit.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] naming the path.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::export::save_versioned(path.as_ref(), self, SIZE_SCALING_FORMAT_VERSION)
    }

    /// Loads what [`save`](SizeScaling::save) wrote.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when unreadable; [`ErrorKind::Format`] naming the file
    /// when it is not such a file, or of another format version.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<SizeScaling> {
        crate::export::load_versioned(path.as_ref(), SIZE_SCALING_FORMAT_VERSION)
    }

    /// The same results with sizes of another unit, for the charts: e.g.
    /// `sweep.with_size_unit(SizeUnit::Square).plot_throughput(&machine)`.
    pub fn with_size_unit(mut self, unit: SizeUnit) -> Self {
        self.size_unit = unit;
        self
    }

    /// Flat rows: timing statistics per kernel and size, plus GB/s and GFLOP/s
    /// when the work was given.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for per_kernel in &self.results {
            for ((r, &n), &w) in per_kernel.iter().zip(&self.sizes).zip(&self.work) {
                rows.extend(r.rows(n));
                let t = r.throughput(w);
                if let Some(g) = t.gb_per_s {
                    rows.push(Row::new(&r.name, n, r.threads, "bandwidth", g, "GB/s"));
                }
                if let Some(g) = t.gflop_per_s {
                    rows.push(Row::new(&r.name, n, r.threads, "flop_rate", g, "GFLOP/s"));
                }
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Captured;

    fn quick() -> Bench {
        crate::timing::bench::test_bench()
    }

    #[test]
    fn thread_sweeps_print_a_line_per_thread_count_and_the_same_results() {
        let v: Vec<f64> = (0..10_000).map(f64::from).collect();
        let out = Captured::default();
        let sweep = |p: Progress| {
            ThreadSweep::new([1, 2])
                .name("sum")
                .bench(quick())
                .progress(p)
                .run(|| v.iter().sum::<f64>())
                .unwrap()
        };
        let (shown, quiet) = (sweep(out.progress()), sweep(Progress::never()));
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("[parlab] ThreadSweep sum: 1/2 (1 thread), elapsed "));
        assert!(lines[0].contains(", ETA "), "{text}");
        assert!(lines[1].starts_with("[parlab] ThreadSweep sum: 2/2 (2 threads), elapsed "));
        assert!(lines[1].ends_with(", done"), "{text}");
        let threads = |s: &Scaling| s.points.iter().map(|p| p.threads).collect::<Vec<_>>();
        assert_eq!((shown.name.as_str(), threads(&shown)), ("sum", vec![1, 2]));
        assert_eq!((quiet.name.as_str(), threads(&quiet)), ("sum", vec![1, 2]));
        let samples = |s: &Scaling| {
            s.points
                .iter()
                .map(|p| p.result.samples.len())
                .collect::<Vec<_>>()
        };
        assert_eq!(samples(&shown), samples(&quiet));
    }

    #[test]
    fn size_sweeps_print_a_line_per_size_and_the_same_results() {
        let out = Captured::default();
        let sweep = |p: Progress| {
            SizeSweep::new([100, 1000], |n| {
                (0..n).map(|i| i as f64).collect::<Vec<_>>()
            })
            .bench(quick())
            .kernel("sum", |v| v.iter().sum::<f64>())
            .kernel("fold", |v| v.iter().fold(0.0, |a, x| a + x))
            .work(|n| Work::new().bytes(8.0 * n as f64))
            .progress(p)
            .run()
            .unwrap()
        };
        let (shown, quiet) = (sweep(out.progress()), sweep(Progress::never()));
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("[parlab] SizeSweep sum, fold: 1/2 (n = 100), elapsed "));
        assert!(lines[1].starts_with("[parlab] SizeSweep sum, fold: 2/2 (n = 1000), elapsed "));
        assert_eq!((&shown.sizes, &shown.names), (&quiet.sizes, &quiet.names));
        assert_eq!(shown.work, quiet.work);
        assert_eq!(shown.results.len(), quiet.results.len());
    }

    #[test]
    fn thread_sweep_runs_on_each_pool() {
        let s = ThreadSweep::new([1, 2, 3])
            .bench(quick())
            .name("threads")
            .run(rayon::current_num_threads)
            .unwrap();
        let seen: Vec<usize> = s.points.iter().map(|p| p.result.threads).collect();
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(s.points[0].efficiency, 1.0);
        assert!(s.serial_fraction.is_some());
        assert!(
            s.rows()
                .iter()
                .any(|r| r.stat == "efficiency" && r.threads == 3)
        );
        assert_eq!(
            ThreadSweep::new([0]).run(|| ()).unwrap_err().kind(),
            ErrorKind::Threads
        );
        assert_eq!(
            ThreadSweep::new([]).run(|| ()).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn scaling_math_from_fixed_results() {
        let mk = |p: usize, t: f64| {
            let mut r = BenchResult::from_samples("k", vec![t; 3], 1).unwrap();
            r.threads = p;
            r
        };
        // s = 0.2: T(p) = 0.2 + 0.8/p.
        let s = Scaling::from_results("k".into(), vec![mk(1, 1.0), mk(2, 0.6), mk(4, 0.4)]);
        assert!((s.serial_fraction.unwrap() - 0.2).abs() < 1e-12);
        assert!((s.points[1].speedup - 1.0 / 0.6).abs() < 1e-12);
        assert!((s.points[2].efficiency - 2.5 / 4.0).abs() < 1e-12);
        assert!((s.points[2].amdahl.unwrap() - 2.5).abs() < 1e-9);
        // Without a 1-thread point there is no fit.
        let s = Scaling::from_results("k".into(), vec![mk(2, 1.0), mk(4, 0.5)]);
        assert_eq!(s.serial_fraction, None);
        assert_eq!(s.points[1].efficiency, 1.0);
    }

    #[test]
    fn amdahl_is_fitted_only_where_the_threads_can_run_at_once() {
        let mk = |p: usize, t: f64| {
            let mut r = BenchResult::from_samples("k", vec![t; 3], 1).unwrap();
            r.threads = p;
            r
        };
        // s = 0.1 on 1 and 2 threads; 3 and 4 threads on 2 cores gain nothing.
        let t2 = 0.1 + 0.9 / 2.0;
        let res = vec![mk(1, 1.0), mk(2, t2), mk(3, t2), mk(4, t2)];
        let on2 = Scaling::from_results_on("k".into(), res.clone(), 2);
        assert!((on2.serial_fraction.unwrap() - 0.1).abs() < 1e-12);
        // Fitted over all four, the oversubscribed points read as serial code.
        let on4 = Scaling::from_results_on("k".into(), res, 4);
        assert!(
            on4.serial_fraction.unwrap() > 0.2,
            "{:?}",
            on4.serial_fraction
        );
        // One core: nothing parallel to fit.
        let on1 = Scaling::from_results_on("k".into(), vec![mk(1, 1.0), mk(2, 0.9)], 1);
        assert_eq!(on1.serial_fraction, None);
    }

    #[test]
    fn size_sweep_checks_each_size() {
        let e = SizeSweep::new([4, 8], |n| vec![1.0f32; n])
            .bench(quick())
            .kernel("ok", |v| v.iter().sum::<f32>())
            .kernel(
                "off_at_8",
                |v| if v.len() == 8 { 9.0 } else { v.len() as f32 },
            )
            .run()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Mismatch);
        assert!(
            e.to_string()
                .starts_with("kernel `off_at_8` disagrees with `ok` at size 8"),
            "{e}"
        );
        let r = SizeSweep::new([4, 8], |n| vec![1.0f32; n])
            .bench(quick())
            .threads(2)
            .kernel("ok", |v| v.iter().sum::<f32>())
            .kernel("threads", |_| {
                rayon::current_num_threads() as f32 * 0.0 + 0.0
            })
            .tol(Tol::new(100.0, 0.0))
            .work(|n| Work::new().bytes(4.0 * n as f64).flops(n as f64))
            .run()
            .unwrap();
        assert_eq!(r.results[1][0].threads, 2);
        assert_eq!(r.size_unit, SizeUnit::Elements);
        let sq = SizeSweep::new([4], |n| vec![1.0f32; n * n])
            .bench(quick())
            .square()
            .kernel("ok", |v| v.iter().sum::<f32>())
            .run()
            .unwrap();
        assert_eq!(sq.size_unit, SizeUnit::Square);
        assert_eq!(sq.size_unit.axis_label(), "n (n×n matrix)");
        assert_eq!(SizeUnit::Bytes.format(32 * 1024), "32 KiB");
        // Files saved before the unit existed read as elements.
        let old: SizeScaling =
            serde_json::from_str(r#"{"sizes":[],"names":[],"results":[],"work":[]}"#).unwrap();
        assert_eq!(old.size_unit, SizeUnit::Elements);
        let rows = r.rows();
        assert!(rows.iter().any(|x| x.size == 8 && x.stat == "bandwidth"));
    }
}
