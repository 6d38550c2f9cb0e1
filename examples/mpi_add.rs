//! The hands-on project distributed: `c = a + b` on bands of rows.
//!
//! Rank 0 holds `a` and `b`, scatters one band of rows to each rank
//! (`MPI_Scatterv`: the row count need not divide by the ranks), every rank
//! adds its band with `par_add` on `--threads` rayon threads, and rank 0
//! gathers `c` back and checks every element against the serial `add`.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_add
//! mpiexec -n 4 target/release/examples/mpi_add --rows 1001 --cols 999 --threads 1
//! ```
//!
//! Prints a summary and one `PARLAB_REPORT {…}` JSON line (rank 0); exits 2 on
//! bad arguments and 1 on a mismatch, on every rank.

use ndarray::Array2;
use parlab::dist::mpi::{self, Stopwatch, rsmpi::traits::*};
use parlab::dist::{Flags, Report};
use parlab::kernels::{add, par_add};
use parlab::{Error, ErrorKind, Result};
use std::process::ExitCode;

fn main() -> ExitCode {
    mpi::main(run)
}

fn run(world: &mpi::rsmpi::topology::SimpleCommunicator) -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut known = vec![
        ("rows", 2048),
        ("cols", 2048),
        ("threads", 1),
        ("samples", 10),
    ];
    known.extend(mpi::FAULT_FLAGS);
    let flags = Flags::parse(&argv, &known).and_then(|f| {
        f.positive("rows")?;
        f.positive("cols")?;
        f.positive("threads")?;
        f.positive("samples")?;
        Ok(f)
    });
    let flags = mpi::agree(world, flags)?;
    let (rows, cols) = (flags.positive("rows")?, flags.positive("cols")?);
    let (threads, samples) = (flags.positive("threads")?, flags.positive("samples")?);
    let pool = mpi::agree(world, parlab::par::pool(threads))?;
    let root = world.rank() == 0;

    let (a, b) = if root {
        (
            Some(Array2::from_shape_fn((rows, cols), |(i, j)| {
                (i * cols + j) as f64 * 0.5
            })),
            Some(Array2::from_shape_fn((rows, cols), |(i, j)| {
                ((i * 7 + j * 13) % 101) as f64 / 7.0
            })),
        )
    } else {
        (None, None)
    };

    let mut sw = Stopwatch::new(&["scatter", "compute", "wait", "gather"]);
    let mut c = None;
    // Allocated once: a fresh array would time its page faults as compute.
    let mut lc = Array2::<f64>::zeros((
        parlab::dist::block_range(rows, world.size() as usize, world.rank() as usize)?.len(),
        cols,
    ));
    lc.fill(0.0);
    for _ in 0..samples {
        world.barrier();
        let (la, lb) = sw.time("scatter", || -> Result<_> {
            Ok((
                mpi::scatter_rows(world, 0, a.as_ref().map(|a| a.view()), rows, cols)?,
                mpi::scatter_rows(world, 0, b.as_ref().map(|b| b.view()), rows, cols)?,
            ))
        })?;
        let done = sw.time("compute", || {
            pool.install(|| par_add(la.view(), lb.view(), lc.view_mut()))?;
            mpi::injected_fault(world, &flags)
        });
        mpi::agree(world, done)?;
        sw.time("wait", || world.barrier());
        c = sw.time("gather", || {
            mpi::gather_rows(world, 0, lc.view(), rows, cols)
        })?;
        sw.end_sample();
    }
    let phases = sw.finish(world, threads)?;

    // Rank 0 verifies every element against the serial kernel.
    let verdict = match (&a, &b, &c) {
        (Some(a), Some(b), Some(c)) => {
            let mut want = Array2::<f64>::zeros((rows, cols));
            add(a.view(), b.view(), want.view_mut())?;
            match want
                .indexed_iter()
                .find(|&(ij, w)| c[ij].to_bits() != w.to_bits())
            {
                None => Ok(()),
                Some(((i, j), w)) => {
                    let ranks = world.size() as usize;
                    let owner = (0..ranks)
                        .find(|&r| {
                            parlab::dist::block_range(rows, ranks, r).is_ok_and(|x| x.contains(&i))
                        })
                        .unwrap_or(0);
                    Err(Error::new(
                        ErrorKind::Mismatch,
                        format!(
                            "c[{i}, {j}] is {}, the serial add gives {w} (row {i} belongs to rank {owner})",
                            c[[i, j]]
                        ),
                    ))
                }
            }
        }
        _ => Ok(()),
    };
    mpi::agree(world, verdict)?;

    if let Some(phases) = phases {
        let mut report = Report::new("mpi_add", world.size() as usize, threads);
        report.params.insert("rows".into(), rows as f64);
        report.params.insert("cols".into(), cols as f64);
        report.params.insert("samples".into(), samples as f64);
        report.verified =
            format!("all {rows}×{cols} elements of c equal the serial add, bit for bit");
        report
            .values
            .insert("bytes_per_add".into(), (3 * 8 * rows * cols) as f64);
        report.phases = phases;
        print!("{}", report.summary());
        println!("{}", report.to_line()?);
    }
    Ok(())
}
