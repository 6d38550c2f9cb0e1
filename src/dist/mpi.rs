//! The MPI side of [`crate::dist`] over rsmpi (cargo feature `mpi`): scatter
//! and gather of a matrix by bands of rows, the halo exchange of a 3×3
//! stencil, timing across ranks, and stopping every rank together on an
//! error.
//!
//! A program built on it runs unchanged on a laptop (`mpiexec -n 4 …`) and on a
//! cluster (`srun …`, `mpiexec -f hostfile …`). The `examples/mpi_*.rs`
//! programs follow one pattern:
//!
//! ```no_run
//! use parlab::dist::mpi::{self, rsmpi::traits::*};
//! fn main() -> std::process::ExitCode {
//!     let Some((_universe, world)) = mpi::init() else {
//!         eprintln!("MPI could not be initialised");
//!         return std::process::ExitCode::from(2);
//!     };
//!     // Every rank runs the same code on its own part of the data; an error on
//!     // any rank is shared at the next `agree`, and every rank exits with it.
//!     let result = mpi::agree(&world, Ok::<_, parlab::Error>(world.rank()));
//!     mpi::exit(&world, result.map(drop))
//! }
//! ```
//!
//! # No hangs
//! A rank that fails must not leave the others waiting in a collective
//! operation forever. Errors go through [`agree`] (every rank learns the first
//! failing rank's message); a panic on any rank calls `MPI_Abort` through the
//! hook [`init`] installs, which ends every rank of the job.

use super::{Band, Phase, row_counts};
use crate::error::{Error, ErrorKind, Result};
use crate::kernels::Float;
use mpi::datatype::{Equivalence, Partition, PartitionMut};
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;
use ndarray::{Array2, ArrayView2};
use std::process::ExitCode;
use std::time::Instant;

/// The rsmpi crate parlab is built with: `parlab::dist::mpi::rsmpi::traits::*`.
pub use ::mpi as rsmpi;

/// Initialises MPI and installs a panic hook that prints the panic with the
/// rank and then calls `MPI_Abort`, so a panicking rank ends the whole job
/// instead of leaving the others waiting. `None` when MPI was already
/// initialised or cannot start.
pub fn init() -> Option<(rsmpi::environment::Universe, SimpleCommunicator)> {
    let universe = rsmpi::initialize()?;
    let world = universe.world();
    let rank = world.rank();
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("rank {rank}: panicked, aborting every rank:");
        default(info);
        SimpleCommunicator::world().abort(101);
    }));
    Some((universe, world))
}

fn count(n: usize, what: &str) -> Result<rsmpi::Count> {
    rsmpi::Count::try_from(n).map_err(|_| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("{what}: {n} elements is more than one MPI message holds (2^31 - 1)"),
        )
    })
}

/// Every rank's verdict, shared: `Ok` on every rank when every rank had `Ok`;
/// otherwise, on every rank, the error of the lowest failing rank (its message
/// prefixed with `rank k:`). Collective: every rank must call it.
///
/// # Errors
/// The first failing rank's error, with its kind.
pub fn agree<T>(world: &SimpleCommunicator, local: Result<T>) -> Result<T> {
    let size = world.size();
    let mine = if local.is_err() { world.rank() } else { size };
    let mut first = size;
    world.all_reduce_into(&mine, &mut first, rsmpi::collective::SystemOperation::min());
    if first == size {
        return local;
    }
    let root = world.process_at_rank(first);
    let (mut kind, mut bytes) = match &local {
        Err(e) if world.rank() == first => (kind_code(e.kind()), e.to_string().into_bytes()),
        _ => (0i32, Vec::new()),
    };
    let mut len = bytes.len() as u64;
    root.broadcast_into(&mut kind);
    root.broadcast_into(&mut len);
    bytes.resize(len as usize, 0);
    root.broadcast_into(&mut bytes[..]);
    let message = String::from_utf8_lossy(&bytes);
    Err(Error::new(
        code_kind(kind),
        format!("rank {first}: {message}"),
    ))
}

fn kind_code(k: ErrorKind) -> i32 {
    match k {
        ErrorKind::InvalidInput => 1,
        ErrorKind::ShapeMismatch => 2,
        ErrorKind::Mismatch => 3,
        ErrorKind::Io => 4,
        _ => 5,
    }
}

fn code_kind(c: i32) -> ErrorKind {
    match c {
        1 => ErrorKind::InvalidInput,
        2 => ErrorKind::ShapeMismatch,
        3 => ErrorKind::Mismatch,
        4 => ErrorKind::Io,
        _ => ErrorKind::Format,
    }
}

