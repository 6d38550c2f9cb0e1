//! Exercises of notebook 06: a 3×3 box blur with clamped edges, then the same
//! blur over bands of rows in parallel.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, s};

use super::{Check, Problem, call, finish, ranges};
use crate::timing::stats::SplitMix64;

/// What a blur does with the neighbours of an edge pixel that lie outside the
/// image: the rule asked for, and the rules students often write instead.
#[derive(Clone, Copy, PartialEq)]
enum Border {
    /// Outside pixels take the value of the nearest pixel inside (parlab's rule).
    Clamp,
    /// Outside pixels count as 0.
    Zero,
    /// The mean of only the neighbours inside the image.
    Shrink,
}

/// The box blur of `src` in `f64` with the given border rule.
fn blur_with(src: ArrayView2<'_, f32>, border: Border) -> Array2<f64> {
    let (rows, cols) = src.dim();
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        let (mut sum, mut count) = (0.0f64, 0usize);
        for di in -1isize..=1 {
            for dj in -1isize..=1 {
                let (y, x) = (i as isize + di, j as isize + dj);
                let inside = y >= 0 && x >= 0 && (y as usize) < rows && (x as usize) < cols;
                if inside {
                    sum += f64::from(src[[y as usize, x as usize]]);
                    count += 1;
                } else if border == Border::Clamp {
                    let y = y.clamp(0, rows as isize - 1) as usize;
                    let x = x.clamp(0, cols as isize - 1) as usize;
                    sum += f64::from(src[[y, x]]);
                    count += 1;
                }
            }
        }
        match border {
            Border::Shrink => sum / count as f64,
            _ => sum / 9.0,
        }
    })
}

/// `|x − want| ≤ 1e-5 + 1e-5·|want|`: the blurs here average 9 values of
/// order 10 in `f32`, so any order of summation lands well within this.
fn close(x: f32, want: f64) -> bool {
    (f64::from(x) - want).abs() <= 1e-5 + 1e-5 * want.abs()
}

fn all_close(out: &Array2<f32>, want: &Array2<f64>) -> bool {
    out.iter().zip(want.iter()).all(|(&x, &w)| close(x, w))
}

/// `row 5 was` / `rows 3–5, 9 were`.
pub(crate) fn rows_phrase(rows: &[usize]) -> String {
    if rows.len() == 1 {
        format!("row {} was", rows[0])
    } else {
        format!("rows {} were", ranges(rows))
    }
}

/// Where a pixel lies: `the top-left corner`, `on the top edge`, `inside`…
fn where_is(i: usize, j: usize, rows: usize, cols: usize) -> String {
    if rows == 1 && cols == 1 {
        return "the only pixel".into();
    }
    let top = i == 0;
    let bottom = i + 1 == rows;
    let left = j == 0;
    let right = j + 1 == cols;
    let vertical = match (top, bottom) {
        (true, true) => Some("in the only row"),
        (true, false) => Some("top"),
        (false, true) => Some("bottom"),
        _ => None,
    };
    let horizontal = match (left, right) {
        (true, true) => Some("in the only column"),
        (true, false) => Some("left"),
        (false, true) => Some("right"),
        _ => None,
    };
    match (vertical, horizontal) {
        (None, None) => "inside the image".into(),
        (Some(v), None) if v.starts_with("in ") => v.into(),
        (None, Some(h)) if h.starts_with("in ") => h.into(),
        (Some(v), None) => format!("on the {v} edge"),
        (None, Some(h)) => format!("on the {h} edge"),
        (Some(v), Some(h)) if v.starts_with("in ") || h.starts_with("in ") => {
            if v.starts_with("in ") {
                format!("{v}, at its {h} end")
            } else {
                format!("{h}, at its {v} end")
            }
        }
        (Some(v), Some(h)) => format!("the {v}-{h} corner"),
    }
}

/// A seeded test image with values in `0..10`: smooth, with sharp spots, so
/// that any wrong weight or wrong neighbour changes the result.
fn test_image(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = SplitMix64::new(seed);
    Array2::from_shape_fn((rows, cols), |(i, j)| {
        let smooth = 5.0 + 3.0 * ((i as f64 * 0.7).sin() * (j as f64 * 0.45).cos());
        (smooth + 2.0 * rng.next_f64()) as f32
    })
}

