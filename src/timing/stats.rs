//! Statistics of timing samples, written out so they can be read and tested.
//!
//! Nothing here knows about clocks, display or plotting: every function takes
//! plain `f64` values (seconds, speedups, …) and returns plain values.
//!
//! ```
//! use parlab::timing::stats::Summary;
//! let s = Summary::new(&[1.0, 2.0, 3.0, 4.0, 100.0]).unwrap();
//! assert_eq!(s.median, 3.0);
//! assert_eq!((s.q1, s.q3), (2.0, 4.0));
//! assert_eq!(s.outliers.high_severe, 1); // 100 is far beyond Q3 + 3·IQR
//! ```

use crate::error::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// The `p`-quantile (0 ≤ p ≤ 1) of **sorted** values, interpolating linearly
/// between order statistics (Hyndman & Fan type 7, NumPy's and R's default).
///
/// # Panics
/// When `sorted` is empty.
///
/// ```
/// use parlab::timing::stats::quantile;
/// assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.25), 1.75);
/// ```
pub fn quantile(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty sample");
    let p = p.clamp(0.0, 1.0);
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// The median of values in any order.
///
/// # Panics
/// When `xs` is empty.
pub fn median(xs: &[f64]) -> f64 {
    quantile(&sorted(xs), 0.5)
}

/// The arithmetic mean (NaN for an empty slice).
pub fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// The sample standard deviation (divisor `n − 1`; 0 for fewer than two values).
pub fn std_dev(xs: &[f64]) -> f64 {
    if xs.len() < 2 {
        return 0.0;
    }
    let m = mean(xs);
    let ss: f64 = xs.iter().map(|x| (x - m) * (x - m)).sum();
    (ss / (xs.len() - 1) as f64).sqrt()
}

fn sorted(xs: &[f64]) -> Vec<f64> {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// Counts of Tukey outliers: beyond 1.5·IQR from the quartiles is mild, beyond
/// 3·IQR severe (each value counts in one class only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Outliers {
    /// Below Q1 − 3·IQR.
    pub low_severe: usize,
    /// Between Q1 − 3·IQR and Q1 − 1.5·IQR.
    pub low_mild: usize,
    /// Between Q3 + 1.5·IQR and Q3 + 3·IQR.
    pub high_mild: usize,
    /// Above Q3 + 3·IQR.
    pub high_severe: usize,
}

impl Outliers {
    /// Classifies `xs` against the fences of quartiles `q1`, `q3`.
    pub fn classify(xs: &[f64], q1: f64, q3: f64) -> Outliers {
        let iqr = q3 - q1;
        let mut o = Outliers::default();
        for &x in xs {
            if x < q1 - 3.0 * iqr {
                o.low_severe += 1;
            } else if x < q1 - 1.5 * iqr {
                o.low_mild += 1;
            } else if x > q3 + 3.0 * iqr {
                o.high_severe += 1;
            } else if x > q3 + 1.5 * iqr {
                o.high_mild += 1;
            }
        }
        o
    }

    /// All outliers, mild and severe.
    pub fn total(&self) -> usize {
        self.low_severe + self.low_mild + self.high_mild + self.high_severe
    }
}

/// Everything parlab reports about a set of samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of samples.
    pub n: usize,
    /// Smallest sample.
    pub min: f64,
    /// Largest sample.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (type-7 quantile 0.5).
    pub median: f64,
    /// Sample standard deviation (divisor n − 1).
    pub std_dev: f64,
    /// First quartile.
    pub q1: f64,
    /// Third quartile.
    pub q3: f64,
    /// Interquartile range, `q3 − q1`.
    pub iqr: f64,
    /// Tukey outlier counts.
    pub outliers: Outliers,
    /// Bootstrap confidence interval of the median: `(low, high)`.
    pub median_ci: (f64, f64),
    /// Confidence level of [`median_ci`](Self::median_ci), e.g. 0.95.
    pub confidence: f64,
}

