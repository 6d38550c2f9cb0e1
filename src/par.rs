//! Thread control: run work on exactly `n` threads, on a local rayon pool.
//!
//! Every `par_` kernel in parlab runs on the rayon pool it is called from.
//! One value says "on n threads" everywhere: [`Par`] runs a call on a pool
//! of that size ([`Par::run`], [`Par::install`]), and the same value given to
//! a [`Bench`](crate::timing::Bench), a [`Compare`](crate::timing::Compare)
//! kernel or a [`SizeSweep`](crate::timing::SizeSweep) both runs the
//! measurement there and records the thread count with the result.
//!
//! ```
//! use parlab::par::{Par, with_threads};
//! use parlab::ndarray::Array1;
//! assert_eq!(Par::threads(3).install(rayon::current_num_threads)?, 3);
//! assert_eq!(Par::Seq.install(rayon::current_num_threads)?, 1);
//!
//! // A fallible kernel: one `?`, not two.
//! let (a, b) = (Array1::<f64>::ones(1000), Array1::<f64>::ones(1000));
//! let mut c = Array1::<f64>::zeros(1000);
//! with_threads(2, || parlab::kernels::par_add(a.view(), b.view(), c.view_mut()))?;
//! assert_eq!(c.sum(), 2000.0);
//! # Ok::<(), parlab::Error>(())
//! ```
//!
//! parlab never calls `ThreadPoolBuilder::build_global`. In an evcxr notebook
//! each cell is compiled into its own shared library with its own copy of
//! rayon, so statics — rayon's global pool among them — do not carry over from
//! one cell to the next. **A pool built in one cell must not be used in a later
//! one**: its worker threads run the earlier cell's copy of rayon, and
//! `install` from the later cell aborts the kernel with rayon's `assertion
//! failed: injected && !worker_thread.is_null()` (measured with evcxr 0.22).
//! Build the [`pool`] in the cell that uses it, or use [`with_threads`], which
//! builds one for the duration of a call.

use crate::error::{Error, ErrorKind, Result};

/// Builds a local rayon pool of exactly `n` threads.
///
/// # Errors
/// [`ErrorKind::Threads`] when `n` is 0 or the operating system refuses to start
/// the threads.
pub fn pool(n: usize) -> Result<rayon::ThreadPool> {
    if n == 0 {
        return Err(Error::zero_threads());
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(|i| format!("parlab-{i}"))
        // A panic in a job given to `spawn` has no caller to go to: without
        // a handler rayon aborts the process (a notebook's kernel with it).
        // The panic hook has printed its message; say what became of it.
        .panic_handler(|_| {
            eprintln!(
                "parlab: a job spawned on a parlab pool panicked (message above); the job \
                 stopped, the pool goes on"
            )
        })
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Threads,
                format!("cannot start a pool of {n} threads"),
            )
            .with_source(e)
        })
}

/// How many threads a call runs on: the one way parlab says "on n threads".
///
/// `Par::Seq` is one thread — a `par_` kernel run under it is really serial
/// (it runs on a pool of one, not on whatever pool happens to be around);
/// `Par::Threads(n)` is a local pool of exactly `n`. faer passes parallelism
/// the same way (`Par::Seq`, `Par::rayon(n)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Par {
    /// One thread.
    Seq,
    /// A local rayon pool of exactly this many threads (0 is refused when run).
    Threads(usize),
}

impl Par {
    /// `n` threads; `Par::threads(1)` is the same as [`Par::Seq`].
    pub fn threads(n: usize) -> Par {
        if n == 1 { Par::Seq } else { Par::Threads(n) }
    }

    /// As many threads as this process may run at once ([`available_threads`]).
    pub fn all() -> Par {
        Par::threads(available_threads())
    }

    /// The thread count (1 for [`Par::Seq`]).
    pub fn count(self) -> usize {
        match self {
            Par::Seq => 1,
            Par::Threads(n) => n,
        }
    }

    /// A pool of [`count`](Par::count) threads.
    ///
    /// # Errors
    /// As [`pool`].
    pub fn pool(self) -> Result<rayon::ThreadPool> {
        pool(self.count())
    }

    /// Runs `f` on a fresh pool of this size and returns what it returns.
    ///
    /// # Errors
    /// As [`pool`].
    pub fn install<R: Send>(self, f: impl FnOnce() -> R + Send) -> Result<R> {
        Ok(self.pool()?.install(f))
    }

