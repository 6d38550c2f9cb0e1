//! Property tests: invariants that must hold for any shape, data and thread
//! count (seeded by proptest; 48 cases each to keep the run short).

mod cases;

use cases::{Layout, Mat};
use ndarray::{Array1, Array2};
use parlab::kernels as k;
use parlab::par::{Par, with_threads};
use proptest::prelude::*;

fn layout() -> impl Strategy<Value = Layout> {
    prop::sample::select(cases::LAYOUTS.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Parallel reductions return the serial bits for any data and thread count.
    #[test]
    fn par_sum_is_serial_sum(xs in prop::collection::vec(-1e6f32..1e6, 0..40_000), t in 1usize..6) {
        let x = Array1::from(xs);
        let (s, c) = Par::threads(t).install(|| (k::par_sum(x.view()), k::par_sum_compensated(x.view()))).unwrap();
        prop_assert_eq!(s.to_bits(), k::sum(x.view()).to_bits());
        prop_assert_eq!(c.to_bits(), k::sum_compensated(x.view()).to_bits());
    }

    /// The compensated f32 sum is within 3 ulps-ish of the f64 sum, whatever
    /// the cancellation; the plain sum within its n·ε·Σ|x| bound.
    #[test]
    fn sums_within_their_bounds(xs in prop::collection::vec(-1e3f32..1e3, 1..20_000)) {
        let x = Array1::from(xs);
        let exact: f64 = x.iter().map(|&v| f64::from(v)).sum();
        let abs: f64 = x.iter().map(|&v| f64::from(v).abs()).sum();
        let eps = f64::from(f32::EPSILON);
        let n = x.len() as f64;
        let c = f64::from(k::sum_compensated(x.view()));
        prop_assert!((c - exact).abs() <= 2.0 * eps * exact.abs() + 2.0 * n * eps * eps * abs + 1e-6 * eps * abs);
        let s = f64::from(k::sum(x.view()));
        prop_assert!((s - exact).abs() <= n * eps * abs);
    }

    /// add_chunks equals serial add for any rows, thread count and layout:
    /// no row lost or added twice, also with more threads than rows.
    #[test]
    fn add_chunks_is_add(rows in 0usize..70, cols in 0usize..20, t in 1usize..12, la in layout(), lc in layout(), seed in 0u64..1000) {
        let a = Mat::<f64>::random((rows, cols), la, seed);
        let b = Mat::<f64>::random((rows, cols), Layout::C, seed + 1);
        let mut c1 = Mat::<f64>::zeros((rows, cols), lc);
        let mut c2 = Mat::<f64>::zeros((rows, cols), Layout::C);
        k::add_chunks(a.view(), b.view(), c1.view_mut(), t).unwrap();
        k::add(a.view(), b.view(), c2.view_mut()).unwrap();
        prop_assert_eq!(c1.to_owned(), c2.to_owned());
    }

    /// Addition commutes exactly, and par_add agrees with add.
    #[test]
    fn add_commutes(rows in 0usize..40, cols in 0usize..40, la in layout(), lb in layout(), seed in 0u64..1000) {
        let a = Mat::<f32>::random((rows, cols), la, seed);
        let b = Mat::<f32>::random((rows, cols), lb, seed + 1);
        let mut ab = Array2::zeros((rows, cols));
        let mut ba = Array2::zeros((rows, cols));
        k::add(a.view(), b.view(), ab.view_mut()).unwrap();
        with_threads(2, || k::par_add(b.view(), a.view(), ba.view_mut())).unwrap();
        prop_assert_eq!(ab, ba);
    }

    /// The library matmul agrees with the textbook loop within k·ε·|a||b|.
    #[test]
    fn matmul_matches_textbook(m in 0usize..24, kk in 0usize..24, n in 0usize..24, la in layout(), lb in layout(), seed in 0u64..1000) {
        let a = Mat::<f32>::random((m, kk), la, seed);
        let b = Mat::<f32>::random((kk, n), lb, seed + 1);
        let mut c1 = Array2::zeros((m, n));
        let mut c2 = Array2::zeros((m, n));
        k::matmul(a.view(), b.view(), c1.view_mut()).unwrap();
        k::matmul_ijk(a.view(), b.view(), c2.view_mut()).unwrap();
        // Bound 2(k+1)·ε·Σ|a||b|, and Σ|a||b| ≤ k since the entries are in [-1, 1).
        let tol = 2.0 * (kk as f32 + 1.0) * f32::EPSILON;
        for (x, y) in c1.iter().zip(c2.iter()) {
            prop_assert!((x - y).abs() <= tol * kk.max(1) as f32, "{} vs {}", x, y);
        }
    }

    /// The blurs keep a constant image constant (their weights add up to 1),
    /// at every border, for any shape.
    #[test]
    fn blurs_keep_constants(rows in 1usize..30, cols in 1usize..30, v in -100.0f64..100.0, t in 1usize..5) {
        let src = Array2::from_elem((rows, cols), v);
        let mut dst = Array2::zeros((rows, cols));
        with_threads(t, || k::par_gaussian_blur(src.view(), dst.view_mut())).unwrap();
        prop_assert!(dst.iter().all(|&x| (x - v).abs() <= 1e-14 * v.abs().max(1.0)));
        with_threads(t, || k::par_box_blur(src.view(), dst.view_mut())).unwrap();
        prop_assert!(dst.iter().all(|&x| (x - v).abs() <= 1e-14 * v.abs().max(1.0)));
        k::sobel(src.view(), dst.view_mut()).unwrap();
        prop_assert!(dst.iter().all(|&x| x == 0.0));
    }

    /// Monte Carlo results depend on the seed and sample count only.
    #[test]
    fn monte_carlo_independent_of_threads(samples in 1u64..200_000, seed in any::<u64>(), t in 1usize..6) {
        let s = k::pi(samples, seed).unwrap();
        let p = with_threads(t, || k::par_pi(samples, seed)).unwrap();
        prop_assert_eq!(s, p);
        prop_assert!(s.value >= 0.0 && s.value <= 4.0);
    }
}
