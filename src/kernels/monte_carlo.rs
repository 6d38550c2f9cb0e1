//! Monte Carlo: π from random points, and a European call option under
//! geometric Brownian motion checked against the Black–Scholes formula.
//!
//! # Reproducible in parallel
//! The samples are cut into fixed chunks of [`MC_CHUNK`] samples. Chunk `c`
//! draws from its own stream: the xoshiro256++ generator seeded with `seed`
//! and advanced by `c` jumps of 2¹²⁸ steps, so the streams never overlap. The
//! chunks, their streams and the order in which their results are combined
//! depend only on `samples` and `seed` — not on the threads — so [`par_pi`]
//! and [`par_european_call`] return the *same bits* as [`pi`] and
//! [`european_call`] for every thread count.
//!
//! Giving each *thread* a generator instead (`thread_rng`-style) would make the
//! answer change with the thread count and from run to run.
//!
//! The estimates are computed in `f64`: their statistical error (≈ 1/√n)
//! dwarfs the difference between `f32` and `f64` arithmetic, and 24-bit `f32`
//! uniforms would bias the tails.

use crate::error::{Error, ErrorKind, Result};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::{Rng, SeedableRng};
use rayon::prelude::*;

/// Samples per random stream (and per parallel task).
pub const MC_CHUNK: u64 = 1 << 16;

/// A Monte Carlo estimate with its standard error (`value ± 2·std_error` is a
/// ≈ 95 % confidence interval).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The estimate.
    pub value: f64,
    /// The standard error of the estimate: the sample standard deviation / √n.
    pub std_error: f64,
    /// How many samples (points, paths) it used.
    pub samples: u64,
}

impl Estimate {
    /// The ≈ 95 % confidence interval `value ± 1.96·std_error`.
    pub fn interval95(&self) -> (f64, f64) {
        let h = 1.96 * self.std_error;
        (self.value - h, self.value + h)
    }

    /// Shows the estimate in a notebook (instead of its `Debug` form).
    pub fn evcxr_display(&self) {
        crate::display::emit(
            "text/html",
            &format!("<p>{}</p>", crate::display::escape_html(&self.to_string())),
        );
    }
}

impl std::fmt::Display for Estimate {
    /// `3.14159 ± 0.00164 (1 standard error; 95 % interval 3.13838 … 3.14480) from 1 000 000 samples`,
    /// with as many digits as the standard error supports.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = if self.std_error > 0.0 && self.std_error.is_finite() {
            ((-self.std_error.log10()).ceil() as i64 + 1).clamp(1, 15) as usize
        } else {
            6
        };
        let (lo, hi) = self.interval95();
        write!(
            f,
            "{:.digits$} ± {:.digits$} (1 standard error; 95 % interval {lo:.digits$} … {hi:.digits$}) from {} samples",
            self.value,
            self.std_error,
            crate::report::fmt_count(self.samples)
        )
    }
}

/// A European call option on a stock following geometric Brownian motion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallOption {
    /// Stock price today, `S₀ > 0`.
    pub spot: f64,
    /// Strike price `K > 0`.
    pub strike: f64,
    /// Risk-free interest rate `r` per year, continuously compounded.
    pub rate: f64,
    /// Volatility `σ ≥ 0` per √year.
    pub volatility: f64,
    /// Time to maturity `T ≥ 0` in years.
    pub maturity: f64,
}

impl CallOption {
    fn check(&self) -> Result<()> {
        let ok = self.spot.is_finite()
            && self.spot > 0.0
            && self.strike.is_finite()
            && self.strike > 0.0
            && self.rate.is_finite()
            && self.volatility.is_finite()
            && self.volatility >= 0.0
            && self.maturity.is_finite()
            && self.maturity >= 0.0;
        if ok {
            Ok(())
        } else {
            Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "invalid option: need spot > 0, strike > 0, volatility ≥ 0, maturity ≥ 0, all finite; got {self:?}"
                ),
            ))
        }
    }
}

