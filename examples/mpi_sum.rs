//! Distributed `sum` and `dot` whose result is bit-identical for any rank count.
//!
//! `parlab::kernels::sum` cuts the elements into fixed blocks of 8192 and adds
//! the block sums pairwise. Here each rank gets whole blocks
//! (`dist::reduction_range`), computes their partials with `--threads` rayon
//! threads, and an allgather puts every rank's partials side by side on every
//! rank, which combines them in the serial kernel's pairwise order: the same
//! bits on 1, 2, 3 or 4 ranks. Rank 0 checks them against the serial `sum` and
//! `dot`, and shows what adding one total per rank would have given instead.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_sum
//! mpiexec -n 3 target/release/examples/mpi_sum --elements 10000019
//! ```

use ndarray::ArrayView1;
use parlab::dist::mpi::{self, Stopwatch, rsmpi::traits::*};
use parlab::dist::{Flags, Report, combine_partials, dot_partials, reduction_range, sum_partials};
use parlab::kernels::{dot, sum};
use parlab::{Error, ErrorKind, Result};
use std::process::ExitCode;

fn main() -> ExitCode {
    mpi::main(run)
}

fn run(world: &mpi::rsmpi::topology::SimpleCommunicator) -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut known = vec![("elements", 10_000_019), ("threads", 1), ("samples", 10)];
    known.extend(mpi::FAULT_FLAGS);
    let flags = Flags::parse(&argv, &known).and_then(|f| {
        f.positive("elements")?;
        f.positive("threads")?;
        f.positive("samples")?;
        Ok(f)
    });
    let flags = mpi::agree(world, flags)?;
    let n = flags.positive("elements")?;
    let (threads, samples) = (flags.positive("threads")?, flags.positive("samples")?);
    let pool = mpi::agree(world, parlab::par::pool(threads))?;
    let (ranks, rank) = (world.size() as usize, world.rank() as usize);
    let root = rank == 0;

    // Values whose sum is sensitive to the order of the additions.
    let (x, y) = if root {
        (
            Some(
                (0..n)
                    .map(|i| ((i * 7919) % 1000) as f64 * 1e-3 - 0.3)
                    .collect::<Vec<f64>>(),
            ),
            Some((0..n).map(|i| 1.0 / (1.0 + i as f64)).collect::<Vec<f64>>()),
        )
    } else {
        (None, None)
    };
    let ranges: Vec<_> = (0..ranks)
        .map(|r| reduction_range(n, ranks, r))
        .collect::<Result<_>>()?;

    let mut sw = Stopwatch::new(&["scatter", "compute", "wait", "combine"]);
    let (mut s, mut d, mut rank_total) = (0.0, 0.0, 0.0);
    for _ in 0..samples {
        world.barrier();
        let (lx, ly) = sw.time("scatter", || -> Result<_> {
            Ok((
                mpi::scatter_ranges(world, 0, x.as_deref(), &ranges)?,
                mpi::scatter_ranges(world, 0, y.as_deref(), &ranges)?,
            ))
        })?;
        let partials = sw.time("compute", || -> Result<_> {
            let p =
                pool.install(|| -> Result<_> { Ok((sum_partials(&lx), dot_partials(&lx, &ly)?)) })?;
            mpi::injected_fault(world, &flags)?;
            Ok(p)
        });
        let (ps, pd) = mpi::agree(world, partials)?;
        sw.time("wait", || world.barrier());
        (s, d) = sw.time("combine", || {
            // An allreduce in a fixed order: every rank gets every partial,
            // in rank order, and adds them as the serial kernel does.
            let all_s = mpi::all_gather_varcount(world, &ps);
            let all_d = mpi::all_gather_varcount(world, &pd);
            (combine_partials(&all_s), combine_partials(&all_d))
        });
        // For contrast: one total per rank, added up (MPI_Allreduce with MPI_SUM).
        let mine = combine_partials(&ps);
        world.all_reduce_into(
            &mine,
            &mut rank_total,
            mpi::rsmpi::collective::SystemOperation::sum(),
        );
        sw.end_sample();
    }
    let phases = sw.finish(world, threads)?;

    let verdict = match (&x, &y) {
        (Some(x), Some(y)) => {
            let (xv, yv) = (ArrayView1::from(&x[..]), ArrayView1::from(&y[..]));
            let (want_s, want_d) = (sum(xv), dot(xv, yv)?);
            if s.to_bits() != want_s.to_bits() || d.to_bits() != want_d.to_bits() {
                Err(Error::new(
                    ErrorKind::Mismatch,
                    format!(
                        "on {ranks} ranks sum = {s:e}, dot = {d:e}; the serial kernels give sum = {want_s:e}, dot = {want_d:e}"
                    ),
                ))
            } else {
                Ok(())
            }
        }
        _ => Ok(()),
    };
    mpi::agree(world, verdict)?;

    if let Some(phases) = phases {
        let mut report = Report::new("mpi_sum", ranks, threads);
        report.params.insert("elements".into(), n as f64);
        report.params.insert("samples".into(), samples as f64);
        report.verified = format!(
            "sum and dot of {n} f64 have the bits of the serial sum and dot ({} blocks of {} over {ranks} ranks)",
            n.div_ceil(parlab::kernels::BLOCK),
            parlab::kernels::BLOCK
        );
        report.values.insert("sum".into(), s);
        report.values.insert("dot".into(), d);
        report
            .values
            .insert("sum_of_rank_totals".into(), rank_total);
        report
            .values
            .insert("rank_totals_ulps_off".into(), ulps(rank_total, s));
        report.phases = phases;
        print!("{}", report.summary());
        println!("{}", report.to_line()?);
    }
    Ok(())
}

/// How many representable f64 lie between `a` and `b` (same sign assumed).
fn ulps(a: f64, b: f64) -> f64 {
    (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs() as f64
}
