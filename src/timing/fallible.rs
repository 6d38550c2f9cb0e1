//! What a timed closure may return: a value, or a `Result` of one — so that a
//! notebook writes `|c| add(a.view(), b.view(), c.view_mut())` and not
//! `|c| add(…).unwrap()`. An `Err` from the closure ends the measurement with
//! that error (naming the kernel), before anything is timed.

use crate::error::{Error, Result};
use crate::verify::Comparable;

/// The output of a kernel given to [`Compare::kernel`](crate::timing::Compare::kernel)
/// or [`SizeSweep::kernel`](crate::timing::SizeSweep::kernel): a comparable
/// value (an array, a `Vec`, a number), or a `Result` of one.
#[diagnostic::on_unimplemented(
    message = "a kernel must return something parlab can compare (an array, a Vec, a number) or a Result of one, not `{Self}`",
    label = "this kernel's output cannot be compared",
    note = "a kernel that writes into a buffer and returns `()` goes to `kernel_into`"
)]
pub trait KernelOutput {
    /// The comparable value.
    type Output: Comparable;
    /// The value, or the kernel's error.
    fn into_output(self) -> Result<Self::Output>;
}

impl<T: Comparable> KernelOutput for T {
    type Output = T;
    fn into_output(self) -> Result<T> {
        Ok(self)
    }
}

impl<T: Comparable, E: Into<Error>> KernelOutput for std::result::Result<T, E> {
    type Output = T;
    fn into_output(self) -> Result<T> {
        self.map_err(Into::into)
    }
}

/// What a kernel that writes into a buffer returns: `()`, or a `Result<()>`
/// (every parlab kernel that writes one, `add`, `par_add`, `matmul`, …).
#[diagnostic::on_unimplemented(
    message = "a kernel given to `kernel_into` writes into its buffer and returns `()` or a `Result<()>`, not `{Self}`",
    label = "returns `{Self}`"
)]
pub trait Written {
    /// `Ok(())`, or the kernel's error.
    fn into_status(self) -> Result<()>;
}

impl Written for () {
    fn into_status(self) -> Result<()> {
        Ok(())
    }
}

impl<E: Into<Error>> Written for std::result::Result<(), E> {
    fn into_status(self) -> Result<()> {
        self.map_err(Into::into)
    }
}

/// Whether `R` is a `Result` — [`Bench::run`](crate::timing::Bench::run)
/// refuses to time a closure that returns one, which would time an error
/// path without noticing (use [`Bench::try_run`](crate::timing::Bench::try_run)).
pub(crate) fn is_result<R>() -> bool {
    std::any::type_name::<R>().starts_with("core::result::Result<")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn values_and_results_both_are_kernel_outputs() {
        assert_eq!(vec![1.0f64].into_output().unwrap(), vec![1.0]);
        let ok: Result<Vec<f64>> = Ok(vec![2.0]);
        assert_eq!(ok.into_output().unwrap(), vec![2.0]);
        let err: Result<f64> = Err(Error::new(ErrorKind::InvalidInput, "no"));
        assert_eq!(
            err.into_output().unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert!(().into_status().is_ok());
        let w: Result<()> = Err(Error::new(ErrorKind::ShapeMismatch, "shapes"));
        assert_eq!(
            w.into_status().unwrap_err().kind(),
            ErrorKind::ShapeMismatch
        );
    }

    #[test]
    fn results_are_recognised_by_type() {
        assert!(is_result::<Result<()>>());
        assert!(is_result::<std::result::Result<f64, String>>());
        assert!(!is_result::<f64>());
        assert!(!is_result::<Vec<Result<f64>>>());
        assert!(!is_result::<()>());
    }
}
