//! Several kernels on the same input: check they agree, then time them.
//!
//! ```
//! use parlab::timing::{Bench, Compare};
//! use parlab::verify::Tol;
//! use std::time::Duration;
//!
//! let x: Vec<f64> = (0..10_000).map(|i| (i % 7) as f64).collect();
//! let quick = Bench::new().samples(3).warmup(Duration::ZERO).min_sample_time(Duration::from_millis(1));
//! let c = Compare::new()
//!     .bench(quick)
//!     .tol(Tol::eps_n::<f64>(x.len()))
//!     .kernel("iter", || x.iter().sum::<f64>())
//!     .kernel("chunks", || x.chunks(1024).map(|c| c.iter().sum::<f64>()).sum::<f64>())
//!     .run()
//!     .unwrap();
//! assert_eq!(c.results.len(), 2);
//! assert_eq!(c.speedup("iter"), Some(1.0));
//!
//! // A wrong kernel is refused before anything is timed.
//! let e = Compare::new()
//!     .kernel("right", || vec![1.0f64, 2.0, 3.0])
//!     .kernel("wrong", || vec![1.0f64, 2.5, 3.0])
//!     .run()
//!     .unwrap_err();
//! assert_eq!(e.kind(), parlab::ErrorKind::Mismatch);
//! assert!(e.to_string().contains("`wrong` disagrees with `right`"), "{e}");
//! assert!(e.to_string().contains("worst at [1]: 2 vs 2.5"), "{e}");
//! ```

use super::bench::{Bench, BenchResult, Work, catch_panic};
use super::fallible::{KernelOutput, Written};
use crate::error::{Error, ErrorKind, Result};
use crate::export::Row;
use crate::par::Par;
use crate::progress::Progress;
use crate::verify::{Comparable, Diff, Tol, check, diff};

/// A kernel returns a fresh output, or writes into a buffer of its own (so
/// that no allocation or copy is timed with it).
type Returning<'a, O> = Box<dyn FnMut() -> Result<O> + Send + 'a>;
type Writing<'a, O> = Box<dyn FnMut(&mut O) -> Result<()> + Send + 'a>;

enum Kernel<'a, O> {
    Returns(Returning<'a, O>),
    Into {
        out: O,
        f: Writing<'a, O>,
        copy: fn(&O) -> O,
    },
}

/// Runs `f` on `par`'s pool, or right here without one.
fn on<R: Send>(par: Option<Par>, f: impl FnOnce() -> R + Send) -> Result<R> {
    match par {
        Some(p) => p.install(f),
        None => Ok(f()),
    }
}

/// Builder: named kernels returning comparable outputs; [`run`](Compare::run)
/// checks and times them.
pub struct Compare<'a, O> {
    bench: Bench,
    tol: Tol,
    baseline: Option<String>,
    work: Work,
    kernels: Vec<(String, Kernel<'a, O>)>,
    pars: Vec<(String, Par)>,
    progress: Progress,
}

impl<O: Comparable + Send> Default for Compare<'_, O> {
    fn default() -> Self {
        Compare::new()
    }
}

impl<'a, O: Comparable + Send> Compare<'a, O> {
    /// No kernels yet; default [`Bench`], tolerance `abs 1e-8, rel 1e-5`
    /// (NumPy's `allclose`), baseline the first kernel.
    pub fn new() -> Self {
        Compare {
            bench: Bench::new(),
            tol: Tol::new(1e-8, 1e-5),
            baseline: None,
            work: Work::new(),
            kernels: Vec::new(),
            pars: Vec::new(),
            progress: Progress::auto(),
        }
    }

    /// Adds a kernel: a closure returning its output, or a `Result` of it
    /// (then an `Err` stops the comparison with that error). The first kernel
    /// added is the reference outputs are checked against.
    pub fn kernel<K: KernelOutput<Output = O>>(
        mut self,
        name: impl Into<String>,
        mut f: impl FnMut() -> K + Send + 'a,
    ) -> Self {
        self.kernels.push((
            name.into(),
            Kernel::Returns(Box::new(move || f().into_output())),
        ));
        self
    }

