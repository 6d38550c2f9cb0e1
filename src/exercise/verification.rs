//! Exercises of notebook 04: comparisons that cannot pass by accident, and
//! compensated summation.

use super::{Check, Problem, call, finish};

/// NumPy's `isclose` rule; false whenever either side is NaN.
fn is_close(x: f64, y: f64, rtol: f64, atol: f64) -> bool {
    (x - y).abs() <= atol + rtol * y.abs()
}

/// A case of exercise 4.1: its name, `a`, `b`, `rtol`, `atol`.
type MismatchCase = (&'static str, Vec<f64>, Vec<f64>, f64, f64);

/// Exercise 4.1: `first_mismatch(a, b, rtol, atol)` returns the index of the
/// first pair that is *not* close — `|a − b| ≤ atol + rtol·|b|` fails, or
/// either is NaN — or `None` when all pairs are close (NumPy's `isclose` rule).
pub fn check_first_mismatch(f: impl Fn(&[f64], &[f64], f64, f64) -> Option<usize>) -> Check {
    let reference = |a: &[f64], b: &[f64], rtol: f64, atol: f64| {
        a.iter()
            .zip(b)
            .position(|(&x, &y)| !is_close(x, y, rtol, atol))
    };
    let big: Vec<f64> = (0..1000).map(|i| i as f64 * 0.5).collect();
    let mut big_off = big.clone();
    big_off[999] += 1e-3;
    let cases: Vec<MismatchCase> = vec![
        (
            "identical vectors",
            vec![1.0, 2.0, 3.0],
            vec![1.0, 2.0, 3.0],
            1e-9,
            0.0,
        ),
        (
            "a relative difference within rtol",
            vec![1e6, 2.0],
            vec![1e6 + 1e-4, 2.0],
            1e-9,
            0.0,
        ),
        (
            "a difference just outside rtol",
            vec![1.0, 2.0, 3.0],
            vec![1.0, 2.0 + 1e-6, 3.0],
            1e-9,
            0.0,
        ),
        (
            "values near zero, where only atol helps",
            vec![1e-20, 0.0],
            vec![0.0, -1e-20],
            0.0,
            1e-12,
        ),
        (
            "a NaN in a (NaN equals nothing, not even NaN)",
            vec![1.0, f64::NAN],
            vec![1.0, f64::NAN],
            1e-9,
            1e-9,
        ),
        (
            "only the last of 1000 elements differs",
            big_off,
            big.clone(),
            1e-9,
            0.0,
        ),
        ("empty vectors", vec![], vec![], 1e-9, 0.0),
        (
            "an all-zero result compared with the right one — the pickled-copy bug",
            vec![0.0; 4],
            vec![0.0, 1.5, 3.0, 4.5],
            1e-6,
            1e-12,
        ),
    ];
    let outcome = (|| {
        for (case, a, b, rtol, atol) in &cases {
            let got = call(|| f(a, b, *rtol, *atol), case)?;
            let want = reference(a, b, *rtol, *atol);
            if got != want {
                let say = |x: Option<usize>| x.map_or("None".to_string(), |i| format!("Some({i})"));
                let nan_missed = want.is_some_and(|i| a[i].is_nan() || b[i].is_nan())
                    && got.is_none_or(|g| g > want.unwrap_or(0));
                // Small probes tell apart mistakes that fail the same case.
                let probe = |a: &[f64], b: &[f64]| super::observe::catch(|| f(a, b, 1e-9, 0.0));
                let skips_last = probe(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]) == Ok(None)
                    && probe(&[1.0, 5.0, 3.0], &[1.0, 2.0, 3.0]) == Ok(Some(1));
                let nan_vs_number = probe(&[f64::NAN], &[1.0]);
                let hint = if want.is_some() && got == want.map(|i| i + 1) {
                    ": that is one past the first mismatch — indices start at 0 (`position` and \
                     `enumerate` count from 0)"
                } else if skips_last {
                    ": your function never looks at the last element (for [1, 2, 3] against \
                     [1, 2, 4] it returns None) — compare every pair, up to index len − 1"
                } else if nan_missed && nan_vs_number == Ok(Some(0)) {
                    ": two NaNs count as a mismatch too — NaN equals nothing, not even NaN; do not \
                     treat a pair of NaNs as equal"
                } else if nan_missed {
                    ": a NaN is never close, but every comparison with NaN is false — `d > tol` lets it \
                     through; test `!(d <= tol)` or `is_nan()`"
                } else if case.contains("all-zero") && got.is_none() {
                    ": your check would accept the output of the pickled-copy bug"
                } else if case.contains("last of 1000") && got.is_none() {
                    ": look at every element, up to the last one"
                } else if case.contains("near zero") && got == Some(0) {
                    ": 1e-20 vs 0 is within atol = 1e-12 — is atol part of your tolerance?"
                } else if got.is_some_and(|g| g < a.len() && is_close(a[g], b[g], *rtol, *atol)) {
                    ": that pair is close — compare |a − b| with atol + rtol·|b|"
                } else {
                    ""
                };
                return Err(Problem::Wrong(format!(
                    "for {case} (rtol = {rtol:e}, atol = {atol:e}) you returned {}, expected {}{hint}",
                    say(got),
                    say(want)
                )));
            }
        }
        Ok(format!(
            "{} hidden cases, including NaN, values near zero and an all-zero output.",
            cases.len()
        ))
    })();
    finish("4.1 first_mismatch", "first_mismatch", outcome)
}

