//! Parallel matrix kernels, each with a serial version and a parallel twin.
//!
//! # Naming
//! The serial kernel has the plain name (`add`, `sum`, `matmul`), its parallel
//! twin the `par_` prefix (`par_add`, `par_sum`, `par_matmul`). A `par_` kernel
//! runs on the rayon pool it is called from: choose the thread count with
//! [`crate::par::with_threads`] or `pool.install`. A kernel that takes an
//! explicit thread count says so in its name ([`add_chunks`]).
//!
//! ```
//! use ndarray::Array2;
//! use parlab::kernels::{add, par_add};
//! let a = Array2::from_shape_fn((300, 200), |(i, j)| (i + j) as f32);
//! let b = Array2::<f32>::ones((300, 200));
//! let mut c = Array2::zeros((300, 200));
//! add(a.view(), b.view(), c.view_mut()).unwrap();
//! let mut d = Array2::zeros((300, 200));
//! parlab::par::with_threads(2, || par_add(a.view(), b.view(), d.view_mut())).unwrap();
//! assert_eq!(c, d);
//! assert_eq!(c[[299, 199]], 499.0);
//! ```
//!
//! # Inputs
//! Every kernel is generic over [`Float`] (`f32` and `f64`) and takes ndarray
//! views of any layout: C order, Fortran order, sliced, strided or transposed.
//! Contiguous inputs with matching layout take a fast path over flat slices;
//! the others go through `Zip` or per-row loops and stay correct.
//!
//! # Speed in a notebook
//! evcxr compiles cells without `target-cpu`, so a plain loop is vectorised for
//! SSE2 only. The inner loops here are compiled three times (SSE2, AVX2+FMA,
//! AVX-512) and the widest the CPU supports is chosen at run time; all three do
//! the same arithmetic in the same order, so results do not depend on the CPU.
//!
//! # Errors
//! Kernels that take several arrays check their shapes and return
//! [`crate::ErrorKind::ShapeMismatch`] with a message naming both shapes
//! (`shapes differ: a is 1024×1024, b is 1024×1000`). Empty inputs are valid.