    /// Adds a kernel that writes into `out`, its own output buffer: nothing is
    /// allocated or copied in the timed calls. Fill `out` with NaN to catch a
    /// kernel that leaves part of it unwritten.
    ///
    /// ```
    /// use parlab::ndarray::Array2;
    /// use parlab::timing::{Bench, Compare};
    /// use std::time::Duration;
    /// let a = Array2::from_elem((64, 64), 1.0f32);
    /// let quick = Bench::new().samples(3).min_sample_time(Duration::from_micros(200));
    /// let nan = Array2::from_elem((64, 64), f32::NAN);
    /// let c = Compare::new()
    ///     .bench(quick)
    ///     .kernel_into("zip", nan.clone(), |c| c.zip_mut_with(&a, |c, &a| *c = a + a))
    ///     .kernel_into("half done", nan.clone(), |c| c.row_mut(0).assign(&a.row(0)))
    ///     .run()
    ///     .unwrap_err();
    /// assert!(c.to_string().contains("`half done` disagrees"), "{c}");
    /// ```
    pub fn kernel_into<W: Written>(
        mut self,
        name: impl Into<String>,
        out: O,
        mut f: impl FnMut(&mut O) -> W + Send + 'a,
    ) -> Self
    where
        O: Clone,
    {
        self.kernels.push((
            name.into(),
            Kernel::Into {
                out,
                f: Box::new(move |o| f(o).into_status()),
                copy: O::clone,
            },
        ));
        self
    }

    /// Runs the kernel `name` on `par` threads, and records that count with
    /// its result (so a serial kernel is judged against the one-thread limit
    /// and a parallel one against the limit of its threads). Kernels without
    /// one run as the [`bench`](Compare::bench)'s `par` says, or on the
    /// calling thread.
    ///
    /// ```
    /// use parlab::par::Par;
    /// use parlab::timing::{Bench, Compare};
    /// use std::time::Duration;
    /// let quick = Bench::new().samples(2).warmup(Duration::ZERO).min_sample_time(Duration::from_micros(100));
    /// let x: Vec<f64> = (0..4096).map(f64::from).collect();
    /// let c = Compare::new()
    ///     .bench(quick)
    ///     .kernel("sum", || parlab::kernels::sum(parlab::ndarray::aview1(&x)))
    ///     .kernel("par_sum", || parlab::kernels::par_sum(parlab::ndarray::aview1(&x)))
    ///     .par("sum", Par::Seq)
    ///     .par("par_sum", Par::threads(2))
    ///     .run()?;
    /// assert_eq!((c.results[0].threads, c.results[1].threads), (1, 2));
    /// # Ok::<(), parlab::Error>(())
    /// ```
    pub fn par(mut self, name: impl Into<String>, par: Par) -> Self {
        self.pars.push((name.into(), par));
        self
    }

    /// The tolerance outputs must agree within.
    pub fn tol(mut self, tol: Tol) -> Self {
        self.tol = tol;
        self
    }

    /// Measurement settings for every kernel.
    pub fn bench(mut self, bench: Bench) -> Self {
        self.bench = bench;
        self
    }

    /// The kernel speedups are relative to (default: the first).
    pub fn baseline(mut self, name: impl Into<String>) -> Self {
        self.baseline = Some(name.into());
        self
    }

    /// The work one call does, for GB/s and GFLOP/s columns.
    pub fn work(mut self, work: Work) -> Self {
        self.work = work;
        self
    }

