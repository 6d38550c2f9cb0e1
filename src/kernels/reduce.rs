//! Reductions: `sum` and `dot`, serial, parallel and compensated.
//!
//! # How the sum is computed
//! The elements are cut into fixed blocks of [`BLOCK`] = 8192 elements (the
//! whole array in memory order when it is contiguous, otherwise each row along
//! the last axis on its own). Inside a block, 32 independent accumulators take
//! every 32nd element — which lets the loop use SIMD registers and keeps the
//! rounding error of each accumulator small — and are then added pairwise. The
//! block results are added pairwise too.
//!
//! # Parallel sums do not depend on the thread count
//! The blocks are fixed by the data, not by the threads: [`par_sum`] computes
//! the same block sums as [`sum`] — in parallel, on whichever threads — and
//! combines them in the same order. So `par_sum` returns the *same bits* as
//! `sum` for every thread count, run after run. (Element-wise
//! `par_iter().sum()` gives results that depend on how rayon happened to split
//! the work, and was 7× slower than a serial sum on this machine.)
//!
//! # How the results differ
//! For `n` elements whose magnitudes add up to `Σ|x|`, the error of
//! - a plain left-to-right loop is up to ≈ `n·ε·Σ|x|` (`ε` = [`Float::EPSILON`]);
//! - [`sum`] / [`par_sum`] is up to ≈ `(256 + log₂ n)·ε·Σ|x|`, and in practice
//!   far less: the error no longer grows with `n`;
//! - [`sum_compensated`] / [`par_sum_compensated`] (Kahan–Babuška–Neumaier,
//!   with Knuth's error-free TwoSum) is ≈ `ε·|Σx| + n·ε²·Σ|x|`: as if computed
//!   in twice the precision and rounded once, at ≈ 4× the arithmetic. It is
//!   still memory-bound for large arrays.
//!
//! [`dot`] and [`dot_compensated`] are the same with `a[i]·b[i]` in place of
//! `x[i]`; the compensated dot also captures the rounding error of each
//! product (Dekker's TwoProduct, the Dot2 algorithm of Ogita, Rump and Oishi).
//!
//! ```
//! use ndarray::Array1;
//! use parlab::kernels::{sum, sum_compensated};
//! let x = Array1::from_elem(1_000_000, 0.1f32);
//! let exact = 1_000_000.0 * f64::from(0.1f32); // 100000.0015 in f64
//! let naive: f32 = x.iter().sum(); // left to right
//! assert!((f64::from(naive) - exact).abs() > 100.0); // about 1 % off
//! assert!((f64::from(sum(x.view())) - exact).abs() < 1.0); // 0.24 off
//! assert_eq!(sum_compensated(x.view()), exact as f32); // correctly rounded
//! ```

use super::{Float, check_shapes};
use crate::error::Result;
use ndarray::{ArrayView, ArrayView1, Dimension, s};
use rayon::prelude::*;

/// Elements per block: each block is summed on its own and gives one partial.
pub const BLOCK: usize = 8192;
const LANES: usize = 32;

/// Adds the 32 accumulators pairwise, in a fixed order.
#[inline(always)]
fn fold_lanes<T: Float>(mut acc: [T; LANES]) -> T {
    let mut w = LANES / 2;
    while w > 0 {
        for i in 0..w {
            acc[i] += acc[i + w];
        }
        w /= 2;
    }
    acc[0]
}

/// Knuth's TwoSum: `s + e == a + b` exactly, `s = fl(a + b)`.
#[inline(always)]
fn two_sum<T: Float>(a: T, b: T) -> (T, T) {
    let s = a + b;
    let z = s - a;
    (s, (a - (s - z)) + (b - z))
}

/// Dekker's TwoProduct without FMA: `p + e == a·b` exactly (barring overflow).
#[inline(always)]
fn two_prod<T: Float>(a: T, b: T) -> (T, T) {
    let p = a * b;
    let (ah, al) = split(a);
    let (bh, bl) = split(b);
    (p, ((ah * bh - p) + ah * bl + al * bh) + al * bl)
}

