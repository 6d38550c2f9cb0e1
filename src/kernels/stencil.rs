//! 3×3 stencils on 2-D images: box blur, Gaussian blur, Sobel edge magnitude.
//!
//! # The rule at the border
//! Pixels outside the image take the value of the nearest pixel inside it
//! (*clamp*, also called *replicate* edges): `src[-1, j]` reads `src[0, j]`,
//! `src[i, cols]` reads `src[i, cols - 1]`. The output has the same shape as
//! the input, and a constant image stays constant under the blurs.
//!
//! # Definition
//! `dst[i, j] = Σ w[di + 1][dj + 1] · src[i + di, j + dj]` for `di, dj ∈
//! {-1, 0, 1}`, summed in row-major order of `w` (what image libraries call a
//! convolution, strictly a cross-correlation; the blurs are symmetric, so the
//! two agree).
//!
//! # Why row slices
//! A stencil reads each input pixel nine times, but from cache: from memory it
//! moves one read and one write per pixel, so its bound is that of a copy.
//! `Zip` over `windows((3, 3))` builds a small view per pixel and runs ≈ 14×
//! slower than that bound; here each output row is computed from three input
//! row slices shifted by one element, a loop the compiler vectorises. Parallel
//! versions give each thread bands of output rows.

use super::{Float, check_shapes};
use crate::error::Result;
use ndarray::{ArrayView2, ArrayViewMut2, Axis};
use rayon::prelude::*;

#[derive(Clone, Copy)]
enum Op<T> {
    Conv([[T; 3]; 3]),
    Sobel,
}

simd_dispatch! {
    fn conv_row<T: Float>(u: &[T], m: &[T], d: &[T], out: &mut [T], w: [[T; 3]; 3]) {
        let n = out.len();
        let at = |r: &[T], j: isize| r[j.clamp(0, n as isize - 1) as usize];
        let px = |j: usize| {
            let j = j as isize;
            let mut acc = T::ZERO;
            for (r, row) in [u, m, d].into_iter().enumerate() {
                acc += w[r][0] * at(row, j - 1);
                acc += w[r][1] * at(row, j);
                acc += w[r][2] * at(row, j + 1);
            }
            acc
        };
        if n < 3 {
            for (j, o) in out.iter_mut().enumerate() {
                *o = px(j);
            }
            return;
        }
        out[0] = px(0);
        out[n - 1] = px(n - 1);
        let k = n - 2;
        let (u0, u1, u2) = (&u[..k], &u[1..k + 1], &u[2..k + 2]);
        let (m0, m1, m2) = (&m[..k], &m[1..k + 1], &m[2..k + 2]);
        let (d0, d1, d2) = (&d[..k], &d[1..k + 1], &d[2..k + 2]);
        let o = &mut out[1..k + 1];
        for j in 0..k {
            let mut acc = T::ZERO;
            acc += w[0][0] * u0[j];
            acc += w[0][1] * u1[j];
            acc += w[0][2] * u2[j];
            acc += w[1][0] * m0[j];
            acc += w[1][1] * m1[j];
            acc += w[1][2] * m2[j];
            acc += w[2][0] * d0[j];
            acc += w[2][1] * d1[j];
            acc += w[2][2] * d2[j];
            o[j] = acc;
        }
    }
}

/// Sobel magnitude of one pixel from its 3×3 neighbourhood `[u, m, d]`.
#[inline(always)]
fn sobel_px<T: Float>(u: [T; 3], m: [T; 3], d: [T; 3]) -> T {
    let two = T::ONE + T::ONE;
    let gx = (u[2] - u[0]) + two * (m[2] - m[0]) + (d[2] - d[0]);
    let gy = (d[0] + two * d[1] + d[2]) - (u[0] + two * u[1] + u[2]);
    (gx * gx + gy * gy).sqrt()
}

