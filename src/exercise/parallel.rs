//! Parallel-practice exercises: a reproducible reduction (notebook 04),
//! a speed-up predicted before it is measured (notebook 05),
//! counters that do not share a cache line (notebook 05), and rows of very
//! different cost scheduled dynamically (notebook 06).

use super::{Check, Problem, call, finish};
use std::collections::HashMap;
use std::sync::Mutex;

/// Exercise 4.3: `reproducible_sum(x, threads)` sums `x` in parallel on
/// `threads` threads so that the result has the **same bits for every thread
/// count**: per-thread partial sums over *fixed* blocks (not over one chunk
/// per thread), combined in block order.
pub fn check_reproducible_sum(f: impl Fn(&[f64], usize) -> f64) -> Check {
    let outcome = (|| {
        let cases: Vec<(&str, Vec<f64>)> = vec![
            ("an empty slice", vec![]),
            ("one element", vec![0.1]),
            (
                "100 003 values of mixed sign and size",
                (0..100_003)
                    .map(|i| ((i as f64) * 0.618_034).sin() * 10f64.powi((i % 7) - 3))
                    .collect(),
            ),
            ("1 000 000 copies of 0.1", vec![0.1; 1_000_000]),
        ];
        for (name, x) in &cases {
            let exact: f64 = {
                // Neumaier in f64 is far more accurate than any plain order.
                let (mut s, mut c) = (0.0f64, 0.0f64);
                for &v in x {
                    let t = s + v;
                    c += if s.abs() >= v.abs() {
                        (s - t) + v
                    } else {
                        (v - t) + s
                    };
                    s = t;
                }
                s + c
            };
            let abs: f64 = x.iter().map(|v| v.abs()).sum();
            let mut seen: Vec<(usize, f64)> = Vec::new();
            for threads in 1..=5 {
                let got = call(|| f(x, threads), &format!("{name} on {threads} thread(s)"))?;
                if !got.is_finite() && !x.is_empty() {
                    return Err(Problem::Wrong(format!(
                        "on {name} with {threads} thread(s) you returned {got}"
                    )));
                }
                let bound = 1e-12 * abs.max(1.0) + f64::EPSILON * x.len() as f64 * abs;
                if (got - exact).abs() > bound.max(1e-300) {
                    let missing = exact - got;
                    return Err(Problem::Wrong(format!(
                        "on {name} with {threads} thread(s) you returned {got}, the sum is {exact} \
                         (off by {missing:.3e}, more than rounding can explain): are elements \
                         dropped — the remainder after the last full block or chunk — or counted twice?"
                    )));
                }
                seen.push((threads, got));
            }
            let (t0, v0) = seen[0];
            if let Some(&(t, v)) = seen.iter().find(|(_, v)| v.to_bits() != v0.to_bits()) {
                return Err(Problem::Wrong(format!(
                    "on {name}: {t0} thread gives {v0:e}, {t} threads give {v:e} — close, but not \
                     the same bits: your partial sums follow the threads (one chunk each), so \
                     the additions happen in a different order for every thread count. Sum \
                     fixed blocks (say 4 096 elements) whatever the thread count, and add the \
                     block sums in block order"
                )));
            }
        }
        Ok(
            "the same bits on 1–5 threads for every case, within rounding of the exact sum"
                .to_string(),
        )
    })();
    finish("4.3 reproducible_sum", "reproducible_sum", outcome)
}

