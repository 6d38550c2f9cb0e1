//! The machine probe of the interconnect: ping-pong latency and bandwidth
//! between rank 0 and the last rank over message sizes, and the time of an
//! 8-byte allreduce over all ranks.
//!
//! On one machine the "network" is shared memory (loopback); on a cluster, with
//! one rank per node (`srun -N 2 -n 2 …`), it is the interconnect. Ranks that
//! sit out the ping-pong wait in a sleeping barrier, leaving the cores to the
//! two that are timed. Every message is checked on arrival: the echo must
//! carry the bytes sent.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_probe
//! mpiexec -n 2 target/release/examples/mpi_probe --max-bytes 8388608
//! ```

use parlab::dist::mpi::{self, Stopwatch, rsmpi::traits::*};
use parlab::dist::{Flags, ProbePoint, Report};
use parlab::timing::BenchResult;
use parlab::{Error, ErrorKind, Result};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    mpi::main(run)
}

fn run(world: &mpi::rsmpi::topology::SimpleCommunicator) -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut known = vec![("max-bytes", 8 << 20), ("samples", 7), ("budget-ms", 20)];
    known.extend(mpi::FAULT_FLAGS);
    let flags = Flags::parse(&argv, &known).and_then(|f| {
        if f.positive("max-bytes")? < 8 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "--max-bytes must be at least 8",
            ));
        }
        f.positive("samples")?;
        f.positive("budget-ms")?;
        Ok(f)
    });
    let flags = mpi::agree(world, flags)?;
    let (max_bytes, samples) = (flags.positive("max-bytes")?, flags.positive("samples")?);
    let budget = flags.positive("budget-ms")? as f64 * 1e-3;
    let (ranks, rank) = (world.size() as usize, world.rank() as usize);
    let partner = ranks - 1;
    mpi::agree(world, mpi::injected_fault(world, &flags))?;

    // Message sizes 8 B, 64 B, … (× 8), and max_bytes itself.
    let mut sizes = Vec::new();
    let mut b = 8;
    while b < max_bytes {
        sizes.push(b);
        b *= 8;
    }
    sizes.push(max_bytes);

    let mut points = Vec::new();
    let mut problem: Result<()> = Ok(());
    if ranks >= 2 {
        for &bytes in &sizes {
            let send: Vec<u8> = (0..bytes).map(|i| (i * 31 + bytes) as u8).collect();
            let mut recv = vec![0u8; bytes];
            // Round trips per sample: enough to fill the time budget, from one
            // timed trial (rank 0 decides and tells the partner; that message
            // also starts the two ranks together). The other ranks are in
            // idle_barrier, asleep, until the ping-pong is over.
            let mut times = Vec::with_capacity(samples);
            let mut reps: u64 = 1;
            let mut calibrated = false;
            // Rank 0 sends the partner the number of round trips of each
            // batch (0: this size is done); that message also starts the two
            // together. Batches double until one fills its share of the time
            // budget, then `samples` batches of that size are timed.
            if rank == 0 {
                let to = world.process_at_rank(partner as i32);
                loop {
                    to.send(&reps);
                    let t = Instant::now();
                    for _ in 0..reps {
                        to.send(&send[..]);
                        to.receive_into(&mut recv[..]);
                    }
                    let per = t.elapsed().as_secs_f64() / reps as f64;
                    if recv != send && problem.is_ok() {
                        let at = recv
                            .iter()
                            .zip(&send)
                            .position(|(a, b)| a != b)
                            .unwrap_or(0);
                        problem = Err(Error::new(
                            ErrorKind::Mismatch,
                            format!(
                                "the {bytes}-byte echo from rank {partner} differs at byte {at}"
                            ),
                        ));
                    }
                    recv.fill(0);
                    if calibrated {
                        times.push(per);
                        if times.len() == samples {
                            break;
                        }
                    } else if per * reps as f64 >= budget / samples as f64 || reps >= 1 << 20 {
                        calibrated = true;
                    } else {
                        reps *= 2;
                    }
                }
                to.send(&0u64);
            } else if rank == partner {
                let from = world.process_at_rank(0);
                loop {
                    from.receive_into(&mut reps);
                    if reps == 0 {
                        break;
                    }
                    for _ in 0..reps {
                        from.receive_into(&mut recv[..]);
                        from.send(&recv[..]);
                    }
                }
            }
            if rank == 0 {
                points.push(ProbePoint {
                    bytes,
                    round_trip: BenchResult::from_samples(
                        format!("ping-pong {bytes} B"),
                        times,
                        reps,
                    )?,
                });
            }
        }
    }
    mpi::idle_barrier(world);
    mpi::agree(world, problem)?;

    // An 8-byte allreduce over every rank (what a distributed dot ends with).
    let mut sw = Stopwatch::new(&["allreduce"]);
    let (x, mut y) = (rank as f64, 0.0f64);
    for _ in 0..samples {
        world.barrier();
        sw.time("allreduce", || {
            for _ in 0..100 {
                world.all_reduce_into(&x, &mut y, mpi::rsmpi::collective::SystemOperation::sum());
            }
        });
        sw.end_sample();
    }
    let want = (ranks * (ranks - 1) / 2) as f64;
    let check = if y == want {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::Mismatch,
            format!("the allreduce of the ranks gave {y}, not {want}"),
        ))
    };
    mpi::agree(world, check)?;
    let phases = sw.finish(world, 1)?;

    if let Some(mut phases) = phases {
        // Seconds per allreduce, not per 100.
        phases.retain(|p| p.name == "allreduce");
        for p in &mut phases {
            let per: Vec<f64> = p.slowest.samples.iter().map(|t| t / 100.0).collect();
            p.slowest = BenchResult::from_samples("allreduce", per, 100)?;
            p.per_rank_median.iter_mut().for_each(|t| *t /= 100.0);
        }
        let mut report = Report::new("mpi_probe", ranks, 1);
        report.params.insert("max_bytes".into(), max_bytes as f64);
        report.params.insert("samples".into(), samples as f64);
        report.verified = if ranks >= 2 {
            format!(
                "every echo from rank {partner} carried the bytes sent; the allreduce of the ranks' numbers is {want}"
            )
        } else {
            "the allreduce on 1 rank (the ping-pong needs 2 ranks: run with mpiexec -n 2)"
                .to_string()
        };
        if let (Some(first), Some(last)) = (points.first(), points.last()) {
            report.values.insert("latency_s".into(), first.one_way());
            report
                .values
                .insert("bandwidth_bytes_per_s".into(), last.bandwidth());
        }
        report.probe = points;
        report.phases = phases;
        print!("{}", report.summary());
        println!("{}", report.to_line()?);
    }
    Ok(())
}