    /// Where and when a line is printed as each kernel's timing is done
    /// (default [`Progress::auto`]: on stdout, once the comparison has run
    /// for a second).
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = progress;
        self
    }

    /// Runs every kernel once and checks its output against the first kernel's;
    /// only if all agree, times each one.
    ///
    /// # Errors
    /// [`ErrorKind::Mismatch`] naming the kernel that disagrees, the index and
    /// size of the worst difference; [`ErrorKind::ShapeMismatch`] when shapes
    /// differ; [`ErrorKind::Panicked`] naming a kernel that panicked;
    /// [`ErrorKind::InvalidInput`] for no kernels, duplicate names or an unknown
    /// baseline.
    pub fn run(mut self) -> Result<Comparison> {
        if self.kernels.is_empty() {
            return Err(Error::new(ErrorKind::InvalidInput, "no kernels to compare"));
        }
        let names: Vec<String> = self.kernels.iter().map(|k| k.0.clone()).collect();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(Error::new(
                    ErrorKind::InvalidInput,
                    format!("two kernels are named `{n}`"),
                ));
            }
        }
        let baseline = match &self.baseline {
            None => 0,
            Some(b) => names.iter().position(|n| n == b).ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidInput,
                    format!(
                        "baseline `{b}` is not one of the kernels: {}",
                        names.join(", ")
                    ),
                )
            })?,
        };
        if let Some((n, _)) = self.pars.iter().find(|(n, _)| !names.contains(n)) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "`par` names `{n}`, which is not one of the kernels: {}",
                    names.join(", ")
                ),
            ));
        }
        let default_par = self.bench.par_setting();
        let pars: Vec<Option<Par>> = names
            .iter()
            .map(|n| {
                self.pars
                    .iter()
                    .rev()
                    .find(|(k, _)| k == n)
                    .map(|&(_, p)| p)
                    .or(default_par)
            })
            .collect();
        // The clock starts with the checks: they are part of the wait.
        let mut steps = self.progress.start("Compare", names.len());
        let mut reference: Option<O> = None;
        let mut diffs = Vec::with_capacity(names.len());
        for ((name, kernel), &par) in self.kernels.iter_mut().zip(&pars) {
            let failed =
                |e: Error| Error::new(e.kind(), format!("kernel `{name}` failed: {}", e.message()));
            let panicked = |m: String| {
                Error::new(
                    ErrorKind::Panicked,
                    format!("kernel `{name}` panicked while computing the output to check: {m}"),
                )
            };
            let mut owned: Option<O> = None;
            let out: &O = match kernel {
                Kernel::Returns(f) => owned.insert(
                    on(par, || catch_panic(&mut *f))?
                        .map_err(panicked)?
                        .map_err(failed)?,
                ),
                Kernel::Into { out, f, .. } => {
                    on(par, || catch_panic(|| f(out)))?
                        .map_err(panicked)?
                        .map_err(failed)?;
                    out
                }
            };
            match &reference {
                None => {
                    diffs.push(diff(out, out)?);
                    reference = Some(match (owned, kernel) {
                        (Some(o), _) => o,
                        (None, Kernel::Into { out, copy, .. }) => copy(out),
                        (None, Kernel::Returns(_)) => {
                            unreachable!("a returning kernel's output is owned")
                        }
                    });
                }
                Some(r) => {
                    let d = check(r, out, self.tol).map_err(|e| {
                        Error::new(
                            e.kind(),
                            format!(
                                "kernel `{name}` disagrees with `{}`: {}",
                                names[0],
                                e.message()
                            ),
                        )
                    })?;
                    diffs.push(d);
                }
            }
        }
        drop(reference);
        let mut results = Vec::with_capacity(names.len());
        for ((name, kernel), &par) in self.kernels.iter_mut().zip(&pars) {
            let mut bench = self.bench.clone().name(name.clone());
            if let Some(p) = par {
                bench = bench.par(p);
            }
            results.push(match kernel {
                Kernel::Returns(f) => bench.try_run(&mut *f)?,
                Kernel::Into { out, f, .. } => bench.try_run(|| f(out))?,
            });
            steps.step(format_args!("`{name}` timed"));
        }
        Ok(Comparison {
            results,
            baseline,
            diffs,
            tol: self.tol,
            work: self.work,
        })
    }
}

/// Timed, verified kernels.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Comparison {
    /// One result per kernel, in the order added.
    pub results: Vec<BenchResult>,
    /// Index of the baseline in [`results`](Self::results).
    pub baseline: usize,
    /// How each output differed from the first kernel's.
    pub diffs: Vec<Diff>,
    /// The tolerance they were checked with.
    pub tol: Tol,
    /// The work per call, when given.
    pub work: Work,
}

/// The `format_version` a saved [`Comparison`] carries.
pub const COMPARISON_FORMAT_VERSION: u32 = 1;

