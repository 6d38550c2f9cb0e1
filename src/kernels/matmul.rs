//! Matrix product `c = a·b`, from the textbook loop to a tuned library.
//!
//! 1. [`matmul_ijk`]: the textbook triple loop. The inner loop walks down a
//!    column of `b`, a cache miss per element once `b` is large.
//! 2. [`matmul_ikj`]: the same arithmetic with the loops reordered so the inner
//!    loop runs along rows of `b` and `c`: unit stride, vectorised.
//! 3. [`matmul_blocked`]: `ikj` on tiles small enough to stay in the L1/L2
//!    caches while they are reused.
//! 4. [`par_matmul_blocked`]: bands of rows of `c` on the current rayon pool;
//!    each thread writes only its own band.
//! 5. [`matmul`] / [`par_matmul`]: for real work, cut into the same fixed
//!    bands of [`GEMM_BAND`] rows or columns of `c` (so the thread count
//!    cannot change a bit of the result). They call the system's
//!    OpenBLAS when it is installed (loaded at run time, see
//!    [`gemm_library`](super::gemm_library)) and matrixmultiply's
//!    `sgemm`/`dgemm` otherwise — packed panels, a register-blocked
//!    micro-kernel chosen at run time for the CPU — with the views' strides,
//!    so transposed views need no copies.
//!
//! A matrix product of `m×k` by `k×n` costs `2·m·k·n` floating-point
//! operations; divide by the time for GFLOP/s.
//!
//! The steps add in different orders, so their results differ by rounding:
//! compare with a tolerance of about `k·ε·Σ|a||b|` per element.

use super::Float;
use crate::error::{Error, Result};
use ndarray::{ArrayView2, ArrayViewMut1, ArrayViewMut2, Axis, Zip, s};
use rayon::prelude::*;

fn check(
    a: &ArrayView2<'_, impl Sized>,
    b: &ArrayView2<'_, impl Sized>,
    c: &[usize],
) -> Result<()> {
    if a.ncols() != b.nrows() {
        return Err(Error::shapes(
            "inner dimensions differ",
            "a",
            a.shape(),
            "b",
            b.shape(),
        ));
    }
    let want = [a.nrows(), b.ncols()];
    if c != want {
        return Err(Error::shapes(
            "output shape differs from a·b",
            "c",
            c,
            "a·b",
            &want,
        ));
    }
    Ok(())
}

// Tile sizes of the blocked teaching kernel: a 128×512 tile of b (256 KiB in
// f32, 512 KiB in f64) stays in L2 while 64 rows of c reuse it.
const MB: usize = 64;
const KB: usize = 128;
const NB: usize = 512;

simd_dispatch! {
    fn axpy_row<T: Float>(x: &[T], y: &mut [T], alpha: T) {
        let n = y.len();
        let x = &x[..n];
        for j in 0..n {
            y[j] += alpha * x[j];
        }
    }
}

/// `y += α·x` for rows that may be strided.
#[inline]
fn row_axpy<T: Float>(alpha: T, x: ndarray::ArrayView1<'_, T>, mut y: ArrayViewMut1<'_, T>) {
    if let (Some(xs), Some(ys)) = (x.as_slice(), y.as_slice_mut()) {
        axpy_row(xs, ys, alpha);
    } else {
        Zip::from(&mut y).and(&x).for_each(|y, &x| *y += alpha * x);
    }
}

/// `c = a·b` with the textbook `i, j, p` loops.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `a.ncols() != b.nrows()` or `c` is
/// not `a.nrows() × b.ncols()`.
///
/// Time: O(m·k·n), slow: the inner loop strides down a column of `b`.
///
/// ```
/// use ndarray::array;
/// let a = array![[1.0, 2.0], [3.0, 4.0]];
/// let b = array![[5.0, 6.0], [7.0, 8.0]];
/// let mut c = ndarray::Array2::zeros((2, 2));
/// parlab::kernels::matmul_ijk(a.view(), b.view(), c.view_mut())?;
/// assert_eq!(c, a.dot(&b));
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn matmul_ijk<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    check(&a, &b, c.shape())?;
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    for i in 0..m {
        for j in 0..n {
            let mut acc = T::ZERO;
            for p in 0..k {
                acc += a[[i, p]] * b[[p, j]];
            }
            c[[i, j]] = acc;
        }
    }
    Ok(())
}

