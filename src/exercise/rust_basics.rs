//! Exercises of notebook 00b, Rust for Python programmers: views that need
//! not be contiguous, a closure that owns its state, and errors as values.

use super::{Check, Problem, call, finish};
use ndarray::{Array2, ArrayView2, ShapeBuilder, s};

/// Exercise 0.1: `column_means(m)` returns the mean of each column of `m`,
/// one value per column, for any view: contiguous, transposed, sliced with a
/// step, or with no rows (then every mean is NaN: the mean of nothing is
/// undefined, as `numpy.mean` of an empty column says).
pub fn check_column_means(f: impl Fn(ArrayView2<f64>) -> Vec<f64>) -> Check {
    let outcome = (|| {
        let base = Array2::from_shape_fn((6, 8), |(i, j)| (i * 8 + j) as f64 * 0.5 - 3.0);
        let fortran = Array2::from_shape_vec((5, 3).f(), (0..15).map(|v| v as f64).collect())
            .map_err(|e| Problem::Wrong(format!("the checker could not build a case: {e}")))?;
        let cases: Vec<(&str, ArrayView2<f64>)> = vec![
            ("a 6×8 matrix", base.view()),
            ("a 1×1 matrix", base.slice(s![..1, ..1])),
            ("its transpose, 8×6 (`m.t()`, not contiguous)", base.t()),
            (
                "every other row and column, 3×4 (`s![..;2, ..;2]`)",
                base.slice(s![..;2, ..;2]),
            ),
            (
                "a column-major 5×3 matrix (numpy's order='F')",
                fortran.view(),
            ),
            ("0 rows and 8 columns", base.slice(s![..0, ..])),
        ];
        for (name, m) in &cases {
            let got = call(|| f(*m), name)?;
            let want: Vec<f64> = (0..m.ncols())
                .map(|j| m.column(j).sum() / m.nrows() as f64)
                .collect();
            if got.len() != want.len() {
                let hint = if got.len() == m.nrows() && m.nrows() != m.ncols() {
                    ": that is one per row — a column is `m.column(j)`, or `m.axis_iter(Axis(1))`"
                } else {
                    ""
                };
                return Err(Problem::Wrong(format!(
                    "on {name} you returned {} means, it has {} columns{hint}",
                    got.len(),
                    want.len()
                )));
            }
            for (j, (&g, &w)) in got.iter().zip(&want).enumerate() {
                let same = if w.is_nan() {
                    g.is_nan()
                } else {
                    (g - w).abs() <= 1e-12 * w.abs().max(1.0)
                };
                if !same {
                    let hint = if w.is_nan() {
                        " — with no rows there is nothing to average: 0 ÷ 0 is NaN, keep it"
                            .to_string()
                    } else if (g - m.row(j.min(m.nrows() - 1)).mean().unwrap_or(f64::NAN)).abs()
                        < 1e-12
                    {
                        " — that is the mean of a row".to_string()
                    } else {
                        String::new()
                    };
                    return Err(Problem::Wrong(format!(
                        "on {name}, column {j}: you returned {g}, its mean is {w}{hint}"
                    )));
                }
            }
        }
        Ok(format!(
            "right on {} views: contiguous, transposed, strided, column-major and empty",
            cases.len()
        ))
    })();
    finish("0.1 column_means", "column_means", outcome)
}