impl Comparison {
    /// Saves as JSON with its format version, atomically; [`load`](Comparison::load)
    /// reads it back bit for bit.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] naming the path.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::export::save_versioned(path.as_ref(), self, COMPARISON_FORMAT_VERSION)
    }

    /// Loads what [`save`](Comparison::save) wrote.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] when unreadable; [`ErrorKind::Format`] naming the file
    /// when it is not such a file, or of another format version.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Comparison> {
        crate::export::load_versioned(path.as_ref(), COMPARISON_FORMAT_VERSION)
    }

    /// Median time of the baseline over that of `name` (> 1: faster than the baseline).
    pub fn speedup(&self, name: &str) -> Option<f64> {
        let r = self.results.iter().find(|r| r.name == name)?;
        Some(self.results[self.baseline].median() / r.median())
    }

    /// 95 % bootstrap interval of [`speedup`](Comparison::speedup): both
    /// kernels' samples resampled, the ratio of medians taken each time.
    pub fn speedup_ci(&self, name: &str) -> Option<(f64, f64)> {
        let r = self.results.iter().find(|r| r.name == name)?;
        let base = &self.results[self.baseline];
        super::stats::bootstrap_medians_ci(
            &[&base.samples, &r.samples],
            |m| Some(m[0] / m[1]),
            0.95,
            1000,
            0x5eed,
        )
    }

    /// `(name, speedup)` for every kernel, in order.
    pub fn speedups(&self) -> Vec<(String, f64)> {
        let base = self.results[self.baseline].median();
        self.results
            .iter()
            .map(|r| (r.name.clone(), base / r.median()))
            .collect()
    }

    /// The kernel with the smallest median.
    pub fn fastest(&self) -> &BenchResult {
        self.results
            .iter()
            .min_by(|a, b| a.median().total_cmp(&b.median()))
            .expect("a comparison has at least one kernel")
    }

    /// Each kernel's rates against the machine's limits on the threads it ran
    /// on (`f64` peak; see [`Throughput::vs_precision`](crate::timing::Throughput::vs_precision)).
    pub fn vs(&self, machine: &crate::timing::Machine) -> Vec<crate::timing::Efficiency> {
        self.results
            .iter()
            .map(|r| r.throughput(self.work).vs(machine))
            .collect()
    }

    /// Flat rows: median, IQR, speedup, and GB/s or GFLOP/s when given.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for (r, (_, s)) in self.results.iter().zip(self.speedups()) {
            rows.extend(r.rows(0));
            rows.push(Row::new(&r.name, 0, r.threads, "speedup", s, "x"));
            let t = r.throughput(self.work);
            if let Some(g) = t.gb_per_s {
                rows.push(Row::new(&r.name, 0, r.threads, "bandwidth", g, "GB/s"));
            }
            if let Some(g) = t.gflop_per_s {
                rows.push(Row::new(&r.name, 0, r.threads, "flop_rate", g, "GFLOP/s"));
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;
    use std::time::Duration;

    fn quick() -> Bench {
        crate::timing::bench::test_bench()
    }

    #[test]
    fn comparisons_print_a_line_per_kernel_and_the_same_results() {
        let a = Array2::from_shape_fn((64, 64), |(i, j)| (i * 64 + j) as f32);
        let out = crate::progress::Captured::default();
        let compare = |p: Progress| {
            Compare::new()
                .bench(quick())
                .kernel("double", || &a + &a)
                .kernel("times two", || a.mapv(|x| 2.0 * x))
                .progress(p)
                .run()
                .unwrap()
        };
        let (shown, quiet) = (compare(out.progress()), compare(Progress::never()));
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("[parlab] Compare: 1/2 (`double` timed), elapsed "));
        assert!(lines[1].starts_with("[parlab] Compare: 2/2 (`times two` timed), elapsed "));
        assert!(lines[1].ends_with(", done"), "{text}");
        assert_eq!(shown.diffs, quiet.diffs);
        assert_eq!((shown.baseline, &shown.work), (quiet.baseline, &quiet.work));
        let names = |c: &Comparison| c.results.iter().map(|r| r.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&shown), names(&quiet));
    }

    #[test]
    fn mismatch_names_kernel_index_and_size() {
        let a = Array2::<f32>::from_shape_fn((4, 5), |(i, j)| (i * 5 + j) as f32);
        let mut calls = 0;
        let e = Compare::new()
            .bench(quick())
            .kernel("ref", || a.clone())
            .kernel("same", || a.clone())
            .kernel("bad", || {
                let mut b = a.clone();
                b[[2, 3]] += 0.5;
                b
            })
            .kernel("never", || {
                calls += 1;
                a.clone()
            })
            .run()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Mismatch);
        let m = e.to_string();
        assert!(
            m.starts_with("kernel `bad` disagrees with `ref`: 1 of 20 elements"),
            "{m}"
        );
        assert!(
            m.contains("worst at [2, 3]: 13 vs 13.5 (difference 5e-1)"),
            "{m}"
        );
        assert_eq!(calls, 0, "checking stops at the first disagreement");
    }

    #[test]
    fn a_comparison_saves_and_loads_bit_for_bit() {
        let c = Compare::new()
            .bench(quick())
            .kernel("a", || vec![0.1f64 + 0.2])
            .kernel("b", || vec![0.3f64])
            .tol(Tol::new(1e-15, 0.0))
            .work(Work::new().bytes(0.1 + 0.7).flops(1.0 / 3.0))
            .run()
            .unwrap();
        let p = std::env::temp_dir().join(format!("parlab-cmp-{}.json", std::process::id()));
        c.save(&p).unwrap();
        assert_eq!(Comparison::load(&p).unwrap(), c);
        let e = crate::timing::Baseline::load(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        std::fs::remove_file(&p).unwrap();
    }

    #[test]
    fn a_kernel_error_and_an_unknown_par_are_named() {
        let e = Compare::new()
            .bench(quick())
            .kernel("ok", || Ok::<_, Error>(vec![1.0f64]))
            .kernel("bad", || -> Result<Vec<f64>> {
                Err(Error::new(
                    ErrorKind::ShapeMismatch,
                    "shapes differ: a is 2, c is 3",
                ))
            })
            .run()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        assert_eq!(
            e.to_string(),
            "kernel `bad` failed: shapes differ: a is 2, c is 3"
        );
        let e = Compare::new()
            .kernel("a", || 1.0f64)
            .par("b", Par::Seq)
            .run()
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("`par` names `b`, which is not one of the kernels: a"),
            "{e}"
        );
        let nan = vec![f64::NAN; 4];
        let c = Compare::new()
            .bench(quick().par(Par::threads(2)))
            .kernel_into("fill", nan.clone(), |o| o.fill(1.0))
            .kernel_into("fill seq", nan, |o| -> Result<()> {
                o.fill(1.0);
                Ok(())
            })
            .par("fill seq", Par::Seq)
            .run()
            .unwrap();
        assert_eq!((c.results[0].threads, c.results[1].threads), (2, 1));
    }

    #[test]
    fn shapes_panics_and_names_are_checked() {
        let e = Compare::new()
            .kernel("a", || vec![1.0f64; 3])
            .kernel("b", || vec![1.0f64; 4])
            .run()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        assert!(e.to_string().contains("`b` disagrees"), "{e}");
        let e = Compare::new()
            .kernel("a", || 1.0f64)
            .kernel("boom", || -> f64 { panic!("todo") })
            .run()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Panicked);
        assert!(e.to_string().contains("kernel `boom` panicked"), "{e}");
        let e = Compare::new()
            .kernel("a", || 1.0f64)
            .kernel("a", || 1.0f64)
            .run()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let e = Compare::new()
            .kernel("a", || 1.0f64)
            .baseline("z")
            .run()
            .unwrap_err();
        assert!(
            e.to_string()
                .contains("baseline `z` is not one of the kernels: a"),
            "{e}"
        );
        assert!(Compare::<f64>::new().run().is_err());
    }

    #[test]
    fn speedups_are_relative_to_the_baseline() {
        let c = Compare::new()
            .bench(quick())
            .baseline("slow")
            .work(Work::new().bytes(8e3).flops(1e3))
            .kernel("fast", || 1.0f64)
            .kernel("slow", || {
                std::thread::sleep(Duration::from_micros(300));
                1.0f64
            })
            .run()
            .unwrap();
        assert_eq!(c.baseline, 1);
        assert_eq!(c.speedup("slow"), Some(1.0));
        assert!(c.speedup("fast").unwrap() > 10.0);
        assert_eq!(c.fastest().name, "fast");
        let rows = c.rows();
        assert!(
            rows.iter()
                .any(|r| r.name == "fast" && r.stat == "speedup" && r.unit == "x")
        );
        assert!(
            rows.iter()
                .any(|r| r.stat == "bandwidth" && r.unit == "GB/s")
        );
    }
}
