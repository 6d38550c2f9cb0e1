//! Profiling in notebooks: where the time and the memory go.
//!
//! The Python course profiles with cProfile, line_profiler and memory_profiler.
//! This module answers the same questions with the same one-cell ease:
//!
//! - [`Profiler`]: named, nested sections timed by a guard or a closure, usable
//!   from rayon worker threads; its [`Profile`] reports calls, total, self time,
//!   mean and share per section, as text and as HTML in a notebook.
//! - [`memit`]: peak and change of resident memory around a closure, like
//!   IPython's `%memit`, through the memory-stats crate (and the kernel's exact
//!   high-water mark on Linux).
//! - [`CountingAlloc`]: exact allocation counts and bytes, for programs and
//!   tests that install it as their global allocator.
//! - [`flame_graph`]: sample a closure and draw a flame graph (pprof, with
//!   parlab's `flamegraph` feature, on Linux).
//!
//! ```
//! use parlab::profile::Profiler;
//! let prof = Profiler::new();
//! let v: Vec<u64> = prof.time("fill", || (0..10_000).collect());
//! let total: u64 = prof.time("sum", || v.iter().sum());
//! assert_eq!(total, 49_995_000);
//! let report = prof.report();
//! assert_eq!(report.row("sum").unwrap().calls, 1);
//! ```

mod alloc;
mod flame;
mod memory;
mod sections;

pub use alloc::{AllocStats, CountingAlloc, count_allocs};
pub use flame::{FlameGraph, flame_graph};
pub use memory::{MemReport, memit, memit_with};
pub use sections::{Profile, ProfileRow, Profiler, Section};