/// Exercise 5.3: a counter type that gives each thread its own cache line.
/// `check_padded_counter(new_counter)` calls `new_counter()` (a stub that
/// still has its `todo!()` is "not done yet") and checks that the counter
/// type is at least 64 bytes long and aligned to 64 bytes, so that two
/// counters in a `Vec` never share a line (false sharing).
pub fn check_padded_counter<T>(new_counter: impl Fn() -> T) -> Check {
    let (size, align) = (std::mem::size_of::<T>(), std::mem::align_of::<T>());
    let name = std::any::type_name::<T>();
    let name = name.rsplit("::").next().unwrap_or(name).to_string();
    let outcome = call(&new_counter, "a new counter").and_then(|_| {
        if size == 0 {
            Err(Problem::Wrong(format!(
                "`{name}` has no fields: it holds no count"
            )))
        } else if align >= 64 && size >= 64 {
            Ok(format!(
                "`{name}` is {size} bytes aligned to {align}: one counter per 64-byte cache \
                 line, so threads counting into neighbouring counters no longer invalidate \
                 each other's line"
            ))
        } else if size >= 64 {
            Err(Problem::Wrong(format!(
                "`{name}` is {size} bytes but aligned to only {align}: in a `Vec` a counter \
                 can start in the middle of a cache line and share it with its neighbour. Add \
                 `#[repr(align(64))]`"
            )))
        } else {
            Err(Problem::Wrong(format!(
                "`{name}` is {size} bytes (aligned to {align}): {} of them fit in one 64-byte \
                 cache line, so threads updating neighbouring counters fight over that line \
                 (false sharing). Put `#[repr(align(64))]` on the struct",
                (64 / size.max(1)).max(1)
            )))
        }
    });
    finish("5.3 new_counter", "new_counter", outcome)
}

/// Exercise 6.3: `process_rows(rows, threads, work)` calls `work(row)` once
/// for every row in `0..rows` on `threads` threads and returns the results in
/// row order — **dynamically scheduled**: rows differ wildly in cost, so
/// threads must take the next row when they are free, not a fixed quarter each.
///
/// The checker's `work` records which thread ran each row; a first quarter of
/// expensive rows shows static chunks at once.
pub fn check_process_rows(
    f: impl Fn(usize, usize, &(dyn Fn(usize) -> f64 + Sync)) -> Vec<f64>,
) -> Check {
    let mut cyclic = false;
    let outcome = (|| {
        for (rows, threads) in [(0usize, 2usize), (1, 3), (37, 4), (400, 4)] {
            let who: Mutex<Vec<(usize, std::thread::ThreadId)>> = Mutex::new(Vec::new());
            let work = |row: usize| -> f64 {
                // The first quarter of the rows costs ~100× the others.
                let n = if row < rows / 4 { 20_000 } else { 200 };
                let mut x = row as f64;
                for _ in 0..n {
                    x = std::hint::black_box((x * 1.000_001).sin());
                }
                who.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push((row, std::thread::current().id()));
                row as f64 * 2.0
            };
            let case = format!("{rows} rows on {threads} threads");
            let out = call(|| f(rows, threads, &work), &case)?;
            if out.len() != rows {
                return Err(Problem::Wrong(format!(
                    "{case}: you returned {} results, one per row is {rows}",
                    out.len()
                )));
            }
            if let Some(i) = (0..rows).find(|&i| out[i] != i as f64 * 2.0) {
                return Err(Problem::Wrong(format!(
                    "{case}: result {i} is {}, `work({i})` returned {} — are the results put back in row order?",
                    out[i],
                    i as f64 * 2.0
                )));
            }
            let who = who.into_inner().unwrap_or_else(|p| p.into_inner());
            let mut count: HashMap<usize, usize> = HashMap::new();
            for &(r, _) in &who {
                *count.entry(r).or_default() += 1;
            }
            if let Some(r) = (0..rows).find(|r| count.get(r).copied().unwrap_or(0) != 1) {
                return Err(Problem::Wrong(format!(
                    "{case}: `work({r})` was called {} times; every row exactly once",
                    count.get(&r).copied().unwrap_or(0)
                )));
            }
            if rows >= 400 {
                let mut by_thread: HashMap<std::thread::ThreadId, Vec<usize>> = HashMap::new();
                for &(r, t) in &who {
                    by_thread.entry(t).or_default().push(r);
                }
                if by_thread.len() == 1 {
                    return Err(Problem::Wrong(format!(
                        "{case}: correct, but every row ran on one thread — run them on a pool of \
                         `threads` (`parlab::par::pool(threads)` and `pool.install`)"
                    )));
                }
                // Static chunks: one thread ran all of the expensive first quarter.
                let expensive: Vec<usize> = (0..rows / 4).collect();
                let holder = who.iter().find(|(r, _)| *r == 0).map(|w| w.1);
                let all_on_one = holder.is_some_and(|h| {
                    expensive
                        .iter()
                        .all(|r| who.iter().any(|&(rr, t)| rr == *r && t == h))
                });
                // A cyclic static schedule: row r always on the thread of r % threads.
                let mut residues: HashMap<
                    std::thread::ThreadId,
                    std::collections::BTreeSet<usize>,
                > = HashMap::new();
                for &(r, t) in &who {
                    residues.entry(t).or_default().insert(r % threads);
                }
                if residues.len() == threads && residues.values().all(|s| s.len() == 1) {
                    cyclic = true;
                }
                if all_on_one {
                    return Err(Problem::Wrong(format!(
                        "{case}: correct, but one thread ran all {} expensive rows of the first \
                         quarter while the others finished their cheap rows and waited: that is \
                         static scheduling (one contiguous chunk per thread). Let threads take the \
                         next row when they are free: `(0..rows).into_par_iter().with_max_len(1)`, \
                         or an atomic counter of the next row",
                        rows / 4
                    )));
                }
            }
        }
        Ok(if cyclic {
            "every row once, results in order, and the expensive rows spread over the threads — \
             by a cyclic static schedule (row `r` on thread `r % threads`). It balances this \
             load, whose expensive rows are one contiguous quarter, but it is still static: a \
             load whose cost follows the cycle (every 4th row expensive on 4 threads) would put \
             all the expensive rows on one thread. Dynamic scheduling — take the next row when \
             free — balances any load"
                .to_string()
        } else {
            "every row once, results in order, and the expensive rows spread over the threads \
            (dynamic scheduling)"
                .to_string()
        })
    })();
    finish("6.3 process_rows", "process_rows", outcome)
}

