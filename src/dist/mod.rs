//! Beyond one machine: the pieces of a distributed-memory run that need no
//! MPI — how rows, blocks and random-number chunks are dealt out to ranks,
//! how per-rank partial results combine to the same bits as the serial
//! kernel, how per-rank timings become parlab [`BenchResult`]s — and the
//! launcher that notebook 08 uses to build and run the `examples/mpi_*.rs`
//! programs under `mpiexec`.
//!
//! The MPI side itself (scatter/gather of rows, halo exchange, timing across
//! ranks) is `parlab::dist::mpi`, behind the cargo feature `mpi`. evcxr
//! cannot be an MPI rank, so notebooks never turn that feature on: a cell
//! builds an example with `cargo build --release --features mpi --example …`
//! ([`build_examples`]), runs it with [`run_example`] and reads back the
//! [`Report`] it prints as one JSON line.
//!
//! # Decomposition
//! `rows` rows over `ranks` ranks are dealt out as [`crate::par::chunk_ranges`]
//! deals them to threads: every rank gets `rows / ranks` rows and the first
//! `rows % ranks` ranks one more, in rank order. When there are fewer rows than
//! ranks, the last ranks own no rows — a valid band, empty.
//!
//! ```
//! use parlab::dist::{band, block_range};
//! assert_eq!(block_range(10, 4, 0)?, 0..3); // 10 = 3 + 3 + 2 + 2
//! assert_eq!(block_range(10, 4, 3)?, 8..10);
//! assert_eq!(block_range(2, 4, 3)?, 2..2); // no rows on rank 3
//! // The 3×3 stencil needs one row above and one below, inside the image:
//! let b = band(10, 4, 1)?;
//! assert_eq!((b.owned.clone(), b.needed.clone()), (3..6, 2..7));
//! assert_eq!((b.halo_above(), b.halo_below()), (1, 1));
//! # Ok::<(), parlab::Error>(())
//! ```
//!
//! # Reproducible reductions across ranks
//! [`crate::kernels::sum`] cuts the elements into fixed blocks of
//! [`BLOCK`] and adds the block sums pairwise. A rank
//! that owns whole blocks ([`reduction_range`]) computes their partials
//! ([`sum_partials`]); all ranks' partials, put side by side in rank order and
//! combined with [`combine_partials`], give the serial sum's bits for every
//! rank count. Adding up one total per rank instead would change the bits
//! with the rank count.
//!
//! ```
//! use parlab::dist::{combine_partials, reduction_range, sum_partials};
//! let x: Vec<f64> = (0..100_003).map(|i| 1.0 / (1.0 + i as f64)).collect();
//! let serial = parlab::kernels::sum(ndarray::ArrayView1::from(&x[..]));
//! for ranks in 1..=5 {
//!     let mut all = Vec::new();
//!     for rank in 0..ranks {
//!         all.extend(sum_partials(&x[reduction_range(x.len(), ranks, rank)?]));
//!     }
//!     assert_eq!(combine_partials(&all).to_bits(), serial.to_bits());
//! }
//! # Ok::<(), parlab::Error>(())
//! ```

#[cfg(feature = "mpi")]
pub mod mpi;

use crate::error::{Error, ErrorKind, Result};
use crate::kernels::{BLOCK, CallOption, Estimate, Float, MC_CHUNK};
use crate::progress::Progress;
use crate::timing::BenchResult;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::ops::Range;
use std::path::{Path, PathBuf};

/// The part of `0..len` that part `part` of `parts` owns: `len / parts`
/// items each, the first `len % parts` parts one more. Parts past the end are
/// empty ranges (`len..len`).
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when `parts` is 0 or `part ≥ parts`.
///
/// Time: O(1).
pub fn block_range(len: usize, parts: usize, part: usize) -> Result<Range<usize>> {
    if parts == 0 || part >= parts {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("block_range: part {part} of {parts} parts (need parts ≥ 1 and part < parts)"),
        ));
    }
    let (base, extra) = (len / parts, len % parts);
    let start = part * base + part.min(extra);
    Ok(start..start + base + usize::from(part < extra))
}

/// The rows a rank owns and the rows it needs for a 3×3 stencil.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Band {
    /// The rows this rank computes (and, at the end, sends back).
    pub owned: Range<usize>,
    /// The owned rows with one halo row above and below where the image has
    /// one; empty (`owned.start..owned.start`) when the rank owns no rows.
    pub needed: Range<usize>,
}