#[inline(always)]
fn split<T: Float>(a: T) -> (T, T) {
    let c = T::SPLITTER * a;
    let h = c - (c - a);
    (h, a - h)
}

/// A compensated partial: the sum and the accumulated rounding errors.
#[derive(Clone, Copy)]
struct Comp<T>(T, T);

#[inline(always)]
fn fold_comp<T: Float>(s: [T; LANES], c: [T; LANES]) -> Comp<T> {
    let mut total = T::ZERO;
    let mut err = T::ZERO;
    for i in 0..LANES {
        let (t, e) = two_sum(total, s[i]);
        total = t;
        err += e + c[i];
    }
    Comp(total, err)
}

/// 32 accumulators over `x`, added pairwise: the inner loop of [`sum`].
#[inline(always)]
fn sum_lanes<T: Float>(x: &[T]) -> T {
    let mut acc = [T::ZERO; LANES];
    let chunks = x.chunks_exact(LANES);
    let tail = chunks.remainder();
    for ch in chunks {
        for l in 0..LANES {
            acc[l] += ch[l];
        }
    }
    for (l, &v) in tail.iter().enumerate() {
        acc[l] += v;
    }
    fold_lanes(acc)
}

simd_dispatch! {
    #[memory_bound]
    fn sum_slice<T: Float>(x: &[T]) -> T {
        sum_lanes(x)
    }
}

simd_dispatch! {
    @imp level.min(crate::kernels::simd_level()),
    /// [`sum`]'s inner loop at an explicit SIMD level (no higher than
    /// [`super::simd_level`]): the probe times the widths against each other.
    pub(crate) fn sum_slice_at<T: Float>(level: u8, x: &[T]) -> T {
        let _ = level;
        sum_lanes(x)
    }
}

simd_dispatch! {
    #[memory_bound]
    fn dot_slice<T: Float>(a: &[T], b: &[T]) -> T {
        let mut acc = [T::ZERO; LANES];
        let b = &b[..a.len()];
        let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let (ta, tb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            for l in 0..LANES {
                acc[l] += x[l] * y[l];
            }
        }
        for l in 0..ta.len() {
            acc[l] += ta[l] * tb[l];
        }
        fold_lanes(acc)
    }
}

simd_dispatch! {
    fn sum_comp_slice<T: Float>(x: &[T]) -> (T, T) {
        let mut s = [T::ZERO; LANES];
        let mut c = [T::ZERO; LANES];
        let chunks = x.chunks_exact(LANES);
        let tail = chunks.remainder();
        for ch in chunks {
            for l in 0..LANES {
                let (t, e) = two_sum(s[l], ch[l]);
                s[l] = t;
                c[l] += e;
            }
        }
        for (l, &v) in tail.iter().enumerate() {
            let (t, e) = two_sum(s[l], v);
            s[l] = t;
            c[l] += e;
        }
        let r = fold_comp(s, c);
        (r.0, r.1)
    }
}

simd_dispatch! {
    fn dot_comp_slice<T: Float>(a: &[T], b: &[T]) -> (T, T) {
        let mut s = [T::ZERO; LANES];
        let mut c = [T::ZERO; LANES];
        let b = &b[..a.len()];
        let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
        let (ta, tb) = (ca.remainder(), cb.remainder());
        for (x, y) in ca.zip(cb) {
            for l in 0..LANES {
                let (p, q) = two_prod(x[l], y[l]);
                let (t, e) = two_sum(s[l], p);
                s[l] = t;
                c[l] += e + q;
            }
        }
        for l in 0..ta.len() {
            let (p, q) = two_prod(ta[l], tb[l]);
            let (t, e) = two_sum(s[l], p);
            s[l] = t;
            c[l] += e + q;
        }
        let r = fold_comp(s, c);
        (r.0, r.1)
    }
}

