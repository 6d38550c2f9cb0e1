//! Matrix addition `c = a + b`, in the steps of the tutorial.
//!
//! 1. [`add_loop`]: two nested index loops, what a first Python version does.
//! 2. [`add_zip`]: ndarray's `Zip`, which walks the arrays in memory order
//!    without index arithmetic or bounds checks.
//! 3. [`add`]: the serial kernel for real work: a flat loop over slices when the
//!    layouts match, vectorised for the widest SIMD the CPU has.
//! 4. [`par_add`]: the same split into pieces on the current rayon pool
//!    (`par_azip!` style).
//! 5. [`add_chunks`]: the hands-on project's pool of `threads` workers, each
//!    adding one block of rows.
//!
//! Then in place versus allocating: [`add_assign`] / [`par_add_assign`]
//! (`a += b`) write no new memory, [`add_alloc`] (`&a + &b`) allocates the
//! result, which costs page faults on every call for large matrices.
//!
//! # The pickled-copy bug cannot happen here
//! The Python project hands each worker process a pickled *copy* of `c`; the
//! workers fill their copies and the parent's `c` stays zeros. In Rust the
//! workers are threads that borrow disjoint `&mut` row blocks of the caller's
//! `c` (`split_at` on a mutable view): the borrow checker rejects a second
//! mutable alias, and there is no copy to write into by mistake. Both mistakes
//! of the original — lost writes and overlapping chunks — are compile errors.

use super::stores::{self, Mode, StreamOp};
use super::{Float, check_shapes, map2, update1};
use crate::error::{Error, Result};
use ndarray::{Array, ArrayView, ArrayView2, ArrayViewMut, ArrayViewMut2, Axis, Dimension};

/// `c[i] = a[i] + b[i]` over equal-length slices, streamed or not as `m` says.
pub(crate) fn add_slices<T: Float>(m: Mode, a: &[T], b: &[T], c: &mut [T]) {
    if m.streaming {
        stores::stream_map(m.level, StreamOp::Add, a, b, c);
    } else {
        add_plain(m.level, a, b, c);
    }
}

simd_dispatch! {
    #[memory_bound]
    fn add_plain<T: Float>(a: &[T], b: &[T], c: &mut [T]) {
        let n = c.len();
        let (a, b) = (&a[..n], &b[..n]);
        for i in 0..n {
            c[i] = a[i] + b[i];
        }
    }
}

simd_dispatch! {
    #[memory_bound]
    /// `c[i] += a[i]` over equal-length slices.
    fn add_assign_plain<T: Float>(a: &[T], c: &mut [T]) {
        let n = c.len();
        let a = &a[..n];
        for i in 0..n {
            c[i] += a[i];
        }
    }
}

fn check3<T, D: Dimension>(
    a: &ArrayView<'_, T, D>,
    b: &ArrayView<'_, T, D>,
    c: &ArrayViewMut<'_, T, D>,
) -> Result<()> {
    check_shapes("a", a.shape(), "b", b.shape())?;
    check_shapes("c", c.shape(), "a", a.shape())
}

/// `c = a + b` with two nested index loops: the first step of the tutorial.
///
/// Every `c[[i, j]]` computes an address from two indices and checks bounds,
/// which is why [`add_zip`] and [`add`] are faster.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `a`, `b` and `c` differ in shape.
///
/// Time: O(rows·cols).
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let b = array![[10.0, 20.0], [30.0, 40.0]];
/// let mut c = ndarray::Array2::zeros((2, 2));
/// parlab::kernels::add_loop(a.view(), b.view(), c.view_mut())?;
/// assert_eq!(c, array![[11.0, 22.0], [33.0, 44.0]]);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn add_loop<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    check3(&a, &b, &c)?;
    let (rows, cols) = c.dim();
    for i in 0..rows {
        for j in 0..cols {
            c[[i, j]] = a[[i, j]] + b[[i, j]];
        }
    }
    Ok(())
}