impl Band {
    /// Halo rows above the band (0 at the top of the image or for an empty band).
    pub fn halo_above(&self) -> usize {
        self.owned.start - self.needed.start
    }
    /// Halo rows below the band.
    pub fn halo_below(&self) -> usize {
        self.needed.end - self.owned.end
    }
}

/// Rank `rank`'s band of a `rows`-row image split over `ranks` ranks (see
/// [`block_range`]) with its one-row halos, clamped to the image.
///
/// # Errors
/// As [`block_range`].
pub fn band(rows: usize, ranks: usize, rank: usize) -> Result<Band> {
    let owned = block_range(rows, ranks, rank)?;
    let needed = if owned.is_empty() {
        owned.start..owned.start
    } else {
        owned.start.saturating_sub(1)..(owned.end + 1).min(rows)
    };
    Ok(Band { owned, needed })
}

/// Elements per rank and their offsets for scattering a `rows × cols`
/// C-order matrix by bands of rows (the counts and displacements of
/// `MPI_Scatterv`).
///
/// # Errors
/// As [`block_range`] (`ranks` = 0).
pub fn row_counts(rows: usize, cols: usize, ranks: usize) -> Result<(Vec<usize>, Vec<usize>)> {
    let mut counts = Vec::with_capacity(ranks);
    let mut offsets = Vec::with_capacity(ranks);
    for rank in 0..ranks {
        let r = block_range(rows, ranks, rank)?;
        counts.push(r.len() * cols);
        offsets.push(r.start * cols);
    }
    if ranks == 0 {
        block_range(rows, 0, 0)?;
    }
    Ok((counts, offsets))
}

/// The elements of a `len`-element reduction that rank `rank` of `ranks`
/// owns: whole [`BLOCK`]s (the last one may be short), dealt out like rows.
///
/// # Errors
/// As [`block_range`].
pub fn reduction_range(len: usize, ranks: usize, rank: usize) -> Result<Range<usize>> {
    let blocks = block_range(len.div_ceil(BLOCK), ranks, rank)?;
    Ok((blocks.start * BLOCK).min(len)..(blocks.end * BLOCK).min(len))
}

/// The block partials of `x` (which must start on a block boundary of the
/// whole array, as [`reduction_range`] gives): one sum per [`BLOCK`]
/// elements, computed as [`crate::kernels::sum`] computes them, on the
/// current rayon pool.
///
/// Time: O(len / threads).
pub fn sum_partials<T: Float>(x: &[T]) -> Vec<T> {
    x.par_chunks(BLOCK)
        .map(|b| crate::kernels::sum(ndarray::ArrayView1::from(b)))
        .collect()
}

/// The block partials of the dot product `a · b` (see [`sum_partials`]).
///
/// # Errors
/// [`ErrorKind::ShapeMismatch`] when the lengths differ.
pub fn dot_partials<T: Float>(a: &[T], b: &[T]) -> Result<Vec<T>> {
    if a.len() != b.len() {
        return Err(Error::new(
            ErrorKind::ShapeMismatch,
            format!("dot_partials: a has {} elements, b {}", a.len(), b.len()),
        ));
    }
    a.par_chunks(BLOCK)
        .zip(b.par_chunks(BLOCK))
        .map(|(x, y)| {
            crate::kernels::dot(ndarray::ArrayView1::from(x), ndarray::ArrayView1::from(y))
        })
        .collect()
}

/// Combines block partials in the fixed pairwise order of
/// [`crate::kernels::sum`]: given all blocks' partials in order, the result has
/// the serial sum's bits. An empty slice gives 0.
///
/// Time: O(partials).
pub fn combine_partials<T: Float>(partials: &[T]) -> T {
    crate::kernels::reduce::pairwise(partials)
}

/// The Monte Carlo chunks (of [`MC_CHUNK`] samples each) that rank `rank` of
/// `ranks` draws for a run of `samples` samples.
///
/// # Errors
/// As [`block_range`].
pub fn chunk_range(samples: u64, ranks: usize, rank: usize) -> Result<Range<u64>> {
    let chunks = usize::try_from(samples.div_ceil(MC_CHUNK)).map_err(|_| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("{samples} samples: too many chunks"),
        )
    })?;
    let r = block_range(chunks, ranks, rank)?;
    Ok(r.start as u64..r.end as u64)
}

/// Points inside the quarter circle among the chunks `chunks` of
/// `pi(samples, seed)`, on the current rayon pool. The counts of all ranks
/// add up (integers, exactly) to the count behind [`crate::kernels::pi`].
///
/// # Errors
/// As [`crate::kernels::pi`].
pub fn pi_hits(samples: u64, seed: u64, chunks: Range<u64>) -> Result<u64> {
    crate::kernels::monte_carlo::pi_hits(samples, seed, chunks)
}