/// The same lane pattern as the slice kernels, for strided rows.
fn lanes_strided<T: Float>(
    x: ArrayView1<'_, T>,
    y: Option<ArrayView1<'_, T>>,
    compensated: bool,
) -> Comp<T> {
    let mut s = [T::ZERO; LANES];
    let mut c = [T::ZERO; LANES];
    for i in 0..x.len() {
        let l = i % LANES;
        let (v, q) = match &y {
            None => (x[i], T::ZERO),
            Some(y) if compensated => two_prod(x[i], y[i]),
            Some(y) => (x[i] * y[i], T::ZERO),
        };
        if compensated {
            let (t, e) = two_sum(s[l], v);
            s[l] = t;
            c[l] += e + q;
        } else {
            s[l] += v;
        }
    }
    if compensated {
        fold_comp(s, c)
    } else {
        Comp(fold_lanes(s), T::ZERO)
    }
}

/// Pairwise sum of the block partials, in a fixed order.
pub(crate) fn pairwise<T: Float>(p: &[T]) -> T {
    match p.len() {
        0 => T::ZERO,
        1 => p[0],
        n => pairwise(&p[..n / 2]) + pairwise(&p[n / 2..]),
    }
}

fn combine_comp<T: Float>(p: &[Comp<T>]) -> T {
    let mut total = T::ZERO;
    let mut err = T::ZERO;
    for &Comp(s, c) in p {
        let (t, e) = two_sum(total, s);
        total = t;
        err += e + c;
    }
    total + err
}

/// The units of work: (block of a contiguous slice) or (block of a row).
enum Units<'a, T> {
    Flat(&'a [T], Option<&'a [T]>),
    Rows(
        Vec<ArrayView1<'a, T>>,
        Option<Vec<ArrayView1<'a, T>>>,
        usize,
    ),
}

impl<'a, T: Float> Units<'a, T> {
    fn new<D: Dimension>(a: &'a ArrayView<'a, T, D>, b: Option<&'a ArrayView<'a, T, D>>) -> Self {
        let flat_a = a.as_slice_memory_order();
        match (flat_a, b) {
            (Some(x), None) => return Units::Flat(x, None),
            (Some(x), Some(b)) if b.strides() == a.strides() => {
                if let Some(y) = b.as_slice_memory_order() {
                    return Units::Flat(x, Some(y));
                }
            }
            _ => {}
        }
        let rows = |v: &'a ArrayView<'a, T, D>| -> Vec<ArrayView1<'a, T>> {
            if v.ndim() == 0 {
                // A 0-d array is contiguous and never gets here; kept total.
                Vec::new()
            } else {
                v.rows().into_iter().collect()
            }
        };
        let len = a.shape().last().copied().unwrap_or(1);
        Units::Rows(rows(a), b.map(rows), len)
    }

    fn count(&self) -> usize {
        match self {
            Units::Flat(x, _) => x.len().div_ceil(BLOCK),
            Units::Rows(r, _, len) => r.len() * len.div_ceil(BLOCK),
        }
    }

    /// Bytes this reduction reads in all.
    fn bytes(&self) -> usize {
        let elems = match self {
            Units::Flat(x, y) => x.len() * if y.is_some() { 2 } else { 1 },
            Units::Rows(r, y, len) => r.len() * len * if y.is_some() { 2 } else { 1 },
        };
        elems * std::mem::size_of::<T>()
    }

    fn plain(&self, u: usize, level: u8) -> T {
        match self {
            Units::Flat(x, y) => {
                let r = u * BLOCK..((u + 1) * BLOCK).min(x.len());
                match y {
                    None => sum_slice(level, &x[r]),
                    Some(y) => dot_slice(level, &x[r.clone()], &y[r]),
                }
            }
            Units::Rows(..) => self.strided(u, false, level).0,
        }
    }

    fn comp(&self, u: usize) -> Comp<T> {
        match self {
            Units::Flat(x, y) => {
                let r = u * BLOCK..((u + 1) * BLOCK).min(x.len());
                let (s, c) = match y {
                    None => sum_comp_slice(&x[r]),
                    Some(y) => dot_comp_slice(&x[r.clone()], &y[r]),
                };
                Comp(s, c)
            }
            Units::Rows(..) => self.strided(u, true, 0),
        }
    }

    fn strided(&self, u: usize, compensated: bool, level: u8) -> Comp<T> {
        let Units::Rows(rows, other, len) = self else {
            unreachable!()
        };
        let per_row = len.div_ceil(BLOCK);
        let (row, blk) = (u / per_row, u % per_row);
        let r = blk * BLOCK..((blk + 1) * BLOCK).min(*len);
        let x = rows[row].slice(s![r.clone()]);
        let y = other.as_ref().map(|o| o[row].slice(s![r]));
        // Rows with unit stride still take the SIMD path.
        match (x.as_slice(), y.as_ref().map(|y| y.as_slice())) {
            (Some(xs), None) if !compensated => Comp(sum_slice(level, xs), T::ZERO),
            (Some(xs), Some(Some(ys))) if !compensated => Comp(dot_slice(level, xs, ys), T::ZERO),
            (Some(xs), None) => {
                let (s, c) = sum_comp_slice(xs);
                Comp(s, c)
            }
            (Some(xs), Some(Some(ys))) => {
                let (s, c) = dot_comp_slice(xs, ys);
                Comp(s, c)
            }
            _ => lanes_strided(x, y, compensated),
        }
    }

    fn run_plain(&self, parallel: bool) -> T {
        let n = self.count();
        // Widest in the caches, the probe's choice from memory.
        let level = super::stores::read_simd_level(self.bytes());
        let partials: Vec<T> = if parallel {
            (0..n)
                .into_par_iter()
                .map(|u| self.plain(u, level))
                .collect()
        } else {
            (0..n).map(|u| self.plain(u, level)).collect()
        };
        pairwise(&partials)
    }

    fn run_comp(&self, parallel: bool) -> T {
        let n = self.count();
        let partials: Vec<Comp<T>> = if parallel {
            (0..n).into_par_iter().map(|u| self.comp(u)).collect()
        } else {
            (0..n).map(|u| self.comp(u)).collect()
        };
        combine_comp(&partials)
    }
}

