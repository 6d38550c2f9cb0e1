//! Parallel matrix kernels with timing, profiling and verification helpers,
//! made for Rust Jupyter notebooks (the evcxr kernel).
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod display;
pub mod error;
pub mod exercise;
pub mod export;
pub mod kernels;
pub mod par;
pub mod plot;
pub mod profile;
pub mod report;
pub mod timing;
pub mod verify;

pub use error::{Error, ErrorKind, Result};

/// The ndarray version parlab is built with: use `parlab::ndarray` in notebooks
/// so that arrays and kernels agree on one version.
pub use ndarray;
/// The rayon version parlab is built with.
pub use rayon;

/// parlab's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
