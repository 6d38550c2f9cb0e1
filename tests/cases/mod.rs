//! The one table of cases every kernel pair runs on: shapes, memory layouts,
//! thread counts, and seeded data. Used by `tests/kernels.rs` and
//! `tests/props.rs`.
#![allow(dead_code)]

use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder, s};
use parlab::kernels::Float;

/// Thread counts for every parallel kernel: 1 to 4, and more threads than the
/// small cases have rows.
pub const THREADS: [usize; 5] = [1, 2, 3, 4, 9];

/// Shapes for element-wise kernels, reductions and stencils: empty, single,
/// small odd, around 1024 (one side at a time to keep debug tests quick), non-square.
pub const SHAPES: [(usize, usize); 14] = [
    (0, 0),
    (0, 5),
    (5, 0),
    (1, 1),
    (7, 7),
    (7, 3),
    (1, 1023),
    (1023, 1),
    (1024, 7),
    (7, 1024),
    (1025, 3),
    (3, 1025),
    (33, 1025),
    (130, 129),
];

/// `(m, k, n)` for matrix products: empty dimensions, tiny, and sizes that
/// cross the blocked kernel's 64 × 128 × 512 tiles and `matmul`'s GEMM bands
/// of 256 rows or columns (with tails of 3 and 44).
pub const MATMUL_SHAPES: [(usize, usize, usize); 11] = [
    (0, 0, 0),
    (0, 3, 2),
    (3, 0, 2),
    (2, 3, 0),
    (1, 1, 1),
    (7, 7, 7),
    (7, 3, 5),
    (1, 130, 1),
    (65, 129, 33),
    (130, 70, 515),
    (300, 40, 30),
];

/// How a matrix sits in memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Row-major, contiguous.
    C,
    /// Column-major, contiguous.
    F,
    /// Every other row and all but the first column of a larger array.
    Strided,
    /// The transpose of a row-major array.
    Transposed,
    /// Rows in reverse order: a negative stride.
    Reversed,
}

pub const LAYOUTS: [Layout; 5] = [
    Layout::C,
    Layout::F,
    Layout::Strided,
    Layout::Transposed,
    Layout::Reversed,
];

/// A matrix of a given logical shape stored in a given layout.
pub struct Mat<T> {
    data: Array2<T>,
    pub layout: Layout,
    pub shape: (usize, usize),
}

impl<T: Float> Mat<T> {
    pub fn zeros(shape: (usize, usize), layout: Layout) -> Self {
        let (r, c) = shape;
        let data = match layout {
            Layout::C | Layout::Reversed => Array2::zeros((r, c)),
            Layout::F => Array2::zeros((r, c).f()),
            Layout::Strided => Array2::zeros((2 * r, c + 1)),
            Layout::Transposed => Array2::zeros((c, r)),
        };
        Mat {
            data,
            layout,
            shape,
        }
    }

    /// Seeded values in [-1, 1), filled in logical order (the same logical
    /// matrix for every layout).
    pub fn random(shape: (usize, usize), layout: Layout, seed: u64) -> Self {
        let mut m = Self::zeros(shape, layout);
        let mut g = SplitMix64::new(seed);
        for x in m.view_mut().iter_mut() {
            *x = T::from_f64(g.next_f64() * 2.0 - 1.0);
        }
        m
    }

    pub fn view(&self) -> ArrayView2<'_, T> {
        match self.layout {
            Layout::C | Layout::F => self.data.view(),
            Layout::Strided => self.data.slice(s![..;2, 1..]),
            Layout::Transposed => self.data.t(),
            Layout::Reversed => self.data.slice(s![..;-1, ..]),
        }
    }

    pub fn view_mut(&mut self) -> ArrayViewMut2<'_, T> {
        match self.layout {
            Layout::C | Layout::F => self.data.view_mut(),
            Layout::Strided => self.data.slice_mut(s![..;2, 1..]),
            Layout::Transposed => self.data.view_mut().reversed_axes(),
            Layout::Reversed => self.data.slice_mut(s![..;-1, ..]),
        }
    }

    pub fn to_owned(&self) -> Array2<T> {
        self.view().to_owned()
    }
}

/// The seeded generator of test data: parlab's own (one SplitMix64 in the
/// project).
pub use parlab::timing::stats::SplitMix64;

/// Every (shape, layout of a, layout of b, layout of out) combination the
/// element-wise tests run: all three in the same layout (the fast path), and
/// each layout mixed with the two after it (the general path).
pub fn layout_triples() -> Vec<(Layout, Layout, Layout)> {
    let n = LAYOUTS.len();
    let mut v: Vec<_> = LAYOUTS.iter().map(|&l| (l, l, l)).collect();
    for i in 0..n {
        v.push((LAYOUTS[i], LAYOUTS[(i + 1) % n], LAYOUTS[(i + 2) % n]));
    }
    v
}

/// Asserts two arrays are equal element by element, naming the first
/// difference (and the case) if they are not.
pub fn assert_same<T: Float>(got: ArrayView2<'_, T>, want: ArrayView2<'_, T>, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for ((idx, g), w) in got.indexed_iter().zip(want.iter()) {
        assert!(
            g == w || (g.to_f64().is_nan() && w.to_f64().is_nan()),
            "{what}: differs at {idx:?}: got {g}, want {w}"
        );
    }
}

/// Asserts `|got − want| ≤ tol[i, j]` everywhere.
pub fn assert_close<T: Float>(
    got: ArrayView2<'_, T>,
    want: &Array2<f64>,
    tol: &Array2<f64>,
    what: &str,
) {
    assert_eq!(got.shape(), want.shape(), "{what}: shape");
    for (((idx, g), w), t) in got.indexed_iter().zip(want.iter()).zip(tol.iter()) {
        let err = (g.to_f64() - w).abs();
        assert!(
            err <= *t,
            "{what}: at {idx:?} got {g}, want {w}: error {err:e} > tolerance {t:e}"
        );
    }
}