/// Cases of exercise 6.1: name and image (as owned arrays, viewed later).
fn blur_cases() -> Vec<(String, Array2<f32>, Option<&'static str>)> {
    let mut cases = Vec::new();
    for (k, (rows, cols)) in [
        (9, 10),
        (1, 1),
        (1, 7),
        (6, 1),
        (2, 3),
        (37, 53),
        (300, 200),
    ]
    .into_iter()
    .enumerate()
    {
        cases.push((
            format!("a {rows}×{cols} image"),
            test_image(rows, cols, 60 + k as u64),
            None,
        ));
    }
    // Views that are not contiguous rows: every other row and every third
    // column of a larger image, and a transposed image.
    cases.push((
        "a strided view (every other row, every third column of a 40×60 image)".into(),
        test_image(40, 60, 70),
        Some("strided"),
    ));
    cases.push((
        "a transposed view of a 9×14 image".into(),
        test_image(9, 14, 71),
        Some("transposed"),
    ));
    cases
}

fn view_of<'a>(img: &'a Array2<f32>, how: Option<&str>) -> ArrayView2<'a, f32> {
    match how {
        Some("strided") => img.slice(s![..;2, ..;3]),
        Some("transposed") => img.t(),
        _ => img.view(),
    }
}

type BlurFn<'f> = dyn Fn(ArrayView2<'_, f32>, ArrayViewMut2<'_, f32>) + 'f;

/// Adds advice to a panic message a student is likely to meet.
fn panic_hint(p: Problem) -> Problem {
    match p {
        Problem::Wrong(m) if m.contains("overflow") => Problem::Wrong(format!(
            "{m}\nAt row 0 or column 0, `i - 1` underflows a usize: clamp the neighbour's index \
             instead, e.g. `i.saturating_sub(1)` and `(i + 1).min(rows - 1)`."
        )),
        Problem::Wrong(m) if m.contains("out of bounds") => Problem::Wrong(format!(
            "{m}\nAt the last row or column, `i + 1` is outside the image: clamp it, e.g. \
             `(i + 1).min(rows - 1)`."
        )),
        p => p,
    }
}

/// Explains the first wrong pixel of `out` against the clamped blur `want`.
fn explain_blur(
    src: ArrayView2<'_, f32>,
    out: &Array2<f32>,
    want: &Array2<f64>,
    case: &str,
) -> Option<String> {
    let (rows, cols) = src.dim();
    let unwritten: Vec<usize> = (0..rows)
        .filter(|&i| out.row(i).iter().any(|v| v.is_nan()))
        .collect();
    if !unwritten.is_empty() {
        let (i, j) = out
            .indexed_iter()
            .find(|(_, v)| v.is_nan())
            .map(|(ij, _)| ij)
            .unwrap_or((0, 0));
        return Some(format!(
            "for {case}, pixel [{i}, {j}] ({}) was never written ({} left \
             unwritten in dst): every pixel of dst needs a value, the edges too.",
            where_is(i, j, rows, cols),
            rows_phrase(&unwritten)
        ));
    }
    let ((i, j), &v) = out
        .indexed_iter()
        .find(|&((i, j), &v)| !close(v, want[[i, j]]))?;
    let w = want[[i, j]];
    let place = where_is(i, j, rows, cols);
    let head = format!("for {case}, pixel [{i}, {j}] ({place}) is {v}, expected {w:.6}");
    let nine = want.mapv(|x| 9.0 * x);
    let hint = if all_close(out, &blur_with(src, Border::Zero)) {
        ": pixels outside the image were counted as 0 (zero padding). Here they take the \
         value of the nearest pixel inside: clamp the neighbour's row to 0..=rows − 1 and its column \
         to 0..=cols − 1."
            .to_string()
    } else if all_close(out, &blur_with(src, Border::Shrink)) {
        ": you averaged only the neighbours inside the image. Here a neighbour outside the \
         image takes the value of the nearest pixel inside (clamped index), and every pixel \
         divides by 9."
            .to_string()
    } else if all_close(out, &nine) {
        ": every pixel is 9× too large — divide the sum of the 3×3 neighbourhood by 9.".into()
    } else if all_close(out, &want.mapv(|x| x * 9.0 / 8.0)) {
        ": every pixel is 9/8 of the right mean — the sum of the 3×3 neighbourhood is divided by \
         8. The neighbourhood has 9 pixels, the centre included: divide by 9."
            .into()
    } else if all_close(out, &((&nine - &src.mapv(f64::from)) / 8.0)) {
        ": you averaged the 8 neighbours and left out the centre pixel. The 3×3 neighbourhood \
         has 9 pixels, the centre included: add it and divide by 9."
            .into()
    } else if out.iter().zip(src.iter()).all(|(&a, &b)| a == b) {
        ": dst is a copy of src — nothing was blurred.".into()
    } else if place == "inside the image" {
        format!(
            ": the mean of rows {}–{}, columns {}–{} of src",
            i - 1,
            i + 1,
            j - 1,
            j + 1
        )
    } else {
        let interior_ok = (1..rows.saturating_sub(1))
            .all(|y| (1..cols.saturating_sub(1)).all(|x| close(out[[y, x]], want[[y, x]])));
        if interior_ok && rows > 2 && cols > 2 {
            ": the inside of the image is right — are the edges clamped? A neighbour outside \
             the image takes the value of the nearest pixel inside it."
                .to_string()
        } else {
            ": are the edges clamped? A neighbour outside the image takes the value of the \
             nearest pixel inside it."
                .to_string()
        }
    };
    Some(head + &hint)
}