/// Sum of all elements, serial, blocked with 32 accumulators (see the module
/// docs for the error bound). The sum of an empty array is 0.
///
/// Cannot fail. Time: O(n); memory traffic n·`size_of::<T>()` bytes.
///
/// ```
/// use ndarray::{Array2, s};
/// let a = Array2::from_shape_fn((100, 100), |(i, j)| (i * 100 + j) as f64);
/// assert_eq!(parlab::kernels::sum(a.view()), 49_995_000.0);
/// // Strided and transposed views work:
/// assert_eq!(parlab::kernels::sum(a.slice(s![.., ..;2]).t()), 24_995_000.0);
/// assert_eq!(parlab::kernels::sum(ndarray::Array1::<f32>::zeros(0).view()), 0.0);
/// ```
pub fn sum<T: Float, D: Dimension>(a: ArrayView<'_, T, D>) -> T {
    Units::new(&a, None).run_plain(false)
}

/// Sum of all elements in parallel on the current rayon pool: the blocks of
/// [`sum`] on several threads, combined in the same order, so the result is
/// bit-identical to [`sum`] for every thread count.
///
/// Cannot fail. Time: O(n / threads) while memory bandwidth lasts.
///
/// ```
/// use ndarray::Array1;
/// let x = Array1::from_shape_fn(1_000_003, |i| 1.0 / (1.0 + i as f32));
/// let serial = parlab::kernels::sum(x.view());
/// for threads in 1..=4 {
///     let p = parlab::par::Par::threads(threads).install(|| parlab::kernels::par_sum(x.view()))?;
///     assert_eq!(p.to_bits(), serial.to_bits());
/// }
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_sum<T: Float, D: Dimension>(a: ArrayView<'_, T, D>) -> T {
    Units::new(&a, None).run_plain(true)
}

/// Sum of all elements with compensation (Kahan–Babuška–Neumaier): nearly
/// the correctly rounded sum, at ≈ 4× the arithmetic of [`sum`].
///
/// Cannot fail. Time: O(n).
///
/// ```
/// let x = ndarray::array![1e16, 1.0, -1e16, 1.0];
/// assert_eq!(parlab::kernels::sum_compensated(x.view()), 2.0);
/// ```
pub fn sum_compensated<T: Float, D: Dimension>(a: ArrayView<'_, T, D>) -> T {
    Units::new(&a, None).run_comp(false)
}