/// The whole `main` of an MPI example: [`init`] (exit code 2 when MPI
/// cannot start), `run` on the world communicator, then [`exit`].
pub fn main(run: impl FnOnce(&SimpleCommunicator) -> Result<()>) -> ExitCode {
    let Some((_universe, world)) = init() else {
        eprintln!("error: MPI could not be initialised");
        return ExitCode::from(2);
    };
    let result = run(&world);
    exit(&world, result)
}

/// The exit of an MPI program from its agreed result (see [`agree`]): 0; or,
/// with the message printed once by rank 0, 2 for bad arguments
/// ([`ErrorKind::InvalidInput`]) and 1 for anything else (a mismatch).
pub fn exit(world: &SimpleCommunicator, result: Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if world.rank() == 0 {
                eprintln!("error: {e}");
            }
            ExitCode::from(if e.kind() == ErrorKind::InvalidInput {
                2
            } else {
                1
            })
        }
    }
}

/// Scatters a `rows × cols` matrix held by `root` in bands of rows
/// ([`super::block_range`]): every rank gets its band, possibly 0 rows. Only
/// the root's `a` is read (pass `None` elsewhere). Collective.
///
/// # Errors
/// On every rank (the root's verdict is shared): [`ErrorKind::ShapeMismatch`]
/// when the root's `a` is missing, not `rows × cols` or not in C order;
/// [`ErrorKind::InvalidInput`] when a band holds more than 2³¹ − 1 elements.
pub fn scatter_rows<T: Float + Equivalence>(
    world: &SimpleCommunicator,
    root: i32,
    a: Option<ArrayView2<'_, T>>,
    rows: usize,
    cols: usize,
) -> Result<Array2<T>> {
    let size = world.size() as usize;
    let (counts, offsets) = row_counts(rows, cols, size)?;
    let rank = world.rank() as usize;
    let mine = super::block_range(rows, size, rank)?.len();
    let mut band = Array2::from_elem((mine, cols), T::ZERO);
    let root_process = world.process_at_rank(root);
    // The root checks its matrix; every rank learns the verdict before the
    // collective starts, so a bad matrix stops every rank instead of hanging.
    let flat = if world.rank() == root {
        (|| {
            let a = a.ok_or_else(|| {
                Error::new(
                    ErrorKind::ShapeMismatch,
                    "scatter_rows: the root has no matrix",
                )
            })?;
            if a.dim() != (rows, cols) {
                return Err(Error::new(
                    ErrorKind::ShapeMismatch,
                    format!(
                        "scatter_rows: the matrix is {}×{}, not {rows}×{cols}",
                        a.nrows(),
                        a.ncols()
                    ),
                ));
            }
            let c: Vec<_> = counts
                .iter()
                .map(|&n| count(n, "scatter_rows"))
                .collect::<Result<_>>()?;
            let d: Vec<_> = offsets
                .iter()
                .map(|&n| count(n, "scatter_rows"))
                .collect::<Result<_>>()?;
            let flat = a.to_slice().ok_or_else(|| {
                Error::new(
                    ErrorKind::ShapeMismatch,
                    "scatter_rows: the matrix is not in C order",
                )
            })?;
            Ok(Some((flat, c, d)))
        })()
    } else {
        Ok(None)
    };
    let flat = agree(world, flat)?;
    let recv = band.as_slice_mut().expect("a new array is contiguous");
    match flat {
        Some((flat, c, d)) => {
            let partition = Partition::new(flat, c, &d[..]);
            root_process.scatter_varcount_into_root(&partition, recv);
        }
        None => root_process.scatter_varcount_into(recv),
    }
    Ok(band)
}