/// The estimate of π from `inside` points of `samples`: with the summed
/// [`pi_hits`] of every rank, the bits of [`crate::kernels::pi`].
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when `samples` is 0 or `inside > samples`.
pub fn pi_from_hits(inside: u64, samples: u64) -> Result<Estimate> {
    if samples == 0 || inside > samples {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("pi_from_hits: {inside} points inside of {samples}"),
        ));
    }
    Ok(crate::kernels::monte_carlo::pi_estimate(inside, samples))
}

/// (Σ payoff, Σ payoff²) of each chunk in `chunks` of
/// `european_call(opt, paths, seed)`, in chunk order, on the current rayon pool.
///
/// # Errors
/// As [`crate::kernels::european_call`].
pub fn call_chunk_sums(
    opt: &CallOption,
    paths: u64,
    seed: u64,
    chunks: Range<u64>,
) -> Result<Vec<(f64, f64)>> {
    crate::kernels::monte_carlo::call_chunk_sums(opt, paths, seed, chunks)
}

/// The call's estimate from every chunk's sums in chunk order (all ranks'
/// [`call_chunk_sums`] side by side), folded left to right as
/// [`crate::kernels::european_call`] folds them: the same bits. Adding one
/// total per rank would not be.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when `paths` is 0 or the number of chunks is not
/// that of `paths`.
pub fn call_from_chunk_sums(sums: &[(f64, f64)], paths: u64) -> Result<Estimate> {
    if paths == 0 || sums.len() as u64 != paths.div_ceil(MC_CHUNK) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "call_from_chunk_sums: {} chunk sums for {paths} paths (need {})",
                sums.len(),
                paths.div_ceil(MC_CHUNK)
            ),
        ));
    }
    let (s, s2) = sums
        .iter()
        .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x, b + y));
    Ok(crate::kernels::monte_carlo::call_estimate(s, s2, paths))
}

// ------------------------------------------------------------------ timing

/// One phase of a distributed run (`scatter`, `compute`, `wait`, `halo`, …)
/// timed on every rank.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    /// The phase's name.
    pub name: String,
    /// Per sample, the slowest rank's time, seconds: what the run waits for.
    pub slowest: BenchResult,
    /// Each rank's median time, seconds, in rank order.
    pub per_rank_median: Vec<f64>,
    /// (slowest − fastest) / slowest of the per-rank medians: 0 when every
    /// rank took as long, near 1 when one rank did all the work.
    pub spread: f64,
}

impl Phase {
    /// A phase from its times, `per_rank[rank][sample]` in seconds.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when there is no rank, no sample, the ranks
    /// have different sample counts, or a time is not finite.
    pub fn from_times(name: &str, per_rank: &[Vec<f64>], threads: usize) -> Result<Phase> {
        let samples = per_rank.first().map_or(0, Vec::len);
        if samples == 0 || per_rank.iter().any(|r| r.len() != samples) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "phase {name:?}: need the same number (≥ 1) of samples on every rank, got {:?}",
                    per_rank.iter().map(Vec::len).collect::<Vec<_>>()
                ),
            ));
        }
        let slowest_samples: Vec<f64> = (0..samples)
            .map(|s| {
                per_rank
                    .iter()
                    .map(|r| r[s])
                    .fold(f64::NEG_INFINITY, f64::max)
            })
            .collect();
        let mut slowest = BenchResult::from_samples(name, slowest_samples, 1)?;
        slowest.threads = threads;
        let per_rank_median: Vec<f64> = per_rank
            .iter()
            .map(|r| crate::timing::stats::median(r))
            .collect();
        let hi = per_rank_median.iter().copied().fold(0.0, f64::max);
        let lo = per_rank_median
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        let spread = if hi > 0.0 { (hi - lo) / hi } else { 0.0 };
        Ok(Phase {
            name: name.to_string(),
            slowest,
            per_rank_median,
            spread,
        })
    }

    /// The median over samples of the slowest rank's time, seconds.
    pub fn median(&self) -> f64 {
        self.slowest.median()
    }
}

/// One message size of the ping-pong probe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbePoint {
    /// Bytes per message.
    pub bytes: usize,
    /// Round trips (there and back), seconds each.
    pub round_trip: BenchResult,
}