/// `c = a·b` with the loops reordered to `i, p, j`: the inner loop is
/// `c[i, :] += a[i, p]·b[p, :]`, unit stride over rows, vectorised.
///
/// # Errors
/// As [`matmul_ijk`].
///
/// Time: O(m·k·n).
///
/// ```
/// use ndarray::Array2;
/// let a = Array2::from_shape_fn((5, 3), |(i, j)| (i + 2 * j) as f32);
/// let b = Array2::from_shape_fn((3, 4), |(i, j)| (i * j) as f32);
/// let mut c = Array2::zeros((5, 4));
/// parlab::kernels::matmul_ikj(a.view(), b.view(), c.view_mut())?;
/// assert_eq!(c, a.dot(&b));
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn matmul_ikj<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    check(&a, &b, c.shape())?;
    c.fill(T::ZERO);
    for (i, mut ci) in c.rows_mut().into_iter().enumerate() {
        for (p, bp) in b.rows().into_iter().enumerate() {
            row_axpy(a[[i, p]], bp, ci.view_mut());
        }
    }
    Ok(())
}

/// One band of rows of `c` (all columns), tiled `KB × NB`.
fn blocked_band<T: Float>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>, mut c: ArrayViewMut2<'_, T>) {
    let (k, n) = (a.ncols(), b.ncols());
    c.fill(T::ZERO);
    for j0 in (0..n).step_by(NB) {
        let j1 = (j0 + NB).min(n);
        for p0 in (0..k).step_by(KB) {
            let p1 = (p0 + KB).min(k);
            let bt = b.slice(s![p0..p1, j0..j1]);
            for (i, mut ci) in c
                .slice_mut(s![.., j0..j1])
                .rows_mut()
                .into_iter()
                .enumerate()
            {
                for (p, bp) in bt.rows().into_iter().enumerate() {
                    row_axpy(a[[i, p0 + p]], bp, ci.view_mut());
                }
            }
        }
    }
}

/// `c = a·b`, `ikj` on tiles of `64 × 128 × 512` elements that stay in cache
/// while reused.
///
/// # Errors
/// As [`matmul_ijk`].
///
/// Time: O(m·k·n).
///
/// ```
/// use ndarray::Array2;
/// let a = Array2::from_shape_fn((70, 130), |(i, j)| ((i + j) % 5) as f64);
/// let b = Array2::from_shape_fn((130, 90), |(i, j)| ((i * j) % 3) as f64);
/// let mut c = Array2::zeros((70, 90));
/// parlab::kernels::matmul_blocked(a.view(), b.view(), c.view_mut())?;
/// assert_eq!(c, a.dot(&b)); // small integers: exact in any order
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn matmul_blocked<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    check(&a, &b, c.shape())?;
    for (ab, cb) in a
        .axis_chunks_iter(Axis(0), MB)
        .zip(c.axis_chunks_iter_mut(Axis(0), MB))
    {
        blocked_band(ab, b, cb);
    }
    Ok(())
}

/// [`matmul_blocked`] with bands of 64 rows of `c` on the current rayon pool.
/// Each band is computed exactly as in the serial version: the results are
/// bit-identical.
///
/// # Errors
/// As [`matmul_ijk`].
///
/// Time: O(m·k·n / threads).
///
/// ```
/// use ndarray::Array2;
/// let a = Array2::from_shape_fn((200, 100), |(i, j)| (i as f32 - j as f32) / 100.0);
/// let mut c1 = Array2::zeros((200, 200));
/// let mut c2 = Array2::zeros((200, 200));
/// parlab::kernels::matmul_blocked(a.view(), a.t(), c1.view_mut())?;
/// parlab::par::with_threads(2, || parlab::kernels::par_matmul_blocked(a.view(), a.t(), c2.view_mut()))?;
/// assert_eq!(c1, c2);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_matmul_blocked<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    check(&a, &b, c.shape())?;
    a.axis_chunks_iter(Axis(0), MB)
        .into_par_iter()
        .zip(c.axis_chunks_iter_mut(Axis(0), MB).into_par_iter())
        .enumerate()
        .for_each(|(k, (ab, cb))| {
            let rows = ab.nrows();
            crate::timing::timeline::span_with(
                || format!("rows {}..{}", k * MB, k * MB + rows),
                || blocked_band(ab, b, cb),
            )
        });
    Ok(())
}