/// The most samples (points, paths) one call accepts: 2⁴⁰ ≈ 1.1·10¹².
///
/// Measured on one core of an AMD EPYC (release build): ≈ 5 ns per point of
/// [`pi`], ≈ 36 ns per path of [`european_call`], so 2⁴⁰ is 1.5 and 11 hours
/// of one core's time. A larger count is almost surely a mistake (`u64::MAX`,
/// a negative number cast to `u64`) that would run for years.
const MAX_SAMPLES: u64 = 1 << 40;

/// `what` is the function's name, `unit` what it counts ("points", "paths").
fn check_samples(samples: u64, what: &str, unit: &str) -> Result<()> {
    if samples == 0 {
        Err(Error::new(
            ErrorKind::InvalidInput,
            "samples must be at least 1, got 0",
        ))
    } else if samples > MAX_SAMPLES {
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what} needs at most {MAX_SAMPLES} {unit} per call (2^40), got {samples}"),
        ))
    } else {
        Ok(())
    }
}

/// A reproducible random stream: stream `index` of `seed`.
///
/// It is the xoshiro256++ generator seeded with `seed` and advanced by `index`
/// jumps of 2¹²⁸ steps, so different indices never overlap. Chunk `c` of
/// [`pi`], [`par_pi`], [`european_call`] and [`par_european_call`] draws from
/// `Stream::new(seed, c)`: a notebook can rebuild their estimates, or give
/// each chunk (or, for contrast, each thread) a stream of its own.
///
/// Time: `new` is O(`index`) (≈ 1 µs per jump); `uniform` a few ns.
///
/// ```
/// use parlab::kernels::{MC_CHUNK, Stream, pi};
/// // Chunk 0 of `pi(MC_CHUNK, 42)` draws x, y, x, y, … from stream 0:
/// let mut s = Stream::new(42, 0);
/// let hits = (0..MC_CHUNK).filter(|_| {
///     let (x, y) = (s.uniform(), s.uniform());
///     x * x + y * y < 1.0
/// }).count();
/// assert_eq!(4.0 * hits as f64 / MC_CHUNK as f64, pi(MC_CHUNK, 42)?.value);
/// // Same seed and index, same numbers; another index, other numbers.
/// assert_eq!(Stream::new(7, 3).uniform(), Stream::new(7, 3).uniform());
/// assert_ne!(Stream::new(7, 3).uniform(), Stream::new(7, 4).uniform());
/// # Ok::<(), parlab::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Stream(Xoshiro256PlusPlus);

impl Stream {
    /// Stream `index` of `seed`.
    pub fn new(seed: u64, index: u64) -> Stream {
        let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
        for _ in 0..index {
            g.jump();
        }
        Stream(g)
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// A uniform number in [0, 1), from the top 53 bits.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        uniform(&mut self.0)
    }
}

/// Chunks whose generators are made, and whose results are kept, at a time:
/// memory stays bounded (≈ 160 KiB) whatever the sample count.
const BLOCK_CHUNKS: u64 = 4096;

