//! Timing: `%timeit`-style benchmarks, their statistics, the machine's limits,
//! kernel comparisons, sweeps and saved baselines.
//!
//! Pipeline, imports one way only:
//!
//! ```text
//! bench (clock) → stats (plain numbers) → compare / sweep / baseline → report, export
//!                 machine (limits)      ↗
//! ```
//!
//! [`stats`] imports nothing from the rest of parlab but the error type;
//! nothing under `timing` imports display or plotting: HTML and text live in
//! [`crate::report`], which reads the plain values these modules return.

pub mod baseline;
pub mod bench;
pub mod compare;
pub mod cpu;
pub mod fallible;
pub mod machine;
pub mod stats;
pub mod sweep;
pub mod timeline;

pub use baseline::{Baseline, Change, Changes, Verdict};
pub use bench::{
    Bench, BenchResult, Efficiency, Throughput, Work, bench, bench_with_setup, catch_panic,
    time_scale, timer_overhead, try_bench, try_bench_with_setup,
};
pub use compare::{Compare, Comparison};
pub use cpu::CpuUsage;
pub use fallible::{KernelOutput, Written};
pub use machine::{Machine, Precision, limit_add_ordinary, limit_add_streaming, limit_read};
pub use sweep::{Scaling, SizeScaling, SizeSweep, SizeUnit, ThreadSweep, sweep_threads};
pub use timeline::Timeline;