/// Exercise 6.1: `box_blur_3x3(src, dst)` must write into every pixel of `dst`
/// the mean of the 3×3 neighbourhood of the same pixel of `src`, where a
/// neighbour outside the image takes the value of the nearest pixel inside it
/// (clamped, or replicated, edges). It must work for any image size down to
/// 1×1, and for strided and transposed views.
pub fn check_box_blur(f: impl Fn(ArrayView2<'_, f32>, ArrayViewMut2<'_, f32>)) -> Check {
    let f: &BlurFn<'_> = &f;
    let cases = blur_cases();
    let outcome = (|| {
        for (case, img, how) in &cases {
            let src = view_of(img, *how);
            let want = blur_with(src, Border::Clamp);
            let mut out = Array2::from_elem(src.dim(), f32::NAN);
            call(|| f(src, out.view_mut()), case).map_err(panic_hint)?;
            if let Some(msg) = explain_blur(src, &out, &want, case) {
                return Err(Problem::Wrong(msg));
            }
        }
        Ok(format!(
            "{} hidden cases: 1×1, a single row, a single column, 2×3, non-square images, a \
             strided and a transposed view — edges and corners included.",
            cases.len()
        ))
    })();
    finish("6.1 box_blur_3x3", "box_blur_3x3", outcome)
}

type BandFn<'f> = dyn Fn(ArrayView2<'_, f32>, ArrayViewMut2<'_, f32>, usize) + 'f;

/// Row `i` of the clamped box blur, computed as if row `i` were the top
/// (`top = true`) or bottom edge of the image: what a band that does not read
/// its halo row computes for its first or last row.
fn row_without_halo(src: ArrayView2<'_, f32>, i: usize, top: bool) -> Vec<f64> {
    let rows = src.nrows();
    let (lo, hi) = if top {
        (i, (i + 2).min(rows))
    } else {
        (i.saturating_sub(1), i + 1)
    };
    let part = blur_with(src.slice(s![lo..hi, ..]), Border::Clamp);
    part.row(i - lo).to_vec()
}

