//! Thread control: run work on exactly `n` threads, on a local rayon pool.
//!
//! Every `par_` kernel in parlab runs on the rayon pool it is called from.
//! Wrap the call in [`with_threads`] to choose the thread count:
//!
//! ```
//! use parlab::par::with_threads;
//! let n = with_threads(3, rayon::current_num_threads).unwrap();
//! assert_eq!(n, 3);
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
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Threads,
                format!("cannot start a pool of {n} threads"),
            )
            .with_source(e)
        })
}

/// Runs `f` on a fresh local pool of exactly `n` threads and returns its result.
///
/// Building a pool costs tens of microseconds: for timing, build one with
/// [`pool`] outside the timed region and call `pool.install(f)` inside it.
///
/// # Errors
/// As [`pool`].
pub fn with_threads<R: Send>(n: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    Ok(pool(n)?.install(f))
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
    fn zero_threads_is_a_typed_error() {
        let e = with_threads(0, || ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Threads);
        assert!(e.to_string().contains("got 0"), "{e}");
    }

    #[test]
    fn pool_has_exactly_n_threads() {
        for n in 1..=5 {
            assert_eq!(with_threads(n, rayon::current_num_threads).unwrap(), n);
        }
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