/// `c = a + b` with ndarray's `Zip` (`azip!`): the second step.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `a`, `b` and `c` differ in shape.
///
/// Time: O(n) for n elements.
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0f32, 2.0], [3.0, 4.0]];
/// let mut c = ndarray::Array2::zeros((2, 2));
/// // Any layout works: here b is a transposed view.
/// let b = array![[10.0f32, 30.0], [20.0, 40.0]];
/// parlab::kernels::add_zip(a.view(), b.t(), c.view_mut())?;
/// assert_eq!(c, array![[11.0, 22.0], [33.0, 44.0]]);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn add_zip<T: Float, D: Dimension>(
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
    c: ArrayViewMut<'_, T, D>,
) -> Result<()> {
    check3(&a, &b, &c)?;
    ndarray::Zip::from(c)
        .and(a)
        .and(b)
        .for_each(|c, &a, &b| *c = a + b);
    Ok(())
}

/// `c = a + b`, serial, at the speed of memory.
///
/// When the three views are contiguous with the same layout the loop runs over
/// flat slices with the widest SIMD the CPU has; otherwise it falls back to
/// `Zip`.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `a`, `b` and `c` differ in shape;
/// the message names both shapes.
///
/// Time: O(n); memory traffic 3·n·`size_of::<T>()` bytes.
///
/// ```
/// use ndarray::Array2;
/// let a = Array2::from_elem((3, 4), 1.5f64);
/// let b = Array2::from_elem((3, 4), 2.0f64);
/// let mut c = Array2::zeros((3, 4));
/// parlab::kernels::add(a.view(), b.view(), c.view_mut())?;
/// assert!(c.iter().all(|&x| x == 3.5));
///
/// let wrong = Array2::<f64>::zeros((3, 5));
/// let e = parlab::kernels::add(a.view(), wrong.view(), c.view_mut()).unwrap_err();
/// assert_eq!(e.to_string(), "shapes differ: a is 3×4, b is 3×5");
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn add<T: Float, D: Dimension>(
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
    c: ArrayViewMut<'_, T, D>,
) -> Result<()> {
    check3(&a, &b, &c)?;
    map2(a, b, c, false, add_slices::<T>, |a, b| a + b);
    Ok(())
}

/// `c = a + b` in parallel on the current rayon pool.
///
/// Contiguous inputs are cut into a few equal pieces per thread; other layouts
/// use `Zip::par_for_each` (what `par_azip!` expands to). The result is
/// identical to [`add`]: each element is one rounding.
///
/// # Errors
/// As [`add`].
///
/// Time: O(n / threads) while memory bandwidth lasts: two threads gain little
/// once the arrays no longer fit in the last-level cache.
///
/// ```
/// use ndarray::Array2;
/// let a = Array2::from_shape_fn((1000, 300), |(i, j)| (i * j) as f32);
/// let b = Array2::<f32>::ones((1000, 300));
/// let mut c = Array2::zeros((1000, 300));
/// parlab::par::with_threads(2, || parlab::kernels::par_add(a.view(), b.view(), c.view_mut()))?;
/// assert_eq!(c, &a + &b);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_add<T: Float, D: Dimension>(
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
    c: ArrayViewMut<'_, T, D>,
) -> Result<()> {
    check3(&a, &b, &c)?;
    map2(a, b, c, true, add_slices::<T>, |a, b| a + b);
    Ok(())
}

