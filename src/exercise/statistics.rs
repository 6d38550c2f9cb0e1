//! Exercises of notebook 02: the median of timing samples, and counting the
//! bytes a STREAM kernel moves.

use super::{Check, Problem, call, finish};
use crate::timing::stats::SplitMix64;

/// The reference median: NaN for no samples, else the middle of the sorted
/// values (the mean of the two middle ones for an even count).
pub(super) fn reference_median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Timing-like samples: a base time with small noise and a few slow outliers.
fn timing_samples(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|_| {
            let noise = 1e-3 * (1.0 + 0.05 * rng.next_f64());
            if rng.below(20) == 0 {
                noise * (2.0 + 3.0 * rng.next_f64())
            } else {
                noise
            }
        })
        .collect()
}

/// Exercise 2.1: `median(samples)` of timing samples in any order: the middle
/// value, the mean of the two middle values for an even count, and `f64::NAN`
/// for an empty slice (there is no median of nothing, and 0 would look like a
/// real time).
pub fn check_median(f: impl Fn(&[f64]) -> f64) -> Check {
    let cases: Vec<(&str, Vec<f64>)> = vec![
        ("[1, 2, 3] (sorted, odd count)", vec![1.0, 2.0, 3.0]),
        ("[3, 1, 2] (unsorted)", vec![3.0, 1.0, 2.0]),
        ("[1, 2, 3, 4] (even count)", vec![1.0, 2.0, 3.0, 4.0]),
        (
            "[4, 1, 3, 2] (unsorted, even count)",
            vec![4.0, 1.0, 3.0, 2.0],
        ),
        ("a single sample [5]", vec![5.0]),
        (
            "[1, 1, 1, 100] (one slow outlier)",
            vec![1.0, 1.0, 1.0, 100.0],
        ),
        ("[-3, -1, -2] (negative values)", vec![-3.0, -1.0, -2.0]),
        ("1001 timing samples with outliers", timing_samples(1001, 7)),
        ("1000 timing samples with outliers", timing_samples(1000, 8)),
        ("[2, 2, 2, 2] (all equal)", vec![2.0; 4]),
    ];
    let outcome = (|| {
        for (case, xs) in &cases {
            let want = reference_median(xs);
            let got = call(|| f(xs), case)?;
            let close = |x: f64| (x - want).abs() <= 4.0 * f64::EPSILON * want.abs();
            if close(got) {
                continue;
            }
            let mut sorted = xs.clone();
            sorted.sort_by(f64::total_cmp);
            let n = xs.len();
            let mean = xs.iter().sum::<f64>() / n as f64;
            let hint = if n > 1 && got == xs[n / 2] && xs[n / 2] != sorted[n / 2] {
                ": that is the middle element of the unsorted samples; sort a copy first \
                 (`v.sort_by(f64::total_cmp)`)"
                    .to_string()
            } else if n % 2 == 0 && (got == sorted[n / 2 - 1] || got == sorted[n / 2]) {
                format!(
                    ": for an even count the median is the mean of the two middle values, \
                     ({} + {}) / 2",
                    sorted[n / 2 - 1],
                    sorted[n / 2]
                )
            } else if (got - mean).abs() <= 1e-12 * mean.abs().max(1.0) {
                ": that is the mean — one slow run pulls the mean up; the median ignores it"
                    .to_string()
            } else {
                String::new()
            };
            return Err(Problem::Wrong(format!(
                "for {case} you returned {got}, expected {want}{hint}"
            )));
        }
        let case = "an empty slice";
        match call(|| f(&[]), case) {
            Ok(x) if x.is_nan() => {}
            Ok(x) => {
                return Err(Problem::Wrong(format!(
                    "for {case} you returned {x}; there is no median of nothing, and {x} would \
                     look like a real time: return f64::NAN"
                )));
            }
            Err(Problem::Wrong(m)) => {
                return Err(Problem::Wrong(format!(
                    "{m}\nAn empty slice has no median: return f64::NAN instead of panicking."
                )));
            }
            Err(e) => return Err(e),
        }
        Ok(format!(
            "{} hidden cases: odd and even counts, unsorted samples, one sample, outliers, \
             1000 timing-like samples, and an empty slice (NaN).",
            cases.len() + 1
        ))
    })();
    finish("2.1 median", "median", outcome)
}

/// The kernels of exercise 2.2, what each reads and writes, and how many
/// arrays of `n` elements STREAM counts for it.
const KERNELS: [(&str, &str, &str, usize); 8] = [
    ("copy", "a = b", "reads b, writes a", 2),
    ("scale", "a = s·b", "reads b, writes a", 2),
    ("add", "c = a + b", "reads a and b, writes c", 3),
    ("triad", "a = b + s·c", "reads b and c, writes a", 3),
    (
        "axpy",
        "y = y + α·x",
        "reads x, reads y *and* writes y back",
        3,
    ),
    (
        "sum",
        "s = Σ a",
        "reads a; the scalar s stays in a register",
        1,
    ),
    ("dot", "s = Σ a·b", "reads a and b", 2),
    ("fill", "a = v", "writes a, reads nothing", 1),
];