/// Exercise 4.2: `kahan_sum(xs)` sums with Kahan's compensation, so that many
/// small terms added to a large one are not lost.
pub fn check_kahan_sum(f: impl Fn(&[f64]) -> f64) -> Check {
    let mut many_small = vec![1.0];
    many_small.extend(std::iter::repeat_n(1e-16, 1_000_000));
    let tenths: Vec<f64> = std::iter::repeat_n(0.1, 10_000).collect();
    let cases: Vec<(&str, Vec<f64>, f64)> = vec![
        ("an empty slice", vec![], 0.0),
        ("[1, 2, 3]", vec![1.0, 2.0, 3.0], 6.0),
        (
            "1.0 followed by a million terms of 1e-16",
            many_small,
            1.0 + 1e-10,
        ),
        ("ten thousand terms of 0.1", tenths, 1000.0),
    ];
    let outcome = (|| {
        for (case, xs, exact) in &cases {
            let got = call(|| f(xs), case)?;
            let naive: f64 = xs.iter().sum();
            let tol = 4.0 * f64::EPSILON * exact.abs().max(1.0);
            if !is_close(got, *exact, 0.0, tol) {
                let hint = if got == naive && naive != *exact {
                    ": that is exactly what a plain loop gives — is the compensation applied?"
                } else {
                    ""
                };
                let (g, x) = crate::report::fmt_pair(got, *exact);
                return Err(Problem::Wrong(format!(
                    "for {case} you returned {g}, expected {x} (within {}){hint}",
                    crate::report::fmt_tol(tol)
                )));
            }
        }
        Ok(format!(
            "{} hidden cases; on 1 + 10⁶·10⁻¹⁶ a plain loop returns 1 and loses all the small terms.",
            cases.len()
        ))
    })();
    finish("4.2 kahan_sum", "kahan_sum", outcome)
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;

    #[test]
    fn correct_and_naive_solutions() {
        let good = |a: &[f64], b: &[f64], rtol: f64, atol: f64| {
            a.iter()
                .zip(b)
                .position(|(&x, &y)| !is_close(x, y, rtol, atol))
        };
        assert_eq!(check_first_mismatch(good).status, Status::Passed);
        // Comparing with `>` lets NaN through.
        let nan_blind = |a: &[f64], b: &[f64], rtol: f64, atol: f64| {
            a.iter()
                .zip(b)
                .position(|(&x, &y)| (x - y).abs() > atol + rtol * y.abs())
        };
        let c = check_first_mismatch(nan_blind);
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("`d > tol` lets it through"),
            "{}",
            c.message
        );
        // Two NaNs taken as equal, the last element skipped, 1-based indices:
        // none of them is blamed on `>`.
        let nan_equal = |a: &[f64], b: &[f64], rtol: f64, atol: f64| {
            a.iter()
                .zip(b)
                .position(|(&x, &y)| !(is_close(x, y, rtol, atol) || x.is_nan() && y.is_nan()))
        };
        let c = check_first_mismatch(nan_equal);
        assert!(c.message.contains("not even NaN; do not"), "{}", c.message);
        assert!(!c.message.contains("`d > tol`"), "{}", c.message);
        let skip_last = |a: &[f64], b: &[f64], rtol: f64, atol: f64| {
            let n = a.len().saturating_sub(1);
            (0..n).find(|&i| !is_close(a[i], b[i], rtol, atol))
        };
        let c = check_first_mismatch(skip_last);
        assert!(
            c.message.contains("never looks at the last element"),
            "{}",
            c.message
        );
        assert!(!c.message.contains("`d > tol`"), "{}", c.message);
        let one_based =
            |a: &[f64], b: &[f64], rtol: f64, atol: f64| good(a, b, rtol, atol).map(|i| i + 1);
        let c = check_first_mismatch(one_based);
        assert!(c.message.contains("indices start at 0"), "{}", c.message);
        assert!(!c.message.contains("`d > tol`"), "{}", c.message);
        // Forgetting atol.
        let no_atol = |a: &[f64], b: &[f64], rtol: f64, _atol: f64| {
            a.iter()
                .zip(b)
                .position(|(&x, &y)| !is_close(x, y, rtol, 0.0))
        };
        let c = check_first_mismatch(no_atol);
        assert!(
            c.message.contains("is atol part of your tolerance"),
            "{}",
            c.message
        );
        assert_eq!(
            check_first_mismatch(|_: &[f64], _: &[f64], _: f64, _: f64| -> Option<usize> {
                todo!()
            })
            .status,
            Status::NotDone
        );

        let kahan = |xs: &[f64]| {
            let (mut s, mut c) = (0.0, 0.0);
            for &x in xs {
                let y = x - c;
                let t = s + y;
                c = (t - s) - y;
                s = t;
            }
            s
        };
        assert_eq!(check_kahan_sum(kahan).status, Status::Passed);
        let c = check_kahan_sum(|xs: &[f64]| xs.iter().sum());
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("plain loop"), "{}", c.message);
        assert_eq!(
            check_kahan_sum(|_: &[f64]| -> f64 { todo!() }).status,
            Status::NotDone
        );
    }
}
