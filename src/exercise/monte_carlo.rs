//! Exercises of notebook 05: a reproducible parallel π, and the Monte Carlo
//! price of a European call from given normal draws.

use super::{Check, Problem, call, finish};
use crate::kernels::{CallOption, Estimate, MC_CHUNK, Stream, pi};

/// Hits in the chunks `0..chunks` of `samples`, chunk `c` drawing from `stream(c)`.
fn hits_with(samples: u64, chunks: u64, mut stream: impl FnMut(u64) -> Stream) -> u64 {
    let mut hits = 0;
    for c in 0..chunks {
        let mut s = stream(c);
        let n = MC_CHUNK.min(samples - c * MC_CHUNK);
        for _ in 0..n {
            let (x, y) = (s.uniform(), s.uniform());
            hits += u64::from(x * x + y * y < 1.0);
        }
    }
    hits
}

/// Names the usual mistakes by recomputing what they would give.
fn diagnose_pi(samples: u64, seed: u64, got: f64, want: f64) -> String {
    let case = format!("samples = {samples}, seed = {seed}");
    if !got.is_finite() {
        return format!("for {case} you returned {got}, expected {want}");
    }
    if got == want / 4.0 {
        return format!(
            "for {case} you returned {got}, a quarter of {want}: the fraction of hits estimates π/4 — multiply by 4"
        );
    }
    let chunks = samples.div_ceil(MC_CHUNK);
    let full = samples / MC_CHUNK;
    if full < chunks && full > 0 {
        let hits = hits_with(samples, full, |c| Stream::new(seed, c)) as f64;
        if got == 4.0 * hits / samples as f64 || got == 4.0 * hits / (full * MC_CHUNK) as f64 {
            return format!(
                "for {case} you returned {got}, expected {want}: the last {} samples were never drawn — \
                 your chunks drop the remainder ({samples} is not a multiple of {MC_CHUNK})",
                samples - full * MC_CHUNK
            );
        }
    }
    if chunks > 1 {
        let same =
            4.0 * hits_with(samples, chunks, |_| Stream::new(seed, 0)) as f64 / samples as f64;
        if got == same {
            return format!(
                "for {case} you returned {got}, expected {want}: every chunk draws from stream 0, so the \
                 chunks repeat the same points — chunk c must use Stream::new(seed, c)"
            );
        }
        let mut one = Stream::new(seed, 0);
        let mut hits = 0u64;
        for _ in 0..samples {
            let (x, y) = (one.uniform(), one.uniform());
            hits += u64::from(x * x + y * y < 1.0);
        }
        if got == 4.0 * hits as f64 / samples as f64 {
            return format!(
                "for {case} you returned {got}, expected {want}: you draw all samples from one stream in \
                 order — right for one thread, but chunk c must draw from its own Stream::new(seed, c) \
                 so that the chunks can run on any thread"
            );
        }
    }
    let sigma = 4.0
        * (std::f64::consts::FRAC_PI_4 * (1.0 - std::f64::consts::FRAC_PI_4) / samples as f64)
            .sqrt();
    let k = (got - std::f64::consts::PI).abs() / sigma;
    if k > 5.0 {
        return format!(
            "for {case} you returned {got}: that is {k:.0} standard errors (σ = {sigma:.2e}) away from π — \
             not a statistical fluctuation. Expected {want}"
        );
    }
    format!(
        "for {case} you returned {got}, expected {want}: your estimate is statistically plausible \
         ({k:.1} σ from π) but not the reference value — cut the samples into chunks of MC_CHUNK \
         = {MC_CHUNK} (the last one shorter), let chunk c draw x then y from Stream::new(seed, c), \
         count x² + y² < 1, and return 4·hits/samples"
    )
}