/// `c = a·b` with matrixmultiply's strided GEMM; no copy of strided views.
fn gemm<T: Float>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>, mut c: ArrayViewMut2<'_, T>) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.fill(T::ZERO);
        return;
    }
    let (sa, sb, sc) = (a.strides(), b.strides(), c.strides());
    let (rsc, csc) = (sc[0], sc[1]);
    if let Some(lib) = super::blas::openblas() {
        let dims = (m, k, n);
        let pa = (a.as_ptr(), sa[0], sa[1]);
        let pb = (b.as_ptr(), sb[0], sb[1]);
        let pc = (c.as_mut_ptr(), rsc, csc);
        // SAFETY: as below; T is f64 or f32 as its name says (Float is
        // sealed), so the casts do not change the element type.
        let done = unsafe {
            match T::NAME {
                "f64" => super::blas::try_gemm(
                    lib.dgemm,
                    1.0f64,
                    0.0,
                    dims,
                    (pa.0.cast(), pa.1, pa.2),
                    (pb.0.cast(), pb.1, pb.2),
                    (pc.0.cast(), pc.1, pc.2),
                ),
                _ => super::blas::try_gemm(
                    lib.sgemm,
                    1.0f32,
                    0.0,
                    dims,
                    (pa.0.cast(), pa.1, pa.2),
                    (pb.0.cast(), pb.1, pb.2),
                    (pc.0.cast(), pc.1, pc.2),
                ),
            }
        };
        if done {
            return;
        }
    }
    // SAFETY: the pointers and strides come from valid views of the stated
    // shapes; c is a unique mutable view, so it cannot overlap a or b.
    unsafe {
        T::gemm(
            m,
            k,
            n,
            a.as_ptr(),
            sa[0],
            sa[1],
            b.as_ptr(),
            sb[0],
            sb[1],
            c.as_mut_ptr(),
            rsc,
            csc,
        )
    }
}

/// `c = a·b` for real work, on the calling thread, in bands of
/// [`GEMM_BAND`] rows (or columns, when `c` is wider than tall), one GEMM
/// call each — the calls [`par_matmul`] shares among threads: the system's OpenBLAS
/// when it is installed (what numpy uses; built once by the distribution, so
/// a notebook gets its full speed), matrixmultiply's `sgemm`/`dgemm`
/// otherwise ([`gemm_library`](super::gemm_library) says which). Views of
/// any layout are passed by their strides, without copies (OpenBLAS takes
/// views with one unit stride; others go to matrixmultiply).
///
/// matrixmultiply is a direct dependency of parlab so that its `avx512`
/// feature is on: through ndarray's `dot` alone it is off.
///
/// # Errors
/// As [`matmul_ijk`].
///
/// Time: O(m·k·n) at close to the CPU's peak FLOP/s for large matrices.
///
/// ```
/// use ndarray::Array2;
/// let a = Array2::from_shape_fn((64, 48), |(i, j)| ((i + j) % 4) as f64);
/// let b = Array2::from_shape_fn((64, 32), |(i, j)| ((i * j) % 3) as f64);
/// let mut c = Array2::zeros((48, 32));
/// parlab::kernels::matmul(a.t(), b.view(), c.view_mut())?; // aᵀ·b, no copy
/// assert_eq!(c, a.t().dot(&b));
///
/// let e = parlab::kernels::matmul(a.view(), b.view(), c.view_mut()).unwrap_err();
/// assert_eq!(e.to_string(), "inner dimensions differ: a is 64×48, b is 64×32");
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn matmul<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    check(&a, &b, c.shape())?;
    banded_gemm(a, b, c, false);
    Ok(())
}