/// How far a prediction may be from the measured speed-up (relative).
const BAND: f64 = 0.25;

/// Exercise 5.4: `predicted_speedup(threads, cores)` is the student's
/// prediction, written *before* measuring, of the speed-up of `par_pi` on
/// `threads` threads over one thread, on a machine where this process may
/// run `cores` threads at once. The checker then measures `par_pi`
/// (4·10⁶ samples, interleaved rounds, medians) on 1 to `cores + 2` threads
/// (on more than 6 cores: powers of two, the cores, and `cores + 2`)
/// and compares: a prediction within 25 % of the measurement at every thread
/// count passes. When the machine itself strays from the ideal model
/// `min(p, cores)` and the prediction is that model, it passes with a message
/// that sets it against the measurement and says what the model leaves out
/// (SMT as sysfs shows it; not memory bandwidth; other programs, shared host
/// cores, turbo).
pub fn check_predicted_speedup(f: impl Fn(usize, usize) -> f64) -> Check {
    let cores = crate::par::available_threads().max(1);
    let counts = predicted_counts(cores);
    let outcome = (|| {
        let mut predicted = Vec::new();
        for &p in &counts {
            let v = call(|| f(p, cores), &format!("{p} thread(s) on {cores} core(s)"))?;
            if !v.is_finite() || v <= 0.0 {
                return Err(Problem::Wrong(format!(
                    "for {p} thread(s) you predicted {v}: a speed-up is a positive ratio of times"
                )));
            }
            predicted.push(v);
        }
        if (predicted[0] - 1.0).abs() > 0.05 {
            return Err(Problem::Wrong(format!(
                "on 1 thread you predicted {:.2}×: the speed-up over one thread, on one \
                 thread, is 1",
                predicted[0]
            )));
        }
        let measured = measure_pi_speedups(&counts)?;
        let model: Vec<f64> = counts.iter().map(|&p| p.min(cores) as f64).collect();
        let table = counts
            .iter()
            .zip(predicted.iter().zip(&measured))
            .map(|(p, (pr, m))| format!("{p} thread(s): predicted {pr:.2}×, measured {m:.2}×"))
            .collect::<Vec<_>>()
            .join("; ");
        let off = |xs: &[f64], ys: &[f64]| -> Option<usize> {
            (0..xs.len()).find(|&k| (xs[k] - ys[k]).abs() > BAND * ys[k])
        };
        let machine_strays = off(&model, &measured);
        let off_model = off(&predicted, &model);
        match off(&predicted, &measured) {
            // Right for this run, wrong about the work: a busy machine that
            // happened to match a pessimistic prediction.
            None if machine_strays.is_some()
                && off_model.is_some_and(|k| predicted[k] < model[k]) =>
            {
                let k = off_model.unwrap_or(0);
                Err(Problem::Wrong(format!(
                    "for {} thread(s) you predicted {:.2}×, and this run measured {:.2}× — but only \
                     because the machine fell short of what the work allows: too pessimistic. The \
                     chunks of par_pi are independent, so each core that can run adds nearly one \
                     more × ({:.2}× here). {} All: {table}",
                    counts[k],
                    predicted[k],
                    measured[k],
                    model[k],
                    shortfall_reason(cores)
                )))
            }
            None => Ok(format!(
                "within {:.0} % of the measurement at every thread count ({table})",
                BAND * 100.0
            )),
            // The prediction is the ideal model and the machine fell short of
            // it: the prediction is judged against the measurement, and the
            // message says what the model leaves out.
            Some(_) if machine_strays.is_some() && off(&predicted, &model).is_none() => {
                let k = machine_strays.unwrap_or(0);
                Ok(format!(
                    "your prediction is the model of independent work on {cores} core(s) — right \
                     about the work, whose chunks are independent — but this machine did not \
                     follow it: at {} thread(s) it measured {:.2}× where the model says {:.2}× \
                     ({table}). {}",
                    counts[k],
                    measured[k],
                    model[k],
                    shortfall_reason(cores)
                ))
            }
            Some(k) => {
                // On a machine that strays, name a mistake about the work first.
                let k = match machine_strays {
                    Some(_) => off_model.unwrap_or(k),
                    None => k,
                };
                let (p, pr, want) = (counts[k], predicted[k], measured[k]);
                let why = if p > cores && pr > cores as f64 * (1.0 + BAND) {
                    format!(
                        "only {cores} thread(s) can run at once here: threads beyond the cores \
                         take turns on them, so the speed-up stops growing at {cores}×"
                    )
                } else if pr > p as f64 * (1.0 + BAND) {
                    "that is more than the work can give: the speed-up on p threads is at most p"
                        .to_string()
                } else if pr < model[k] * (1.0 - BAND) || pr <= want {
                    "too pessimistic: the chunks of par_pi are independent (65 536 samples each, \
                     a few dozen per call), so the serial part is tiny and each core that can \
                     run adds nearly one more ×"
                        .to_string()
                } else {
                    format!(
                        "the machine gave less than your prediction. {}",
                        shortfall_reason(cores)
                    )
                };
                Err(Problem::Wrong(format!(
                    "for {p} thread(s) on {cores} core(s) you predicted {pr:.2}×, and {want:.2}× \
                     was measured: {why}. All: {table}"
                )))
            }
        }
    })();
    finish("5.4 predicted_speedup", "predicted_speedup", outcome)
}

