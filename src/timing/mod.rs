//! Timing: `%timeit`-style benchmarks, their statistics, the machine's limits,
//! kernel comparisons and sweeps.
//!
//! Pipeline, imports one way only:
//!
//! ```text
//! bench (clock) → stats (plain numbers) → compare / sweep → report, export
//!                 machine (limits)      ↗
//! ```
//!
//! [`stats`] imports nothing from display, report or plotting; charts and HTML
//! read the plain values these modules return.

pub mod bench;
pub mod machine;
pub mod stats;

pub use bench::{Bench, BenchResult, Throughput, bench, catch_panic, timer_overhead, try_bench};
pub use machine::Machine;