impl ProbePoint {
    /// One-way time of a message: half the median round trip, seconds.
    pub fn one_way(&self) -> f64 {
        self.round_trip.median() / 2.0
    }
    /// Bandwidth of one-way messages, bytes per second.
    pub fn bandwidth(&self) -> f64 {
        self.bytes as f64 / self.one_way()
    }
}

/// The JSON format version of [`Report`].
pub const REPORT_VERSION: u32 = 1;

/// The marker that starts the JSON line of a [`Report`] in a program's output.
pub const REPORT_MARKER: &str = "PARLAB_REPORT ";

/// What one `examples/mpi_*.rs` run reports: its parameters, the verification
/// on rank 0, and every phase timed across ranks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`REPORT_VERSION`].
    pub format_version: u32,
    /// `mpi_add`, `mpi_sum`, …
    pub program: String,
    /// MPI ranks.
    pub ranks: usize,
    /// rayon threads inside each rank.
    pub threads: usize,
    /// The run's parameters (`rows`, `cols`, `steps`, `samples`, …).
    pub params: std::collections::BTreeMap<String, f64>,
    /// What rank 0 checked against the serial kernel, and found.
    pub verified: String,
    /// Computed values (`sum`, `pi`, …) for the reader.
    pub values: std::collections::BTreeMap<String, f64>,
    /// The timed phases.
    pub phases: Vec<Phase>,
    /// The ping-pong probe's points (only `mpi_probe`).
    #[serde(default)]
    pub probe: Vec<ProbePoint>,
}

impl Report {
    /// An empty report of `program`.
    pub fn new(program: &str, ranks: usize, threads: usize) -> Report {
        Report {
            format_version: REPORT_VERSION,
            program: program.to_string(),
            ranks,
            threads,
            params: Default::default(),
            verified: String::new(),
            values: Default::default(),
            phases: Vec::new(),
            probe: Vec::new(),
        }
    }

    /// The phase called `name`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] naming the phases there are.
    pub fn phase(&self, name: &str) -> Result<&Phase> {
        self.phases.iter().find(|p| p.name == name).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "{} has no phase {name:?}; it has {:?}",
                    self.program,
                    self.phases.iter().map(|p| &p.name).collect::<Vec<_>>()
                ),
            )
        })
    }

    /// The median of the slowest rank's time in phase `name`, seconds.
    ///
    /// # Errors
    /// As [`Report::phase`].
    pub fn median(&self, name: &str) -> Result<f64> {
        Ok(self.phase(name)?.median())
    }

    /// A parameter's value.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when the report has no such parameter.
    pub fn param(&self, name: &str) -> Result<f64> {
        self.params.get(name).copied().ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("{} reports no parameter {name:?}", self.program),
            )
        })
    }

    /// The report for a reader: what ran, what was verified, and each phase's
    /// time on the slowest rank with the spread between ranks.
    pub fn summary(&self) -> String {
        let params: Vec<String> = self
            .params
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let mut out = format!(
            "{} on {} rank{} × {} thread{} ({})\n  verified: {}\n",
            self.program,
            self.ranks,
            if self.ranks == 1 { "" } else { "s" },
            self.threads,
            if self.threads == 1 { "" } else { "s" },
            params.join(", "),
            self.verified
        );
        for (k, v) in &self.values {
            out.push_str(&format!("  {k} = {v}\n"));
        }
        for p in &self.phases {
            out.push_str(&format!(
                "  {:<10} {:>12} on the slowest rank (median of {}), ranks differ by {:.0} %\n",
                p.name,
                crate::report::fmt_seconds(p.median()),
                p.slowest.samples.len(),
                100.0 * p.spread
            ));
        }
        for q in &self.probe {
            out.push_str(&format!(
                "  {:>9} B  one way {:>12}  {:8.3} GB/s\n",
                q.bytes,
                crate::report::fmt_seconds(q.one_way()),
                q.bandwidth() / 1e9
            ));
        }
        out
    }

    /// The report as one line: [`REPORT_MARKER`] then compact JSON.
    ///
    /// # Errors
    /// [`ErrorKind::Format`] if it cannot be serialized (a NaN is written as null, not an error).
    pub fn to_line(&self) -> Result<String> {
        let json = serde_json::to_string(self).map_err(|e| {
            Error::new(ErrorKind::Format, "cannot serialize the report").with_source(e)
        })?;
        Ok(format!("{REPORT_MARKER}{json}"))
    }

    /// Finds the report line in a program's output and reads it.
    ///
    /// # Errors
    /// [`ErrorKind::Format`] when no line starts with [`REPORT_MARKER`], or it
    /// is not a report of this format version.
    pub fn from_output(output: &str) -> Result<Report> {
        let line = output
            .lines()
            .find_map(|l| l.strip_prefix(REPORT_MARKER))
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Format,
                    format!(
                        "no line starting with {:?} in the program's output:\n{}",
                        REPORT_MARKER.trim(),
                        tail(output, 20)
                    ),
                )
            })?;
        crate::export::from_json_str(line, REPORT_VERSION, "the report line")
    }
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