/// Hardware threads per core of CPU 0 (SMT), from sysfs; `None` when unknown.
fn smt_per_core() -> Option<usize> {
    let list =
        std::fs::read_to_string("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list")
            .ok()?;
    let mut n = 0;
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => {
                b.trim()
                    .parse::<usize>()
                    .ok()?
                    .checked_sub(a.trim().parse::<usize>().ok()?)?
                    + 1
            }
            None => 1,
        };
    }
    (n > 0).then_some(n)
}

/// Why `par_pi` may fall short of `min(p, cores)` on this machine: SMT when
/// sysfs shows it, never memory bandwidth (it reads no arrays), otherwise the
/// causes a guest cannot see.
fn shortfall_reason(cores: usize) -> String {
    let smt = match smt_per_core() {
        Some(k) if k > 1 => format!(
            "The {cores} logical CPUs here are hardware threads, {k} per core (SMT): threads on \
             one core share its execution units, so a compute-bound kernel gains far less than \
             1× from each extra hardware thread. "
        ),
        Some(_) => "sysfs shows one hardware thread per core here, so it is not SMT as far as \
                    this machine can see. "
            .to_string(),
        None => String::new(),
    };
    format!(
        "{smt}Nor is it memory bandwidth: par_pi reads no arrays (a memory-bound kernel would \
         stop scaling when the threads saturate the bus). What remains is other programs on \
         these cores, vCPUs that share a physical core on the host (a VM cannot see that), or \
         a clock that drops as more cores run (turbo): a model of the work cannot know them, \
         a measurement does"
    )
}