/// Gathers every rank's band of rows back into the `rows × cols` matrix on
/// `root` (`None` elsewhere). Collective.
///
/// # Errors
/// On every rank (the checks are shared): [`ErrorKind::ShapeMismatch`] when a
/// rank's band is not the rows it owns or not in C order.
pub fn gather_rows<T: Float + Equivalence>(
    world: &SimpleCommunicator,
    root: i32,
    band: ArrayView2<'_, T>,
    rows: usize,
    cols: usize,
) -> Result<Option<Array2<T>>> {
    let size = world.size() as usize;
    let (counts, offsets) = row_counts(rows, cols, size)?;
    let rank = world.rank() as usize;
    let send = (|| {
        let send = band.to_slice().ok_or_else(|| {
            Error::new(
                ErrorKind::ShapeMismatch,
                "gather_rows: the band is not in C order",
            )
        })?;
        if send.len() != counts[rank] {
            return Err(Error::new(
                ErrorKind::ShapeMismatch,
                format!(
                    "gather_rows: rank {rank} sends {} elements, it owns {}",
                    send.len(),
                    counts[rank]
                ),
            ));
        }
        Ok(send)
    })();
    // Every rank's check is shared before the collective starts.
    let send = agree(world, send)?;
    let root_process = world.process_at_rank(root);
    if world.rank() == root {
        let mut out = Array2::from_elem((rows, cols), T::ZERO);
        let c: Vec<_> = counts
            .iter()
            .map(|&n| count(n, "gather_rows"))
            .collect::<Result<_>>()?;
        let d: Vec<_> = offsets
            .iter()
            .map(|&n| count(n, "gather_rows"))
            .collect::<Result<_>>()?;
        {
            let flat = out.as_slice_mut().expect("a new array is contiguous");
            let mut partition = PartitionMut::new(flat, c, &d[..]);
            root_process.gather_varcount_into_root(send, &mut partition);
        }
        Ok(Some(out))
    } else {
        root_process.gather_varcount_into(send);
        Ok(None)
    }
}

/// Exchanges the halo rows of a band with the neighbouring ranks: `local`
/// holds the rows `band.needed` of the image; its first row (when
/// `band.halo_above() == 1`) receives the last owned row of rank − 1, its last
/// row (when `band.halo_below() == 1`) the first owned row of rank + 1, and
/// this rank's own boundary rows go the other way. All messages are posted at
/// once (non-blocking), so no rank waits on a chain of others. Collective
/// among neighbours: every rank must call it, ranks with no rows do nothing.
///
/// # Errors
/// [`ErrorKind::ShapeMismatch`] when `local` does not hold `band.needed.len()`
/// rows in C order.
pub fn exchange_halos<T: Float + Equivalence>(
    world: &SimpleCommunicator,
    band: &Band,
    local: &mut Array2<T>,
) -> Result<()> {
    let cols = local.ncols();
    if local.nrows() != band.needed.len() {
        return Err(Error::new(
            ErrorKind::ShapeMismatch,
            format!(
                "exchange_halos: the local band has {} rows, it needs {} ({:?})",
                local.nrows(),
                band.needed.len(),
                band.needed
            ),
        ));
    }
    if band.owned.is_empty() || cols == 0 {
        return Ok(());
    }
    let (above, below, owned) = (band.halo_above(), band.halo_below(), band.owned.len());
    let flat = local.as_slice_mut().ok_or_else(|| {
        Error::new(
            ErrorKind::ShapeMismatch,
            "exchange_halos: the band is not in C order",
        )
    })?;
    let (top, rest) = flat.split_at_mut(above * cols);
    let (mid, bottom) = rest.split_at_mut(owned * cols);
    let (first_row, last_row) = (&mid[..cols], &mid[(owned - 1) * cols..]);
    let rank = world.rank();
    rsmpi::request::scope(|scope| {
        let mut guards = Vec::new();
        if above == 1 {
            let up = world.process_at_rank(rank - 1);
            guards.push(rsmpi::request::WaitGuard::from(
                up.immediate_receive_into(scope, &mut top[..]),
            ));
            guards.push(rsmpi::request::WaitGuard::from(
                up.immediate_send(scope, first_row),
            ));
        }
        if below == 1 {
            let down = world.process_at_rank(rank + 1);
            guards.push(rsmpi::request::WaitGuard::from(
                down.immediate_receive_into(scope, &mut bottom[..]),
            ));
            guards.push(rsmpi::request::WaitGuard::from(
                down.immediate_send(scope, last_row),
            ));
        }
        // The guards wait for every request when they drop, here.
        drop(guards);
    });
    Ok(())
}

/// Times the phases of a distributed run on one rank; [`Stopwatch::finish`]
/// gathers every rank's times to rank 0 as [`Phase`]s (the slowest rank per
/// sample, the per-rank medians, the spread).
///
/// Start every sample with a barrier, so that all ranks start its clock
/// together, and time the wait for the slowest rank as a phase of its own
/// (`sw.time("wait", || world.barrier())`).
#[derive(Debug, Clone)]
pub struct Stopwatch {
    names: Vec<String>,
    current: Vec<f64>,
    samples: Vec<Vec<f64>>,
}