/// Exercise 6.2: `blur_in_bands(src, dst, threads)` must compute the same box
/// blur as exercise 6.1, with `threads` threads each writing one band of rows
/// of `dst`; the result must be bit-identical to the one-thread result for
/// every thread count.
pub fn check_blur_in_bands(
    f: impl Fn(ArrayView2<'_, f32>, ArrayViewMut2<'_, f32>, usize),
) -> Check {
    let f: &BandFn<'_> = &f;
    let images = [
        ("a 256×200 image", test_image(256, 200, 80)),
        ("a 10×7 image", test_image(10, 7, 81)),
        ("a 3×5 image", test_image(3, 5, 82)),
        ("a 1×9 image", test_image(1, 9, 83)),
    ];
    let outcome = (|| {
        let mut n = 0;
        for (name, img) in &images {
            let src = img.view();
            let (rows, cols) = src.dim();
            // One thread: one band, the whole image — the serial blur.
            let case = format!("{name} with 1 thread");
            let mut serial = Array2::from_elem((rows, cols), f32::NAN);
            call(|| f(src, serial.view_mut(), 1), &case).map_err(panic_hint)?;
            n += 1;
            let want = blur_with(src, Border::Clamp);
            if let Some(msg) = explain_blur(src, &serial, &want, &case) {
                return Err(Problem::Wrong(format!(
                    "{msg}\nWith one thread there is one band, the whole image: check the blur \
                     itself against exercise 6.1."
                )));
            }
            for threads in [2, 3, 4, 7] {
                let case = format!("{name} with {threads} threads");
                let mut out = Array2::from_elem((rows, cols), f32::NAN);
                call(|| f(src, out.view_mut(), threads), &case).map_err(panic_hint)?;
                n += 1;
                if let Some(msg) = explain_bands(src, &out, &serial, threads, &case) {
                    return Err(Problem::Wrong(msg));
                }
            }
        }
        one_thread(f)?;
        Ok(format!(
            "{n} hidden cases: 1, 2, 3, 4 and 7 threads on 256×200, 10×7, 3×5 and 1×9 images \
             (more threads than rows included); every result bit-identical to the one-thread \
             result; and the bands ran on the threads, not on the calling one."
        ))
    })();
    finish("6.2 blur_in_bands", "blur_in_bands", outcome)
}

/// Fails a correct solution that blurs every band on the calling thread: the
/// exercise is about threads.
fn one_thread(f: &BandFn<'_>) -> Result<(), Problem> {
    let img = test_image(1024, 1024, 84);
    let mut out = Array2::zeros(img.dim());
    let case = "a 1024×1024 image with 4 threads";
    let mut panicked = None;
    let seen = super::observe::ran_on_calling_thread(3, || {
        match call(|| f(img.view(), out.view_mut(), 4), case) {
            Ok(()) => true,
            Err(p) => {
                panicked = Some(panic_hint(p));
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
             computing for the whole call instead of waiting for worker threads. Give each band to its own thread: \
             `std::thread::scope`, one `spawn` per band."
        ))),
        _ => Ok(()),
    }
}