/// Exercise 2.2: `bytes_moved(kernel, n, elem_size)` counts the bytes one call
/// of a STREAM-style kernel moves between memory and the CPU, as STREAM counts
/// them: every array read counts once, every array written counts once (the
/// extra read a cache does before writing a line, "write-allocate", is not
/// counted). Kernels: `copy`, `scale`, `add`, `triad`, `axpy`, `sum`, `dot`,
/// `fill`.
pub fn check_bytes_moved(f: impl Fn(&str, usize, usize) -> usize) -> Check {
    let sizes = [(1000, 8), (1024 * 1024, 4), (7, 2), (0, 8)];
    let outcome = (|| {
        let mut n_cases = 0;
        for &(n, size) in &sizes {
            for &(name, formula, touches, arrays) in &KERNELS {
                let case = format!("`{name}` ({formula}) with n = {n} elements of {size} bytes");
                let got = call(|| f(name, n, size), &case)?;
                n_cases += 1;
                let want = arrays * n * size;
                if got == want {
                    continue;
                }
                let per_array = n * size;
                let hint = if n > 0 && got == arrays * n {
                    " — you counted elements: multiply by elem_size to get bytes".to_string()
                } else if per_array > 0 && got % per_array == 0 {
                    let k = got / per_array;
                    format!(
                        " — you counted {k} array{} of n·elem_size bytes; it {touches}: {arrays}",
                        if k == 1 { "" } else { "s" }
                    )
                } else if n == 0 {
                    " — no elements, no bytes".to_string()
                } else {
                    format!(" — it {touches}: {arrays} arrays of n·elem_size = {per_array} bytes")
                };
                return Err(Problem::Wrong(format!(
                    "for {case} you returned {got} bytes, expected {want}{hint}"
                )));
            }
        }
        Ok(format!(
            "{n_cases} hidden cases: the 8 kernels in f64, f32, 2-byte elements and n = 0. \
             axpy moves 3 arrays, not 2: y is read and written."
        ))
    })();
    finish("2.2 bytes_moved", "bytes_moved", outcome)
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;

    fn good_median(xs: &[f64]) -> f64 {
        if xs.is_empty() {
            return f64::NAN;
        }
        let mut v = xs.to_vec();
        v.sort_by(f64::total_cmp);
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            v[n / 2 - 1] + 0.5 * (v[n / 2] - v[n / 2 - 1])
        }
    }

    #[test]
    fn the_outcomes_of_median() {
        assert_eq!(check_median(good_median).status, Status::Passed);
        assert_eq!(
            check_median(|_: &[f64]| -> f64 { todo!() }).status,
            Status::NotDone
        );
        // Forgetting to sort.
        let c = check_median(|xs: &[f64]| xs[xs.len() / 2]);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("unsorted samples"), "{}", c.message);
        // The upper middle for an even count.
        let c = check_median(|xs: &[f64]| {
            let mut v = xs.to_vec();
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        });
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message
                .contains("for [1, 2, 3, 4] (even count) you returned 3")
                && c.message.contains("two middle values"),
            "{}",
            c.message
        );
        // The mean.
        let c = check_median(|xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("that is the mean"), "{}", c.message);
        // Right on samples, panicking on an empty slice.
        let c = check_median(|xs: &[f64]| {
            let mut v = xs.to_vec();
            v.sort_by(f64::total_cmp);
            crate::timing::stats::quantile(&v, 0.5)
        });
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("panicked on an empty slice")
                && c.message.contains("return f64::NAN instead of panicking"),
            "{}",
            c.message
        );
        // Zero for an empty slice.
        let c = check_median(|xs: &[f64]| if xs.is_empty() { 0.0 } else { good_median(xs) });
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("you returned 0"), "{}", c.message);
    }

    fn good_bytes(kernel: &str, n: usize, size: usize) -> usize {
        let arrays = match kernel {
            "copy" | "scale" | "dot" => 2,
            "add" | "triad" | "axpy" => 3,
            "sum" | "fill" => 1,
            other => panic!("unknown kernel {other}"),
        };
        arrays * n * size
    }

    #[test]
    fn the_outcomes_of_bytes_moved() {
        assert_eq!(check_bytes_moved(good_bytes).status, Status::Passed);
        assert_eq!(
            check_bytes_moved(|_: &str, _: usize, _: usize| -> usize { todo!() }).status,
            Status::NotDone
        );
        // axpy counted as two arrays: y's write forgotten.
        let c = check_bytes_moved(|k: &str, n: usize, s: usize| {
            if k == "axpy" {
                2 * n * s
            } else {
                good_bytes(k, n, s)
            }
        });
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message
                .contains("for `axpy` (y = y + α·x) with n = 1000 elements of 8 bytes you returned 16000 bytes, expected 24000 — you counted 2 arrays"),
            "{}",
            c.message
        );
        // Elements instead of bytes.
        let c = check_bytes_moved(|k: &str, n: usize, s: usize| good_bytes(k, n, s) / s);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("you counted elements"), "{}", c.message);
    }
}
