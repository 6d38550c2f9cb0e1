//! Exercises of notebook 03: reuse a buffer instead of allocating per row, and
//! walk a row-major matrix in memory order.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder, s};

use super::{Check, Problem, call, finish};
use crate::profile::{CountingAlloc, count_allocs};
use crate::timing::stats::SplitMix64;

/// Median of values in any order; NaN for none (exercise 2.1's convention).
fn median_of(xs: impl Iterator<Item = f64>) -> f64 {
    super::statistics::reference_median(&xs.collect::<Vec<_>>())
}

fn random_matrix(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = SplitMix64::new(seed);
    Array2::from_shape_simple_fn((rows, cols), || 200.0 * rng.next_f64() - 100.0)
}

/// Two floats agree to a couple of roundings (NaN agrees with NaN).
fn same(got: f64, want: f64) -> bool {
    (got.is_nan() && want.is_nan()) || (got - want).abs() <= 4.0 * f64::EPSILON * want.abs()
}

/// Exercise 3.1: `row_medians(a)` returns the median of each row of `a`
/// (NaN for a row with no elements) **without allocating once per row**: one
/// scratch buffer, reused for every row.
///
/// `alloc` must be the notebook's global allocator
/// (`#[global_allocator] static ALLOC: CountingAlloc = CountingAlloc::new();`):
/// the checker counts the allocations of one call on 600 rows, and fails a
/// function that makes about one per row. Allocation counts are per process,
/// so anything else allocating at the same time counts too; the limit (a
/// quarter of the rows) leaves room for that.
pub fn check_row_medians(
    f: impl Fn(ArrayView2<'_, f64>) -> Vec<f64>,
    alloc: &CountingAlloc,
) -> Check {
    let outcome = (|| {
        let small = Array2::from_shape_vec(
            (3, 4),
            vec![
                4.0, 1.0, 3.0, 2.0, 10.0, 10.0, -5.0, 7.0, 0.5, 0.25, 0.75, 1.0,
            ],
        )
        .expect("3×4");
        let odd = random_matrix(4, 5, 1);
        let parent = random_matrix(6, 9, 2);
        let fortran =
            Array2::from_shape_vec((5, 3).f(), (0..15).map(|x| (x * 7 % 11) as f64).collect())
                .expect("5×3");
        let empty_rows = Array2::<f64>::zeros((0, 5));
        let empty_cols = Array2::<f64>::zeros((3, 0));
        let one = Array2::from_elem((1, 1), 42.0);
        let cases: Vec<(&str, ArrayView2<'_, f64>)> = vec![
            ("a 3×4 matrix (even row length)", small.view()),
            ("a 4×5 matrix (odd row length)", odd.view()),
            ("a 1×1 matrix", one.view()),
            ("a 0×5 matrix (no rows)", empty_rows.view()),
            ("a 3×0 matrix (rows with no elements)", empty_cols.view()),
            (
                "every other column of a 6×9 matrix (a strided view)",
                parent.slice(s![.., ..;2]),
            ),
            ("a transposed 9×6 view (rows not contiguous)", parent.t()),
            ("a column-major 5×3 matrix", fortran.view()),
        ];
        for (case, a) in &cases {
            check_medians(&f, a.view(), case)?;
        }
        // Allocation count on a larger input; 257 f64 per row keeps the
        // standard library's stable sort on its stack buffer.
        let (rows, cols) = (600, 257);
        let big = random_matrix(rows, cols, 3);
        let case = format!("a {rows}×{cols} matrix");
        // Is `alloc` the global allocator? One known allocation must show.
        let ((), probe) = count_allocs(alloc, || {
            std::hint::black_box(Vec::<u8>::with_capacity(16));
        });
        if probe.allocations == 0 {
            return Err(Problem::Wrong(
                "the allocator you passed does not see allocations: declare it as the global \
                 allocator in a cell above (`#[global_allocator] static ALLOC: CountingAlloc = \
                 CountingAlloc::new();`) and pass `&ALLOC`"
                    .into(),
            ));
        }
        let (out, stats) = count_allocs(alloc, || call(|| f(big.view()), &case));
        let out = out?;
        check_output(&out, big.view(), &case)?;
        if stats.allocations as usize > rows / 4 {
            return Err(Problem::Wrong(format!(
                "the medians are right, but for {case} your function allocated {} times ({}): \
                 about one allocation per row. Allocate one buffer before the loop \
                 (`Vec::with_capacity(a.ncols())`) and refill it for each row \
                 (`buf.clear(); buf.extend(row.iter())`); `row.to_vec()` and `collect()` inside \
                 the loop allocate every time",
                stats.allocations,
                crate::report::fmt_bytes(stats.bytes_allocated as f64)
            )));
        }
        Ok(format!(
            "{} hidden cases: even and odd row lengths, empty matrices, strided, transposed and \
             column-major views; on {case} your function made {} allocations for {rows} rows.",
            cases.len() + 1,
            stats.allocations
        ))
    })();
    finish("3.1 row_medians", "row_medians", outcome)
}

fn check_medians(
    f: &impl Fn(ArrayView2<'_, f64>) -> Vec<f64>,
    a: ArrayView2<'_, f64>,
    case: &str,
) -> Result<(), Problem> {
    let out = call(|| f(a.view()), case)?;
    check_output(&out, a, case)
}

fn check_output(out: &[f64], a: ArrayView2<'_, f64>, case: &str) -> Result<(), Problem> {
    if out.len() != a.nrows() {
        return Err(Problem::Wrong(format!(
            "for {case} you returned {} values; expected one per row ({})",
            out.len(),
            a.nrows()
        )));
    }
    for (i, (&got, row)) in out.iter().zip(a.rows()).enumerate() {
        let want = median_of(row.iter().copied());
        if !same(got, want) {
            let hint = if want.is_nan() {
                ": a row with no elements has no median — return f64::NAN for it".to_string()
            } else if row.len() % 2 == 0 && row.iter().any(|&x| x == got) {
                ": for an even row length the median is the mean of the two middle values"
                    .to_string()
            } else if row.as_slice().is_none() {
                ": this row is not contiguous in memory — iterate over `row.iter()` rather than \
                 assuming a slice"
                    .to_string()
            } else {
                String::new()
            };
            return Err(Problem::Wrong(format!(
                "for {case}, row {i}: you returned {got}, expected {want}{hint}"
            )));
        }
    }
    Ok(())
}

/// Exercise 3.2: `normalise_columns(a)` divides every column of `a`, in place,
/// by its largest absolute value, so that each column's largest magnitude
/// becomes 1; a column of zeros stays zeros. It should walk a row-major matrix
/// row by row (one pass for the maxima, one to divide), not column by column;
/// the checker verifies results (the speed is measured in the notebook).
pub fn check_normalise_columns(f: impl Fn(ArrayViewMut2<'_, f64>)) -> Check {
    let outcome = (|| {
        let small = Array2::from_shape_vec(
            (3, 4),
            vec![
                1.0, -8.0, 0.0, 3.0, 2.0, 4.0, 0.0, -3.0, -4.0, 2.0, 0.0, 1.5,
            ],
        )
        .expect("3×4");
        let cases: Vec<(String, Array2<f64>)> = vec![
            (
                "a 3×4 matrix with negative values and a column of zeros".into(),
                small,
            ),
            ("a tall 5×2 matrix".into(), random_matrix(5, 2, 11)),
            ("a wide 2×7 matrix".into(), random_matrix(2, 7, 12)),
            ("a 1×1 matrix".into(), Array2::from_elem((1, 1), -2.5)),
            ("a 0×3 matrix".into(), Array2::zeros((0, 3))),
            ("a 3×0 matrix".into(), Array2::zeros((3, 0))),
            ("a 300×170 matrix".into(), random_matrix(300, 170, 13)),
        ];
        for (case, a) in cases {
            check_normalised(&f, a, |m| m.view_mut(), &case)?;
        }
        check_normalised(
            &f,
            random_matrix(9, 10, 14),
            |m| m.slice_mut(s![1..;2, ..;3]),
            "every other row and every third column of a 9×10 matrix (a strided view)",
        )?;
        let fortran = Array2::from_shape_vec(
            (6, 5).f(),
            random_matrix(6, 5, 15).iter().copied().collect(),
        )
        .expect("6×5");
        check_normalised(&f, fortran, |m| m.view_mut(), "a column-major 6×5 matrix")?;
        Ok(
            "10 hidden cases: negative maxima, a column of zeros, tall, wide and empty matrices, \
            a strided view (elements outside it must not change) and a column-major matrix."
                .to_string(),
        )
    })();
    finish("3.2 normalise_columns", "normalise_columns", outcome)
}

/// Runs `f` on the view `pick` selects from `parent`, then checks the view
/// against the reference and the rest of `parent` for changes.
fn check_normalised(
    f: &impl Fn(ArrayViewMut2<'_, f64>),
    mut parent: Array2<f64>,
    pick: impl Fn(&mut Array2<f64>) -> ArrayViewMut2<'_, f64>,
    case: &str,
) -> Result<(), Problem> {
    let before = parent.clone();
    // The reference, computed on a copy of the selected view.
    let original = pick(&mut before.clone()).to_owned();
    let maxima: Vec<f64> = original
        .columns()
        .into_iter()
        .map(|c| c.iter().fold(0.0f64, |m, &x| m.max(x.abs())))
        .collect();
    let want = Array2::from_shape_fn(original.dim(), |(i, j)| {
        if maxima[j] > 0.0 {
            original[[i, j]] / maxima[j]
        } else {
            original[[i, j]]
        }
    });
    call(|| f(pick(&mut parent)), case)?;
    // Elements outside the view: compare with a copy where the view is replaced.
    let mut expected_parent = before.clone();
    pick(&mut expected_parent).assign(&want);
    let got = pick(&mut parent).to_owned();
    for ((i, j), &w) in want.indexed_iter() {
        let g = got[[i, j]];
        if same(g, w) {
            continue;
        }
        let x = original[[i, j]];
        let col = original.column(j);
        let signed_max = col.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
        let hint = if g.is_nan() && maxima[j] == 0.0 {
            format!(
                ": column {j} is all zeros, so its largest magnitude is 0 and 0/0 is NaN — leave such a column as it is"
            )
        } else if g == x {
            format!(": column {j} was not scaled")
        } else if same(g, x / signed_max) && signed_max != maxima[j] {
            format!(
                ": you divided by the largest value ({signed_max}); divide by the largest *absolute* value ({})",
                maxima[j]
            )
        } else {
            String::new()
        };
        return Err(Problem::Wrong(format!(
            "for {case}, element [{i}, {j}] is {g}, expected {x} / {} = {w}{hint}",
            maxima[j]
        )));
    }
    for (((i, j), &g), &w) in parent.indexed_iter().zip(expected_parent.iter()) {
        if !same(g, w) {
            return Err(Problem::Wrong(format!(
                "for {case}, you changed element [{i}, {j}] of the matrix the view was cut from \
                 ({} → {g}): write only through the view you were given",
                before[[i, j]]
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;
    use ndarray::Axis;

    fn good_medians(a: ArrayView2<'_, f64>) -> Vec<f64> {
        let mut buf = Vec::with_capacity(a.ncols());
        let mut out = Vec::with_capacity(a.nrows());
        for row in a.rows() {
            buf.clear();
            buf.extend(row.iter().copied());
            buf.sort_unstable_by(f64::total_cmp);
            let n = buf.len();
            out.push(if n == 0 {
                f64::NAN
            } else if n % 2 == 1 {
                buf[n / 2]
            } else {
                (buf[n / 2 - 1] + buf[n / 2]) / 2.0
            });
        }
        out
    }

    #[test]
    fn the_outcomes_of_row_medians() {
        // Unit tests do not install the counting allocator: an uninstalled one
        // is reported as such, whatever the function does.
        let not_installed = CountingAlloc::new();
        let c = check_row_medians(good_medians, &not_installed);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("global allocator"), "{}", c.message);
        // Correctness is checked before the allocator, so the stub and wrong
        // answers get their own outcome.
        assert_eq!(
            check_row_medians(
                |_: ArrayView2<'_, f64>| -> Vec<f64> { todo!() },
                &not_installed
            )
            .status,
            Status::NotDone
        );
        let c = check_row_medians(
            |a: ArrayView2<'_, f64>| {
                a.rows()
                    .into_iter()
                    .map(|r| r.iter().copied().fold(f64::NEG_INFINITY, f64::max))
                    .collect()
            },
            &not_installed,
        );
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message
                .contains("for a 3×4 matrix (even row length), row 0"),
            "{}",
            c.message
        );
        // Panicking on a row with no elements.
        let c = check_row_medians(
            |a: ArrayView2<'_, f64>| {
                a.rows()
                    .into_iter()
                    .map(|r| {
                        let mut v = r.to_vec();
                        v.sort_by(f64::total_cmp);
                        crate::timing::stats::quantile(&v, 0.5)
                    })
                    .collect()
            },
            &not_installed,
        );
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("panicked on a 3×0 matrix"),
            "{}",
            c.message
        );
    }

    fn good_normalise(mut a: ArrayViewMut2<'_, f64>) {
        let mut maxima = vec![0.0f64; a.ncols()];
        for row in a.rows() {
            for (m, &x) in maxima.iter_mut().zip(row) {
                *m = m.max(x.abs());
            }
        }
        for mut row in a.rows_mut() {
            for (x, &m) in row.iter_mut().zip(&maxima) {
                if m > 0.0 {
                    *x /= m;
                }
            }
        }
    }

    #[test]
    fn the_outcomes_of_normalise_columns() {
        assert_eq!(
            check_normalise_columns(good_normalise).status,
            Status::Passed
        );
        // Column by column is slow but right.
        let by_column = |mut a: ArrayViewMut2<'_, f64>| {
            for mut col in a.axis_iter_mut(Axis(1)) {
                let m = col.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
                if m > 0.0 {
                    col.mapv_inplace(|x| x / m);
                }
            }
        };
        assert_eq!(check_normalise_columns(by_column).status, Status::Passed);
        assert_eq!(
            check_normalise_columns(|_: ArrayViewMut2<'_, f64>| todo!()).status,
            Status::NotDone
        );
        // Dividing a column of zeros by 0.
        let c = check_normalise_columns(|mut a: ArrayViewMut2<'_, f64>| {
            for mut col in a.axis_iter_mut(Axis(1)) {
                let m = col.iter().fold(0.0f64, |m, &x| m.max(x.abs()));
                col.mapv_inplace(|x| x / m);
            }
        });
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("column 2 is all zeros"), "{}", c.message);
        // The signed maximum.
        let c = check_normalise_columns(|mut a: ArrayViewMut2<'_, f64>| {
            for mut col in a.axis_iter_mut(Axis(1)) {
                let m = col.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
                if m != 0.0 {
                    col.mapv_inplace(|x| x / m);
                }
            }
        });
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("largest *absolute* value"),
            "{}",
            c.message
        );
    }
}