simd_dispatch! {
    fn sobel_row<T: Float>(u: &[T], m: &[T], d: &[T], out: &mut [T]) {
        let n = out.len();
        let last = n - 1;
        let tri = |r: &[T], j: usize| [r[j.saturating_sub(1)], r[j], r[(j + 1).min(last)]];
        let px = |j: usize| sobel_px(tri(u, j), tri(m, j), tri(d, j));
        if n < 3 {
            for (j, o) in out.iter_mut().enumerate() {
                *o = px(j);
            }
            return;
        }
        out[0] = px(0);
        out[last] = px(last);
        let k = n - 2;
        let (u0, u1, u2) = (&u[..k], &u[1..k + 1], &u[2..k + 2]);
        let (m0, m2) = (&m[..k], &m[2..k + 2]);
        let (d0, d1, d2) = (&d[..k], &d[1..k + 1], &d[2..k + 2]);
        let o = &mut out[1..k + 1];
        for j in 0..k {
            // The centre pixel m[j] has weight 0 in both Sobel kernels.
            o[j] = sobel_px([u0[j], u1[j], u2[j]], [m0[j], T::ZERO, m2[j]], [d0[j], d1[j], d2[j]]);
        }
    }
}

/// A row as a slice: borrowed when contiguous, else copied into `buf`.
fn row_slice<'a, T: Float>(row: ndarray::ArrayView1<'a, T>, buf: &'a mut Vec<T>) -> &'a [T] {
    match row.to_slice() {
        Some(s) => s,
        None => {
            buf.clear();
            buf.extend(row.iter().copied());
            buf
        }
    }
}

/// Output rows `i0 .. i0 + dst.nrows()` of the stencil.
fn band<T: Float>(src: ArrayView2<'_, T>, mut dst: ArrayViewMut2<'_, T>, i0: usize, op: Op<T>) {
    let rows = src.nrows();
    // Scratch copies for rows that are not contiguous (strided or F-order views).
    let (mut bu, mut bm, mut bd, mut bo) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (r, mut out) in dst.rows_mut().into_iter().enumerate() {
        let i = i0 + r;
        let u = row_slice(src.row(i.saturating_sub(1)), &mut bu);
        let m = row_slice(src.row(i), &mut bm);
        let d = row_slice(src.row((i + 1).min(rows - 1)), &mut bd);
        let run = |o: &mut [T]| match op {
            Op::Conv(w) => conv_row(u, m, d, o, w),
            Op::Sobel => sobel_row(u, m, d, o),
        };
        if let Some(o) = out.as_slice_mut() {
            run(o);
        } else {
            bo.clear();
            bo.resize(m.len(), T::ZERO);
            run(&mut bo);
            out.assign(&ndarray::ArrayView1::from(&bo[..]));
        }
    }
}

fn apply<T: Float>(
    src: ArrayView2<'_, T>,
    mut dst: ArrayViewMut2<'_, T>,
    op: Op<T>,
    parallel: bool,
) -> Result<()> {
    check_shapes("src", src.shape(), "dst", dst.shape())?;
    let (rows, cols) = src.dim();
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    if !parallel {
        band(src, dst, 0, op);
        return Ok(());
    }
    // A few bands per thread; at least 8 rows each.
    let threads = rayon::current_num_threads();
    let h = rows.div_ceil(threads * 4).max(8);
    dst.axis_chunks_iter_mut(Axis(0), h)
        .into_par_iter()
        .enumerate()
        .for_each(|(k, d)| {
            let rows = d.nrows();
            crate::timing::timeline::span_with(
                || format!("rows {}..{}", k * h, k * h + rows),
                || band(src, d, k * h, op),
            )
        });
    Ok(())
}