impl Summary {
    /// Summarises `xs` with a 95 % bootstrap interval of the median from 2 000
    /// resamples and a fixed seed, so the same samples give the same summary.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when `xs` is empty or holds a NaN or an infinity.
    pub fn new(xs: &[f64]) -> Result<Summary> {
        Summary::with_confidence(xs, 0.95, 2000)
    }

    /// As [`Summary::new`] with a chosen confidence level and number of resamples.
    ///
    /// # Errors
    /// As [`Summary::new`]; also when `confidence` is not strictly between 0 and 1
    /// or `resamples` is 0.
    pub fn with_confidence(xs: &[f64], confidence: f64, resamples: usize) -> Result<Summary> {
        if xs.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "no samples to summarise",
            ));
        }
        if let Some(i) = xs.iter().position(|x| !x.is_finite()) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("sample {i} is {}, not a finite number", xs[i]),
            ));
        }
        let s = sorted(xs);
        let (q1, median, q3) = (quantile(&s, 0.25), quantile(&s, 0.5), quantile(&s, 0.75));
        Ok(Summary {
            n: xs.len(),
            min: s[0],
            max: s[s.len() - 1],
            mean: mean(xs),
            median,
            std_dev: std_dev(xs),
            q1,
            q3,
            iqr: q3 - q1,
            outliers: Outliers::classify(xs, q1, q3),
            median_ci: bootstrap_median_ci(xs, confidence, resamples, 0x5eed)?,
            confidence,
        })
    }
}

/// Percentile-bootstrap confidence interval of the median: resample `xs` with
/// replacement `resamples` times, take each resample's median, return the
/// `(1 − confidence)/2` and `(1 + confidence)/2` quantiles of those medians.
///
/// The interval always lies within `[min, max]` of the samples. With 7 samples it
/// is wide: that is honest, not a bug.
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for an empty sample, `resamples == 0` or a
/// confidence outside (0, 1).
pub fn bootstrap_median_ci(
    xs: &[f64],
    confidence: f64,
    resamples: usize,
    seed: u64,
) -> Result<(f64, f64)> {
    if xs.is_empty() || resamples == 0 || !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "bootstrap needs samples, resamples ≥ 1 and 0 < confidence < 1; got {} samples, {resamples} resamples, confidence {confidence}",
                xs.len()
            ),
        ));
    }
    let mut rng = SplitMix64::new(seed);
    let mut buf = vec![0.0; xs.len()];
    let mut medians = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for b in buf.iter_mut() {
            *b = xs[rng.below(xs.len())];
        }
        buf.sort_by(f64::total_cmp);
        medians.push(quantile(&buf, 0.5));
    }
    medians.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence) / 2.0;
    Ok((quantile(&medians, alpha), quantile(&medians, 1.0 - alpha)))
}

/// A bootstrap interval of a figure derived from the medians of several
/// samples (a speed-up is the ratio of two medians; Amdahl's serial fraction
/// a fit to several): each resample draws every group with replacement, takes
/// each group's median and computes `statistic` on those medians; the interval
/// is the central `confidence` share of the results. Resamples where
/// `statistic` gives `None` or a non-finite value are left out; `None` when
/// fewer than half remain, or a group is empty.
///
/// ```
/// use parlab::timing::stats::bootstrap_medians_ci;
/// let base = [10.0, 10.2, 9.9, 10.1, 10.0];
/// let fast = [5.0, 5.1, 4.9, 5.0, 5.2];
/// let (lo, hi) = bootstrap_medians_ci(&[&base, &fast], |m| Some(m[0] / m[1]), 0.95, 1000, 1).unwrap();
/// assert!(lo <= 2.0 && 2.0 <= hi && hi - lo < 0.2, "{lo} … {hi}");
/// ```
pub fn bootstrap_medians_ci(
    groups: &[&[f64]],
    statistic: impl Fn(&[f64]) -> Option<f64>,
    confidence: f64,
    resamples: usize,
    seed: u64,
) -> Option<(f64, f64)> {
    if groups.iter().any(|g| g.is_empty()) || !(confidence > 0.0 && confidence < 1.0) {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let mut medians = vec![0.0; groups.len()];
    let mut buf = Vec::new();
    let mut stats = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        for (m, g) in medians.iter_mut().zip(groups) {
            buf.clear();
            buf.extend((0..g.len()).map(|_| g[rng.below(g.len())]));
            buf.sort_by(f64::total_cmp);
            *m = quantile(&buf, 0.5);
        }
        if let Some(x) = statistic(&medians).filter(|x| x.is_finite()) {
            stats.push(x);
        }
    }
    if stats.len() * 2 < resamples.max(1) {
        return None;
    }
    stats.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence) / 2.0;
    Some((quantile(&stats, alpha), quantile(&stats, 1.0 - alpha)))
}