/// Defines `fn $name<T: Float>(...)` whose body is compiled for SSE2, AVX2+FMA
/// and AVX-512, choosing at run time. The body must not rely on FMA
/// contraction (Rust never contracts), so every variant rounds identically.
///
/// A function marked `#[memory_bound]` takes the level as its first argument
/// (`level: u8`), which its caller chooses per call from the bytes the call
/// touches ([`stores::Mode::for_call`]): widest in the caches, the probe's
/// choice from memory.
macro_rules! simd_dispatch {
    (
        #[memory_bound]
        $(#[$meta:meta])*
        $vis:vis fn $name:ident<T: Float>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        simd_dispatch!(@imp level.min(crate::kernels::simd_level()), $(#[$meta])* $vis fn $name<T: Float>(level: u8, $($arg: $ty),*) $(-> $ret)? $body);
    };
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident<T: Float>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        simd_dispatch!(@imp crate::kernels::simd_level(), $(#[$meta])* $vis fn $name<T: Float>($($arg: $ty),*) $(-> $ret)? $body);
    };
    (
        @imp $level:expr,
        $(#[$meta:meta])*
        $vis:vis fn $name:ident<T: Float>($($arg:ident: $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$meta])*
        #[inline]
        $vis fn $name<T: Float>($($arg: $ty),*) $(-> $ret)? {
            #[inline(always)]
            #[allow(unused_variables)]
            fn body<T: Float>($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx512vl,avx2,fma")]
                fn v4<T: Float>($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                #[target_feature(enable = "avx2,fma")]
                fn v3<T: Float>($($arg: $ty),*) $(-> $ret)? { body($($arg),*) }
                match $level {
                    // SAFETY: simd_level checked that the CPU has these features.
                    2 => return unsafe { v4($($arg),*) },
                    // SAFETY: as above.
                    1 => return unsafe { v3($($arg),*) },
                    _ => {}
                }
            }
            body($($arg),*)
        }
    };
}

mod add;
mod blas;
mod float;
mod matmul;
pub(crate) mod monte_carlo;
pub(crate) mod reduce;
mod stencil;
pub mod stores;
mod triad;

pub use add::{add, add_alloc, add_assign, add_chunks, add_loop, add_zip, par_add, par_add_assign};
pub use blas::gemm_library;
pub use float::Float;
pub use matmul::{
    GEMM_BAND, matmul, matmul_blocked, matmul_ijk, matmul_ikj, par_matmul, par_matmul_blocked,
};
pub use monte_carlo::{
    CallOption, Estimate, MC_CHUNK, Stream, black_scholes_call, european_call, par_european_call,
    par_pi, pi,
};
pub use reduce::{
    BLOCK, dot, dot_compensated, par_dot, par_dot_compensated, par_sum, par_sum_compensated, sum,
    sum_compensated,
};
pub use stencil::{
    box_blur, convolve3x3, gaussian_blur, par_box_blur, par_convolve3x3, par_gaussian_blur,
    par_sobel, sobel,
};
pub use stores::{
    Regime, Tuning, memory_simd_level, read_simd_level, set_streaming_threshold, set_tuning,
    streaming_threshold, tuning,
};
pub use triad::{axpy, fill, par_axpy, par_fill, par_scale, par_triad, scale, triad};

pub(crate) use add::add_slices;
pub(crate) use reduce::sum_slice_at;
pub(crate) use triad::triad_slices;

use crate::error::{Error, Result};
use ndarray::{ArrayView, ArrayViewMut, Dimension, Zip};

/// The SIMD level the dispatched loops use: 0 = SSE2, 1 = AVX2+FMA, 2 = AVX-512.
///
/// Set `PARLAB_SIMD=sse2|avx2|avx512` to cap it (for teaching and measurement);
/// the value is read once per process.
pub fn simd_level() -> u8 {
    use std::sync::OnceLock;
    static LEVEL: OnceLock<u8> = OnceLock::new();
    *LEVEL.get_or_init(|| {
        let cap = match std::env::var("PARLAB_SIMD").as_deref() {
            Ok("sse2") => 0,
            Ok("avx2") => 1,
            _ => 2,
        };
        hardware_simd_level().min(cap)
    })
}

/// The widest SIMD level this CPU runs, whatever `PARLAB_SIMD` says: the one
/// detector of parlab (the kernels and the machine probe's peak both use it).
/// AVX-512 needs `avx512f` and `avx512vl` (the 256-bit forms the kernels use)
/// besides AVX2 and FMA.
pub fn hardware_simd_level() -> u8 {
    #[cfg(target_arch = "x86_64")]
    {
        let avx2 = std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("fma");
        if avx2
            && std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512vl")
        {
            2
        } else if avx2 {
            1
        } else {
            0
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    0
}

/// How many contiguous parts a parallel element-wise kernel cuts `len`
/// elements into on the current pool: one per thread while the data is in
/// the caches (the work is short, and every extra task is scheduling), two
/// per thread from memory, so that a thread slowed by another program on a
/// shared machine does not hold the others up for long; never parts under
/// 32 768 elements, whose scheduling would cost more than their work.
pub(crate) fn par_parts(len: usize, bytes: usize) -> usize {
    const MIN_PART: usize = 1 << 15;
    let threads = rayon::current_num_threads().max(1);
    let per_thread = if bytes >= stores::streaming_threshold() {
        2
    } else {
        1
    };
    (threads * per_thread).min(len.div_ceil(MIN_PART)).max(1)
}

/// Runs `f` on `parts` contiguous parts of `x` (and the matching parts of the
/// other slices), splitting in halves with `rayon::join` so that each thread
/// takes a contiguous share; part boundaries are multiples of 64 elements
/// (cache lines) except at the end.
pub(crate) fn par_split<X, F>(x: X, len: usize, parts: usize, f: &F)
where
    X: Splittable + Send,
    F: Fn(X) + Sync,
{
    par_split_from(x, 0, len, parts, f);
}

/// [`par_split`] of the part that starts at element `offset` (for the
/// timeline's labels).
fn par_split_from<X, F>(x: X, offset: usize, len: usize, parts: usize, f: &F)
where
    X: Splittable + Send,
    F: Fn(X) + Sync,
{
    if parts <= 1 || len <= 64 {
        crate::timing::timeline::span_with(
            || format!("elements {offset}..{}", offset + len),
            || f(x),
        );
        return;
    }
    let left = parts / 2;
    let mid = (len * left / parts).next_multiple_of(64).min(len);
    let (l, r) = x.split(mid);
    rayon::join(
        || par_split_from(l, offset, mid, left, f),
        || par_split_from(r, offset + mid, len - mid, parts - left, f),
    );
}

/// Slices cut at the same index.
pub(crate) trait Splittable: Sized {
    fn split(self, at: usize) -> (Self, Self);
}

impl<T> Splittable for &mut [T] {
    fn split(self, at: usize) -> (Self, Self) {
        self.split_at_mut(at)
    }
}

impl<'a, T> Splittable for (&'a mut [T], &'a [T]) {
    fn split(self, at: usize) -> (Self, Self) {
        let (c0, c1) = self.0.split_at_mut(at);
        let (a0, a1) = self.1.split_at(at);
        ((c0, a0), (c1, a1))
    }
}

impl<'a, T> Splittable for (&'a mut [T], &'a [T], &'a [T]) {
    fn split(self, at: usize) -> (Self, Self) {
        let (c0, c1) = self.0.split_at_mut(at);
        let (a0, a1) = self.1.split_at(at);
        let (b0, b1) = self.2.split_at(at);
        ((c0, a0, b0), (c1, a1, b1))
    }
}

pub(crate) fn check_shapes(an: &str, a: &[usize], bn: &str, b: &[usize]) -> Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(Error::shapes("shapes differ", an, a, bn, b))
    }
}

/// Flat slices of views with identical strides and contiguous memory: element
/// `k` of each slice is the same logical element.
fn flat<'a, T, D: Dimension>(v: &'a ArrayView<'_, T, D>, strides: &[isize]) -> Option<&'a [T]> {
    if v.strides() == strides {
        v.as_slice_memory_order()
    } else {
        None
    }
}

/// `c[i] = f(a[i], b[i])` with a slice fast path (`fast`) for matching
/// contiguous layouts and `Zip` otherwise.
pub(crate) fn map2<T: Float, D: Dimension>(
    a: ArrayView<'_, T, D>,
    b: ArrayView<'_, T, D>,
    mut c: ArrayViewMut<'_, T, D>,
    parallel: bool,
    fast: impl Fn(stores::Mode, &[T], &[T], &mut [T]) + Sync + Send,
    f: impl Fn(T, T) -> T + Sync + Send,
) {
    let strides = c.strides().to_vec();
    if let (Some(a), Some(b)) = (flat(&a, &strides), flat(&b, &strides))
        && let Some(c) = c.as_slice_memory_order_mut()
    {
        // The output is written, never read: `fast` streams it when it will
        // not stay in the cache anyway (see `stores`).
        let mode = stores::Mode::for_call(3 * std::mem::size_of_val(c), true);
        let run = |a: &[T], b: &[T], c: &mut [T]| fast(mode, a, b, c);
        if parallel {
            let (len, bytes) = (c.len(), 3 * std::mem::size_of_val(c));
            par_split((c, a, b), len, par_parts(len, bytes), &|(c, a, b)| {
                run(a, b, c)
            });
        } else {
            run(a, b, c);
        }
        return;
    }
    let z = Zip::from(&mut c).and(&a).and(&b);
    if parallel {
        z.par_for_each(|c, &a, &b| *c = f(a, b));
    } else {
        z.for_each(|c, &a, &b| *c = f(a, b));
    }
}

/// `c[i] = f(c[i], a[i])`, as [`map2`].
pub(crate) fn update1<T: Float, D: Dimension>(
    mut c: ArrayViewMut<'_, T, D>,
    a: ArrayView<'_, T, D>,
    parallel: bool,
    fast: impl Fn(stores::Mode, &[T], &mut [T]) + Sync + Send,
    f: impl Fn(T, T) -> T + Sync + Send,
) {
    let strides = c.strides().to_vec();
    if let Some(a) = flat(&a, &strides)
        && let Some(c) = c.as_slice_memory_order_mut()
    {
        let mode = stores::Mode::for_call(2 * std::mem::size_of_val(c), false);
        if parallel {
            let (len, bytes) = (c.len(), 3 * std::mem::size_of_val(c));
            par_split((c, a), len, par_parts(len, bytes), &|(c, a)| {
                fast(mode, a, c)
            });
        } else {
            fast(mode, a, c);
        }
        return;
    }
    let z = Zip::from(&mut c).and(&a);
    if parallel {
        z.par_for_each(|c, &a| *c = f(*c, a));
    } else {
        z.for_each(|c, &a| *c = f(*c, a));
    }
}

/// `c[i] = f(c[i])`, as [`map2`]; `write_only` when `f` ignores its argument
/// (a fill), so that `fast` may stream large outputs.
pub(crate) fn update0<T: Float, D: Dimension>(
    mut c: ArrayViewMut<'_, T, D>,
    parallel: bool,
    write_only: bool,
    fast: impl Fn(stores::Mode, &mut [T]) + Sync + Send,
    f: impl Fn(T) -> T + Sync + Send,
) {
    if let Some(c) = c.as_slice_memory_order_mut() {
        let touched = if write_only { 1 } else { 2 } * std::mem::size_of_val(c);
        let mode = stores::Mode::for_call(touched, write_only);
        let run = |c: &mut [T]| fast(mode, c);
        if parallel {
            let (len, bytes) = (c.len(), 2 * std::mem::size_of_val(c));
            par_split(c, len, par_parts(len, bytes), &run);
        } else {
            run(c);
        }
        return;
    }
    let z = Zip::from(&mut c);
    if parallel {
        z.par_for_each(|c| *c = f(*c));
    } else {
        z.for_each(|c| *c = f(*c));
    }
}