/// The thread counts 5.4 measures: 1 to `cores + 2` on a small machine; on a
/// large one powers of two below the cores, the cores, and two more, so the
/// check stays quick whatever the CPU.
fn predicted_counts(cores: usize) -> Vec<usize> {
    let top = (cores + 2).min(2 * cores).max(2);
    if top <= 8 {
        return (1..=top).collect();
    }
    let mut counts: Vec<usize> = std::iter::successors(Some(1), |&p| Some(p * 2))
        .take_while(|&p| p < cores)
        .collect();
    counts.extend([cores, top]);
    counts
}

/// Speed-ups of `par_pi` (4·10⁶ samples) on each thread count over the
/// first, from medians of 5 interleaved rounds on pools built beforehand.
/// With a [`time_scale`](crate::timing::time_scale) `s` above 1 the rounds
/// do `1/s` of that work: what a CPU `s`× faster does in the time of one
/// round here (thread start-up weighs `s`× more).
fn measure_pi_speedups(counts: &[usize]) -> Result<Vec<f64>, Problem> {
    let pools = counts
        .iter()
        .map(|&p| crate::par::pool(p))
        .collect::<crate::Result<Vec<_>>>()
        .map_err(|e| Problem::Wrong(format!("the checker could not build its pools: {e}")))?;
    let samples = (4e6 / crate::timing::time_scale().max(1.0)).max(1.0) as u64;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
    for round in 0..6 {
        for (k, pool) in pools.iter().enumerate() {
            let start = std::time::Instant::now();
            let e = pool
                .install(|| crate::kernels::par_pi(samples, 7))
                .map_err(|e| Problem::Wrong(format!("par_pi failed: {e}")))?;
            std::hint::black_box(e);
            if round > 0 {
                times[k].push(start.elapsed().as_secs_f64());
            }
        }
    }
    let medians: Vec<f64> = times
        .iter()
        .map(|t| super::statistics::reference_median(t))
        .collect();
    Ok(medians.iter().map(|m| medians[0] / m).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercise::Status;
    use rayon::prelude::*;

    fn blocks(x: &[f64], threads: usize) -> f64 {
        let pool = crate::par::pool(threads).unwrap();
        let partials: Vec<f64> =
            pool.install(|| x.par_chunks(4096).map(|b| b.iter().sum::<f64>()).collect());
        partials.iter().sum()
    }

    fn per_thread(x: &[f64], threads: usize) -> f64 {
        crate::par::chunk_ranges(x.len(), threads)
            .into_iter()
            .map(|r| x[r].iter().sum::<f64>())
            .sum()
    }

    #[test]
    fn reproducible_sum_names_the_thread_dependence_and_dropped_elements() {
        assert_eq!(check_reproducible_sum(blocks).status, Status::Passed);
        let c = check_reproducible_sum(per_thread);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("not the same bits"), "{}", c.message);
        let dropped = |x: &[f64], t: usize| blocks(&x[..x.len() - x.len() % 4096], t);
        let c = check_reproducible_sum(dropped);
        assert!(c.message.contains("dropped"), "{}", c.message);
        let c = check_reproducible_sum(|_: &[f64], _: usize| -> f64 { todo!() });
        assert_eq!(c.status, Status::NotDone);
    }

    #[test]
    fn padded_counter_needs_size_and_alignment() {
        #[repr(align(64))]
        struct Good(#[allow(dead_code)] std::sync::atomic::AtomicU64);
        struct Bare(#[allow(dead_code)] std::sync::atomic::AtomicU64);
        struct Big(#[allow(dead_code)] [u64; 8]);
        let new = std::sync::atomic::AtomicU64::new;
        assert_eq!(check_padded_counter(|| Good(new(0))).status, Status::Passed);
        let c = check_padded_counter(|| Bare(new(0)));
        assert!(
            c.message
                .contains("8 of them fit in one 64-byte cache line"),
            "{}",
            c.message
        );
        let c = check_padded_counter(|| Big([0; 8]));
        assert!(c.message.contains("aligned to only 8"), "{}", c.message);
        let c = check_padded_counter(|| -> Good { todo!() });
        assert_eq!(c.status, Status::NotDone);
    }

    #[test]
    fn process_rows_names_static_chunks_and_serial_runs() {
        let dynamic = |rows: usize, threads: usize, work: &(dyn Fn(usize) -> f64 + Sync)| {
            crate::par::pool(threads).unwrap().install(|| {
                (0..rows)
                    .into_par_iter()
                    .with_max_len(1)
                    .map(work)
                    .collect()
            })
        };
        assert_eq!(check_process_rows(dynamic).status, Status::Passed);
        let serial = |rows: usize, _t: usize, work: &(dyn Fn(usize) -> f64 + Sync)| {
            (0..rows).map(work).collect()
        };
        let c = check_process_rows(serial);
        assert!(c.message.contains("ran on one thread"), "{}", c.message);
        let chunks = |rows: usize, threads: usize, work: &(dyn Fn(usize) -> f64 + Sync)| {
            let ranges = crate::par::chunk_ranges(rows, threads);
            std::thread::scope(|s| {
                let hs: Vec<_> = ranges
                    .into_iter()
                    .map(|r| s.spawn(move || r.map(work).collect::<Vec<f64>>()))
                    .collect();
                hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
            })
        };
        let c = check_process_rows(chunks);
        assert!(c.message.contains("static scheduling"), "{}", c.message);
        let cyclic = |rows: usize, threads: usize, work: &(dyn Fn(usize) -> f64 + Sync)| {
            let mut out = vec![0.0; rows];
            let parts: Vec<Vec<(usize, f64)>> = std::thread::scope(|s| {
                let hs: Vec<_> = (0..threads)
                    .map(|t| {
                        s.spawn(move || (t..rows).step_by(threads).map(|r| (r, work(r))).collect())
                    })
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).collect()
            });
            for (r, v) in parts.into_iter().flatten() {
                out[r] = v;
            }
            out
        };
        let c = check_process_rows(cyclic);
        assert_eq!(c.status, Status::Passed, "{}", c.message);
        assert!(
            c.message.contains("cyclic static schedule"),
            "{}",
            c.message
        );
        let d = check_process_rows(dynamic);
        assert!(!d.message.contains("cyclic"), "{}", d.message);
        let unordered = |rows: usize, threads: usize, work: &(dyn Fn(usize) -> f64 + Sync)| {
            let mut v: Vec<f64> = dynamic(rows, threads, work);
            v.reverse();
            v
        };
        let c = check_process_rows(unordered);
        assert!(c.message.contains("row order"), "{}", c.message);
    }

    #[test]
    fn a_shortfall_is_explained_without_blaming_bandwidth() {
        let why = shortfall_reason(2);
        assert!(why.contains("Nor is it memory bandwidth"), "{why}");
        if cfg!(target_os = "linux") && smt_per_core().is_some_and(|k| k > 1) {
            assert!(why.contains("(SMT)"), "{why}");
        }
    }

    #[test]
    fn predicted_thread_counts_stay_few() {
        assert_eq!(predicted_counts(1), vec![1, 2]);
        assert_eq!(predicted_counts(2), vec![1, 2, 3, 4]);
        assert_eq!(predicted_counts(6), vec![1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(predicted_counts(64), vec![1, 2, 4, 8, 16, 32, 64, 66]);
    }

    #[test]
    fn predicted_speedups_right_and_wrong() {
        let cores = crate::par::available_threads();
        let right = check_predicted_speedup(|p, c| p.min(c) as f64);
        assert_eq!(right.status, Status::Passed, "{}", right.message);
        let linear = check_predicted_speedup(|p, _| p as f64);
        assert_eq!(linear.status, Status::Failed, "{}", linear.message);
        assert!(
            linear.message.contains("can run at once"),
            "{}",
            linear.message
        );
        if cores >= 2 {
            let none = check_predicted_speedup(|_, _| 1.0);
            assert_eq!(none.status, Status::Failed, "{}", none.message);
            assert!(none.message.contains("pessimistic"), "{}", none.message);
        }
        let off = check_predicted_speedup(|p, c| p.min(c) as f64 + 1.0);
        assert!(off.message.contains("is 1"), "{}", off.message);
        assert_eq!(
            check_predicted_speedup(|_, _| -> f64 { todo!() }).status,
            Status::NotDone
        );
    }
}
