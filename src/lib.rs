//! Parallel matrix kernels with timing, profiling and verification helpers,
//! made for Rust Jupyter notebooks (the evcxr kernel).
//!
//! ```
//! use parlab::prelude::*;
//! use std::time::Duration;
//!
//! let n = 256;
//! let a = Array2::from_shape_fn((n, n), |(i, j)| (i * n + j) as f32);
//! let b = Array2::from_elem((n, n), 1.0f32);
//! let nan = Array2::from_elem((n, n), f32::NAN);
//!
//! // Verify first (every element, against the first kernel), then time;
//! // each kernel on the threads it is given, recorded with its result.
//! let comparison = Compare::new()
//!     .bench(Bench::new().samples(3).min_sample_time(Duration::from_millis(1)))
//!     .kernel_into("add", nan.clone(), |c| add(a.view(), b.view(), c.view_mut()))
//!     .kernel_into("par_add", nan.clone(), |c| par_add(a.view(), b.view(), c.view_mut()))
//!     .par("add", Par::Seq)
//!     .par("par_add", Par::threads(2))
//!     .work(Work::new().bytes(3.0 * 4.0 * (n * n) as f64))
//!     .run()?;
//! assert_eq!(comparison.results.len(), 2);
//! let chart = comparison.plot()?; // an SVG that shows inline in a notebook
//! assert!(chart.as_str().contains("par_add"));
//! # Ok::<(), parlab::Error>(())
//! ```
//!
//! # Overview
//!
//! The pipeline runs one way, like criterion's: kernels are timed, timings are
//! reported and drawn.
//!
//! | module | what it holds |
//! |---|---|
//! | [`kernels`] | add (the tutorial's steps), triad/axpy/scale/fill, sum and dot (plain, compensated), matmul (teaching steps and the library path), 3×3 stencils, Monte Carlo — serial, and `par_` twins on the current rayon pool |
//! | [`prelude`] | what a notebook needs in one `use parlab::prelude::*` |
//! | [`par`] | thread control: [`par::Par`] (one value for "on n threads"), [`par::with_threads`], [`par::chunk_ranges`] |
//! | [`timing`] | `%timeit`-like [`timing::bench()`], statistics, the [`timing::Machine`] probe (STREAM bandwidth, peak FLOP/s), [`timing::Compare`] (verifies before timing), thread and size sweeps with an Amdahl fit, baselines |
//! | [`verify`] | tolerances ([`verify::Tol`]) and where two results differ |
//! | [`profile`] | named sections, `%memit`, a counting allocator, flame graphs |
//! | [`export`] | JSON and CSV, written atomically, read with clear errors |
//! | [`report`], [`plot`], [`display`] | text, HTML and SVG/PNG charts, shown inline through `evcxr_display` |
//! | [`progress`] | a line on stdout as each step of long work (sweeps, `Compare`, MPI runs) finishes, with the time so far and an estimate of the time left |
//! | [`exercise`] | classroom exercises that check themselves |
//! | [`dist`] | beyond one machine: rows, blocks and chunks dealt out to MPI ranks, reproducible combining of per-rank partials, timings across ranks, the launcher of the `examples/mpi_*.rs` programs; MPI itself in `dist::mpi` (feature `mpi`) |
//!
//! # Conventions
//!
//! - Names say serial or parallel: `add` / `par_add`, `sum` / `par_sum`.
//! - Inputs come first, the output is the last array: `add(a, b, c)` writes
//!   `c`, `triad(b, c, a, s)` writes `a`, `box_blur(src, dst)` writes `dst`.
//! - One value says "on n threads": [`par::Par`]. A `par_` kernel runs on the
//!   rayon pool it is called from — `with_threads(n, || …)`, or `Par` given to
//!   a [`timing::Bench`], a [`timing::Compare`] kernel or a [`timing::SizeSweep`],
//!   which runs the measurement there and records the count.
//! - Fallible calls return [`Result`]: write `?`, also inside the closures given
//!   to `Compare`, `SizeSweep` and `Bench::try_run`, which accept closures that
//!   return a `Result`.
//!
//! parlab never
//! builds rayon's global pool: in evcxr each cell is its own shared library, so
//! statics and the global pool do not carry over from one cell to the next, and
//! a pool must be built in the cell that uses it (see [`par`]).
//!
//! # Errors
//!
//! Every fallible function returns [`Result`] with the opaque [`Error`]; match
//! on [`Error::kind`]. Messages name the values: `shapes differ: a is
//! 1024×1024, b is 1024×1000`.
//!
//! # Performance
//!
//! Kernels choose their SIMD width at run time (SSE2, AVX2+FMA, AVX-512), so
//! they run as fast in a notebook cell — compiled at opt-level 2 without
//! `target-cpu` — as in a release build. `cargo bench --bench perf` measures
//! each kernel against the machine's limits probed in the same run; the README
//! has the table.
//!
//! # Crate features
//!
//! - `flamegraph` (off by default): [`profile::flame_graph`] with pprof on
//!   Linux. It adds about half a minute to a cold build, so only the profiling
//!   notebook turns it on: `:dep parlab = { path = "..", features = ["flamegraph"] }`.
//! - `mpi` (off by default): `dist::mpi`, scatter/gather of rows, halo exchange
//!   and timing across ranks over rsmpi, used by `examples/mpi_*.rs`. It needs
//!   an MPI library and libclang to build (Debian: `apt-get install mpich
//!   libmpich-dev libclang-dev`). Notebooks never turn it on — evcxr cannot be
//!   an MPI rank — notebook 08 builds and launches the examples instead.
#![deny(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod catch;
pub mod compile;
pub mod display;
pub mod dist;
pub mod error;
pub mod exercise;
pub mod export;
pub mod kernels;
pub mod mem;
pub mod par;
pub mod plot;
pub mod prelude;
pub mod profile;
pub mod progress;
pub mod report;
pub mod timing;
pub mod verify;

pub use error::{Error, ErrorKind, Result};

/// The README's Rust quick-start, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The ndarray version parlab is built with: use `parlab::ndarray` in notebooks
/// so that arrays and kernels agree on one version.
pub use ndarray;
/// The rayon version parlab is built with.
pub use rayon;

/// parlab's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