    /// Runs a fallible `f` on a fresh pool of this size: the pool's error and
    /// `f`'s come back as one [`Result`], so one `?` handles both.
    ///
    /// # Errors
    /// As [`pool`], or `f`'s own error.
    pub fn run<T: Send>(self, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
        self.pool()?.install(f)
    }
}

impl std::fmt::Display for Par {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.count() {
            1 => f.write_str("1 thread"),
            n => write!(f, "{n} threads"),
        }
    }
}

/// Runs a fallible `f` on a fresh local pool of exactly `n` threads:
/// `Par::threads(n).run(f)`. One `?` handles both the pool's error and `f`'s.
/// For a closure that cannot fail, use [`Par::install`].
///
/// Building a pool costs tens of microseconds: for timing, give the [`Par`]
/// to the [`Bench`](crate::timing::Bench), which builds the pool outside the
/// timed region.
///
/// # Errors
/// As [`pool`], or `f`'s own error.
pub fn with_threads<T: Send>(n: usize, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    if n == 0 {
        return Err(Error::zero_threads());
    }
    Par::threads(n).run(f)
}

/// The number of hardware threads available to this process.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Splits `len` items into `parts` contiguous ranges whose sizes differ by at most one,
/// the first `len % parts` ranges taking one extra item.
///
/// This is the chunking the Python hands-on project gets almost right: its last
/// chunk takes the remainder, which leaves one chunk up to `parts - 1` items longer
/// than the others. Empty ranges are returned when `parts > len`.
///
/// ```
/// let r = parlab::par::chunk_ranges(10, 4);
/// assert_eq!(r, vec![0..3, 3..6, 6..8, 8..10]);
/// ```
///
/// # Panics
/// When `parts` is 0.
pub fn chunk_ranges(len: usize, parts: usize) -> Vec<std::ops::Range<usize>> {
    assert!(parts > 0, "chunk_ranges: parts must be at least 1");
    let base = len / parts;
    let extra = len % parts;
    let mut start = 0;
    (0..parts)
        .map(|i| {
            let size = base + usize::from(i < extra);
            let r = start..start + size;
            start += size;
            r
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_spawned_job_does_not_abort_the_process() {
        // Without the pool's panic handler rayon aborts the whole process
        // (this test binary, or a notebook's kernel) here.
        let pool = pool(2).unwrap();
        // (Its message is printed by the default hook: the panic hook is
        // process-wide, and other tests catch panics at the same time.)
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        pool.spawn(move || {
            let _tx = tx; // dropped by the unwinding: the receiver wakes
            panic!("a spawned job fails");
        });
        assert!(
            rx.recv().is_err(),
            "the job's sender is dropped by its panic"
        );
        assert_eq!(pool.install(|| 6 * 7), 42, "the pool goes on");
    }

    #[test]
    fn zero_threads_is_a_typed_error() {
        let e = with_threads(0, || Ok(())).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Threads);
        assert!(e.to_string().contains("got 0"), "{e}");
    }

    #[test]
    fn pool_has_exactly_n_threads() {
        for n in 1..=5 {
            assert_eq!(
                Par::threads(n).install(rayon::current_num_threads).unwrap(),
                n
            );
            assert_eq!(
                with_threads(n, || Ok(rayon::current_num_threads())).unwrap(),
                n
            );
            assert_eq!(Par::threads(n).count(), n);
        }
    }

    #[test]
    fn seq_is_one_thread_and_errors_flatten() {
        assert_eq!(Par::Seq.install(rayon::current_num_threads).unwrap(), 1);
        assert_eq!(Par::threads(1), Par::Seq);
        assert_eq!(
            Par::Threads(0).install(|| ()).unwrap_err().kind(),
            ErrorKind::Threads
        );
        let e = with_threads(2, || -> Result<()> {
            Err(Error::new(ErrorKind::InvalidInput, "inner"))
        })
        .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert_eq!(Par::Threads(3).to_string(), "3 threads");
    }

    #[test]
    fn chunk_ranges_cover_everything_once() {
        for len in [0, 1, 7, 1023, 1024, 1025] {
            for parts in 1..=9 {
                let r = chunk_ranges(len, parts);
                assert_eq!(r.len(), parts);
                assert_eq!(r[0].start, 0);
                assert_eq!(r[parts - 1].end, len);
                for w in r.windows(2) {
                    assert_eq!(w[0].end, w[1].start);
                }
                let sizes: Vec<_> = r.iter().map(|x| x.len()).collect();
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "len {len} parts {parts}: {sizes:?}");
            }
        }
    }
}
