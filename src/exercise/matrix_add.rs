//! Exercises of notebook 01: row chunks and a parallel addition.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder, s};

use super::{Check, Problem, call, finish, ranges};

/// Exercise 1.1: `chunk_bounds(rows, threads)` must return `threads` half-open
/// row ranges `(start, end)` that cover `0..rows` exactly once, in order, with
/// sizes that differ by at most one.
pub fn check_chunk_bounds(f: impl Fn(usize, usize) -> Vec<(usize, usize)>) -> Check {
    let cases = [
        (1024, 4),
        (1023, 4),
        (10, 3),
        (7, 1),
        (3, 4),
        (0, 2),
        (1025, 8),
    ];
    let outcome = (|| {
        for (rows, threads) in cases {
            let case = format!("rows = {rows}, threads = {threads}");
            let chunks = call(|| f(rows, threads), &case)?;
            if chunks.len() != threads {
                return Err(Problem::Wrong(format!(
                    "for {case} you returned {} chunks; expected one per thread ({threads})",
                    chunks.len()
                )));
            }
            let mut covered = vec![0u32; rows];
            for (k, &(start, end)) in chunks.iter().enumerate() {
                if start > end {
                    return Err(Problem::Wrong(format!(
                        "for {case} chunk {k} is ({start}, {end}): its start is after its end"
                    )));
                }
                if end > rows {
                    return Err(Problem::Wrong(format!(
                        "for {case} chunk {k} is ({start}, {end}): it ends past the last row ({rows})"
                    )));
                }
                for c in &mut covered[start..end] {
                    *c += 1;
                }
            }
            let missing: Vec<usize> = (0..rows).filter(|&i| covered[i] == 0).collect();
            if !missing.is_empty() {
                let hint = if missing.last() == Some(&(rows - 1)) && rows % threads != 0 {
                    format!(
                        ": your chunks drop the remainder ({rows} is not a multiple of {threads})"
                    )
                } else {
                    String::new()
                };
                return Err(Problem::Wrong(format!(
                    "for {case} rows {} are in no chunk{hint}",
                    ranges(&missing)
                )));
            }
            let twice: Vec<usize> = (0..rows).filter(|&i| covered[i] > 1).collect();
            if !twice.is_empty() {
                return Err(Problem::Wrong(format!(
                    "for {case} rows {} are in more than one chunk: two threads would write them",
                    ranges(&twice)
                )));
            }
            let sizes: Vec<usize> = chunks.iter().map(|&(s, e)| e - s).collect();
            let (lo, hi) = (
                sizes.iter().min().unwrap_or(&0),
                sizes.iter().max().unwrap_or(&0),
            );
            if hi - lo > 1 {
                return Err(Problem::Wrong(format!(
                    "for {case} the chunk sizes are {sizes:?}: every row is covered, but one thread gets \
                     {} more rows than another; spread the remainder one row per chunk",
                    hi - lo
                )));
            }
            if chunks.windows(2).any(|w| w[0].1 != w[1].0) {
                return Err(Problem::Wrong(format!(
                    "for {case} the chunks {chunks:?} are not in order"
                )));
            }
        }
        Ok(format!(
            "{} hidden cases, including rows not divisible by threads and more threads than rows.",
            cases.len()
        ))
    })();
    finish("1.1 chunk_bounds", "chunk_bounds", outcome)
}