/// Exercise 5.1: `reproducible_pi(samples, seed, threads)` estimates π from
/// `samples` points on `threads` threads, cutting the samples into chunks of
/// [`MC_CHUNK`] (the last one shorter), chunk `c` drawing `x` then `y` from
/// `Stream::new(seed, c)`; it returns `4 · hits / samples`, which must be the
/// same bits for every thread count and equal to `pi(samples, seed).value`.
pub fn check_reproducible_pi(f: impl Fn(u64, u64, usize) -> f64) -> Check {
    let cases: [(u64, u64); 6] = [
        (300_001, 42),
        (1, 1),
        (1000, 7),
        (MC_CHUNK, 3),
        (MC_CHUNK + 1, 3),
        (1_000_000, 2024),
    ];
    let outcome = (|| {
        for (samples, seed) in cases {
            let case = |t: usize| format!("samples = {samples}, seed = {seed}, threads = {t}");
            let one = call(|| f(samples, seed, 1), &case(1))?;
            for t in [2, 3, 4] {
                let other = call(|| f(samples, seed, t), &case(t))?;
                if other.to_bits() != one.to_bits() {
                    return Err(Problem::Wrong(format!(
                        "for samples = {samples}, seed = {seed} you returned {one} on 1 thread but {other} on \
                         {t}: the answer depends on the thread count — give each chunk, not each thread, \
                         its own stream, and keep the chunks the same whatever the threads"
                    )));
                }
            }
            let again = call(|| f(samples, seed, 1), &case(1))?;
            if again.to_bits() != one.to_bits() {
                return Err(Problem::Wrong(format!(
                    "two calls with samples = {samples}, seed = {seed} gave {one} and {again}: the same \
                     seed must give the same answer — is something seeded from the clock or the thread?"
                )));
            }
            let want = pi(samples, seed).expect("samples ≥ 1").value;
            if one.to_bits() != want.to_bits() {
                return Err(Problem::Wrong(diagnose_pi(samples, seed, one, want)));
            }
        }
        let a = call(|| f(100_000, 1, 2), "samples = 100000, seed = 1")?;
        let b = call(|| f(100_000, 2, 2), "samples = 100000, seed = 2")?;
        if a == b {
            return Err(Problem::Wrong(format!(
                "seeds 1 and 2 both gave {a}: the seed must change the points"
            )));
        }
        Ok(format!(
            "{} hidden cases on 1–4 threads, bit for bit equal to parlab's pi, including 1 sample and \
             sample counts that are not a multiple of MC_CHUNK = {MC_CHUNK}.",
            cases.len()
        ))
    })();
    finish("5.1 reproducible_pi", "reproducible_pi", outcome)
}

/// The reference, and variants that name the usual mistakes.
#[derive(Clone, Copy)]
enum Variant {
    Right,
    NoDiscount,
    NoDriftCorrection,
    NoRate,
    SigmaNotScaled,
    NoFloor,
    Put,
}

fn payoffs(opt: &CallOption, z: &[f64], v: Variant) -> Vec<f64> {
    let CallOption {
        spot,
        strike,
        rate,
        volatility: s,
        maturity: t,
    } = *opt;
    let drift = match v {
        Variant::NoDriftCorrection => rate * t,
        Variant::NoRate => -0.5 * s * s * t,
        _ => (rate - 0.5 * s * s) * t,
    };
    let vol = match v {
        Variant::SigmaNotScaled => s,
        _ => s * t.sqrt(),
    };
    let discount = match v {
        Variant::NoDiscount => 1.0,
        _ => (-rate * t).exp(),
    };
    z.iter()
        .map(|&z| {
            let st = spot * (drift + vol * z).exp();
            discount
                * match v {
                    Variant::NoFloor => st - strike,
                    Variant::Put => (strike - st).max(0.0),
                    _ => (st - strike).max(0.0),
                }
        })
        .collect()
}

/// Mean, sample standard error (n − 1), population standard error (n).
fn stats(p: &[f64]) -> (f64, f64, f64) {
    let n = p.len() as f64;
    let mean = p.iter().sum::<f64>() / n;
    if p.len() < 2 {
        return (mean, 0.0, 0.0);
    }
    let ss: f64 = p.iter().map(|x| (x - mean) * (x - mean)).sum();
    ((mean), (ss / (n - 1.0) / n).sqrt(), (ss / n / n).sqrt())
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= 1e-9 * scale.max(1.0)
}

/// `n` standard normals from stream `index` of `seed` (Box–Muller).
fn normals(n: usize, seed: u64, index: u64) -> Vec<f64> {
    let mut s = Stream::new(seed, index);
    let mut z = Vec::with_capacity(n + 1);
    while z.len() < n {
        let u1 = 1.0 - s.uniform();
        let u2 = s.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
        z.extend([r * cos, r * sin]);
    }
    z.truncate(n);
    z
}