/// [`sum_compensated`] in parallel on the current rayon pool; bit-identical to
/// it for every thread count.
///
/// Cannot fail. Time: O(n / threads).
///
/// ```
/// let x = ndarray::Array1::from_elem(100_000, 0.1f64);
/// let s = parlab::par::Par::threads(2).install(|| parlab::kernels::par_sum_compensated(x.view()))?;
/// assert_eq!(s, parlab::kernels::sum_compensated(x.view()));
/// assert_eq!(s, 100_000.0 * 0.1);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_sum_compensated<T: Float, D: Dimension>(a: ArrayView<'_, T, D>) -> T {
    Units::new(&a, None).run_comp(true)
}

/// Dot product `Σ a[i]·b[i]` over all elements (the Frobenius inner product for
/// matrices), serial, blocked like [`sum`].
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `a` and `b` differ in shape.
///
/// Time: O(n); memory traffic 2·n·`size_of::<T>()` bytes.
///
/// ```
/// use ndarray::array;
/// let d = parlab::kernels::dot(array![1.0, 2.0, 3.0].view(), array![4.0, 5.0, 6.0].view())?;
/// assert_eq!(d, 32.0);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn dot<T: Float, D: Dimension>(a: ArrayView<'_, T, D>, b: ArrayView<'_, T, D>) -> Result<T> {
    check_shapes("a", a.shape(), "b", b.shape())?;
    Ok(Units::new(&a, Some(&b)).run_plain(false))
}

/// [`dot`] in parallel on the current rayon pool; bit-identical to [`dot`] for
/// every thread count.
///
/// # Errors
/// As [`dot`].
///
/// Time: O(n / threads) while memory bandwidth lasts.
///
/// ```
/// use ndarray::Array2;
/// let a = Array2::from_shape_fn((512, 512), |(i, j)| ((i + j) % 7) as f64);
/// let serial = parlab::kernels::dot(a.view(), a.t())?;
/// let par = parlab::par::with_threads(3, || parlab::kernels::par_dot(a.view(), a.t()))?;
/// assert_eq!(serial, par);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_dot<T: Float, D: Dimension>(
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
) -> Result<T> {
    check_shapes("a", a.shape(), "b", b.shape())?;
    Ok(Units::new(&a, Some(&b)).run_plain(true))
}

/// Compensated dot product (Dot2: TwoProduct and TwoSum): nearly correctly
/// rounded, as if computed in twice the precision. Products beyond
/// ≈ 1e300 (f64) or ≈ 1e35 (f32) overflow in the error-free split.
///
/// # Errors
/// [`crate::ErrorKind::ShapeMismatch`] when `a` and `b` differ in shape.
///
/// Time: O(n), ≈ 10× the arithmetic of [`dot`].
///
/// ```
/// let x = ndarray::Array1::from_elem(1_000_000, 0.1f32);
/// let ones = ndarray::Array1::ones(1_000_000);
/// // The exact value, 100000.0015, rounded to f32:
/// assert_eq!(parlab::kernels::dot_compensated(x.view(), ones.view())?, 100_000.0);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn dot_compensated<T: Float, D: Dimension>(
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
) -> Result<T> {
    check_shapes("a", a.shape(), "b", b.shape())?;
    Ok(Units::new(&a, Some(&b)).run_comp(false))
}

/// [`dot_compensated`] in parallel on the current rayon pool; bit-identical to
/// it for every thread count.
///
/// # Errors
/// As [`dot_compensated`].
///
/// Time: O(n / threads).
///
/// ```
/// let x = ndarray::Array1::from_elem(50_000, 0.1f32);
/// let d = parlab::par::with_threads(2, || parlab::kernels::par_dot_compensated(x.view(), x.view()))?;
/// assert_eq!(d, parlab::kernels::dot_compensated(x.view(), x.view())?);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_dot_compensated<T: Float, D: Dimension>(
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
) -> Result<T> {
    check_shapes("a", a.shape(), "b", b.shape())?;
    Ok(Units::new(&a, Some(&b)).run_comp(true))
}