/// Explains where a parallel result differs from the serial one.
fn explain_bands(
    src: ArrayView2<'_, f32>,
    out: &Array2<f32>,
    serial: &Array2<f32>,
    threads: usize,
    case: &str,
) -> Option<String> {
    let rows = src.nrows();
    let differs = |i: usize| {
        out.row(i)
            .iter()
            .zip(serial.row(i))
            .any(|(a, b)| a.to_bits() != b.to_bits())
    };
    let bad: Vec<usize> = (0..rows).filter(|&i| differs(i)).collect();
    let &first = bad.first()?;
    let unwritten: Vec<usize> = (0..rows)
        .filter(|&i| out.row(i).iter().any(|v| v.is_nan()))
        .collect();
    if !unwritten.is_empty() {
        let hint = if unwritten.len() == rows {
            ": no row was written — did each thread write into a copy of its band?"
        } else if unwritten.last() == Some(&(rows - 1)) && !rows.is_multiple_of(threads) {
            ": your bands drop the remainder rows"
        } else {
            ""
        };
        return Some(format!(
            "for {case}, {} never written in dst{hint}",
            rows_phrase(&unwritten)
        ));
    }
    let j = (0..src.ncols())
        .find(|&j| out[[first, j]].to_bits() != serial[[first, j]].to_bits())
        .unwrap_or(0);
    // Which band of an even split (chunk_ranges) is the row in?
    let bands = crate::par::chunk_ranges(rows, threads);
    let band = bands
        .iter()
        .enumerate()
        .find(|(_, r)| r.contains(&first))
        .map(|(k, r)| (k, r.clone()));
    let position = match &band {
        Some((k, r)) if first == r.start && first + 1 == r.end => {
            format!(" (the only row of band {} of {threads})", k + 1)
        }
        Some((k, r)) if first == r.start => format!(" (first row of band {} of {threads})", k + 1),
        Some((k, r)) if first + 1 == r.end => format!(" (last row of band {} of {threads})", k + 1),
        _ => String::new(),
    };
    let as_edge = |top: bool| {
        row_without_halo(src, first, top)
            .iter()
            .zip(out.row(first))
            .all(|(&w, &x)| close(x, w))
    };
    let hint = if first > 0 && as_edge(true) {
        " It was blurred as if it were the top edge of the image: does each band read its halo \
         rows (the row above and the row below it) from the source?"
    } else if first + 1 < rows && as_edge(false) {
        " It was blurred as if it were the bottom edge of the image: does each band read its halo \
         rows (the row above and the row below it) from the source?"
    } else if position.is_empty() {
        " Each band must compute exactly what one thread computes for its rows."
    } else {
        " Does each band read its halo rows (the row above and the row below it) from the \
         source?"
    };
    Some(format!(
        "for {case}, row {first}{position} differs from the one-thread result: pixel [{first}, \
         {j}] is {}, with one thread {}.{hint}",
        out[[first, j]],
        serial[[first, j]]
    ))
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;
    use ndarray::Axis;

    fn good(src: ArrayView2<'_, f32>, mut dst: ArrayViewMut2<'_, f32>) {
        let (rows, cols) = src.dim();
        for i in 0..rows {
            for j in 0..cols {
                let mut sum = 0.0;
                for y in [i.saturating_sub(1), i, (i + 1).min(rows - 1)] {
                    for x in [j.saturating_sub(1), j, (j + 1).min(cols - 1)] {
                        sum += src[[y, x]];
                    }
                }
                dst[[i, j]] = sum / 9.0;
            }
        }
    }

    #[test]
    fn where_names_edges_and_corners() {
        assert_eq!(where_is(0, 4, 8, 10), "on the top edge");
        assert_eq!(where_is(7, 9, 8, 10), "the bottom-right corner");
        assert_eq!(where_is(3, 3, 8, 10), "inside the image");
        assert_eq!(where_is(0, 0, 1, 7), "in the only row, at its left end");
        assert_eq!(where_is(0, 3, 1, 7), "in the only row");
        assert_eq!(where_is(0, 0, 1, 1), "the only pixel");
    }

    #[test]
    fn the_outcomes_of_box_blur() {
        assert_eq!(check_box_blur(good).status, Status::Passed);
        // parlab's own kernel passes too.
        let c = check_box_blur(|s, d| crate::kernels::box_blur(s, d).unwrap());
        assert_eq!(c.status, Status::Passed, "{}", c.message);
        let stub = |_: ArrayView2<'_, f32>, _: ArrayViewMut2<'_, f32>| todo!();
        assert_eq!(check_box_blur(stub).status, Status::NotDone);
    }

    #[test]
    fn zero_padding_and_interior_only_are_named() {
        let zero = |src: ArrayView2<'_, f32>, mut dst: ArrayViewMut2<'_, f32>| {
            let (rows, cols) = src.dim();
            for i in 0..rows {
                for j in 0..cols {
                    let mut sum = 0.0;
                    for y in i as isize - 1..=i as isize + 1 {
                        for x in j as isize - 1..=j as isize + 1 {
                            if y >= 0 && x >= 0 && (y as usize) < rows && (x as usize) < cols {
                                sum += src[[y as usize, x as usize]];
                            }
                        }
                    }
                    dst[[i, j]] = sum / 9.0;
                }
            }
        };
        let c = check_box_blur(zero);
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("pixel [0, 0] (the top-left corner)"),
            "{}",
            c.message
        );
        assert!(c.message.contains("zero padding"), "{}", c.message);

        // Border pixels copied from src, inside blurred.
        let copy_edges = |src: ArrayView2<'_, f32>, mut dst: ArrayViewMut2<'_, f32>| {
            dst.assign(&src);
            let (rows, cols) = src.dim();
            for i in 1..rows.saturating_sub(1) {
                for j in 1..cols.saturating_sub(1) {
                    dst[[i, j]] = src.slice(s![i - 1..=i + 1, j - 1..=j + 1]).sum() / 9.0;
                }
            }
        };
        let c = check_box_blur(copy_edges);
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("pixel [0, 0] (the top-left corner) is"),
            "{}",
            c.message
        );
        assert!(
            c.message
                .contains("the inside of the image is right — are the edges clamped?"),
            "{}",
            c.message
        );
    }

    #[test]
    fn dividing_by_8_is_named_not_blamed_on_the_edges() {
        let by8 = |src: ArrayView2<'_, f32>, mut dst: ArrayViewMut2<'_, f32>| {
            good(src, dst.view_mut());
            dst.mapv_inplace(|x| x * 9.0 / 8.0);
        };
        let c = check_box_blur(by8);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("divided by 8"), "{}", c.message);
        assert!(!c.message.contains("clamped"), "{}", c.message);
        let no_centre = |src: ArrayView2<'_, f32>, mut dst: ArrayViewMut2<'_, f32>| {
            good(src, dst.view_mut());
            dst.zip_mut_with(&src, |d, &s| *d = (*d * 9.0 - s) / 8.0);
        };
        let c = check_box_blur(no_centre);
        assert!(
            c.message.contains("left out the centre pixel"),
            "{}",
            c.message
        );
    }

    #[test]
    fn underflow_at_row_zero_is_explained() {
        let naive = |src: ArrayView2<'_, f32>, mut dst: ArrayViewMut2<'_, f32>| {
            let (rows, cols) = src.dim();
            for i in 0..rows {
                for j in 0..cols {
                    dst[[i, j]] = src.slice(s![i - 1..=i + 1, j - 1..=j + 1]).sum() / 9.0;
                }
            }
        };
        let c = crate::timing::catch_panic(|| check_box_blur(naive)).unwrap();
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("your function panicked on a 9×10 image"),
            "{}",
            c.message
        );
        assert!(c.message.contains("saturating_sub"), "{}", c.message);
    }

    fn bands_with(
        src: ArrayView2<'_, f32>,
        dst: ArrayViewMut2<'_, f32>,
        threads: usize,
        halo: bool,
    ) {
        let rows = src.nrows();
        std::thread::scope(|scope| {
            let mut rest = dst;
            for r in crate::par::chunk_ranges(rows, threads) {
                let (mut mine, tail) = rest.split_at(Axis(0), r.len());
                rest = tail;
                scope.spawn(move || {
                    if r.is_empty() {
                        return;
                    }
                    let (lo, hi) = if halo {
                        (r.start.saturating_sub(1), (r.end + 1).min(rows))
                    } else {
                        (r.start, r.end)
                    };
                    let part = src.slice(s![lo..hi, ..]);
                    let mut tmp = Array2::zeros(part.dim());
                    good(part, tmp.view_mut());
                    let k = r.start - lo;
                    mine.assign(&tmp.slice(s![k..k + r.len(), ..]));
                });
            }
        });
    }

    #[test]
    fn the_outcomes_of_blur_in_bands() {
        let c = check_blur_in_bands(|s, d, t| bands_with(s, d, t, true));
        assert_eq!(c.status, Status::Passed, "{}", c.message);
        let c = check_blur_in_bands(|s, d, t| {
            crate::par::with_threads(t, || crate::kernels::par_box_blur(s, d)).unwrap()
        });
        assert_eq!(c.status, Status::Passed, "{}", c.message);
        let stub = |_: ArrayView2<'_, f32>, _: ArrayViewMut2<'_, f32>, _: usize| todo!();
        assert_eq!(check_blur_in_bands(stub).status, Status::NotDone);

        // Bands that do not read their halo rows.
        let c = check_blur_in_bands(|s, d, t| bands_with(s, d, t, false));
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains(
                "for a 256×200 image with 2 threads, row 127 (last row of band 1 of 2) differs"
            ),
            "{}",
            c.message
        );
        assert!(
            c.message.contains("does each band read its halo rows"),
            "{}",
            c.message
        );

        // Bands that drop the remainder rows.
        let c = check_blur_in_bands(|src, mut dst, t| {
            let rows = src.nrows() / t * t;
            let mut full = Array2::zeros(src.dim());
            good(src, full.view_mut());
            dst.slice_mut(s![..rows, ..])
                .assign(&full.slice(s![..rows, ..]));
        });
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains(
                "for a 256×200 image with 3 threads, row 255 was never \
                                written in dst: your bands drop the remainder rows"
            ),
            "{}",
            c.message
        );
    }

    #[test]
    fn serial_bands_are_correct_but_ran_on_one_thread() {
        super::super::observe::alone_in_a_process("exercise::image::tests::serial_bands_alone");
    }

    #[test]
    #[ignore = "run alone by serial_bands_are_correct_but_ran_on_one_thread"]
    fn serial_bands_alone() {
        // Right, but every band blurred on the calling thread.
        let c = check_blur_in_bands(|src, dst, _t| good(src, dst));
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.starts_with("correct, but it ran on one thread"),
            "{}",
            c.message
        );
    }
}