impl Stopwatch {
    /// A stopwatch for these phases, in the order they should be reported.
    pub fn new(phases: &[&str]) -> Stopwatch {
        Stopwatch {
            names: phases.iter().map(|s| s.to_string()).collect(),
            current: vec![0.0; phases.len()],
            samples: Vec::new(),
        }
    }

    /// Runs `f` and adds its time to phase `name` of the current sample (a
    /// phase timed several times in a sample, such as each step's halo
    /// exchange, adds up).
    ///
    /// # Panics
    /// When `name` is not one of the phases given to [`Stopwatch::new`] — a
    /// programming error, which aborts every rank (see [`init`]).
    pub fn time<R>(&mut self, name: &str, f: impl FnOnce() -> R) -> R {
        let i = self
            .names
            .iter()
            .position(|n| n == name)
            .unwrap_or_else(|| panic!("Stopwatch: no phase {name:?} in {:?}", self.names));
        let t = Instant::now();
        let r = f();
        self.current[i] += t.elapsed().as_secs_f64();
        r
    }

    /// Ends the current sample.
    pub fn end_sample(&mut self) {
        self.samples.push(std::mem::replace(
            &mut self.current,
            vec![0.0; self.names.len()],
        ));
    }

    /// Gathers every rank's samples to rank 0: its phases, plus `total` (each
    /// rank's sum of its phases). `None` on the other ranks. Collective.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when no sample was ended.
    pub fn finish(&self, world: &SimpleCommunicator, threads: usize) -> Result<Option<Vec<Phase>>> {
        let (samples, phases) = (self.samples.len(), self.names.len());
        if samples == 0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "Stopwatch: no sample was ended",
            ));
        }
        let mine: Vec<f64> = self.samples.iter().flatten().copied().collect();
        let root = world.process_at_rank(0);
        if world.rank() != 0 {
            root.gather_into(&mine[..]);
            return Ok(None);
        }
        let size = world.size() as usize;
        let mut all = vec![0.0; size * mine.len()];
        root.gather_into_root(&mine[..], &mut all[..]);
        let at = |rank: usize, s: usize, p: usize| all[(rank * samples + s) * phases + p];
        let mut out = Vec::with_capacity(phases + 1);
        for (p, name) in self.names.iter().enumerate() {
            let per_rank: Vec<Vec<f64>> = (0..size)
                .map(|r| (0..samples).map(|s| at(r, s, p)).collect())
                .collect();
            out.push(Phase::from_times(name, &per_rank, threads)?);
        }
        let totals: Vec<Vec<f64>> = (0..size)
            .map(|r| {
                (0..samples)
                    .map(|s| (0..phases).map(|p| at(r, s, p)).sum())
                    .collect()
            })
            .collect();
        out.push(Phase::from_times("total", &totals, threads)?);
        Ok(Some(out))
    }
}

/// Scatters the parts `ranges` of `data` (held by `root`; `None` elsewhere):
/// rank `r` gets `data[ranges[r]]`. The ranges must be in order and adjacent
/// (as [`super::block_range`] and [`super::reduction_range`] give). Collective.
///
/// # Errors
/// On every rank: [`ErrorKind::InvalidInput`] when there is not one range per
/// rank, the ranges do not tile the data, or a part exceeds 2³¹ − 1 elements.
pub fn scatter_ranges<T: Equivalence + Copy + Default>(
    world: &SimpleCommunicator,
    root: i32,
    data: Option<&[T]>,
    ranges: &[std::ops::Range<usize>],
) -> Result<Vec<T>> {
    let size = world.size() as usize;
    let rank = world.rank() as usize;
    let check = (|| {
        let tiled = ranges.len() == size
            && ranges.first().is_some_and(|r| r.start == 0)
            && ranges.windows(2).all(|w| w[0].end == w[1].start);
        if !tiled {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("scatter_ranges: {ranges:?} are not {size} adjacent ranges from 0"),
            ));
        }
        let c: Vec<_> = ranges
            .iter()
            .map(|r| count(r.len(), "scatter_ranges"))
            .collect::<Result<_>>()?;
        let d: Vec<_> = ranges
            .iter()
            .map(|r| count(r.start, "scatter_ranges"))
            .collect::<Result<_>>()?;
        if world.rank() != root {
            return Ok(None);
        }
        let data = data.ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidInput,
                "scatter_ranges: the root has no data",
            )
        })?;
        if ranges.last().map(|r| r.end) != Some(data.len()) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "scatter_ranges: the ranges end at {:?}, the data has {} elements",
                    ranges.last().map(|r| r.end),
                    data.len()
                ),
            ));
        }
        Ok(Some((c, d)))
    })();
    let parts = agree(world, check)?;
    let mut recv = vec![T::default(); ranges[rank].len()];
    let root_process = world.process_at_rank(root);
    match (parts, data) {
        (Some((c, d)), Some(data)) => {
            root_process
                .scatter_varcount_into_root(&Partition::new(data, c, &d[..]), &mut recv[..]);
        }
        _ => root_process.scatter_varcount_into(&mut recv[..]),
    }
    Ok(recv)
}