type AddFn<'f> =
    dyn Fn(ArrayView2<'_, f32>, ArrayView2<'_, f32>, ArrayViewMut2<'_, f32>, usize) + 'f;

/// Exercise 1.2: `add_in_chunks(a, b, c, threads)` must write `c = a + b` by
/// giving each of `threads` threads its own rows of `c`; it must work for any
/// shape, thread count and memory layout.
pub fn check_add_in_chunks(
    f: impl Fn(ArrayView2<'_, f32>, ArrayView2<'_, f32>, ArrayViewMut2<'_, f32>, usize),
) -> Check {
    let f: &AddFn<'_> = &f;
    let outcome = (|| {
        let mut n = 0;
        for (rows, cols, threads) in [
            (1024, 1024, 4),
            (1023, 5, 4),
            (10, 7, 3),
            (3, 4, 8),
            (1, 1, 2),
            (0, 0, 2),
            (0, 5, 3),
        ] {
            let a = Array2::from_shape_fn((rows, cols), |(i, j)| (i * cols + j) as f32 / 1000.0);
            let b =
                Array2::from_shape_fn((rows, cols), |(i, j)| (i * cols + j) as f32 / 2000.0 + 1.0);
            check_case(
                f,
                a.view(),
                b.view(),
                threads,
                &format!("a {rows}×{cols} matrix with {threads} threads"),
            )?;
            n += 1;
        }
        // Strided and column-major views.
        let big = Array2::from_shape_fn((40, 30), |(i, j)| (i * 30 + j) as f32);
        let fortran =
            Array2::from_shape_vec((9, 6).f(), (0..54).map(|x| x as f32).collect()).unwrap();
        check_case(
            f,
            big.slice(s![..;2, 1..;3]),
            big.slice(s![1..;2, ..;3]),
            3,
            "every other row and every third column of a matrix (a strided view)",
        )?;
        check_case(
            f,
            fortran.view(),
            fortran.t().t(),
            4,
            "a column-major (Fortran-order) 9×6 matrix",
        )?;
        check_case(
            f,
            big.slice(s![..10, ..]).t(),
            big.slice(s![10..20, ..]).t(),
            4,
            "a transposed 30×10 view",
        )?;
        n += 3;
        one_thread(f)?;
        Ok(format!(
            "{n} hidden cases: 1024² with 4 threads, rows not divisible by threads, more threads than rows, empty matrices, strided, transposed and column-major views; and the work ran on the threads, not on the calling one."
        ))
    })();
    finish("1.2 add_in_chunks", "add_in_chunks", outcome)
}

/// Fails a correct solution that does all the work on the calling thread
/// (a plain loop, or `c.assign(&(&a + &b))`): the exercise is about threads.
fn one_thread(f: &AddFn<'_>) -> Result<(), Problem> {
    let n = 2048;
    let a = Array2::from_shape_fn((n, n), |(i, j)| (i + j) as f32);
    let b = Array2::from_elem((n, n), 1.0f32);
    let mut c = Array2::zeros((n, n));
    let case = format!("a {n}×{n} matrix with 4 threads");
    let mut panicked = None;
    let seen = super::observe::ran_on_calling_thread(3, || {
        match call(|| f(a.view(), b.view(), c.view_mut(), 4), &case) {
            Ok(()) => true,
            Err(p) => {
                panicked = Some(p);
                false
            }
        }
    });
    if let Some(p) = panicked {
        return Err(p);
    }
    match seen {
        Some(true) => Err(Problem::Wrong(format!(
            "correct, but it ran on one thread: for {case} the calling thread stayed busy \
             computing for the whole call instead of waiting for worker threads. Give each of the `threads` threads its own \
             rows of c: `std::thread::scope`, one `spawn` per chunk."
        ))),
        _ => Ok(()),
    }
}

fn check_case(
    f: &AddFn<'_>,
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    threads: usize,
    case: &str,
) -> Result<(), Problem> {
    let (rows, cols) = a.dim();
    let mut c = Array2::from_elem((rows, cols), f32::NAN);
    call(|| f(a, b, c.view_mut(), threads), case)?;
    let unwritten: Vec<usize> = (0..rows)
        .filter(|&i| c.row(i).iter().any(|v| v.is_nan()))
        .collect();
    if !unwritten.is_empty() {
        let hint = if rows % threads != 0 && unwritten.last() == Some(&(rows - 1)) {
            ": your chunks drop the remainder"
        } else if unwritten.len() == rows {
            ": no row of c was written — did each thread write into a copy?"
        } else {
            ""
        };
        return Err(Problem::Wrong(format!(
            "for {case}, rows {} of c were never written{hint} ({rows} rows, {threads} threads)",
            ranges(&unwritten)
        )));
    }
    for ((i, j), &v) in c.indexed_iter() {
        let want = a[[i, j]] + b[[i, j]];
        if v != want {
            return Err(Problem::Wrong(format!(
                "for {case}, c[[{i}, {j}]] = {v}, expected a + b = {want}"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;

    fn good(rows: usize, threads: usize) -> Vec<(usize, usize)> {
        crate::par::chunk_ranges(rows, threads)
            .into_iter()
            .map(|r| (r.start, r.end))
            .collect()
    }

    #[test]
    fn python_style_chunks_drop_the_remainder() {
        // chunk = rows / threads, the last chunk NOT extended to rows.
        let c = check_chunk_bounds(|rows, threads| {
            (0..threads)
                .map(|k| (k * (rows / threads), (k + 1) * (rows / threads)))
                .collect()
        });
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message
                .contains("rows 1020–1022 are in no chunk: your chunks drop the remainder"),
            "{}",
            c.message
        );
    }

    #[test]
    fn good_chunks_pass_and_unbalanced_ones_are_named() {
        assert_eq!(check_chunk_bounds(good).status, Status::Passed);
        // The Python original: the last chunk takes the remainder.
        let c = check_chunk_bounds(|rows, threads| {
            let size = rows / threads;
            (0..threads)
                .map(|k| {
                    (
                        k * size,
                        if k == threads - 1 {
                            rows
                        } else {
                            (k + 1) * size
                        },
                    )
                })
                .collect()
        });
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("chunk sizes"), "{}", c.message);
    }

    fn reference_add(
        a: ArrayView2<'_, f32>,
        b: ArrayView2<'_, f32>,
        mut c: ArrayViewMut2<'_, f32>,
        threads: usize,
    ) {
        let bounds = good(a.nrows(), threads);
        std::thread::scope(|s| {
            let mut rest = c.view_mut();
            for &(start, end) in &bounds {
                let (mut mine, tail) = rest.split_at(ndarray::Axis(0), end - start);
                rest = tail;
                let (a, b) = (a.slice(s![start..end, ..]), b.slice(s![start..end, ..]));
                s.spawn(move || mine.zip_mut_with(&(&a + &b), |x, &y| *x = y));
            }
        });
    }

    #[test]
    fn the_three_outcomes_of_add_in_chunks() {
        assert_eq!(check_add_in_chunks(reference_add).status, Status::Passed);
        let stub = |_: ArrayView2<'_, f32>,
                    _: ArrayView2<'_, f32>,
                    _: ArrayViewMut2<'_, f32>,
                    _: usize| todo!();
        assert_eq!(check_add_in_chunks(stub).status, Status::NotDone);
        // The pickled-copy bug: every worker writes into its own copy.
        let copies = |a: ArrayView2<'_, f32>,
                      b: ArrayView2<'_, f32>,
                      c: ArrayViewMut2<'_, f32>,
                      _t: usize| {
            let mut copy = c.to_owned();
            copy.assign(&(&a + &b));
        };
        let c = check_add_in_chunks(copies);
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("did each thread write into a copy"),
            "{}",
            c.message
        );
        // Dropping the remainder rows.
        let drop_rest = |a: ArrayView2<'_, f32>,
                         b: ArrayView2<'_, f32>,
                         mut c: ArrayViewMut2<'_, f32>,
                         t: usize| {
            let size = a.nrows() / t;
            let rows = size * t;
            c.slice_mut(s![..rows, ..])
                .assign(&(&a.slice(s![..rows, ..]) + &b.slice(s![..rows, ..])));
        };
        // A panic in a worker names its cause, not only "a scoped thread panicked".
        let overflow = |a: ArrayView2<'_, f32>,
                        _b: ArrayView2<'_, f32>,
                        _c: ArrayViewMut2<'_, f32>,
                        t: usize| {
            std::thread::scope(|s| {
                s.spawn(move || {
                    let first = std::hint::black_box(a.nrows() / 2048);
                    let _before = first - t; // chunk 0's start minus one chunk
                });
            })
        };
        let c = check_add_in_chunks(overflow);
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message
                .contains("a scoped thread panicked: attempt to subtract with overflow"),
            "{}",
            c.message
        );
        let c = check_add_in_chunks(drop_rest);
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message
                .contains("rows 1020–1022 of c were never written: your chunks drop the remainder"),
            "{}",
            c.message
        );
    }

    #[test]
    fn a_serial_add_is_correct_but_ran_on_one_thread() {
        super::super::observe::alone_in_a_process("exercise::matrix_add::tests::serial_add_alone");
    }

    #[test]
    #[ignore = "run alone by a_serial_add_is_correct_but_ran_on_one_thread"]
    fn serial_add_alone() {
        // Right, but serial: the exercise is about threads.
        let serial = |a: ArrayView2<'_, f32>,
                      b: ArrayView2<'_, f32>,
                      mut c: ArrayViewMut2<'_, f32>,
                      _t: usize| c.assign(&(&a + &b));
        let c = check_add_in_chunks(serial);
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.starts_with("correct, but it ran on one thread"),
            "{}",
            c.message
        );
    }
}