/// `c = a + b` on `threads` worker threads, each adding one contiguous block of
/// rows: the hands-on project's `Pool(THREADS)`, done right.
///
/// The rows are split with [`crate::par::chunk_ranges`], so every row is added
/// exactly once also when `rows % threads != 0`, and blocks differ by at most
/// one row. Each worker borrows its own `&mut` block of the caller's `c`
/// (`split_at`), so the results land in `c` itself — the Python version's
/// workers wrote into pickled copies and lost everything. With more threads
/// than rows the extra workers get no rows and are not started.
///
/// The workers are fresh OS threads (`std::thread::scope`), the worker count
/// is exactly `threads` and independent of the rayon pool; starting a thread
/// costs ≈ 10–20 µs, which shows on small matrices.
///
/// # Errors
/// [`crate::ErrorKind::Threads`] when `threads` is 0;
/// [`crate::ErrorKind::ShapeMismatch`] when the shapes differ.
///
/// Time: O(n / threads) plus thread start-up.
///
/// ```
/// use ndarray::Array2;
/// // 1023 rows do not divide by 4: the blocks have 256, 256, 256 and 255 rows.
/// let a = Array2::from_shape_fn((1023, 64), |(i, j)| (i + j) as f32);
/// let b = Array2::from_elem((1023, 64), 0.5f32);
/// let mut c = Array2::zeros((1023, 64));
/// parlab::kernels::add_chunks(a.view(), b.view(), c.view_mut(), 4)?;
/// assert_eq!(c, &a + &b);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn add_chunks<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c: ArrayViewMut2<'_, T>,
    threads: usize,
) -> Result<()> {
    if threads == 0 {
        return Err(Error::zero_threads());
    }
    check3(&a, &b, &c)?;
    let ranges = crate::par::chunk_ranges(c.nrows(), threads);
    std::thread::scope(|s| {
        let (mut a, mut b, mut c) = (a, b, c);
        let mut mine = None;
        let work = |a0, b0, c0, r: &std::ops::Range<usize>| {
            crate::timing::timeline::span_with(
                || format!("rows {}..{}", r.start, r.end),
                || map2(a0, b0, c0, false, add_slices::<T>, |a, b| a + b),
            )
        };
        for r in ranges.iter().filter(|r| !r.is_empty()) {
            let (a0, a1) = a.split_at(Axis(0), r.len());
            let (b0, b1) = b.split_at(Axis(0), r.len());
            let (c0, c1) = c.split_at(Axis(0), r.len());
            (a, b, c) = (a1, b1, c1);
            // The calling thread takes the first block itself: `threads`
            // workers in all, as in the Python pool.
            if mine.is_none() {
                mine = Some((a0, b0, c0, r));
            } else {
                s.spawn(move || work(a0, b0, c0, r));
            }
        }
        if let Some((a0, b0, c0, r)) = mine {
            work(a0, b0, c0, r);
        }
    });
    Ok(())
}

/// `a += b` in place, serial: no output array, no allocation.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when the shapes differ.
///
/// Time: O(n); memory traffic 3·n·`size_of::<T>()` bytes (read a, b; write a).
///
/// ```
/// use ndarray::array;
/// let mut a = array![[1.0, 2.0], [3.0, 4.0]];
/// parlab::kernels::add_assign(a.view_mut(), array![[1.0, 1.0], [1.0, 1.0]].view())?;
/// assert_eq!(a, array![[2.0, 3.0], [4.0, 5.0]]);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn add_assign<T: Float, D: Dimension>(
    a: ArrayViewMut<'_, T, D>,
    b: ArrayView<'_, T, D>,
) -> Result<()> {
    check_shapes("a", a.shape(), "b", b.shape())?;
    update1(
        a,
        b,
        false,
        |m: Mode, a: &[T], c: &mut [T]| add_assign_plain(m.level, a, c),
        |a, b| a + b,
    );
    Ok(())
}

/// `a += b` in place, in parallel on the current rayon pool.
///
/// # Errors
/// As [`add_assign`].
///
/// Time: O(n / threads) while memory bandwidth lasts.
///
/// ```
/// use ndarray::Array2;
/// let mut a = Array2::<f64>::ones((500, 500));
/// let b = Array2::<f64>::ones((500, 500));
/// parlab::par::with_threads(2, || parlab::kernels::par_add_assign(a.view_mut(), b.view()))?;
/// assert!(a.iter().all(|&x| x == 2.0));
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_add_assign<T: Float, D: Dimension>(
    a: ArrayViewMut<'_, T, D>,
    b: ArrayView<'_, T, D>,
) -> Result<()> {
    check_shapes("a", a.shape(), "b", b.shape())?;
    update1(
        a,
        b,
        true,
        |m: Mode, a: &[T], c: &mut [T]| add_assign_plain(m.level, a, c),
        |a, b| a + b,
    );
    Ok(())
}

/// `&a + &b`: allocates and returns a new array, in the layout of `a` when `a`
/// is contiguous (standard order otherwise).
///
/// Allocating a large result costs a page fault per 4 KiB page on every call;
/// compare with [`add_assign`] and [`add`] into a reused output.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when the shapes differ.
///
/// Time: O(n) plus the page faults of a fresh n-element allocation.
///
/// ```
/// use ndarray::array;
/// let c = parlab::kernels::add_alloc(array![1.0f32, 2.0].view(), array![3.0f32, 4.0].view())?;
/// assert_eq!(c, array![4.0, 6.0]);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn add_alloc<T: Float, D: Dimension>(
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
) -> Result<Array<T, D>> {
    check_shapes("a", a.shape(), "b", b.shape())?;
    Ok(&a + &b)
}
