//! STREAM-style kernels: triad `a = b + s·c`, axpy `y += α·x`, scale, fill.
//!
//! These are the kernels the STREAM benchmark uses to measure memory
//! bandwidth: one or two multiply-adds per element is far less work than
//! moving the element, so their speed is the speed of memory. Comparing the
//! bytes they move per second with the machine's STREAM figure tells whether a
//! kernel is as fast as it can be.
//!
//! `s·c + b` is computed as a multiply followed by an add (two roundings), not a
//! fused multiply-add, so every CPU and build gives the same bits.

use super::stores::{self, Mode, StreamOp};
use super::{Float, check_shapes, map2, update0, update1};
use crate::error::Result;
use ndarray::{ArrayView, ArrayViewMut, Dimension};

/// `a[i] = b[i] + s·c[i]`, streamed or not as `m` says.
pub(crate) fn triad_slices<T: Float>(m: Mode, b: &[T], c: &[T], a: &mut [T], s: T) {
    if m.streaming {
        stores::stream_map(m.level, StreamOp::Triad(s), b, c, a);
    } else {
        triad_plain(m.level, b, c, a, s);
    }
}

simd_dispatch! {
    #[memory_bound]
    fn triad_plain<T: Float>(b: &[T], c: &[T], a: &mut [T], s: T) {
        let n = a.len();
        let (b, c) = (&b[..n], &c[..n]);
        for i in 0..n {
            a[i] = b[i] + s * c[i];
        }
    }
}

simd_dispatch! {
    #[memory_bound]
    fn axpy_slices<T: Float>(x: &[T], y: &mut [T], alpha: T) {
        let n = y.len();
        let x = &x[..n];
        for i in 0..n {
            y[i] += alpha * x[i];
        }
    }
}

simd_dispatch! {
    #[memory_bound]
    fn scale_slice<T: Float>(a: &mut [T], s: T) {
        for v in a.iter_mut() {
            *v *= s;
        }
    }
}

simd_dispatch! {
    #[memory_bound]
    fn fill_slice<T: Float>(a: &mut [T], v: T) {
        for x in a.iter_mut() {
            *x = v;
        }
    }
}

/// `a[i] = v`, streamed or not as `m` says.
fn fill_into<T: Float>(m: Mode, a: &mut [T], v: T) {
    if m.streaming {
        stores::stream_map(m.level, StreamOp::Fill(v), &[], &[], a);
    } else {
        fill_slice(m.level, a, v);
    }
}

fn check_triad<T, D: Dimension>(
    a: &ArrayViewMut<'_, T, D>,
    b: &ArrayView<'_, T, D>,
    c: &ArrayView<'_, T, D>,
) -> Result<()> {
    check_shapes("b", b.shape(), "c", c.shape())?;
    check_shapes("a", a.shape(), "b", b.shape())
}

fn triad_impl<T: Float, D: Dimension>(
    a: ArrayViewMut<'_, T, D>,
    b: ArrayView<'_, T, D>,
    c: ArrayView<'_, T, D>,
    s: T,
    parallel: bool,
) -> Result<()> {
    check_triad(&a, &b, &c)?;
    // map2 computes out = f(x, y): here the inputs are b, c and the output a.
    map2(
        b,
        c,
        a,
        parallel,
        move |m, b, c, a| triad_slices(m, b, c, a, s),
        move |b, c| b + s * c,
    );
    Ok(())
}

/// STREAM triad `a = b + s·c`, serial. As in every parlab kernel, the
/// inputs come first and the output is the last array (`add(a, b, c)` writes
/// `c`; `triad(b, c, a, s)` writes `a`).
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `a`, `b`, `c` differ in shape.
///
/// Time: O(n); memory traffic 3·n·`size_of::<T>()` bytes.
///
/// ```
/// use ndarray::array;
/// let mut a = array![0.0, 0.0];
/// parlab::kernels::triad(array![1.0, 2.0].view(), array![10.0, 20.0].view(), a.view_mut(), 3.0)?;
/// assert_eq!(a, array![31.0, 62.0]);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn triad<T: Float, D: Dimension>(
    b: ArrayView<'_, T, D>,
    c: ArrayView<'_, T, D>,
    a: ArrayViewMut<'_, T, D>,
    s: T,
) -> Result<()> {
    triad_impl(a, b, c, s, false)
}

/// STREAM triad `a = b + s·c` in parallel on the current rayon pool; bit-identical
/// to [`triad`].
///
/// # Errors
/// As [`triad`].
///
/// Time: O(n / threads) while memory bandwidth lasts.
///
/// ```
/// use ndarray::Array2;
/// let b = Array2::<f32>::ones((400, 400));
/// let c = Array2::<f32>::ones((400, 400));
/// let mut a = Array2::zeros((400, 400));
/// parlab::par::with_threads(2, || parlab::kernels::par_triad(b.view(), c.view(), a.view_mut(), 2.0))?;
/// assert!(a.iter().all(|&x| x == 3.0));
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_triad<T: Float, D: Dimension>(
    b: ArrayView<'_, T, D>,
    c: ArrayView<'_, T, D>,
    a: ArrayViewMut<'_, T, D>,
    s: T,
) -> Result<()> {
    triad_impl(a, b, c, s, true)
}

