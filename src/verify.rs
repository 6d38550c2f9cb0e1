//! Where two results differ, and whether that is within a tolerance.
//!
//! Floating-point kernels that add in a different order (a parallel sum, a
//! blocked product) give slightly different answers; comparing them with `==`
//! fails for the wrong reason. [`check`] compares with a [`Tol`] and, when the
//! results disagree, says where and by how much.
//!
//! ```
//! use ndarray::array;
//! use parlab::verify::{check, diff, Tol};
//!
//! let a = array![[1.0f64, 2.0], [3.0, 4.0]];
//! let b = array![[1.0f64, 2.0], [3.0, 4.5]];
//! let d = diff(&a, &b).unwrap();
//! assert_eq!(d.max_abs, 0.5);
//! assert_eq!(d.index_abs, vec![1, 1]);
//! let e = check(&a, &b, Tol::new(1e-12, 1e-12)).unwrap_err();
//! assert!(e.to_string().contains("at [1, 1]: 4 vs 4.5"), "{e}");
//! assert!(check(&a, &a, Tol::exact()).is_ok());
//! ```

use crate::error::{Error, ErrorKind, Result};
use crate::kernels::Float;
use ndarray::{ArrayBase, Data, Dimension};

/// A tolerance: `a` and `b` agree when `|a − b| ≤ abs + rel · max(|a|, |b|)`.
///
/// NaN equals nothing, not even NaN (IEEE 754, and what notebook 04 teaches):
/// a NaN-filled output buffer that two kernels both leave unwritten is caught.
/// Where NaN is the expected answer, ask for it with
/// [`nan_equal`](Tol::nan_equal) (NumPy's `allclose(..., equal_nan=True)`).
///
/// ```
/// use parlab::verify::Tol;
/// assert!(!Tol::exact().agree(f64::NAN, f64::NAN));
/// assert!(Tol::exact().nan_equal().agree(f64::NAN, f64::NAN));
/// assert!(!Tol::exact().nan_equal().agree(f64::NAN, 1.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tol {
    /// Absolute part, for values near zero.
    pub abs: f64,
    /// Relative part.
    pub rel: f64,
    /// Whether two NaNs agree (`false` unless asked for).
    #[serde(default)]
    pub nan_equal: bool,
}

impl Tol {
    /// A tolerance with both parts.
    pub const fn new(abs: f64, rel: f64) -> Tol {
        Tol {
            abs,
            rel,
            nan_equal: false,
        }
    }

    /// The same tolerance, with two NaNs counted as agreeing.
    pub const fn nan_equal(mut self) -> Tol {
        self.nan_equal = true;
        self
    }

    /// Exact equality.
    pub const fn exact() -> Tol {
        Tol::new(0.0, 0.0)
    }

    /// `eps · n` for both parts, where `eps` is the machine epsilon of `T`: the
    /// error bound of summing `n` terms of order 1 in any order. Use the number of
    /// terms each output element sums (the inner dimension of a product).
    ///
    /// ```
    /// use parlab::verify::Tol;
    /// let t = Tol::eps_n::<f32>(1000);
    /// assert_eq!(t.rel, f32::EPSILON as f64 * 1000.0);
    /// assert!(t.agree(1000.0, 1000.05));
    /// ```
    pub fn eps_n<T: Float>(n: usize) -> Tol {
        let e = T::EPSILON.to_f64() * n.max(1) as f64;
        Tol::new(e, e)
    }