/// SplitMix64 (Steele, Lea & Flood 2014): a tiny, fast, seedable generator, good
/// enough for bootstrap resampling. Not for cryptography.
///
/// ```
/// use parlab::timing::stats::SplitMix64;
/// let mut a = SplitMix64::new(1);
/// let mut b = SplitMix64::new(1);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert!(a.below(10) < 10);
/// ```
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator started from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A uniform integer in `0..n` (Lemire's multiply-shift; bias below 2⁻³²
    /// for the sizes used here). Returns 0 when `n` is 0.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }
}

/// Least-squares fit of Amdahl's law to measured speedups.
///
/// Amdahl: with serial fraction `s`, the speedup on `p` threads is
/// `1 / (s + (1 − s)/p)`, so `1/speedup − 1/p = s·(1 − 1/p)`: a line through the
/// origin in `x = 1 − 1/p`, fitted here by least squares. Returns `None` when no
/// point has `p > 1`. The value is not clamped: a negative fraction means
/// super-linear speedup (caches), above 1 a slowdown.
///
/// ```
/// use parlab::timing::stats::amdahl_serial_fraction;
/// let s = 0.1;
/// let pts: Vec<(usize, f64)> = [1, 2, 4, 8]
///     .iter()
///     .map(|&p| (p, 1.0 / (s + (1.0 - s) / p as f64)))
///     .collect();
/// assert!((amdahl_serial_fraction(&pts).unwrap() - 0.1).abs() < 1e-12);
/// ```
pub fn amdahl_serial_fraction(points: &[(usize, f64)]) -> Option<f64> {
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for &(p, speedup) in points {
        if p == 0 || speedup <= 0.0 || !speedup.is_finite() {
            continue;
        }
        let inv_p = 1.0 / p as f64;
        let x = 1.0 - inv_p;
        let y = 1.0 / speedup - inv_p;
        sxy += x * y;
        sxx += x * x;
    }
    (sxx > 0.0).then(|| sxy / sxx)
}