// ------------------------------------------------------------------- flags

/// The command-line flags of an MPI example: `--name value` pairs, each
/// name from a fixed list with a default. Every rank parses the same command
/// line, so every rank finds the same mistake and they stop together.
///
/// ```
/// use parlab::dist::Flags;
/// let argv = ["--rows", "1000", "--threads", "2"].map(String::from);
/// let f = Flags::parse(&argv, &[("rows", 4096), ("cols", 4096), ("threads", 1)])?;
/// assert_eq!((f.get("rows")?, f.get("cols")?, f.get("threads")?), (1000, 4096, 2));
/// let bad = Flags::parse(&["--rows".to_string(), "ten".to_string()], &[("rows", 1)]);
/// assert!(bad.unwrap_err().to_string().contains("--rows needs a whole number"));
/// # Ok::<(), parlab::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flags {
    values: Vec<(String, u64)>,
}

impl Flags {
    /// Parses `argv` (without the program name) against `known` flags and
    /// their defaults.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] for an unknown flag (listing the known
    /// ones), a flag without a value, or a value that is not a whole number.
    pub fn parse(argv: &[String], known: &[(&str, u64)]) -> Result<Flags> {
        let mut values: Vec<(String, u64)> =
            known.iter().map(|&(k, v)| (k.to_string(), v)).collect();
        let usage = || {
            known
                .iter()
                .map(|&(k, v)| match v {
                    u64::MAX => format!("--{k} N (off by default)"),
                    v => format!("--{k} N (default {v})"),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let bad = |msg: String| Error::new(ErrorKind::InvalidInput, msg);
        let mut it = argv.iter();
        while let Some(arg) = it.next() {
            let name = arg.strip_prefix("--").unwrap_or("");
            let Some(slot) = values.iter_mut().find(|(k, _)| k == name) else {
                return Err(bad(format!(
                    "unknown argument {arg:?}; the flags are {}",
                    usage()
                )));
            };
            let Some(value) = it.next() else {
                return Err(bad(format!("{arg} needs a value")));
            };
            slot.1 = value
                .replace('_', "")
                .parse()
                .map_err(|_| bad(format!("{arg} needs a whole number ≥ 0, got {value:?}")))?;
        }
        Ok(Flags { values })
    }

    /// The value of flag `name`.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `name` is not one of the flags.
    pub fn get(&self, name: &str) -> Result<u64> {
        self.values
            .iter()
            .find(|(k, _)| k == name)
            .map(|&(_, v)| v)
            .ok_or_else(|| Error::new(ErrorKind::InvalidInput, format!("no flag --{name}")))
    }

    /// The value of flag `name`, which must be at least 1.
    ///
    /// # Errors
    /// As [`Flags::get`]; also [`ErrorKind::InvalidInput`] when it is 0 or does
    /// not fit a `usize`.
    pub fn positive(&self, name: &str) -> Result<usize> {
        let v = self.get(name)?;
        if v == 0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("--{name} must be at least 1, got 0"),
            ));
        }
        usize::try_from(v).map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("--{name} {v} is too large"),
            )
        })
    }
}

// ---------------------------------------------------------------- launcher

/// Why MPI programs cannot run here, or `None` when `mpiexec` is on `PATH`.
pub fn mpi_missing() -> Option<String> {
    let found = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| dir.join("mpiexec").is_file())
    });
    if found {
        None
    } else {
        Some(
            "mpiexec is not on PATH: install MPI (Debian/Ubuntu, as root: \
             apt-get install mpich libmpich-dev libclang-dev)"
                .to_string(),
        )
    }
}

/// parlab's source directory (where its `Cargo.toml` is).
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Where `cargo build --release` puts the examples (respects `CARGO_TARGET_DIR`).
pub fn examples_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_relative() {
                crate_dir().join(t)
            } else {
                t
            }
        })
        .unwrap_or_else(|| crate_dir().join("target"));
    target.join("release").join("examples")
}