    /// The tolerance for comparing two computed products `a·b` (each element
    /// a sum of `k` products, `k` the inner dimension), from the standard
    /// error bound `|fl(a·b) − a·b| ≤ k·ε·(|a|·|b|)` element by element: two
    /// results that each meet it differ by at most `2·k·ε·(|a|·|b|)ᵢⱼ`. The
    /// tolerance is absolute, with the largest `(|a|·|b|)ᵢⱼ` — so it holds for
    /// matrices of mixed sign, whose products can be near 0 where the terms
    /// are not (a tolerance relative to the result, such as
    /// [`eps_n`](Tol::eps_n), would then be too tight). Cost: one product of
    /// `|a|` and `|b|`.
    ///
    /// ```
    /// use ndarray::array;
    /// use parlab::verify::Tol;
    /// let a = array![[1.0f64, -1.0], [2.0, 3.0]];
    /// let b = array![[1.0f64, 0.0], [1.0, 1.0]];
    /// // |a|·|b| = [[2, 1], [5, 3]]: the largest is 5, k = 2.
    /// let t = Tol::for_product(a.view(), b.view()).unwrap();
    /// assert_eq!(t.abs, 2.0 * 2.0 * f64::EPSILON * 5.0);
    /// assert_eq!(t.rel, 0.0);
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::ShapeMismatch`] when `a`'s columns are not `b`'s rows.
    pub fn for_product<T: Float>(
        a: ndarray::ArrayView2<'_, T>,
        b: ndarray::ArrayView2<'_, T>,
    ) -> Result<Tol> {
        if a.ncols() != b.nrows() {
            return Err(Error::shapes(
                "inner dimensions of the product differ",
                "a",
                a.shape(),
                "b",
                b.shape(),
            ));
        }
        let k = a.ncols();
        let abs_a = a.mapv(|x| x.to_f64().abs());
        let abs_b = b.mapv(|x| x.to_f64().abs());
        let bound = abs_a.dot(&abs_b).iter().fold(0.0f64, |m, &v| m.max(v));
        let e = 2.0 * k.max(1) as f64 * T::EPSILON.to_f64() * bound;
        Ok(Tol::new(e, 0.0))
    }

    /// Whether `a` and `b` agree within this tolerance.
    pub fn agree(&self, a: f64, b: f64) -> bool {
        if a.is_nan() || b.is_nan() {
            return self.nan_equal && a.is_nan() && b.is_nan();
        }
        if a == b {
            return true; // equal infinities
        }
        if a.is_infinite() || b.is_infinite() {
            return false;
        }
        (a - b).abs() <= self.abs + self.rel * a.abs().max(b.abs())
    }
}

/// Outputs that can be compared element by element: ndarray arrays of any
/// dimension, `Vec`s and slices of `f32`/`f64`, and single `f32`/`f64` values.
pub trait Comparable {
    /// The shape (`[]` for a scalar, `[len]` for a vector).
    fn shape(&self) -> Vec<usize>;
    /// The values in logical (row-major) order, as `f64`.
    fn values(&self) -> Vec<f64>;
}

impl<A: Float, S: Data<Elem = A>, D: Dimension> Comparable for ArrayBase<S, D> {
    fn shape(&self) -> Vec<usize> {
        ArrayBase::shape(self).to_vec()
    }
    fn values(&self) -> Vec<f64> {
        self.iter().map(|x| x.to_f64()).collect()
    }
}

impl<A: Float> Comparable for [A] {
    fn shape(&self) -> Vec<usize> {
        vec![self.len()]
    }
    fn values(&self) -> Vec<f64> {
        self.iter().map(|x| x.to_f64()).collect()
    }
}

impl<A: Float> Comparable for Vec<A> {
    fn shape(&self) -> Vec<usize> {
        vec![self.len()]
    }
    fn values(&self) -> Vec<f64> {
        self.as_slice().values()
    }
}

macro_rules! scalar_comparable {
    ($($t:ty),*) => {$(
        impl Comparable for $t {
            fn shape(&self) -> Vec<usize> {
                Vec::new()
            }
            fn values(&self) -> Vec<f64> {
                vec![*self as f64]
            }
        }
    )*};
}
scalar_comparable!(f32, f64);

impl<T: Comparable + ?Sized> Comparable for &T {
    fn shape(&self) -> Vec<usize> {
        (**self).shape()
    }
    fn values(&self) -> Vec<f64> {
        (**self).values()
    }
}

/// How two results of the same shape differ.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Diff {
    /// The common shape.
    pub shape: Vec<usize>,
    /// Largest `|a − b|` (infinite where exactly one side is NaN).
    pub max_abs: f64,
    /// Where [`max_abs`](Self::max_abs) occurs (multi-index; first such element).
    pub index_abs: Vec<usize>,
    /// Largest `|a − b| / max(|a|, |b|)` (0 where both are 0).
    pub max_rel: f64,
    /// Where [`max_rel`](Self::max_rel) occurs.
    pub index_rel: Vec<usize>,
    /// `a` and `b` at [`index_abs`](Self::index_abs).
    pub values_abs: (f64, f64),
}

/// The multi-index of flat (row-major) position `flat` in `shape`.
pub fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (i, &d) in shape.iter().enumerate().rev() {
        if d > 0 {
            idx[i] = flat % d;
            flat /= d;
        }
    }
    idx
}

fn elem_diff(a: f64, b: f64) -> (f64, f64) {
    if a.is_nan() || b.is_nan() {
        return if a.is_nan() && b.is_nan() {
            (0.0, 0.0)
        } else {
            (f64::INFINITY, f64::INFINITY)
        };
    }
    if a == b {
        return (0.0, 0.0);
    }
    if a.is_infinite() || b.is_infinite() {
        return (f64::INFINITY, f64::INFINITY);
    }
    let d = (a - b).abs();
    (d, d / a.abs().max(b.abs()))
}

/// Largest absolute and relative differences between `a` and `b`, with where
/// they occur.
///
/// # Errors
/// [`ErrorKind::ShapeMismatch`] naming both shapes.
pub fn diff<A: Comparable + ?Sized, B: Comparable + ?Sized>(a: &A, b: &B) -> Result<Diff> {
    let (sa, sb) = (a.shape(), b.shape());
    if sa != sb {
        return Err(Error::shapes("shapes differ", "a", &sa, "b", &sb));
    }
    let (va, vb) = (a.values(), b.values());
    let (mut max_abs, mut ia, mut max_rel, mut ir) = (0.0, 0, 0.0, 0);
    for (i, (&x, &y)) in va.iter().zip(&vb).enumerate() {
        let (d, r) = elem_diff(x, y);
        if d > max_abs {
            (max_abs, ia) = (d, i);
        }
        if r > max_rel {
            (max_rel, ir) = (r, i);
        }
    }
    let values_abs = if va.is_empty() {
        (0.0, 0.0)
    } else {
        (va[ia], vb[ia])
    };
    Ok(Diff {
        index_abs: unravel(ia, &sa),
        index_rel: unravel(ir, &sa),
        shape: sa,
        max_abs,
        max_rel,
        values_abs,
    })
}

/// Checks that `a` and `b` agree everywhere within `tol`; returns their [`Diff`].
///
/// # Errors
/// [`ErrorKind::ShapeMismatch`] naming both shapes; [`ErrorKind::Mismatch`]
/// naming how many elements disagree and, for the worst one (the largest
/// absolute difference among those outside the tolerance), its index, both
/// values and the difference.
pub fn check<A: Comparable + ?Sized, B: Comparable + ?Sized>(
    a: &A,
    b: &B,
    tol: Tol,
) -> Result<Diff> {
    let d = diff(a, b)?;
    let (va, vb) = (a.values(), b.values());
    let mut bad = 0usize;
    let mut worst: Option<(usize, f64)> = None;
    for (i, (&x, &y)) in va.iter().zip(&vb).enumerate() {
        if !tol.agree(x, y) {
            bad += 1;
            // A NaN that disagrees (with a number, or with NaN) is the worst.
            let dd = if x.is_nan() || y.is_nan() {
                f64::INFINITY
            } else {
                elem_diff(x, y).0
            };
            if worst.is_none_or(|(_, w)| dd > w) {
                worst = Some((i, dd));
            }
        }
    }
    if let Some((i, dd)) = worst {
        let (x, y) = (va[i], vb[i]);
        let hint = if x.is_nan() && y.is_nan() {
            " — NaN equals nothing: an element neither side wrote? (Tol::nan_equal() if NaN is the expected answer)"
        } else {
            ""
        };
        let (xs, ys) = crate::report::fmt_pair(x, y);
        let idx = unravel(i, &d.shape);
        // A single value (0-dimensional) has no index to name.
        let at = if idx.is_empty() {
            String::new()
        } else {
            format!(" at {idx:?}")
        };
        let difference = if x.is_nan() || y.is_nan() {
            "NaN".to_string()
        } else {
            crate::report::fmt_tol(dd)
        };
        return Err(Error::new(
            ErrorKind::Mismatch,
            format!(
                "{bad} of {} elements differ beyond abs {} + rel {}; worst{at}: {xs} vs {ys} (difference {difference}){hint}",
                va.len(),
                crate::report::fmt_tol(tol.abs),
                crate::report::fmt_tol(tol.rel),
            ),
        ));
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{Array2, ArrayD, IxDyn, array};
    use proptest::prelude::*;

    #[test]
    fn shapes_must_match() {
        let a = Array2::<f32>::zeros((2, 3));
        let b = Array2::<f32>::zeros((3, 2));
        let e = diff(&a, &b).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        assert_eq!(e.to_string(), "shapes differ: a is 2×3, b is 3×2");
    }

    #[test]
    fn mismatch_messages_have_sensible_digits() {
        let e = check(&6236.2080000000005f64, &f64::NAN, Tol::new(1e-8, 1e-5)).unwrap_err();
        let m = e.to_string();
        assert!(m.contains("6236 vs NaN (difference NaN)"), "{m}");
        assert!(!m.contains("worst at []"), "{m}");
        assert!(m.contains("abs 1e-8 + rel 1e-5"), "{m}");
        let e = check(
            &vec![1.0f64, 2.3283064365386963e-10],
            &vec![1.0f64, 0.0],
            Tol::new(0.0, 0.0),
        )
        .unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("worst at [1]: 2.328e-10 vs 0 (difference 2.33e-10)"),
            "{m}"
        );
        assert!(m.contains("abs 0 + rel 0"), "{m}");
        let e = check(&vec![1.00001f64], &vec![1.00002f64], Tol::new(0.0, 0.0)).unwrap_err();
        assert!(e.to_string().contains("1.00001 vs 1.00002"), "{e}");
    }

    #[test]
    fn nan_handling() {
        let t = Tol::new(1e-9, 1e-9);
        assert!(!t.agree(f64::NAN, f64::NAN), "NaN equals nothing");
        assert!(t.nan_equal().agree(f64::NAN, f64::NAN), "unless asked for");
        assert!(!t.agree(f64::NAN, 1.0));
        assert!(!t.nan_equal().agree(f64::NAN, 1.0));
        let both = check(&vec![f64::NAN], &vec![f64::NAN], t).unwrap_err();
        assert!(both.to_string().contains("NaN vs NaN"), "{both}");
        assert!(both.to_string().contains("neither side wrote"), "{both}");
        assert!(check(&vec![f64::NAN], &vec![f64::NAN], t.nan_equal()).is_ok());
        assert!(t.agree(f64::INFINITY, f64::INFINITY));
        assert!(!t.agree(f64::INFINITY, f64::NEG_INFINITY));
        let e = check(&vec![1.0f64, f64::NAN], &vec![1.0f64, 2.0], t).unwrap_err();
        assert!(e.to_string().contains("worst at [1]: NaN vs 2"), "{e}");
    }

    #[test]
    fn index_is_multi_dimensional_and_mixed_types_work() {
        let a = ArrayD::<f32>::zeros(IxDyn(&[2, 3, 4]));
        let mut b = a.clone();
        b[[1, 2, 3]] = 1e-3;
        b[[0, 1, 0]] = -2e-3;
        let d = diff(&a, &b).unwrap();
        assert_eq!(d.index_abs, vec![0, 1, 0]);
        assert!((d.max_abs - 2e-3).abs() < 1e-9);
        let e = check(&a, &b, Tol::new(1.5e-3, 0.0)).unwrap_err();
        assert!(e.to_string().starts_with("1 of 24 elements differ"), "{e}");
        assert!(check(&a, &b, Tol::new(3e-3, 0.0)).is_ok());
        // A view and an owned array, a scalar and a slice.
        let m = array![[1.0f64, 2.0], [3.0, 4.0]];
        assert!(check(&m.view(), &m, Tol::exact()).is_ok());
        assert!(check(&1.0f32, &1.0f32, Tol::exact()).is_ok());
        assert!(check(&[1.0f64][..], &vec![1.0f64], Tol::exact()).is_ok());
        assert_eq!(unravel(23, &[2, 3, 4]), vec![1, 2, 3]);
        assert_eq!(unravel(0, &[]), Vec::<usize>::new());
    }

    #[test]
    fn parallel_sum_passes_eps_n_but_not_exact() {
        // Summing in two orders: the kind of difference Tol::eps_n is for.
        let xs: Vec<f32> = (0..10_000)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3)
            .collect();
        let forward: f32 = xs.iter().sum();
        let pairwise: f32 = xs.chunks(100).map(|c| c.iter().sum::<f32>()).sum();
        assert!(check(&forward, &pairwise, Tol::eps_n::<f32>(xs.len())).is_ok());
    }

    proptest! {
        #[test]
        fn diff_is_symmetric_and_zero_on_self(v in proptest::collection::vec(-1e6f64..1e6, 0..50),
                                              w in proptest::collection::vec(-1e6f64..1e6, 0..50)) {
            let n = v.len().min(w.len());
            let (v, w) = (&v[..n], &w[..n]);
            let d1 = diff(v, w).unwrap();
            let d2 = diff(w, v).unwrap();
            prop_assert_eq!(d1.max_abs, d2.max_abs);
            prop_assert_eq!(d1.max_rel, d2.max_rel);
            prop_assert_eq!(diff(v, v).unwrap().max_abs, 0.0);
            prop_assert!(d1.max_rel <= 2.0);
            // check passes with a tolerance of exactly the max difference.
            prop_assert!(check(v, w, Tol::new(d1.max_abs, 0.0)).is_ok());
        }
    }
}