/// Exercise 0.2: `make_counter(start)` returns a closure that gives `start`,
/// `start + 1`, `start + 2`, … on successive calls. Two counters are
/// independent: each owns its count (a `move` closure over a `mut` value).
pub fn check_make_counter<C: FnMut() -> u64>(make: impl Fn(u64) -> C) -> Check {
    let outcome = (|| {
        let mut a = call(|| make(10), "make_counter(10)")?;
        let mut b = call(|| make(100), "make_counter(100)")?;
        let mut got_a = Vec::new();
        let mut got_b = Vec::new();
        for _ in 0..3 {
            got_a.push(call(&mut a, "a call of make_counter(10)'s counter")?);
            got_b.push(call(&mut b, "a call of make_counter(100)'s counter")?);
        }
        got_a.push(call(&mut a, "a call of make_counter(10)'s counter")?);
        let (want_a, want_b) = (vec![10, 11, 12, 13], vec![100, 101, 102]);
        if got_a == want_a && got_b == want_b {
            return Ok(
                "counts from its start, one more each call, and two counters do not share a count"
                    .into(),
            );
        }
        let why = if got_a.iter().all(|&v| v == got_a[0]) {
            "every call returns the same number: the count is not kept between calls. Keep it in \
             a `let mut` the closure captures with `move`, and change it in the closure"
        } else if got_a.first() == Some(&11) {
            "the first call should return `start` itself: return the count, then add one"
        } else if got_a.windows(2).zip(&got_b).any(|(w, _)| w[1] != w[0] + 1) {
            "the two counters interfere: each closure must own its own count (a `static` or a \
             shared variable outside the closure is one count for all)"
        } else {
            "not the sequence start, start + 1, …"
        };
        Err(Problem::Wrong(format!(
            "counter(10) gave {got_a:?} and counter(100) gave {got_b:?}, interleaved; expected \
             {want_a:?} and {want_b:?}: {why}"
        )))
    })();
    finish("0.2 make_counter", "make_counter", outcome)
}