/// Builds the MPI examples `names` (`mpi_add`, …) with
/// `cargo build --release --features mpi --example …` in parlab's directory.
/// Quick when they are built already.
///
/// # Errors
/// [`ErrorKind::Io`] when cargo cannot start or the build fails, with cargo's
/// last lines of output.
pub fn build_examples(names: &[&str]) -> Result<()> {
    let mut cmd = std::process::Command::new("cargo");
    cmd.current_dir(crate_dir())
        .args(["build", "--release", "--quiet", "--features", "mpi"]);
    for n in names {
        cmd.args(["--example", n]);
    }
    let out = cmd
        .output()
        .map_err(|e| Error::new(ErrorKind::Io, "cannot start cargo").with_source(e))?;
    if !out.status.success() {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "cargo build --release --features mpi failed:\n{}",
                tail(&String::from_utf8_lossy(&out.stderr), 30)
            ),
        ));
    }
    Ok(())
}

/// What [`run_example`] got back.
#[derive(Debug, Clone)]
pub struct Run {
    /// The command line, for the reader.
    pub command: String,
    /// Everything the ranks printed on stdout.
    pub stdout: String,
    /// Everything they printed on stderr.
    pub stderr: String,
    /// The report parsed from stdout.
    pub report: Report,
}

/// Runs `examples/<name>` (built by [`build_examples`]) on `ranks` ranks:
/// `mpiexec -n <ranks> <binary> <args…>`, and reads its [`Report`]. A run
/// that takes a second or more prints one progress line when it ends (see
/// [`crate::progress`]).
///
/// # Errors
/// [`ErrorKind::Io`] when mpiexec is missing or cannot start, the binary is not
/// built, or the run exits non-zero (with its output's last lines);
/// [`ErrorKind::Format`] when it prints no report.
pub fn run_example(name: &str, ranks: usize, args: &[&str]) -> Result<Run> {
    let binary = example_binary(name)?;
    let mut runs = run_commands(
        Path::new("mpiexec"),
        &binary,
        &[ranks],
        args,
        &Progress::auto(),
    )?;
    Ok(runs.remove(0))
}

/// Runs `examples/<name>` on each of `ranks` in turn (a scaling study:
/// `&[1, 2, 3, 4]`), with the same arguments, printing a line as each run
/// ends (see [`crate::progress`]; `progress` says when and where).
///
/// # Errors
/// As [`run_example`], for the first run that fails; [`ErrorKind::InvalidInput`]
/// for an empty `ranks`.
pub fn run_example_on(
    name: &str,
    ranks: &[usize],
    args: &[&str],
    progress: &Progress,
) -> Result<Vec<Run>> {
    let binary = example_binary(name)?;
    run_commands(Path::new("mpiexec"), &binary, ranks, args, progress)
}

fn example_binary(name: &str) -> Result<PathBuf> {
    if let Some(why) = mpi_missing() {
        return Err(Error::new(ErrorKind::Io, why));
    }
    let binary = examples_dir().join(name);
    if !binary.is_file() {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "{} is not built: call parlab::dist::build_examples(&[{name:?}]) first",
                binary.display()
            ),
        ));
    }
    Ok(binary)
}

fn run_commands(
    mpiexec: &Path,
    binary: &Path,
    ranks: &[usize],
    args: &[&str],
    progress: &Progress,
) -> Result<Vec<Run>> {
    if ranks.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "no rank counts to run on",
        ));
    }
    let program = binary.file_name().unwrap_or_default().to_string_lossy();
    let mut steps = progress.start(format!("mpiexec {program}"), ranks.len());
    let mut runs = Vec::with_capacity(ranks.len());
    for &n in ranks {
        runs.push(run_command(mpiexec, n, binary, args)?);
        steps.step(format_args!("{n} rank{}", if n == 1 { "" } else { "s" }));
    }
    Ok(runs)
}