/// `dst = w ⋆ src`: the 3×3 stencil with weights `w` and clamped edges (see
/// the module docs), serial.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `src` and `dst` differ in shape.
///
/// Time: O(rows·cols), 9 multiply-adds per pixel.
///
/// ```
/// use ndarray::array;
/// let src = array![[1.0, 2.0], [3.0, 4.0]];
/// let mut dst = ndarray::Array2::zeros((2, 2));
/// let shift_left = [[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 0.0]];
/// parlab::kernels::convolve3x3(src.view(), dst.view_mut(), shift_left)?;
/// assert_eq!(dst, array![[2.0, 2.0], [4.0, 4.0]]); // the edge is replicated
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn convolve3x3<T: Float>(
    src: ArrayView2<'_, T>,
    dst: ArrayViewMut2<'_, T>,
    w: [[T; 3]; 3],
) -> Result<()> {
    apply(src, dst, Op::Conv(w), false)
}

/// [`convolve3x3`] over bands of rows on the current rayon pool;
/// bit-identical to the serial version.
///
/// # Errors
/// As [`convolve3x3`].
///
/// Time: O(rows·cols / threads) while memory bandwidth lasts.
///
/// ```
/// use ndarray::Array2;
/// let src = Array2::from_shape_fn((100, 80), |(i, j)| ((i * j) % 7) as f32);
/// let w = [[0.0, -1.0, 0.0], [-1.0, 4.0, -1.0], [0.0, -1.0, 0.0]]; // Laplacian
/// let mut a = Array2::zeros((100, 80));
/// let mut b = Array2::zeros((100, 80));
/// parlab::kernels::convolve3x3(src.view(), a.view_mut(), w)?;
/// parlab::par::with_threads(2, || parlab::kernels::par_convolve3x3(src.view(), b.view_mut(), w))?;
/// assert_eq!(a, b);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_convolve3x3<T: Float>(
    src: ArrayView2<'_, T>,
    dst: ArrayViewMut2<'_, T>,
    w: [[T; 3]; 3],
) -> Result<()> {
    apply(src, dst, Op::Conv(w), true)
}

fn box_w<T: Float>() -> [[T; 3]; 3] {
    [[T::from_f64(1.0 / 9.0); 3]; 3]
}

fn gauss_w<T: Float>() -> [[T; 3]; 3] {
    let q = |x: f64| T::from_f64(x / 16.0);
    [
        [q(1.0), q(2.0), q(1.0)],
        [q(2.0), q(4.0), q(2.0)],
        [q(1.0), q(2.0), q(1.0)],
    ]
}

/// Box blur: the mean of each pixel's 3×3 neighbourhood (weights 1/9), clamped
/// edges, serial.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `src` and `dst` differ in shape.
///
/// Time: O(rows·cols).
///
/// ```
/// use ndarray::Array2;
/// let src = Array2::from_elem((4, 5), 2.0f64);
/// let mut dst = Array2::zeros((4, 5));
/// parlab::kernels::box_blur(src.view(), dst.view_mut())?;
/// assert!(dst.iter().all(|&x| (x - 2.0).abs() < 1e-15));
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn box_blur<T: Float>(src: ArrayView2<'_, T>, dst: ArrayViewMut2<'_, T>) -> Result<()> {
    apply(src, dst, Op::Conv(box_w()), false)
}

/// [`box_blur`] over bands of rows on the current rayon pool; bit-identical.
///
/// # Errors
/// As [`box_blur`].
///
/// Time: O(rows·cols / threads).
///
/// ```
/// use ndarray::Array2;
/// let src = Array2::from_shape_fn((64, 64), |(i, _)| i as f32);
/// let (mut a, mut b) = (Array2::zeros((64, 64)), Array2::zeros((64, 64)));
/// parlab::kernels::box_blur(src.view(), a.view_mut())?;
/// parlab::par::with_threads(2, || parlab::kernels::par_box_blur(src.view(), b.view_mut()))?;
/// assert_eq!(a, b);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_box_blur<T: Float>(src: ArrayView2<'_, T>, dst: ArrayViewMut2<'_, T>) -> Result<()> {
    apply(src, dst, Op::Conv(box_w()), true)
}