/// Exercise 5.2: `call_estimate(opt, z)` prices a European call from the
/// standard normal draws `z`: `S_T = S₀·exp((r − σ²/2)T + σ√T·z)`, payoff
/// `e^(−rT)·max(S_T − K, 0)`; it returns the mean payoff, its standard error
/// (sample standard deviation / √n, 0 for a single draw) and `n`.
pub fn check_call_estimate(f: impl Fn(&CallOption, &[f64]) -> Estimate) -> Check {
    let opt = |spot, strike, rate, volatility, maturity| CallOption {
        spot,
        strike,
        rate,
        volatility,
        maturity,
    };
    let cases: Vec<(&str, CallOption, Vec<f64>)> = vec![
        (
            "an at-the-money call (S₀ = K = 100, r = 5 %, σ = 20 %, T = 1) with 20 000 draws",
            opt(100.0, 100.0, 0.05, 0.2, 1.0),
            normals(20_000, 11, 0),
        ),
        (
            "a three-month call (S₀ = 100, K = 95, r = 3 %, σ = 30 %, T = 0.25) with 5 001 draws",
            opt(100.0, 95.0, 0.03, 0.3, 0.25),
            normals(5_001, 11, 1),
        ),
        (
            "a deep out-of-the-money call (S₀ = 50, K = 150, σ = 20 %, T = 1) with 10 000 draws",
            opt(50.0, 150.0, 0.02, 0.2, 1.0),
            normals(10_000, 11, 2),
        ),
        (
            "a deep in-the-money call (S₀ = 200, K = 50, σ = 25 %, T = 2) with 10 000 draws",
            opt(200.0, 50.0, 0.04, 0.25, 2.0),
            normals(10_000, 11, 3),
        ),
        (
            "zero volatility (S₀ = 100, K = 90, r = 5 %, σ = 0, T = 1): every path ends at S₀·e^(rT)",
            opt(100.0, 90.0, 0.05, 0.0, 1.0),
            normals(1_000, 11, 4),
        ),
        (
            "zero maturity (S₀ = 110, K = 100, T = 0): the payoff is S₀ − K today",
            opt(110.0, 100.0, 0.05, 0.2, 0.0),
            normals(1_000, 11, 5),
        ),
        (
            "a single draw z = [0.5] (S₀ = K = 100, r = 5 %, σ = 20 %, T = 1)",
            opt(100.0, 100.0, 0.05, 0.2, 1.0),
            vec![0.5],
        ),
    ];
    let outcome = (|| {
        for (case, o, z) in &cases {
            let got = call(|| f(o, z), case)?;
            let (value, se, se_pop) = stats(&payoffs(o, z, Variant::Right));
            let n = z.len() as u64;
            if !close(got.value, value, value) {
                let g = got.value;
                let mut msg = format!("for {case}, your price is {g}, expected {value}");
                let (r, t) = (o.rate, o.maturity);
                let hint = [
                    (
                        Variant::NoDiscount,
                        format!(
                            ": you forgot to discount by e^(−rT) — your price is {value:.6} × e^({:.4}) ",
                            r * t
                        ),
                    ),
                    (
                        Variant::NoDriftCorrection,
                        ": the drift must be (r − σ²/2)·T; without −σ²/2 the simulated stock grows faster than \
                         the interest rate"
                            .to_string(),
                    ),
                    (
                        Variant::NoRate,
                        ": the drift must be (r − σ²/2)·T; you left out r".to_string(),
                    ),
                    (
                        Variant::SigmaNotScaled,
                        ": the random term is σ·√T·z — you used σ·z, which is only right for T = 1"
                            .to_string(),
                    ),
                    (
                        Variant::NoFloor,
                        ": the payoff is max(S_T − K, 0) — an option is not exercised when it would lose money"
                            .to_string(),
                    ),
                    (
                        Variant::Put,
                        ": that is the price of a put, max(K − S_T, 0); a call pays max(S_T − K, 0)"
                            .to_string(),
                    ),
                ]
                .into_iter()
                .find(|(v, _)| close(g, stats(&payoffs(o, z, *v)).0, g))
                .map(|(_, h)| h);
                if let Some(h) = hint {
                    msg.push_str(h.trim_end());
                } else if !g.is_finite() {
                    msg.push_str(": it is not a number");
                }
                return Err(Problem::Wrong(msg));
            }
            if got.samples != n {
                return Err(Problem::Wrong(format!(
                    "for {case}, you returned samples = {}, expected the number of draws, {n}",
                    got.samples
                )));
            }
            let s = got.std_error;
            let scale = value.abs() / (n as f64).sqrt();
            if !close(s, se, scale) {
                let sd = se * (n as f64).sqrt();
                let hint = if s.is_nan() && n == 1 {
                    ": with a single draw there is no spread to measure (n − 1 = 0) — return 0"
                        .to_string()
                } else if s.is_nan() {
                    ": it is NaN — if you compute Σp² − n·mean², rounding can make it slightly negative \
                     when every payoff is equal; clamp it at 0, or sum (p − mean)²"
                        .to_string()
                } else if close(s, se_pop, scale) {
                    format!(
                        ": that divides by n — the population standard deviation. The sample \
                         standard deviation divides the sum of squares by n − 1 = {}",
                        n - 1
                    )
                } else if close(s, sd, sd) {
                    format!(
                        ": that is the standard deviation of the payoffs; the standard error divides it by √n = √{n}"
                    )
                } else if close(s, sd * sd / n as f64, sd * sd) || close(s, sd * sd, sd * sd) {
                    ": that looks like a variance — take the square root".to_string()
                } else {
                    String::new()
                };
                return Err(Problem::Wrong(format!(
                    "for {case}, your standard error is {s}, expected {} (sample standard deviation / √n){hint}",
                    if se != 0.0 && se.abs() < 1e-6 {
                        format!("{se:.2e}")
                    } else {
                        se.to_string()
                    }
                )));
            }
        }
        Ok(format!(
            "{} hidden cases: at, deep in and deep out of the money, T ≠ 1, zero volatility, zero maturity and a single draw.",
            cases.len()
        ))
    })();
    finish("5.2 call_estimate", "call_estimate", outcome)
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;
    use crate::kernels::european_call;
    use rayon::prelude::*;

    fn good_pi(samples: u64, seed: u64, threads: usize) -> f64 {
        let chunks = samples.div_ceil(MC_CHUNK);
        let hits: u64 = crate::par::Par::threads(threads)
            .install(|| {
                (0..chunks)
                    .into_par_iter()
                    .map(|c| {
                        let mut s = Stream::new(seed, c);
                        let n = MC_CHUNK.min(samples - c * MC_CHUNK);
                        (0..n)
                            .filter(|_| {
                                let (x, y) = (s.uniform(), s.uniform());
                                x * x + y * y < 1.0
                            })
                            .count() as u64
                    })
                    .sum()
            })
            .unwrap();
        4.0 * hits as f64 / samples as f64
    }

    #[test]
    fn reproducible_pi_outcomes() {
        assert_eq!(check_reproducible_pi(good_pi).status, Status::Passed);
        assert_eq!(
            check_reproducible_pi(|_, _, _| -> f64 { todo!() }).status,
            Status::NotDone
        );
        // One stream per thread: the answer changes with the thread count.
        let per_thread = |samples: u64, seed: u64, threads: usize| {
            let ranges = crate::par::chunk_ranges(samples as usize, threads);
            let hits: u64 = ranges
                .iter()
                .enumerate()
                .map(|(t, r)| {
                    let mut s = Stream::new(seed, t as u64);
                    r.clone()
                        .filter(|_| {
                            let (x, y) = (s.uniform(), s.uniform());
                            x * x + y * y < 1.0
                        })
                        .count() as u64
                })
                .sum();
            4.0 * hits as f64 / samples as f64
        };
        let c = check_reproducible_pi(per_thread);
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("depends on the thread count"),
            "{}",
            c.message
        );
        // Dropping the remainder chunk.
        let drop = |samples: u64, seed: u64, _t: usize| {
            let full = samples / MC_CHUNK;
            4.0 * hits_with(samples, full, |c| Stream::new(seed, c)) as f64 / samples as f64
        };
        let c = check_reproducible_pi(drop);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("drop the remainder"), "{}", c.message);
        // Every chunk on stream 0.
        let same = |samples: u64, seed: u64, _t: usize| {
            4.0 * hits_with(samples, samples.div_ceil(MC_CHUNK), |_| {
                Stream::new(seed, 0)
            }) as f64
                / samples as f64
        };
        let c = check_reproducible_pi(same);
        assert!(
            c.message.contains("every chunk draws from stream 0"),
            "{}",
            c.message
        );
        // Forgetting the 4.
        let c = check_reproducible_pi(|s, seed, t| good_pi(s, seed, t) / 4.0);
        assert!(c.message.contains("multiply by 4"), "{}", c.message);
        // Seeded from the clock.
        let clock = |samples: u64, _seed: u64, t: usize| {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64;
            good_pi(samples.min(1000), nanos, t)
        };
        let c = check_reproducible_pi(clock);
        assert_eq!(c.status, Status::Failed);
    }

    fn good_call(opt: &CallOption, z: &[f64]) -> Estimate {
        let p = payoffs(opt, z, Variant::Right);
        let (value, std_error, _) = stats(&p);
        Estimate {
            value,
            std_error,
            samples: z.len() as u64,
        }
    }

    #[test]
    fn call_estimate_outcomes() {
        assert_eq!(check_call_estimate(good_call).status, Status::Passed);
        assert_eq!(
            check_call_estimate(|_: &CallOption, _: &[f64]| -> Estimate { todo!() }).status,
            Status::NotDone
        );
        let variant = |v: Variant| {
            move |opt: &CallOption, z: &[f64]| {
                let (value, std_error, _) = stats(&payoffs(opt, z, v));
                Estimate {
                    value,
                    std_error,
                    samples: z.len() as u64,
                }
            }
        };
        for (v, words) in [
            (
                Variant::NoDiscount,
                "forgot to discount by e^(−rT) — your price is 10.",
            ),
            (Variant::NoDriftCorrection, "without −σ²/2"),
            (Variant::NoRate, "you left out r"),
            (Variant::SigmaNotScaled, "σ·√T·z"),
            (Variant::NoFloor, "max(S_T − K, 0)"),
            (Variant::Put, "price of a put"),
        ] {
            let c = check_call_estimate(variant(v));
            assert_eq!(c.status, Status::Failed);
            assert!(c.message.contains(words), "{}", c.message);
        }
        // The standard deviation instead of the standard error.
        let c = check_call_estimate(|o: &CallOption, z: &[f64]| {
            let e = good_call(o, z);
            Estimate {
                std_error: e.std_error * (z.len() as f64).sqrt(),
                ..e
            }
        });
        assert!(c.message.contains("divides it by √n"), "{}", c.message);
        // The population standard deviation (÷ n), which the notebook warns against.
        let c = check_call_estimate(|o: &CallOption, z: &[f64]| {
            let (value, _, std_error) = stats(&payoffs(o, z, Variant::Right));
            Estimate {
                value,
                std_error,
                samples: z.len() as u64,
            }
        });
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("population standard deviation"),
            "{}",
            c.message
        );
        // The naive variance formula, unclamped, with n − 1 even for n = 1.
        let naive = |o: &CallOption, z: &[f64]| {
            let p = payoffs(o, z, Variant::Right);
            let n = p.len() as f64;
            let (s, s2) = p.iter().fold((0.0, 0.0), |(a, b), x| (a + x, b + x * x));
            let mean = s / n;
            Estimate {
                value: mean,
                std_error: ((s2 - n * mean * mean) / (n - 1.0) / n).sqrt(),
                samples: p.len() as u64,
            }
        };
        let c = check_call_estimate(naive);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("NaN"), "{}", c.message);
    }

    #[test]
    fn reference_matches_the_kernel_statistically() {
        // The checker's reference and parlab's european_call price the same option.
        let o = CallOption {
            spot: 100.0,
            strike: 100.0,
            rate: 0.05,
            volatility: 0.2,
            maturity: 1.0,
        };
        let mine = good_call(&o, &normals(200_000, 5, 0));
        let kernel = european_call(&o, 200_000, 5).unwrap();
        assert!((mine.value - kernel.value).abs() < 4.0 * (mine.std_error + kernel.std_error));
        assert!((mine.std_error / kernel.std_error - 1.0).abs() < 0.02);
    }
}