fn run_command(mpiexec: &Path, ranks: usize, binary: &Path, args: &[&str]) -> Result<Run> {
    let n = ranks.to_string();
    let command = format!(
        "mpiexec -n {ranks} {} {}",
        binary.strip_prefix(crate_dir()).unwrap_or(binary).display(),
        args.join(" ")
    );
    let out = std::process::Command::new(mpiexec)
        .args(["-n", &n])
        .arg(binary)
        .args(args)
        .output()
        .map_err(|e| {
            Error::new(ErrorKind::Io, format!("cannot start `{command}`")).with_source(e)
        })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        return Err(Error::new(
            ErrorKind::Io,
            format!(
                "`{command}` failed ({}):\n{}\n{}",
                out.status,
                tail(&stdout, 10),
                tail(&stderr, 20)
            ),
        ));
    }
    let report = Report::from_output(&stdout)?;
    Ok(Run {
        command,
        stdout,
        stderr,
        report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{european_call, pi, sum};

    /// A stand-in for mpiexec: prints the report of `fake` on `-n` ranks.
    #[cfg(unix)]
    fn fake_mpiexec(dir: &Path) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        std::fs::create_dir_all(dir).unwrap();
        let line = Report::new("fake", 1, 1).to_line().unwrap();
        let ranks = "\"ranks\":1";
        let (before, after) = line.split_once(ranks).unwrap();
        let script = dir.join("mpiexec");
        std::fs::write(
            &script,
            format!("#!/bin/sh\nprintf '%s\\n' '{before}\"ranks\":'\"$2\"'{after}'\n"),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        script
    }

    #[cfg(unix)]
    #[test]
    fn runs_over_rank_counts_print_a_line_per_run_and_the_same_reports() {
        let dir = std::env::temp_dir().join(format!("parlab-dist-progress-{}", std::process::id()));
        let mpiexec = fake_mpiexec(&dir);
        let binary = dir.join("fake");
        std::fs::write(&binary, "").unwrap();
        let out = crate::progress::Captured::default();
        let shown = run_commands(&mpiexec, &binary, &[1, 2, 3], &[], &out.progress()).unwrap();
        let quiet = run_commands(&mpiexec, &binary, &[1, 2, 3], &[], &Progress::never()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("[parlab] mpiexec fake: 1/3 (1 rank), elapsed "));
        assert!(lines[2].starts_with("[parlab] mpiexec fake: 3/3 (3 ranks), elapsed "));
        let reports = |runs: &[Run]| runs.iter().map(|r| r.report.clone()).collect::<Vec<_>>();
        assert_eq!(reports(&shown), reports(&quiet));
        assert_eq!(
            shown.iter().map(|r| r.report.ranks).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        let err = run_commands(&mpiexec, &binary, &[], &[], &Progress::never()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn block_ranges_cover_rows_once_in_order() {
        for rows in [0, 1, 2, 3, 7, 10, 1023] {
            for ranks in 1..=6 {
                let rs: Vec<_> = (0..ranks)
                    .map(|r| block_range(rows, ranks, r).unwrap())
                    .collect();
                assert_eq!(rs, crate::par::chunk_ranges(rows, ranks));
                assert_eq!(rs.iter().map(|r| r.len()).sum::<usize>(), rows);
                let (counts, offsets) = row_counts(rows, 3, ranks).unwrap();
                assert_eq!(counts.iter().sum::<usize>(), rows * 3);
                assert_eq!(offsets[0], 0);
            }
        }
        assert_eq!(
            block_range(5, 0, 0).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert!(
            block_range(5, 2, 2)
                .unwrap_err()
                .to_string()
                .contains("part 2 of 2")
        );
    }

    #[test]
    fn bands_have_halos_inside_the_image_and_empty_ranks_need_nothing() {
        let b = band(10, 1, 0).unwrap();
        assert_eq!((b.owned, b.needed), (0..10, 0..10));
        let b = band(10, 3, 0).unwrap();
        assert_eq!((b.owned.clone(), b.needed.clone()), (0..4, 0..5));
        assert_eq!((b.halo_above(), b.halo_below()), (0, 1));
        let b = band(10, 3, 2).unwrap();
        assert_eq!((b.owned, b.needed), (7..10, 6..10));
        let b = band(2, 4, 3).unwrap();
        assert_eq!((b.owned, b.needed), (2..2, 2..2));
        let b = band(2, 4, 1).unwrap();
        assert_eq!((b.owned, b.needed), (1..2, 0..2));
    }

    #[test]
    fn sum_and_dot_partials_give_the_serial_bits_for_any_rank_count() {
        let n = 5 * BLOCK + 17;
        let x: Vec<f32> = (0..n)
            .map(|i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.3)
            .collect();
        let y: Vec<f32> = (0..n).map(|i| 1.0 / (1.0 + i as f32)).collect();
        let xv = ndarray::ArrayView1::from(&x[..]);
        let yv = ndarray::ArrayView1::from(&y[..]);
        let (s, d) = (sum(xv), crate::kernels::dot(xv, yv).unwrap());
        for ranks in 1..=8 {
            let (mut ps, mut pd) = (Vec::new(), Vec::new());
            for rank in 0..ranks {
                let r = reduction_range(n, ranks, rank).unwrap();
                ps.extend(sum_partials(&x[r.clone()]));
                pd.extend(dot_partials(&x[r.clone()], &y[r]).unwrap());
            }
            assert_eq!(
                combine_partials(&ps).to_bits(),
                s.to_bits(),
                "{ranks} ranks"
            );
            assert_eq!(
                combine_partials(&pd).to_bits(),
                d.to_bits(),
                "{ranks} ranks"
            );
        }
        assert_eq!(combine_partials::<f64>(&[]), 0.0);
        assert!(dot_partials(&x[..3], &y[..2]).is_err());
    }

    #[test]
    fn monte_carlo_chunks_split_over_ranks_give_the_serial_bits() {
        let opt = CallOption {
            spot: 100.0,
            strike: 105.0,
            rate: 0.03,
            volatility: 0.2,
            maturity: 1.0,
        };
        for samples in [1, MC_CHUNK, 3 * MC_CHUNK + 5] {
            let want_pi = pi(samples, 9).unwrap();
            let want_call = european_call(&opt, samples, 9).unwrap();
            for ranks in 1..=5 {
                let mut hits = 0;
                let mut sums = Vec::new();
                for rank in 0..ranks {
                    let c = chunk_range(samples, ranks, rank).unwrap();
                    hits += pi_hits(samples, 9, c.clone()).unwrap();
                    sums.extend(call_chunk_sums(&opt, samples, 9, c).unwrap());
                }
                assert_eq!(pi_from_hits(hits, samples).unwrap(), want_pi);
                assert_eq!(call_from_chunk_sums(&sums, samples).unwrap(), want_call);
            }
        }
        assert!(call_from_chunk_sums(&[(1.0, 1.0)], 2 * MC_CHUNK).is_err());
        assert!(pi_from_hits(3, 2).is_err());
    }

    #[test]
    fn phases_report_the_slowest_rank_and_the_spread() {
        let p =
            Phase::from_times("compute", &[vec![1.0, 2.0, 3.0], vec![2.0, 1.0, 5.0]], 2).unwrap();
        assert_eq!(p.slowest.samples, vec![2.0, 2.0, 5.0]);
        assert_eq!(p.per_rank_median, vec![2.0, 2.0]);
        assert_eq!(p.spread, 0.0);
        assert_eq!(p.slowest.threads, 2);
        let p = Phase::from_times("x", &[vec![1.0], vec![4.0]], 1).unwrap();
        assert_eq!(p.spread, 0.75);
        assert!(Phase::from_times("x", &[vec![1.0], vec![]], 1).is_err());
        assert!(Phase::from_times("x", &[], 1).is_err());
    }

    #[test]
    fn flags_name_the_mistake() {
        let known = [("rows", 8), ("cols", 8)];
        let argv = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let f = Flags::parse(&argv(&["--cols", "1_000"]), &known).unwrap();
        assert_eq!(
            (f.get("rows").unwrap(), f.positive("cols").unwrap()),
            (8, 1000)
        );
        let e = Flags::parse(&argv(&["--size", "3"]), &known).unwrap_err();
        assert!(e.to_string().contains("unknown argument \"--size\""), "{e}");
        assert!(e.to_string().contains("--rows N (default 8)"), "{e}");
        let e = Flags::parse(&argv(&["--rows"]), &known).unwrap_err();
        assert!(e.to_string().contains("--rows needs a value"), "{e}");
        let e = Flags::parse(&argv(&["--rows", "-3"]), &known).unwrap_err();
        assert!(e.to_string().contains("got \"-3\""), "{e}");
        let f = Flags::parse(&argv(&["--rows", "0"]), &known).unwrap();
        assert!(
            f.positive("rows")
                .unwrap_err()
                .to_string()
                .contains("at least 1")
        );
        assert!(f.get("steps").is_err());
    }

    #[test]
    fn reports_round_trip_through_their_line() {
        let mut r = Report::new("mpi_add", 3, 1);
        r.params.insert("rows".into(), 7.0);
        r.phases
            .push(Phase::from_times("compute", &[vec![1e-3], vec![2e-3], vec![3e-3]], 1).unwrap());
        let out = format!("some text\n{}\nmore\n", r.to_line().unwrap());
        let back = Report::from_output(&out).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.median("compute").unwrap(), 3e-3);
        assert!(
            back.phase("gather")
                .unwrap_err()
                .to_string()
                .contains("\"compute\"")
        );
        assert_eq!(back.param("rows").unwrap(), 7.0);
        let e = Report::from_output("no report here").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        assert!(e.to_string().contains("no report here"));
    }
}
