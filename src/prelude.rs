//! What a notebook needs in one `use`: `use parlab::prelude::*;`.
//!
//! The kernels (serial and `par_`), arrays, thread control, timing, checks,
//! and the error type. Everything else stays under its module (`parlab::plot`,
//! `parlab::profile`, `parlab::exercise`, …).
//!
//! ```
//! use parlab::prelude::*;
//! let a = Array2::<f32>::ones((64, 64));
//! let mut c = Array2::<f32>::zeros((64, 64));
//! with_threads(2, || par_add(a.view(), a.view(), c.view_mut()))?;
//! assert_eq!(sum(c.view()), 2.0 * 64.0 * 64.0);
//! # Ok::<(), parlab::Error>(())
//! ```

pub use crate::error::{Error, ErrorKind, Result};
pub use crate::kernels::{
    Float, add, add_assign, add_chunks, axpy, box_blur, dot, fill, gaussian_blur, matmul, par_add,
    par_add_assign, par_axpy, par_box_blur, par_dot, par_fill, par_gaussian_blur, par_matmul,
    par_scale, par_sum, par_triad, scale, sum, triad,
};
pub use crate::ndarray::{self, Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, s};
pub use crate::par::{Par, available_threads, chunk_ranges, with_threads};
pub use crate::timing::{
    Bench, BenchResult, Compare, Comparison, Machine, SizeSweep, ThreadSweep, Work,
};
pub use crate::verify::Tol;