/// `y += α·x` (BLAS axpy), serial.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `x` and `y` differ in shape.
///
/// Time: O(n); memory traffic 3·n·`size_of::<T>()` bytes.
///
/// ```
/// use ndarray::array;
/// let mut y = array![1.0f32, 1.0];
/// parlab::kernels::axpy(2.0, array![1.0f32, 2.0].view(), y.view_mut())?;
/// assert_eq!(y, array![3.0, 5.0]);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn axpy<T: Float, D: Dimension>(
    alpha: T,
    x: ArrayView<'_, T, D>,
    y: ArrayViewMut<'_, T, D>,
) -> Result<()> {
    check_shapes("x", x.shape(), "y", y.shape())?;
    update1(
        y,
        x,
        false,
        |m, x, y| axpy_slices(m.level, x, y, alpha),
        move |y, x| y + alpha * x,
    );
    Ok(())
}

/// `y += α·x` in parallel on the current rayon pool; bit-identical to [`axpy`].
///
/// # Errors
/// As [`axpy`].
///
/// Time: O(n / threads) while memory bandwidth lasts.
///
/// ```
/// use ndarray::Array1;
/// let x = Array1::<f64>::ones(100_000);
/// let mut y = Array1::<f64>::zeros(100_000);
/// parlab::par::with_threads(2, || parlab::kernels::par_axpy(0.5, x.view(), y.view_mut()))?;
/// assert!(y.iter().all(|&v| v == 0.5));
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_axpy<T: Float, D: Dimension>(
    alpha: T,
    x: ArrayView<'_, T, D>,
    y: ArrayViewMut<'_, T, D>,
) -> Result<()> {
    check_shapes("x", x.shape(), "y", y.shape())?;
    update1(
        y,
        x,
        true,
        |m, x, y| axpy_slices(m.level, x, y, alpha),
        move |y, x| y + alpha * x,
    );
    Ok(())
}

/// `a *= s` in place, serial. Cannot fail: one array has no shape to mismatch.
///
/// Time: O(n); memory traffic 2·n·`size_of::<T>()` bytes.
///
/// ```
/// let mut a = ndarray::array![[1.0, 2.0], [3.0, 4.0]];
/// parlab::kernels::scale(a.view_mut(), 10.0);
/// assert_eq!(a, ndarray::array![[10.0, 20.0], [30.0, 40.0]]);
/// ```
pub fn scale<T: Float, D: Dimension>(a: ArrayViewMut<'_, T, D>, s: T) {
    update0(
        a,
        false,
        false,
        |m, a| scale_slice(m.level, a, s),
        move |x| x * s,
    );
}

/// `a *= s` in place, in parallel on the current rayon pool.
///
/// Time: O(n / threads) while memory bandwidth lasts.
///
/// ```
/// let mut a = ndarray::Array2::<f32>::ones((300, 300));
/// parlab::par::Par::threads(2).install(|| parlab::kernels::par_scale(a.view_mut(), 0.25))?;
/// assert!(a.iter().all(|&x| x == 0.25));
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_scale<T: Float, D: Dimension>(a: ArrayViewMut<'_, T, D>, s: T) {
    update0(
        a,
        true,
        false,
        |m, a| scale_slice(m.level, a, s),
        move |x| x * s,
    );
}

/// Sets every element of `a` to `v`, serial.
///
/// Time: O(n); memory traffic n·`size_of::<T>()` bytes.
///
/// ```
/// let mut a = ndarray::Array2::<f64>::zeros((2, 3));
/// parlab::kernels::fill(a.view_mut(), 7.0);
/// assert!(a.iter().all(|&x| x == 7.0));
/// ```
pub fn fill<T: Float, D: Dimension>(a: ArrayViewMut<'_, T, D>, v: T) {
    update0(a, false, true, |m, a| fill_into(m, a, v), move |_| v);
}

/// Sets every element of `a` to `v`, in parallel on the current rayon pool.
///
/// Filling a fresh array in parallel also places its pages in memory from the
/// threads that will later use them ("first touch").
///
/// Time: O(n / threads) while memory bandwidth lasts.
///
/// ```
/// let mut a = ndarray::Array2::<f64>::zeros((300, 300));
/// // Fortran order and a strided view work too.
/// parlab::par::Par::threads(2).install(|| parlab::kernels::par_fill(a.slice_mut(ndarray::s![.., ..;2]), 1.0))?;
/// assert_eq!(a.sum(), 300.0 * 150.0);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_fill<T: Float, D: Dimension>(a: ArrayViewMut<'_, T, D>, v: T) {
    update0(a, true, true, |m, a| fill_into(m, a, v), move |_| v);
}