/// Exercise 0.3: `parse_sizes(text)` reads matrix sizes written as
/// `"1024, 2048,4096"`: comma-separated positive integers, spaces around them
/// allowed. An empty text gives no sizes. Anything else is an `Err` whose
/// message quotes the piece that is wrong (`"x"`, `"-5"`, `"0"`) — errors are
/// values returned, not exceptions raised, and `?` passes them on.
pub fn check_parse_sizes(f: impl Fn(&str) -> Result<Vec<usize>, String>) -> Check {
    let outcome = (|| {
        let good: [(&str, Vec<usize>); 5] = [
            ("1024", vec![1024]),
            ("1024, 2048,4096", vec![1024, 2048, 4096]),
            ("  7 ,8  ", vec![7, 8]),
            ("", vec![]),
            ("   ", vec![]),
        ];
        for (text, want) in good {
            match call(|| f(text), &format!("{text:?}"))? {
                Ok(got) if got == want => {}
                Ok(got) => {
                    return Err(Problem::Wrong(format!(
                        "parse_sizes({text:?}) returned Ok({got:?}), expected Ok({want:?})"
                    )));
                }
                Err(e) => {
                    let hint = if text.trim().is_empty() {
                        ": an empty text holds no sizes — `Ok(vec![])`"
                    } else if text.contains(' ') {
                        ": trim the spaces around each piece (`.trim()`)"
                    } else {
                        ""
                    };
                    return Err(Problem::Wrong(format!(
                        "parse_sizes({text:?}) returned Err({e:?}), expected Ok({want:?}){hint}"
                    )));
                }
            }
        }
        let bad = [
            ("1024, x", "x"),
            ("1024,-5,8", "-5"),
            ("0", "0"),
            ("12.5", "12.5"),
            ("99999999999999999999999", "99999999999999999999999"),
        ];
        for (text, piece) in bad {
            match call(|| f(text), &format!("{text:?}"))? {
                Ok(got) => {
                    let hint = if piece == "0" {
                        ": a 0×0 matrix is no size to time — refuse 0"
                    } else {
                        ""
                    };
                    return Err(Problem::Wrong(format!(
                        "parse_sizes({text:?}) returned Ok({got:?}); {piece:?} is not a size, so \
                         it must be an Err{hint}"
                    )));
                }
                Err(e) if !e.contains(piece) => {
                    return Err(Problem::Wrong(format!(
                        "parse_sizes({text:?}) returned Err({e:?}): right to refuse it, but say \
                         which piece is wrong — the message should quote {piece:?}"
                    )));
                }
                Err(_) => {}
            }
        }
        Ok("parses sizes with spaces and empty texts, and names every piece it refuses".into())
    })();
    finish("0.3 parse_sizes", "parse_sizes", outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercise::Status;
    use ndarray::Axis;

    #[test]
    fn column_means_right_and_wrong() {
        let right = |m: ArrayView2<f64>| -> Vec<f64> {
            m.axis_iter(Axis(1))
                .map(|c| c.sum() / m.nrows() as f64)
                .collect()
        };
        assert_eq!(check_column_means(right).status, Status::Passed);
        let rows = |m: ArrayView2<f64>| -> Vec<f64> {
            m.axis_iter(Axis(0))
                .map(|r| r.sum() / r.len() as f64)
                .collect()
        };
        let c = check_column_means(rows);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("one per row"), "{}", c.message);
        let contiguous_only = |m: ArrayView2<f64>| -> Vec<f64> {
            let flat = m.as_slice().expect("contiguous");
            (0..m.ncols())
                .map(|j| flat.iter().skip(j).step_by(m.ncols()).sum::<f64>() / m.nrows() as f64)
                .collect()
        };
        let c = check_column_means(contiguous_only);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("transpose"), "{}", c.message);
        let zero_for_empty = |m: ArrayView2<f64>| -> Vec<f64> {
            if m.nrows() == 0 {
                vec![0.0; m.ncols()]
            } else {
                right(m)
            }
        };
        let c = check_column_means(zero_for_empty);
        assert!(c.message.contains("NaN"), "{}", c.message);
        assert_eq!(
            check_column_means(|_| -> Vec<f64> { todo!() }).status,
            Status::NotDone
        );
    }

    #[test]
    fn counters_right_and_wrong() {
        fn right(start: u64) -> impl FnMut() -> u64 {
            let mut next = start;
            move || {
                next += 1;
                next - 1
            }
        }
        assert_eq!(check_make_counter(right).status, Status::Passed);
        fn stuck(start: u64) -> impl FnMut() -> u64 {
            let next = start;
            move || next
        }
        let c = check_make_counter(stuck);
        assert!(c.message.contains("same number"), "{}", c.message);
        fn early(start: u64) -> impl FnMut() -> u64 {
            let mut next = start;
            move || {
                next += 1;
                next
            }
        }
        let c = check_make_counter(early);
        assert!(c.message.contains("`start` itself"), "{}", c.message);
        use std::sync::atomic::{AtomicU64, Ordering};
        static SHARED: AtomicU64 = AtomicU64::new(0);
        fn shared(start: u64) -> impl FnMut() -> u64 {
            SHARED.store(start, Ordering::Relaxed);
            move || SHARED.fetch_add(1, Ordering::Relaxed)
        }
        let c = check_make_counter(shared);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("interfere"), "{}", c.message);
    }

    #[test]
    fn parse_sizes_right_and_wrong() {
        fn right(text: &str) -> Result<Vec<usize>, String> {
            if text.trim().is_empty() {
                return Ok(vec![]);
            }
            text.split(',')
                .map(|p| match p.trim().parse::<usize>() {
                    Ok(0) | Err(_) => Err(format!("{:?} is not a positive size", p.trim())),
                    Ok(n) => Ok(n),
                })
                .collect()
        }
        assert_eq!(check_parse_sizes(right).status, Status::Passed);
        fn accepts_zero(text: &str) -> Result<Vec<usize>, String> {
            if text.trim().is_empty() {
                return Ok(vec![]);
            }
            text.split(',')
                .map(|p| p.trim().parse::<usize>().map_err(|e| format!("{p}: {e}")))
                .collect()
        }
        let c = check_parse_sizes(accepts_zero);
        assert!(c.message.contains("refuse 0"), "{}", c.message);
        fn vague(text: &str) -> Result<Vec<usize>, String> {
            right(text).map_err(|_| "bad input".to_string())
        }
        let c = check_parse_sizes(vague);
        assert!(c.message.contains("which piece"), "{}", c.message);
        fn untrimmed(text: &str) -> Result<Vec<usize>, String> {
            text.split(',')
                .map(|p| p.parse::<usize>().map_err(|e| format!("{p}: {e}")))
                .collect()
        }
        let c = check_parse_sizes(untrimmed);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("trim"), "{}", c.message);
    }
}
