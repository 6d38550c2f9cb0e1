//! The 3×3 box blur of notebook 06, one band of rows per rank, halo rows
//! exchanged with the neighbours before every step.
//!
//! Rank 0 scatters the image in bands (`dist::band`: owned rows plus one halo
//! row above and below inside the image). Each step every rank swaps its
//! boundary rows with rank − 1 and rank + 1 (`dist::mpi::exchange_halos`,
//! non-blocking), then blurs its band with `par_box_blur` on `--threads`
//! threads. After `--steps` steps rank 0 gathers the image and checks every
//! pixel against the serial `box_blur` applied as many times: the same bits.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_stencil
//! mpiexec -n 4 target/release/examples/mpi_stencil --rows 1001 --cols 999 --steps 10
//! ```

use ndarray::{Array2, s};
use parlab::dist::mpi::{self, Stopwatch, rsmpi::traits::*};
use parlab::dist::{Flags, Report, band};
use parlab::kernels::{box_blur, par_box_blur};
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
        ("steps", 10),
        ("threads", 1),
        ("samples", 5),
    ];
    known.extend(mpi::FAULT_FLAGS);
    let flags = Flags::parse(&argv, &known).and_then(|f| {
        for k in ["rows", "cols", "steps", "threads", "samples"] {
            f.positive(k)?;
        }
        Ok(f)
    });
    let flags = mpi::agree(world, flags)?;
    let (rows, cols, steps) = (
        flags.positive("rows")?,
        flags.positive("cols")?,
        flags.positive("steps")?,
    );
    let (threads, samples) = (flags.positive("threads")?, flags.positive("samples")?);
    let pool = mpi::agree(world, parlab::par::pool(threads))?;
    let (ranks, rank) = (world.size() as usize, world.rank() as usize);
    let me = band(rows, ranks, rank)?;
    let (above, owned) = (me.halo_above(), me.owned.len());

    let image = (rank == 0).then(|| {
        Array2::from_shape_fn((rows, cols), |(i, j)| {
            (((i * 31 + j * 17) % 256) as f32) / 255.0
        })
    });

    let mut sw = Stopwatch::new(&["scatter", "halo", "compute", "wait", "gather"]);
    let mut result = None;
    let mut local = Array2::<f32>::zeros((me.needed.len(), cols));
    let mut next = local.clone();
    for _ in 0..samples {
        world.barrier();
        let mine = sw.time("scatter", || {
            mpi::scatter_rows(world, 0, image.as_ref().map(|a| a.view()), rows, cols)
        })?;
        local.slice_mut(s![above..above + owned, ..]).assign(&mine);
        for _ in 0..steps {
            sw.time("halo", || mpi::exchange_halos(world, &me, &mut local))?;
            let done = sw.time("compute", || -> Result<()> {
                // The halo rows' own outputs are wrong (clamped at the band's
                // edge) and are thrown away: only owned rows are kept.
                pool.install(|| par_box_blur(local.view(), next.view_mut()))?;
                std::mem::swap(&mut local, &mut next);
                mpi::injected_fault(world, &flags)
            });
            mpi::agree(world, done)?;
        }
        sw.time("wait", || world.barrier());
        result = sw.time("gather", || {
            mpi::gather_rows(
                world,
                0,
                local.slice(s![above..above + owned, ..]).to_owned().view(),
                rows,
                cols,
            )
        })?;
        sw.end_sample();
    }
    let phases = sw.finish(world, threads)?;

    let verdict = match (&image, &result) {
        (Some(image), Some(got)) => {
            let mut want = image.clone();
            let mut tmp = Array2::zeros((rows, cols));
            for _ in 0..steps {
                box_blur(want.view(), tmp.view_mut())?;
                std::mem::swap(&mut want, &mut tmp);
            }
            match want
                .indexed_iter()
                .find(|&(ij, w)| got[ij].to_bits() != w.to_bits())
            {
                None => Ok(()),
                Some(((i, j), w)) => {
                    let owner = (0..ranks)
                        .find(|&r| band(rows, ranks, r).is_ok_and(|b| b.owned.contains(&i)))
                        .unwrap_or(0);
                    Err(Error::new(
                        ErrorKind::Mismatch,
                        format!(
                            "after {steps} steps pixel [{i}, {j}] is {}, the serial box_blur gives {w} (row {i} belongs to rank {owner})",
                            got[[i, j]]
                        ),
                    ))
                }
            }
        }
        _ => Ok(()),
    };
    mpi::agree(world, verdict)?;

    if let Some(phases) = phases {
        let mut report = Report::new("mpi_stencil", ranks, threads);
        report.params.insert("rows".into(), rows as f64);
        report.params.insert("cols".into(), cols as f64);
        report.params.insert("steps".into(), steps as f64);
        report.params.insert("samples".into(), samples as f64);
        report.verified = format!(
            "all {rows}×{cols} pixels after {steps} box-blur steps equal the serial box_blur, bit for bit"
        );
        report.values.insert(
            "halo_bytes_per_step".into(),
            (2 * (ranks.min(rows) - 1) * 2 * cols * 4) as f64,
        );
        report.phases = phases;
        print!("{}", report.summary());
        println!("{}", report.to_line()?);
    }
    Ok(())
}
