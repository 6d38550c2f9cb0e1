//! Monte Carlo π and a European call across ranks × threads, bit-identical to
//! `par_pi` and `par_european_call`.
//!
//! The samples are cut into fixed chunks of `MC_CHUNK`, chunk `c` drawing from
//! its own random stream. Each rank draws a contiguous range of chunks
//! (`dist::chunk_range`) on `--threads` rayon threads. π's counts of points
//! inside are integers: an `MPI_Allreduce` sum is exact in any order. The
//! call's per-chunk sums are floating point: they are gathered to rank 0 in
//! chunk order and folded as the serial kernel folds them. Rank 0 checks both
//! against `par_pi` / `par_european_call`.
//!
//! ```text
//! cargo build --release --features mpi --example mpi_monte_carlo
//! mpiexec -n 3 target/release/examples/mpi_monte_carlo --samples 10000019 --threads 1
//! ```

use parlab::dist::mpi::{self, Stopwatch, rsmpi::traits::*};
use parlab::dist::{
    Flags, Report, call_chunk_sums, call_from_chunk_sums, chunk_range, pi_from_hits, pi_hits,
};
use parlab::kernels::{CallOption, par_european_call, par_pi};
use parlab::{Error, ErrorKind, Result};
use std::process::ExitCode;

fn main() -> ExitCode {
    mpi::main(run)
}

fn run(world: &mpi::rsmpi::topology::SimpleCommunicator) -> Result<()> {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut known = vec![
        ("samples", 10_000_019),
        ("seed", 42),
        ("threads", 1),
        ("repeats", 3),
    ];
    known.extend(mpi::FAULT_FLAGS);
    let flags = Flags::parse(&argv, &known).and_then(|f| {
        f.positive("samples")?;
        f.positive("threads")?;
        f.positive("repeats")?;
        Ok(f)
    });
    let flags = mpi::agree(world, flags)?;
    let samples = flags.positive("samples")? as u64;
    let seed = flags.get("seed")?;
    let (threads, repeats) = (flags.positive("threads")?, flags.positive("repeats")?);
    let pool = mpi::agree(world, parlab::par::pool(threads))?;
    let (ranks, rank) = (world.size() as usize, world.rank() as usize);
    let opt = CallOption {
        spot: 100.0,
        strike: 105.0,
        rate: 0.03,
        volatility: 0.2,
        maturity: 1.0,
    };
    let chunks = chunk_range(samples, ranks, rank)?;

    let mut sw = Stopwatch::new(&[
        "pi",
        "pi_wait",
        "pi_reduce",
        "call",
        "call_wait",
        "call_gather",
    ]);
    let (mut pi, mut call) = (None, None);
    for _ in 0..repeats {
        world.barrier();
        let hits = sw.time("pi", || -> Result<u64> {
            let h = pool.install(|| pi_hits(samples, seed, chunks.clone()))?;
            mpi::injected_fault(world, &flags)?;
            Ok(h)
        });
        let hits = mpi::agree(world, hits)?;
        sw.time("pi_wait", || world.barrier());
        let mut inside = 0u64;
        sw.time("pi_reduce", || {
            world.all_reduce_into(
                &hits,
                &mut inside,
                mpi::rsmpi::collective::SystemOperation::sum(),
            )
        });
        pi = Some(pi_from_hits(inside, samples)?);

        let sums = sw.time("call", || {
            pool.install(|| call_chunk_sums(&opt, samples, seed, chunks.clone()))
        });
        let sums = mpi::agree(world, sums)?;
        sw.time("call_wait", || world.barrier());
        let flat: Vec<f64> = sums.iter().flat_map(|&(s, s2)| [s, s2]).collect();
        let all = sw.time("call_gather", || mpi::gather_varcount(world, 0, &flat));
        if let Some(all) = all {
            let pairs: Vec<(f64, f64)> = all.chunks(2).map(|p| (p[0], p[1])).collect();
            call = Some(call_from_chunk_sums(&pairs, samples)?);
        }
        sw.end_sample();
    }
    let phases = sw.finish(world, threads)?;

    let verdict = match (pi, call) {
        (Some(pi), Some(call)) => pool.install(|| -> Result<()> {
            let (want_pi, want_call) = (
                par_pi(samples, seed)?,
                par_european_call(&opt, samples, seed)?,
            );
            if pi != want_pi {
                return Err(Error::new(
                    ErrorKind::Mismatch,
                    format!("π on {ranks} ranks is {:?}, par_pi gives {:?}", pi, want_pi),
                ));
            }
            if call != want_call {
                return Err(Error::new(
                    ErrorKind::Mismatch,
                    format!(
                        "the call on {ranks} ranks is {:?}, par_european_call gives {:?}",
                        call, want_call
                    ),
                ));
            }
            Ok(())
        }),
        _ => Ok(()),
    };
    mpi::agree(world, verdict)?;

    if let (Some(phases), Some(pi), Some(call)) = (phases, pi, call) {
        let mut report = Report::new("mpi_monte_carlo", ranks, threads);
        report.params.insert("samples".into(), samples as f64);
        report.params.insert("seed".into(), seed as f64);
        report.params.insert(
            "chunks".into(),
            samples.div_ceil(parlab::kernels::MC_CHUNK) as f64,
        );
        report.verified = format!(
            "π and the call have the bits of par_pi and par_european_call ({} chunks of {} samples over {ranks} ranks × {threads} threads)",
            samples.div_ceil(parlab::kernels::MC_CHUNK),
            parlab::kernels::MC_CHUNK
        );
        report.values.insert("pi".into(), pi.value);
        report.values.insert("pi_std_error".into(), pi.std_error);
        report.values.insert("call".into(), call.value);
        report
            .values
            .insert("call_std_error".into(), call.std_error);
        report.values.insert(
            "black_scholes".into(),
            parlab::kernels::black_scholes_call(&opt)?,
        );
        report.phases = phases;
        print!("{}", report.summary());
        println!("{}", report.to_line()?);
    }
    Ok(())
}
