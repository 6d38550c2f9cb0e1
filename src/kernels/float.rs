//! The element types the kernels accept: `f32` and `f64`.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, MulAssign, Neg, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point element type: implemented for `f32` and `f64` only.
///
/// The trait is sealed: the kernels rely on IEEE arithmetic (for the
/// compensated sums) and on matrixmultiply having a kernel for the type.
///
/// ```
/// use parlab::kernels::Float;
/// fn half<T: Float>(x: T) -> T { x * T::from_f64(0.5) }
/// assert_eq!(half(3.0f32), 1.5);
/// assert_eq!(f64::EPSILON, <f64 as Float>::EPSILON);
/// ```
pub trait Float:
    sealed::Sealed
    + ndarray::LinalgScalar
    + ndarray::ScalarOperand
    + Send
    + Sync
    + Default
    + PartialOrd
    + Debug
    + Display
    + AddAssign
    + SubAssign
    + MulAssign
    + Neg<Output = Self>
    + Sum
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Machine epsilon: the gap between 1 and the next larger number.
    const EPSILON: Self;
    /// `2^⌈p/2⌉ + 1` for a `p`-bit significand: splits a number into two halves
    /// whose products are exact (Dekker's algorithm, used by the compensated dot).
    const SPLITTER: Self;
    /// `"f32"` or `"f64"`, for tables and messages.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` (exact).
    fn to_f64(self) -> f64;
    /// Square root.
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;

    /// `C ← A·B` with matrixmultiply's kernel for this type.
    ///
    /// # Safety
    /// The pointers and strides (in elements) must describe valid `m×k`, `k×n`
    /// and `m×n` matrices, and `c` must not overlap `a` or `b`.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    unsafe fn gemm(
        m: usize,
        k: usize,
        n: usize,
        a: *const Self,
        rsa: isize,
        csa: isize,
        b: *const Self,
        rsb: isize,
        csb: isize,
        c: *mut Self,
        rsc: isize,
        csc: isize,
    );
}

macro_rules! impl_float {
    ($t:ident, $gemm:ident, $splitter:expr) => {
        impl Float for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const EPSILON: Self = $t::EPSILON;
            const SPLITTER: Self = $splitter;
            const NAME: &'static str = stringify!($t);

            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn sqrt(self) -> Self {
                $t::sqrt(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }

            unsafe fn gemm(
                m: usize,
                k: usize,
                n: usize,
                a: *const Self,
                rsa: isize,
                csa: isize,
                b: *const Self,
                rsb: isize,
                csb: isize,
                c: *mut Self,
                rsc: isize,
                csc: isize,
            ) {
                // SAFETY: forwarded from the caller's contract.
                unsafe {
                    matrixmultiply::$gemm(m, k, n, 1.0, a, rsa, csa, b, rsb, csb, 0.0, c, rsc, csc)
                }
            }
        }
    };
}

impl_float!(f32, sgemm, 4097.0);
impl_float!(f64, dgemm, 134_217_729.0);