/// Amdahl's predicted speedup on `p` threads for serial fraction `s`.
pub fn amdahl_speedup(s: f64, p: usize) -> f64 {
    1.0 / (s + (1.0 - s) / p as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn textbook_values() {
        // Values checked with NumPy: np.percentile(x, [25, 50, 75]), np.std(x, ddof=1).
        let x = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let s = Summary::new(&x).unwrap();
        assert_eq!(s.mean, 5.0);
        assert!(close(s.std_dev, (32.0f64 / 7.0).sqrt()), "{}", s.std_dev);
        assert_eq!((s.q1, s.median, s.q3), (4.0, 4.5, 5.5));
        assert_eq!(s.iqr, 1.5);
        assert_eq!((s.min, s.max), (2.0, 9.0));
        // Fences 1.75 / 7.75 (mild), −0.5 / 10 (severe): 9 is a mild high outlier.
        assert_eq!(
            s.outliers,
            Outliers {
                high_mild: 1,
                ..Outliers::default()
            }
        );
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        assert_eq!(quantile(&x, 0.25), 2.5);
        assert_eq!(quantile(&x, 0.5), 4.0);
        assert_eq!(quantile(&x, 0.75), 5.5);
        assert_eq!(quantile(&x, 0.1), 1.6);
        assert_eq!(median(&[3.0, 1.0]), 2.0);
        assert_eq!(median(&[42.0]), 42.0);
    }

    #[test]
    fn bad_input_is_refused() {
        assert_eq!(
            Summary::new(&[]).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        let e = Summary::new(&[1.0, f64::NAN]).unwrap_err();
        assert!(e.to_string().contains("sample 1 is NaN"), "{e}");
        assert!(bootstrap_median_ci(&[1.0], 1.0, 10, 0).is_err());
    }

    #[test]
    fn constant_samples_have_a_point_interval() {
        let s = Summary::new(&[3.0; 7]).unwrap();
        assert_eq!(s.median_ci, (3.0, 3.0));
        assert_eq!(s.std_dev, 0.0);
        assert_eq!(s.outliers.total(), 0);
    }

    #[test]
    fn amdahl_needs_a_parallel_point() {
        assert_eq!(amdahl_serial_fraction(&[(1, 1.0)]), None);
        assert!(close(
            amdahl_serial_fraction(&[(1, 1.0), (2, 2.0)]).unwrap(),
            0.0
        ));
        assert!(close(amdahl_serial_fraction(&[(2, 1.0)]).unwrap(), 1.0));
        assert!(close(amdahl_speedup(0.5, 2), 4.0 / 3.0));
    }

    #[test]
    fn rng_is_roughly_uniform() {
        let mut r = SplitMix64::new(7);
        let mut counts = [0usize; 10];
        for _ in 0..100_000 {
            counts[r.below(10)] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "{counts:?}");
        }
        let f = r.next_f64();
        assert!((0.0..1.0).contains(&f));
    }

    proptest! {
        #[test]
        fn order_and_interval(xs in proptest::collection::vec(1e-9f64..1e3, 1..40)) {
            let s = Summary::new(&xs).unwrap();
            prop_assert!(s.min <= s.q1 && s.q1 <= s.median && s.median <= s.q3 && s.q3 <= s.max);
            prop_assert!(s.min <= s.mean && s.mean <= s.max * (1.0 + 1e-12));
            prop_assert!(s.median_ci.0 <= s.median && s.median <= s.median_ci.1);
            prop_assert!(s.min <= s.median_ci.0 && s.median_ci.1 <= s.max);
            prop_assert!(s.std_dev >= 0.0 && s.iqr >= 0.0);
        }

        #[test]
        fn shift_and_scale_invariance(xs in proptest::collection::vec(0.0f64..1e3, 2..30),
                                      c in -1e3f64..1e3, k in 0.01f64..100.0) {
            let s = Summary::new(&xs).unwrap();
            let shifted: Vec<f64> = xs.iter().map(|x| x + c).collect();
            let t = Summary::new(&shifted).unwrap();
            let tol = 1e-9 * (1.0 + c.abs() + s.max);
            prop_assert!((t.median - (s.median + c)).abs() <= tol);
            prop_assert!((t.iqr - s.iqr).abs() <= tol);
            prop_assert!((t.std_dev - s.std_dev).abs() <= tol);
            prop_assert_eq!(t.outliers, s.outliers);
            let scaled: Vec<f64> = xs.iter().map(|x| x * k).collect();
            let u = Summary::new(&scaled).unwrap();
            prop_assert!((u.median - k * s.median).abs() <= 1e-9 * (1.0 + k * s.max));
            prop_assert!((u.median_ci.0 - k * s.median_ci.0).abs() <= 1e-9 * (1.0 + k * s.max));
        }

        #[test]
        fn permutation_does_not_matter(mut xs in proptest::collection::vec(0.0f64..1.0, 1..20)) {
            let a = Summary::new(&xs).unwrap();
            xs.reverse();
            let b = Summary::new(&xs).unwrap();
            prop_assert_eq!(a.median, b.median);
            prop_assert_eq!(a.q1, b.q1);
            prop_assert_eq!(a.q3, b.q3);
        }

        #[test]
        fn amdahl_recovers_its_parameter(s in 0.0f64..1.0) {
            let pts: Vec<(usize, f64)> = (1..=16).map(|p| (p, amdahl_speedup(s, p))).collect();
            prop_assert!((amdahl_serial_fraction(&pts).unwrap() - s).abs() < 1e-9);
        }
    }
}