/// Gaussian blur with the 3×3 binomial weights `[1 2 1; 2 4 2; 1 2 1] / 16`,
/// clamped edges, serial.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `src` and `dst` differ in shape.
///
/// Time: O(rows·cols).
///
/// ```
/// use ndarray::Array2;
/// let mut src = Array2::<f64>::zeros((5, 5));
/// src[[2, 2]] = 16.0; // a point spreads into the kernel's weights
/// let mut dst = Array2::zeros((5, 5));
/// parlab::kernels::gaussian_blur(src.view(), dst.view_mut())?;
/// assert_eq!((dst[[2, 2]], dst[[1, 2]], dst[[1, 1]], dst[[0, 0]]), (4.0, 2.0, 1.0, 0.0));
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn gaussian_blur<T: Float>(src: ArrayView2<'_, T>, dst: ArrayViewMut2<'_, T>) -> Result<()> {
    apply(src, dst, Op::Conv(gauss_w()), false)
}

/// [`gaussian_blur`] over bands of rows on the current rayon pool;
/// bit-identical.
///
/// # Errors
/// As [`gaussian_blur`].
///
/// Time: O(rows·cols / threads).
///
/// ```
/// use ndarray::Array2;
/// let src = Array2::from_shape_fn((50, 70), |(i, j)| ((i + j) % 9) as f64);
/// let (mut a, mut b) = (Array2::zeros((50, 70)), Array2::zeros((50, 70)));
/// parlab::kernels::gaussian_blur(src.view(), a.view_mut())?;
/// parlab::par::with_threads(3, || parlab::kernels::par_gaussian_blur(src.view(), b.view_mut()))?;
/// assert_eq!(a, b);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_gaussian_blur<T: Float>(
    src: ArrayView2<'_, T>,
    dst: ArrayViewMut2<'_, T>,
) -> Result<()> {
    apply(src, dst, Op::Conv(gauss_w()), true)
}

/// Sobel edge magnitude `√(gx² + gy²)` with
/// `gx = [-1 0 1; -2 0 2; -1 0 1] ⋆ src` and `gy = [-1 -2 -1; 0 0 0; 1 2 1] ⋆ src`,
/// clamped edges, serial.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `src` and `dst` differ in shape.
///
/// Time: O(rows·cols).
///
/// ```
/// use ndarray::Array2;
/// // A vertical step from 0 to 1 between columns 1 and 2:
/// let src = Array2::from_shape_fn((3, 4), |(_, j)| if j >= 2 { 1.0f32 } else { 0.0 });
/// let mut dst = Array2::zeros((3, 4));
/// parlab::kernels::sobel(src.view(), dst.view_mut())?;
/// assert_eq!(dst.row(1).to_vec(), vec![0.0, 4.0, 4.0, 0.0]);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn sobel<T: Float>(src: ArrayView2<'_, T>, dst: ArrayViewMut2<'_, T>) -> Result<()> {
    apply(src, dst, Op::Sobel, false)
}

/// [`sobel`] over bands of rows on the current rayon pool; bit-identical.
///
/// # Errors
/// As [`sobel`].
///
/// Time: O(rows·cols / threads).
///
/// ```
/// use ndarray::Array2;
/// let src = Array2::from_shape_fn((90, 60), |(i, j)| ((i * i + j) % 11) as f32);
/// let (mut a, mut b) = (Array2::zeros((90, 60)), Array2::zeros((90, 60)));
/// parlab::kernels::sobel(src.view(), a.view_mut())?;
/// parlab::par::with_threads(2, || parlab::kernels::par_sobel(src.view(), b.view_mut()))?;
/// assert_eq!(a, b);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_sobel<T: Float>(src: ArrayView2<'_, T>, dst: ArrayViewMut2<'_, T>) -> Result<()> {
    apply(src, dst, Op::Sobel, true)
}