/// Uniform in [0, 1) from the top 53 bits.
#[inline(always)]
fn uniform(g: &mut Xoshiro256PlusPlus) -> f64 {
    (g.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// Runs `chunk(generator, n)` for every chunk of `samples` (chunk `c` draws
/// from the seed's stream jumped `c` times, `n` = its sample count) and folds
/// the results with `fold` in chunk order, whatever the threads.
///
/// The chunks go in blocks of `block_chunks` ([`BLOCK_CHUNKS`]): a block's generators are made
/// serially, its chunks run (in parallel when `parallel`), then its results
/// are folded in order before the next block starts. A left fold continued
/// block after block is the same fold, so the answer has the same bits as
/// folding all chunks at once.
///
/// Only the chunks in `range` run (all of them: `0..samples.div_ceil(MC_CHUNK)`);
/// a distributed run gives each rank a range of chunks (see [`crate::dist`]).
#[allow(clippy::too_many_arguments)]
fn run<P: Send, A>(
    samples: u64,
    seed: u64,
    parallel: bool,
    block_chunks: u64,
    range: std::ops::Range<u64>,
    chunk: impl Fn(Xoshiro256PlusPlus, u64) -> P + Sync + Send,
    init: A,
    mut fold: impl FnMut(A, P) -> A,
) -> A {
    let chunks = range.end.min(samples.div_ceil(MC_CHUNK));
    let capacity = block_chunks.min(chunks.saturating_sub(range.start)) as usize;
    let mut block: Vec<(Xoshiro256PlusPlus, u64)> = Vec::with_capacity(capacity);
    let mut results: Vec<P> = Vec::with_capacity(capacity);
    let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
    for _ in 0..range.start.min(chunks) {
        g.jump();
    }
    let mut acc = init;
    let mut first = range.start;
    while first < chunks {
        let end = chunks.min(first + block_chunks);
        block.clear();
        for c in first..end {
            block.push((g.clone(), MC_CHUNK.min(samples - c * MC_CHUNK)));
            g.jump();
        }
        if parallel {
            block
                .par_drain(..)
                .map(|(g, n)| chunk(g, n))
                .collect_into_vec(&mut results);
        } else {
            results.clear();
            results.extend(block.drain(..).map(|(g, n)| chunk(g, n)));
        }
        for p in results.drain(..) {
            acc = fold(acc, p);
        }
        first = end;
    }
    acc
}

/// Points inside the quarter circle among the chunks `range` of `pi(samples,
/// seed)`; a sum of integers, so any split of the chunks adds up exactly.
fn pi_hits_impl(
    samples: u64,
    seed: u64,
    parallel: bool,
    block_chunks: u64,
    range: std::ops::Range<u64>,
) -> u64 {
    let count = |mut g: Xoshiro256PlusPlus, n: u64| {
        let mut inside = 0u64;
        for _ in 0..n {
            let (x, y) = (uniform(&mut g), uniform(&mut g));
            inside += u64::from(x * x + y * y < 1.0);
        }
        inside
    };
    run(
        samples,
        seed,
        parallel,
        block_chunks,
        range,
        count,
        0u64,
        |a, x| a + x,
    )
}

/// The chunks `range` of `pi(samples, seed)`, on the current rayon pool:
/// their count of points inside.
pub(crate) fn pi_hits(samples: u64, seed: u64, range: std::ops::Range<u64>) -> Result<u64> {
    check_samples(samples, "pi_hits", "points")?;
    Ok(pi_hits_impl(samples, seed, true, BLOCK_CHUNKS, range))
}

fn pi_impl(samples: u64, seed: u64, parallel: bool, block_chunks: u64) -> Result<Estimate> {
    check_samples(samples, if parallel { "par_pi" } else { "pi" }, "points")?;
    let inside = pi_hits_impl(samples, seed, parallel, block_chunks, 0..u64::MAX);
    Ok(pi_estimate(inside, samples))
}

/// The estimate of π from `inside` points of `samples` (`samples` ≥ 1).
pub(crate) fn pi_estimate(inside: u64, samples: u64) -> Estimate {
    let p = inside as f64 / samples as f64;
    Estimate {
        value: 4.0 * p,
        std_error: 4.0 * (p * (1.0 - p) / samples as f64).sqrt(),
        samples,
    }
}

/// π from `samples` random points in the unit square: 4 × the fraction that
/// falls inside the quarter circle. Serial.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when `samples` is 0 or more than 2⁴⁰
/// (≈ 1.1·10¹², over an hour of one core's time: a larger count is taken for
/// a mistake such as `u64::MAX`), with a message naming the count.
///
/// Memory: O(1) — the chunks' generators are made a few thousand at a time.
///
/// Time: O(samples), ≈ 2 random numbers per sample.
///
/// ```
/// let e = parlab::kernels::pi(1_000_000, 42)?;
/// assert!((e.value - std::f64::consts::PI).abs() < 4.0 * e.std_error);
/// assert_eq!(e, parlab::kernels::pi(1_000_000, 42)?); // same seed, same answer
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn pi(samples: u64, seed: u64) -> Result<Estimate> {
    pi_impl(samples, seed, false, BLOCK_CHUNKS)
}

/// [`pi`] in parallel on the current rayon pool; bit-identical to [`pi`] for
/// every thread count.
///
/// # Errors
/// As [`pi`].
///
/// Time: O(samples / threads).
///
/// ```
/// let serial = parlab::kernels::pi(300_000, 7)?;
/// for t in 1..=4 {
///     let p = parlab::par::with_threads(t, || parlab::kernels::par_pi(300_000, 7))?;
///     assert_eq!(p, serial);
/// }
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_pi(samples: u64, seed: u64) -> Result<Estimate> {
    pi_impl(samples, seed, true, BLOCK_CHUNKS)
}

/// The per-chunk sums (Σ payoff, Σ payoff²) of a call's paths.
fn call_chunk(opt: &CallOption) -> impl Fn(Xoshiro256PlusPlus, u64) -> (f64, f64) + Sync + Send {
    let CallOption {
        spot,
        strike,
        rate,
        volatility: sigma,
        maturity: t,
    } = *opt;
    let drift = (rate - 0.5 * sigma * sigma) * t;
    let vol = sigma * t.sqrt();
    let discount = (-rate * t).exp();
    let payoff = move |z: f64| discount * (spot * (drift + vol * z).exp() - strike).max(0.0);
    move |mut g: Xoshiro256PlusPlus, n: u64| {
        let (mut s, mut s2) = (0.0f64, 0.0f64);
        let mut left = n;
        while left > 0 {
            // Box–Muller: two independent normals from two uniforms.
            let u1 = ((g.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64);
            let u2 = uniform(&mut g);
            let r = (-2.0 * u1.ln()).sqrt();
            let (sin, cos) = (std::f64::consts::TAU * u2).sin_cos();
            for z in [r * cos, r * sin].into_iter().take(left.min(2) as usize) {
                let p = payoff(z);
                s += p;
                s2 += p * p;
            }
            left = left.saturating_sub(2);
        }
        (s, s2)
    }
}

fn call_impl(
    opt: &CallOption,
    paths: u64,
    seed: u64,
    parallel: bool,
    block_chunks: u64,
) -> Result<Estimate> {
    opt.check()?;
    let what = if parallel {
        "par_european_call"
    } else {
        "european_call"
    };
    check_samples(paths, what, "paths")?;
    // Combined in chunk order: the same for every thread count.
    let (s, s2) = run(
        paths,
        seed,
        parallel,
        block_chunks,
        0..u64::MAX,
        call_chunk(opt),
        (0.0, 0.0),
        |(a, b), (x, y)| (a + x, b + y),
    );
    Ok(call_estimate(s, s2, paths))
}

/// The (Σ payoff, Σ payoff²) of each chunk in `range` of
/// `european_call(opt, paths, seed)`, in chunk order, on the current rayon
/// pool. Folded left to right from `(0, 0)` over all chunks they give the
/// bits of [`european_call`].
pub(crate) fn call_chunk_sums(
    opt: &CallOption,
    paths: u64,
    seed: u64,
    range: std::ops::Range<u64>,
) -> Result<Vec<(f64, f64)>> {
    opt.check()?;
    check_samples(paths, "call_chunk_sums", "paths")?;
    Ok(run(
        paths,
        seed,
        true,
        BLOCK_CHUNKS,
        range,
        call_chunk(opt),
        Vec::new(),
        |mut v, p| {
            v.push(p);
            v
        },
    ))
}

/// The estimate from the sums of all `paths` payoffs and their squares.
pub(crate) fn call_estimate(s: f64, s2: f64, paths: u64) -> Estimate {
    let n = paths as f64;
    let mean = s / n;
    let var = if paths > 1 {
        ((s2 - n * mean * mean) / (n - 1.0)).max(0.0)
    } else {
        0.0
    };
    Estimate {
        value: mean,
        std_error: (var / n).sqrt(),
        samples: paths,
    }
}

/// Price of a European call by Monte Carlo: the discounted mean payoff
/// `e^{-rT}·max(S_T − K, 0)` over `paths` simulated prices
/// `S_T = S₀·exp((r − σ²/2)T + σ√T·Z)`, `Z` standard normal (Box–Muller).
/// Serial.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when `paths` is 0 or more than 2⁴⁰ (as for
/// [`pi`]), or the option's parameters are out of range (see [`CallOption`]).
///
/// Time: O(paths), one `exp` per path and a `ln`, `sqrt`, `sin_cos` per two.
///
/// ```
/// use parlab::kernels::{CallOption, black_scholes_call, european_call};
/// let opt = CallOption { spot: 100.0, strike: 105.0, rate: 0.03, volatility: 0.2, maturity: 1.0 };
/// let mc = european_call(&opt, 200_000, 1)?;
/// let exact = black_scholes_call(&opt)?;
/// assert!((mc.value - exact).abs() < 4.0 * mc.std_error, "{mc:?} vs {exact}");
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn european_call(opt: &CallOption, paths: u64, seed: u64) -> Result<Estimate> {
    call_impl(opt, paths, seed, false, BLOCK_CHUNKS)
}

/// [`european_call`] in parallel on the current rayon pool; bit-identical to
/// it for every thread count.
///
/// # Errors
/// As [`european_call`].
///
/// Time: O(paths / threads).
///
/// ```
/// use parlab::kernels::{CallOption, european_call, par_european_call};
/// let opt = CallOption { spot: 50.0, strike: 50.0, rate: 0.01, volatility: 0.3, maturity: 0.5 };
/// let serial = european_call(&opt, 150_001, 9)?;
/// let par = parlab::par::with_threads(3, || par_european_call(&opt, 150_001, 9))?;
/// assert_eq!(serial, par);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn par_european_call(opt: &CallOption, paths: u64, seed: u64) -> Result<Estimate> {
    call_impl(opt, paths, seed, true, BLOCK_CHUNKS)
}

/// The standard normal distribution function Φ(x), by Marsaglia's series
/// (2004): absolute error ≈ 1e-15.
fn normal_cdf(x: f64) -> f64 {
    if x < -38.0 {
        return 0.0;
    }
    if x > 38.0 {
        return 1.0;
    }
    let (mut s, mut t, mut b) = (x, 0.0, x);
    let q = x * x;
    let mut i = 1.0;
    while s != t {
        t = s;
        i += 2.0;
        b *= q / i;
        s = t + b;
    }
    (0.5 + s * (-0.5 * q - 0.918_938_533_204_672_8).exp()).clamp(0.0, 1.0)
}

/// The Black–Scholes price of a European call:
/// `S₀·Φ(d₁) − K·e^{-rT}·Φ(d₂)`, `d₁,₂ = (ln(S₀/K) + (r ± σ²/2)T) / (σ√T)`.
/// With `σ√T = 0` the price is the discounted intrinsic value
/// `max(S₀ − K·e^{-rT}, 0)`.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when a parameter is out of range (see
/// [`CallOption`]).
///
/// Time: O(1).
///
/// ```
/// use parlab::kernels::{CallOption, black_scholes_call};
/// // Hull's textbook example: S=42, K=40, r=10 %, σ=20 %, T=0.5 → 4.76.
/// let opt = CallOption { spot: 42.0, strike: 40.0, rate: 0.1, volatility: 0.2, maturity: 0.5 };
/// assert!((black_scholes_call(&opt)? - 4.7594).abs() < 1e-4);
/// # Ok::<(), parlab::Error>(())
/// ```
pub fn black_scholes_call(opt: &CallOption) -> Result<f64> {
    opt.check()?;
    let CallOption {
        spot,
        strike,
        rate,
        volatility,
        maturity,
    } = *opt;
    let discounted_strike = strike * (-rate * maturity).exp();
    let sd = volatility * maturity.sqrt();
    if sd == 0.0 {
        return Ok((spot - discounted_strike).max(0.0));
    }
    let d1 = ((spot / strike).ln() + (rate + 0.5 * volatility * volatility) * maturity) / sd;
    let d2 = d1 - sd;
    Ok(spot * normal_cdf(d1) - discounted_strike * normal_cdf(d2))
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPT: CallOption = CallOption {
        spot: 100.0,
        strike: 100.0,
        rate: 0.02,
        volatility: 0.2,
        maturity: 1.0,
    };

    #[test]
    fn huge_counts_are_an_error_naming_the_count_not_an_abort() {
        for samples in [u64::MAX, MAX_SAMPLES + 1, -1i64 as u64] {
            let cases: [(&str, Result<Estimate>); 4] = [
                ("pi", pi(samples, 1)),
                ("par_pi", par_pi(samples, 1)),
                ("european_call", european_call(&OPT, samples, 1)),
                ("par_european_call", par_european_call(&OPT, samples, 1)),
            ];
            for (what, r) in cases {
                let e = r.unwrap_err();
                assert_eq!(e.kind(), ErrorKind::InvalidInput, "{what}");
                let unit = if what.ends_with("pi") {
                    "points"
                } else {
                    "paths"
                };
                assert_eq!(
                    e.to_string(),
                    format!(
                        "{what} needs at most 1099511627776 {unit} per call (2^40), got {samples}"
                    )
                );
            }
        }
    }

    /// The reference: every chunk's generator made up front, results folded
    /// in chunk order (the implementation before blocks).
    fn pi_all_at_once(samples: u64, seed: u64) -> f64 {
        let mut g = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut inside = 0u64;
        for c in 0..samples.div_ceil(MC_CHUNK) {
            let mut s = g.clone();
            g.jump();
            for _ in 0..MC_CHUNK.min(samples - c * MC_CHUNK) {
                let (x, y) = (uniform(&mut s), uniform(&mut s));
                inside += u64::from(x * x + y * y < 1.0);
            }
        }
        4.0 * (inside as f64 / samples as f64)
    }

    #[test]
    fn blocks_of_chunks_fold_like_all_chunks_at_once() {
        // Blocks of 3 chunks: several blocks, the last block and chunk partial.
        for samples in [1, MC_CHUNK, 3 * MC_CHUNK, 7 * MC_CHUNK + 17] {
            let want = pi_all_at_once(samples, 5);
            assert_eq!(pi_impl(samples, 5, false, 3).unwrap().value, want);
            assert_eq!(pi(samples, 5).unwrap().value, want);
            let par = crate::par::with_threads(2, || pi_impl(samples, 5, true, 3));
            assert_eq!(par.unwrap().value, want);
            // The call's floating-point fold: blocks of 3 or 1 against one block.
            let one_block = call_impl(&OPT, samples, 8, false, BLOCK_CHUNKS).unwrap();
            for block in [1, 3] {
                assert_eq!(
                    call_impl(&OPT, samples, 8, false, block).unwrap(),
                    one_block
                );
                let par = crate::par::with_threads(3, || call_impl(&OPT, samples, 8, true, block));
                assert_eq!(par.unwrap(), one_block);
            }
        }
    }

    #[test]
    fn an_estimate_reads_with_the_digits_its_error_supports() {
        let e = Estimate {
            value: 1.234_567,
            std_error: 0.001_64,
            samples: 1_000_000,
        };
        let t = e.to_string();
        assert!(
            t.starts_with("1.2346 ± 0.0016 (1 standard error; 95 % interval 1.2314 … 1.2378)"),
            "{t}"
        );
        assert!(t.ends_with("from 1 000 000 samples"), "{t}");
    }

    #[test]
    fn the_largest_count_is_accepted() {
        assert!(check_samples(MAX_SAMPLES, "pi", "points").is_ok());
        assert!(check_samples(1, "pi", "points").is_ok());
    }

    #[test]
    fn normal_cdf_known_values() {
        assert_eq!(normal_cdf(0.0), 0.5);
        assert!((normal_cdf(1.0) - 0.841_344_746_068_542_9).abs() < 1e-15);
        assert!((normal_cdf(-1.959_963_984_540_054) - 0.025).abs() < 1e-15);
        assert!((normal_cdf(3.0) + normal_cdf(-3.0) - 1.0).abs() < 1e-15);
    }
}
