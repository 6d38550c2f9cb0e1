//! Parallel matrix kernels with timing, profiling and verification helpers,
//! made for Rust Jupyter notebooks (the evcxr kernel).
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod display;
pub mod error;
pub mod kernels;
pub mod par;
pub mod timing;

pub use error::{Error, ErrorKind, Result};
pub mod export;
pub mod report;
pub mod verify;