/// [`matmul`] on the current rayon pool: the bands of [`matmul`]
/// (fixed by the shape, never by the thread count) are shared among the
/// pool's threads, and each thread runs the GEMM on whole bands.
///
/// **The same bits as [`matmul`] on any number of threads, by construction:**
/// both make the same GEMM calls on the same sub-problems, and a
/// single-threaded GEMM call is deterministic for a given CPU and library.
/// (Cutting bands by thread count would not be: a library's kernels may
/// round the tail rows of a band differently from the same rows inside a
/// larger one — OpenBLAS's AVX-512 kernels do.) Between CPUs, libraries or
/// [`gemm_library`](super::gemm_library)s the bits may differ within the
/// error bound of a product (`verify::Tol::for_product`).
///
/// # Errors
/// As [`matmul_ijk`].
///
/// Time: O(m·k·n / threads).
///
/// ```
/// use ndarray::Array2;
/// let a = Array2::from_shape_fn((300, 200), |(i, j)| ((i + j) % 7) as f64 / 7.0);
/// let mut c1 = Array2::zeros((300, 300));
/// let mut c2 = Array2::zeros((300, 300));
/// parlab::kernels::matmul(a.view(), a.t(), c1.view_mut())?;
/// parlab::par::with_threads(2, || parlab::kernels::par_matmul(a.view(), a.t(), c2.view_mut()))?;
/// assert_eq!(c1, c2); // bit for bit, not just close
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_matmul<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    c: ArrayViewMut2<'_, T>,
) -> Result<()> {
    check(&a, &b, c.shape())?;
    banded_gemm(a, b, c, true);
    Ok(())
}

/// Rows (or columns) of `c` in one GEMM call of [`matmul`] and
/// [`par_matmul`], for products worth splitting: a multiple of every
/// library micro-kernel's panel (≤ 32), large enough that re-packing the
/// shared operand for each band costs little, small enough that a 1024² product
/// has bands for several threads. A constant on purpose: the bands must not
/// depend on the machine or the thread count (see [`par_matmul`]).
pub const GEMM_BAND: usize = 256;

/// How `c` (`m×n`, inner dimension `k`) is cut into GEMM calls: along its
/// longer side (rows when `m ≥ n`) into bands of [`GEMM_BAND`], or not at
/// all below ≈ 64³ multiply-adds. A function of the shape alone.
fn gemm_bands(m: usize, k: usize, n: usize) -> Option<(Axis, usize)> {
    if m.saturating_mul(k).saturating_mul(n) < 64 * 64 * 64 || m.max(n) <= GEMM_BAND {
        return None;
    }
    let h = std::env::var("TMP_BAND")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(GEMM_BAND);
    Some((if m >= n { Axis(0) } else { Axis(1) }, h))
}

/// The GEMM calls of [`matmul`] (`parallel = false`, in order on the calling
/// thread) and [`par_matmul`] (on the current pool).
fn banded_gemm<T: Float>(
    a: ArrayView2<'_, T>,
    b: ArrayView2<'_, T>,
    mut c: ArrayViewMut2<'_, T>,
    parallel: bool,
) {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let Some((axis, h)) = gemm_bands(m, k, n) else {
        return gemm(a, b, c);
    };
    let parallel = parallel && rayon::current_num_threads() > 1;
    let what = if axis == Axis(0) { "rows" } else { "columns" };
    // Band i of c, with the rows of a (or columns of b) it needs.
    let band = |i: usize, c: ArrayViewMut2<'_, T>| {
        let start = i * h;
        let end = start + c.len_of(axis);
        let (a, b) = if axis == Axis(0) {
            (a.slice(s![start..end, ..]), b)
        } else {
            (a, b.slice(s![.., start..end]))
        };
        if parallel {
            crate::timing::timeline::span_with(
                || format!("{what} {start}..{end}"),
                || gemm(a, b, c),
            )
        } else {
            gemm(a, b, c)
        }
    };
    if parallel {
        c.axis_chunks_iter_mut(axis, h)
            .into_par_iter()
            .enumerate()
            .for_each(|(i, c)| band(i, c));
    } else {
        for (i, c) in c.axis_chunks_iter_mut(axis, h).enumerate() {
            band(i, c);
        }
    }
}