/// Where each rank's part starts in the gathered vector: the running sum
/// of `counts` (0 for the first rank).
fn displacements(counts: &[rsmpi::Count]) -> Vec<rsmpi::Count> {
    counts
        .iter()
        .scan(0, |acc, &c| {
            let d = *acc;
            *acc += c;
            Some(d)
        })
        .collect()
}

/// Every rank's `local` values, side by side in rank order, on every rank
/// (`MPI_Allgatherv`; the counts may differ, 0 included). Collective.
pub fn all_gather_varcount<T: Equivalence + Copy + Default>(
    world: &SimpleCommunicator,
    local: &[T],
) -> Vec<T> {
    let size = world.size() as usize;
    let mine = local.len() as rsmpi::Count;
    let mut counts = vec![0 as rsmpi::Count; size];
    world.all_gather_into(&mine, &mut counts[..]);
    let displs = displacements(&counts);
    let total: usize = counts.iter().map(|&c| c as usize).sum();
    let mut out = vec![T::default(); total];
    {
        let mut partition = PartitionMut::new(&mut out[..], counts, &displs[..]);
        world.all_gather_varcount_into(local, &mut partition);
    }
    out
}

/// Every rank's `local` values side by side in rank order on `root` (`None`
/// elsewhere; `MPI_Gatherv`). Collective.
pub fn gather_varcount<T: Equivalence + Copy + Default>(
    world: &SimpleCommunicator,
    root: i32,
    local: &[T],
) -> Option<Vec<T>> {
    let size = world.size() as usize;
    let mine = local.len() as rsmpi::Count;
    let root_process = world.process_at_rank(root);
    if world.rank() != root {
        root_process.gather_into(&mine);
        root_process.gather_varcount_into(local);
        return None;
    }
    let mut counts = vec![0 as rsmpi::Count; size];
    root_process.gather_into_root(&mine, &mut counts[..]);
    let displs = displacements(&counts);
    let total: usize = counts.iter().map(|&c| c as usize).sum();
    let mut out = vec![T::default(); total];
    {
        let mut partition = PartitionMut::new(&mut out[..], counts, &displs[..]);
        root_process.gather_varcount_into_root(local, &mut partition);
    }
    Some(out)
}

/// A barrier that sleeps while it waits (1 ms between tests) instead of
/// spinning: for ranks that sit out a measurement (the ping-pong of two
/// ranks), so they leave the cores to the ranks being timed. Collective.
pub fn idle_barrier(world: &SimpleCommunicator) {
    let mut req = world.immediate_barrier();
    loop {
        match req.test() {
            Ok(_) => return,
            Err(r) => {
                req = r;
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }
}

/// The flags every MPI example takes to test its own failure handling:
/// `--fail-rank R` (rank R reports an error) and `--panic-rank R` (rank R
/// panics, which aborts the job). Both off by default.
pub const FAULT_FLAGS: [(&str, u64); 2] = [("fail-rank", u64::MAX), ("panic-rank", u64::MAX)];

/// Injects the fault asked for by [`FAULT_FLAGS`] on this rank: an error for
/// `--fail-rank`, a panic for `--panic-rank`. Call it in the compute phase and
/// pass the result through [`agree`].
///
/// # Errors
/// [`ErrorKind::Mismatch`] on the rank named by `--fail-rank`.
pub fn injected_fault(world: &SimpleCommunicator, flags: &super::Flags) -> Result<()> {
    let rank = world.rank() as u64;
    if flags.get("panic-rank").ok() == Some(rank) {
        panic!("rank {rank}: a panic injected with --panic-rank {rank}");
    }
    if flags.get("fail-rank").ok() == Some(rank) {
        return Err(Error::new(
            ErrorKind::Mismatch,
            format!("a failure injected with --fail-rank {rank}"),
        ));
    }
    Ok(())
}
