//! Exercises of notebook 07: the matrix product with the `i, p, j` loop order,
//! then on tiles whose size does not divide the matrix.

use ndarray::{Array2, ArrayView2, ArrayViewMut2, ShapeBuilder, s};

use super::{Check, Problem, call, finish, ranges};
use crate::timing::stats::SplitMix64;

/// What `c` holds before the student's function runs: a value that shows
/// whether `c` was zeroed (`c = a·b` overwrites it).
const START: f64 = 7.0;

/// A seeded matrix with values in `[-1, 1)`.
fn random(rows: usize, cols: usize, seed: u64) -> Array2<f64> {
    let mut rng = SplitMix64::new(seed);
    Array2::from_shape_fn((rows, cols), |_| 2.0 * rng.next_f64() - 1.0)
}

/// `Σ_{p ∈ terms} a[i, p]·b[p, j]` and `Σ |a[i, p]|·|b[p, j]|` (for the
/// rounding bound), summed in order of `p`.
fn partial(
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
    terms: std::ops::Range<usize>,
) -> (Array2<f64>, Array2<f64>) {
    let (m, n) = (a.nrows(), b.ncols());
    let mut c = Array2::zeros((m, n));
    let mut mag = Array2::zeros((m, n));
    for i in 0..m {
        for j in 0..n {
            let (mut s, mut t) = (0.0, 0.0);
            for p in terms.clone() {
                s += a[[i, p]] * b[[p, j]];
                t += (a[[i, p]] * b[[p, j]]).abs();
            }
            c[[i, j]] = s;
            mag[[i, j]] = t;
        }
    }
    (c, mag)
}

/// Whether `x` is `want` up to the rounding of a `k`-term sum in any order:
/// `|x − want| ≤ 2·k·ε·Σ|a||b|` (plus a hair for sums of zeros).
fn close(x: f64, want: f64, mag: f64, k: usize) -> bool {
    (x - want).abs() <= 2.0 * k.max(1) as f64 * f64::EPSILON * mag + 1e-300
}

/// The elements of `c` that are not `want`, as `(i, j)`.
fn wrong(c: &Array2<f64>, want: &Array2<f64>, mag: &Array2<f64>, k: usize) -> Vec<(usize, usize)> {
    c.indexed_iter()
        .filter(|&((i, j), &x)| !close(x, want[[i, j]], mag[[i, j]], k))
        .map(|(ij, _)| ij)
        .collect()
}

/// `c` is `want` (within rounding) everywhere.
fn agrees(c: &Array2<f64>, want: &Array2<f64>, mag: &Array2<f64>, k: usize) -> bool {
    wrong(c, want, mag, k).is_empty()
}

/// `rows 96–99 (the last 4 rows)`.
fn tail(kind: &str, idx: &[usize], len: usize) -> String {
    let s = ranges(idx);
    let plural = if idx.len() == 1 { "" } else { "s" };
    let noun = if idx.len() == 1 {
        kind.to_string()
    } else {
        format!("{kind}s")
    };
    if !idx.is_empty() && idx.last() == Some(&(len - 1)) && idx.len() == len - idx[0] {
        if idx.len() == 1 {
            format!("{noun} {s} (the last {kind})")
        } else {
            format!("{noun} {s} (the last {} {kind}{plural})", idx.len())
        }
    } else {
        format!("{noun} {s}")
    }
}

/// Explains the first wrong element of `c = a·b`, or `None` when right.
/// `block` is the tile size of exercise 7.2, for its hints.
fn explain(
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
    c: &Array2<f64>,
    case: &str,
    block: Option<usize>,
) -> Option<String> {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let (want, mag) = partial(a, b, 0..k);
    let bad = wrong(c, &want, &mag, k);
    let &(i, j) = bad.first()?;
    let head = format!(
        "for {case}, c[[{i}, {j}]] = {}, expected {} (row {i} of a times column {j} of b)",
        c[[i, j]],
        want[[i, j]]
    );
    if k == 0 {
        let hint = if c.iter().all(|&x| x == START) {
            " — c was left as it was. With an empty inner dimension every element is a sum of no \
             terms: c must be all zeros. Zero c before the loops, not inside the p loop."
        } else {
            " — with an empty inner dimension every element is a sum of no terms: c must be all \
             zeros."
        };
        return Some(format!("{head}{hint}"));
    }
    if c.iter().all(|&x| x == START) {
        return Some(format!(
            "{head}: c was never written (every element still holds its starting value \
             {START})."
        ));
    }
    let shifted = want.mapv(|x| x + START);
    if agrees(c, &shifted, &mag.mapv(|x| x + START), k) {
        return Some(format!(
            "{head}: every element is the right answer plus {START}, the value c held before \
             the call — c was not zeroed first? `c = a·b` overwrites c: set it to zero before \
             accumulating."
        ));
    }
    if k > 1 {
        let (last, last_mag) = partial(a, b, k - 1..k);
        if agrees(c, &last, &last_mag, k) {
            return Some(format!(
                "{head}: every element holds only its last term a[[i, {}]]·b[[{}, j]] — each \
                 product overwrote the one before: write `c[[i, j]] += …` (`+=`), not `=`, in the \
                 innermost loop.",
                k - 1,
                k - 1
            ));
        }
    }
    if let Some(bs) = block {
        // Tiles that skip the remainder of a dimension, or restart the sum.
        let rows: Vec<usize> = (0..m).filter(|&r| bad.iter().any(|e| e.0 == r)).collect();
        let cols: Vec<usize> = (0..n).filter(|&q| bad.iter().any(|e| e.1 == q)).collect();
        let stop = |len: usize| len - len % bs;
        if m % bs != 0 && rows == (stop(m)..m).collect::<Vec<_>>() {
            return Some(format!(
                "{head}: {} of c are wrong — the i block loop stops at m − m % block = {}; let \
                 the last block be shorter: end each block at `(i0 + block).min(m)`.",
                tail("row", &rows, m),
                stop(m)
            ));
        }
        if n % bs != 0 && cols == (stop(n)..n).collect::<Vec<_>>() {
            return Some(format!(
                "{head}: {} of c are wrong — the j block loop stops at n − n % block = {}; let \
                 the last block be shorter: end each block at `(j0 + block).min(n)`.",
                tail("column", &cols, n),
                stop(n)
            ));
        }
        if k % bs != 0 {
            let (short, short_mag) = partial(a, b, 0..stop(k));
            if agrees(c, &short, &short_mag, k) {
                return Some(format!(
                    "{head}: every sum misses its last {} terms — the p block loop (the inner \
                     dimension) stops at k − k % block = {}; end each block at \
                     `(p0 + block).min(k)`.",
                    k % bs,
                    stop(k)
                ));
            }
        }
        if let Some(msg) = ragged_dropped(a, b, c, bs) {
            return Some(format!("{head}: {msg}"));
        }
        if k > bs {
            let last = (k - 1) / bs * bs;
            let (only_last, last_mag) = partial(a, b, last..k);
            if agrees(c, &only_last, &last_mag, k) {
                return Some(format!(
                    "{head}: c holds only the terms p = {last}..{k}, the last block of the inner \
                     dimension — c is zeroed again for every p block. Zero c once, before the \
                     block loops."
                ));
            }
        }
    }
    Some(format!("{head}."))
}

/// Whether `c` is what tiles give that stop at the last whole block in two or
/// three of the dimensions (the ragged last block dropped): the elements
/// outside the whole blocks never written (or zeroed), the sums inside
/// missing their last terms when the p loop is cut too.
fn ragged_dropped(
    a: ArrayView2<'_, f64>,
    b: ArrayView2<'_, f64>,
    c: &Array2<f64>,
    bs: usize,
) -> Option<String> {
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let stop = |len: usize| len - len % bs;
    let ragged = [m % bs != 0, k % bs != 0, n % bs != 0];
    // Every choice of cut dimensions among the ragged ones, two or more.
    for mask in 1..8usize {
        let cut = |d: usize| mask & (1 << d) != 0;
        if mask.count_ones() < 2 || (0..3).any(|d| cut(d) && !ragged[d]) {
            continue;
        }
        let (mi, kp, nj) = (
            if cut(0) { stop(m) } else { m },
            if cut(1) { stop(k) } else { k },
            if cut(2) { stop(n) } else { n },
        );
        let (inner, inner_mag) = partial(a, b, 0..kp);
        let fits = c.indexed_iter().all(|((i, j), &x)| {
            if i < mi && j < nj {
                close(x, inner[[i, j]], inner_mag[[i, j]], k)
            } else {
                x == START || x == 0.0
            }
        });
        if fits {
            let names: Vec<String> = [(0, "i", m), (1, "p", k), (2, "j", n)]
                .into_iter()
                .filter(|&(d, ..)| cut(d))
                .map(|(_, name, len)| format!("{name} at {} of {len}", stop(len)))
                .collect();
            return Some(format!(
                "the ragged last block is dropped — the block loops stop at the last whole \
                 block ({}), so the last, shorter block of each of these dimensions is never \
                 computed. End each block at `(i0 + block).min(m)`, `(p0 + block).min(k)` and \
                 `(j0 + block).min(n)`.",
                names.join(", "),
            ));
        }
    }
    None
}

/// Adds advice to a panic message a student is likely to meet.
fn panic_hint(p: Problem, square: bool, block: Option<usize>) -> Problem {
    match p {
        Problem::Wrong(m) if m.contains("out of bounds") => {
            let hint = match (block, square) {
                (Some(_), _) => {
                    "A block loop runs past the edge of the matrix: the last block of a \
                     dimension that the block size does not divide is shorter — end each block \
                     at `(i0 + block).min(m)` (and likewise for p and j)."
                }
                (None, false) => {
                    "Check each loop's bound: i < a.nrows() (= c.nrows()), p < a.ncols() \
                     (= b.nrows()), j < b.ncols() (= c.ncols()) — the matrices are not square."
                }
                (None, true) => {
                    "Check each loop's bound: i < a.nrows() (= c.nrows()), p < a.ncols() \
                     (= b.nrows()), j < b.ncols() (= c.ncols())."
                }
            };
            Problem::Wrong(format!("{m}\n{hint}"))
        }
        p => p,
    }
}

/// One case: `a`, `b` (views), and whether `c` is column-major.
struct Case {
    name: String,
    a: Array2<f64>,
    b: Array2<f64>,
    view: fn(&Array2<f64>) -> ArrayView2<'_, f64>,
    c_fortran: bool,
}

fn plain(x: &Array2<f64>) -> ArrayView2<'_, f64> {
    x.view()
}

fn transposed(x: &Array2<f64>) -> ArrayView2<'_, f64> {
    x.t()
}

fn every_other_row(x: &Array2<f64>) -> ArrayView2<'_, f64> {
    x.slice(s![..;2, ..])
}

fn case(name: &str, (m, k, n): (usize, usize, usize), seed: u64) -> Case {
    Case {
        name: name.to_string(),
        a: random(m, k, seed),
        b: random(k, n, seed + 1),
        view: plain,
        c_fortran: false,
    }
}

type ProductFn<'f> = dyn Fn(ArrayView2<'_, f64>, ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>) + 'f;

fn run_case(f: &ProductFn<'_>, cs: &Case, block: Option<usize>) -> Result<(), Problem> {
    let (a, b) = ((cs.view)(&cs.a), (cs.view)(&cs.b));
    let shape = (a.nrows(), b.ncols());
    let mut c = if cs.c_fortran {
        Array2::from_elem(shape.f(), START)
    } else {
        Array2::from_elem(shape, START)
    };
    let square = a.nrows() == a.ncols() && b.nrows() == b.ncols();
    call(|| f(a, b, c.view_mut()), &cs.name).map_err(|p| panic_hint(p, square, block))?;
    match explain(a, b, &c, &cs.name, block) {
        Some(msg) => Err(Problem::Wrong(msg)),
        None => Ok(()),
    }
}

/// Exercise 7.1: `matmul_ikj(a, b, c)` must overwrite `c` with the product
/// `a·b` (`c` holds other values before the call), for any shapes that fit —
/// `a` m×k, `b` k×n, `c` m×n, with k = 0 meaning `c` is all zeros — and for
/// transposed, strided and column-major views.
pub fn check_matmul_ikj(
    f: impl Fn(ArrayView2<'_, f64>, ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>),
) -> Check {
    let mut cases = vec![
        case("a 3×5 · 5×2 product", (3, 5, 2), 1),
        case("a 1×1 · 1×1 product", (1, 1, 1), 3),
        case(
            "a 4×0 · 0×3 product (empty inner dimension, k = 0)",
            (4, 0, 3),
            5,
        ),
        case("a 17×31 · 31×9 product", (17, 31, 9), 7),
    ];
    // aᵀ·bᵀ with a stored 6×4 and b 9×6: a 4×6 · 6×9 product of transposed views.
    cases.push(Case {
        name: "a product of transposed views (aᵀ·bᵀ, 4×6 · 6×9)".into(),
        a: random(6, 4, 9),
        b: random(9, 6, 10),
        view: transposed,
        c_fortran: false,
    });
    cases.push(Case {
        name: "a product of strided views (every other row: 5×7 · 7×3)".into(),
        a: random(10, 7, 11),
        b: random(14, 3, 12),
        view: every_other_row,
        c_fortran: false,
    });
    cases.push(Case {
        c_fortran: true,
        ..case("a 8×6 · 6×5 product into a column-major c", (8, 6, 5), 13)
    });
    let f: &ProductFn<'_> = &f;
    let outcome = (|| {
        for cs in &cases {
            run_case(f, cs, None)?;
        }
        Ok(format!(
            "{} hidden cases: non-square shapes, 1×1, an empty inner dimension, transposed and \
             strided views, a column-major c — and c held 7.0 everywhere before each call.",
            cases.len()
        ))
    })();
    finish("7.1 matmul_ikj", "matmul_ikj", outcome)
}

type BlockedFn<'f> =
    dyn Fn(ArrayView2<'_, f64>, ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>, usize) + 'f;

/// Exercise 7.2: `blocked_matmul(a, b, c, block)` must overwrite `c` with
/// `a·b`, working on tiles of `block` rows, inner indices and columns; the
/// block size need not divide any dimension.
pub fn check_blocked_matmul(
    f: impl Fn(ArrayView2<'_, f64>, ArrayView2<'_, f64>, ArrayViewMut2<'_, f64>, usize),
) -> Check {
    let f: &BlockedFn<'_> = &f;
    let cases: Vec<(Case, usize)> = vec![
        (
            case("100×100 matrices with block = 32", (100, 100, 100), 21),
            32,
        ),
        (case("64×64 matrices with block = 16", (64, 64, 64), 23), 16),
        (
            case("a 70×45 · 45×33 product with block = 16", (70, 45, 33), 25),
            16,
        ),
        (
            case("a 30×75 · 75×20 product with block = 32", (30, 75, 20), 27),
            32,
        ),
        (
            case("5×5 matrices with block = 8 (larger than n)", (5, 5, 5), 29),
            8,
        ),
        (case("a 7×3 · 3×4 product with block = 1", (7, 3, 4), 31), 1),
        (
            case("a 3×0 · 0×4 product with block = 2 (k = 0)", (3, 0, 4), 33),
            2,
        ),
        (
            Case {
                view: transposed,
                ..case(
                    "a product of transposed 40×40 views with block = 12",
                    (40, 40, 40),
                    35,
                )
            },
            12,
        ),
    ];
    let outcome = (|| {
        for (cs, block) in &cases {
            let g = |a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, c: ArrayViewMut2<'_, f64>| {
                f(a, b, c, *block)
            };
            run_case(&g, cs, Some(*block))?;
        }
        Ok(format!(
            "{} hidden cases: block sizes that divide n and that do not (100 with 32), a block \
             larger than the matrix, block = 1, non-square shapes, k = 0 and transposed views.",
            cases.len()
        ))
    })();
    finish("7.2 blocked_matmul", "blocked_matmul", outcome)
}

#[cfg(test)]
mod tests {
    use super::super::Status;
    use super::*;

    fn good(a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, mut c: ArrayViewMut2<'_, f64>) {
        c.fill(0.0);
        for i in 0..a.nrows() {
            for p in 0..a.ncols() {
                let aip = a[[i, p]];
                for j in 0..b.ncols() {
                    c[[i, j]] += aip * b[[p, j]];
                }
            }
        }
    }

    /// Tiles of `bs`; `skip` leaves out the remainder of dimension 0 (i), 1
    /// (p) or 2 (j); `zero_each` zeroes c for every p block.
    fn tiled(
        a: ArrayView2<'_, f64>,
        b: ArrayView2<'_, f64>,
        mut c: ArrayViewMut2<'_, f64>,
        bs: usize,
        skip: &[usize],
        zero_each: bool,
    ) {
        let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
        let lim = |len: usize, d: usize| {
            if skip.contains(&d) {
                len - len % bs
            } else {
                len
            }
        };
        c.fill(0.0);
        for i0 in (0..lim(m, 0)).step_by(bs) {
            for j0 in (0..lim(n, 2)).step_by(bs) {
                for p0 in (0..lim(k, 1)).step_by(bs) {
                    if zero_each {
                        c.slice_mut(s![i0..(i0 + bs).min(m), j0..(j0 + bs).min(n)])
                            .fill(0.0);
                    }
                    for i in i0..(i0 + bs).min(m) {
                        for p in p0..(p0 + bs).min(k) {
                            for j in j0..(j0 + bs).min(n) {
                                c[[i, j]] += a[[i, p]] * b[[p, j]];
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn the_outcomes_of_matmul_ikj() {
        assert_eq!(check_matmul_ikj(good).status, Status::Passed);
        let lib = check_matmul_ikj(|a, b, c| crate::kernels::matmul(a, b, c).unwrap());
        assert_eq!(lib.status, Status::Passed, "{}", lib.message);
        let stub =
            |_: ArrayView2<'_, f64>, _: ArrayView2<'_, f64>, _: ArrayViewMut2<'_, f64>| todo!();
        assert_eq!(check_matmul_ikj(stub).status, Status::NotDone);
        // `=` instead of `+=`.
        let assign =
            |a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, mut c: ArrayViewMut2<'_, f64>| {
                c.fill(0.0);
                for i in 0..a.nrows() {
                    for p in 0..a.ncols() {
                        for j in 0..b.ncols() {
                            c[[i, j]] = a[[i, p]] * b[[p, j]];
                        }
                    }
                }
            };
        let c = check_matmul_ikj(assign);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("(`+=`), not `=`"), "{}", c.message);
    }

    #[test]
    fn not_zeroing_c_is_named() {
        let no_zero =
            |a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, mut c: ArrayViewMut2<'_, f64>| {
                for i in 0..a.nrows() {
                    for p in 0..a.ncols() {
                        for j in 0..b.ncols() {
                            c[[i, j]] += a[[i, p]] * b[[p, j]];
                        }
                    }
                }
            };
        let c = check_matmul_ikj(no_zero);
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message
                .starts_with("for a 3×5 · 5×2 product, c[[0, 0]] = "),
            "{}",
            c.message
        );
        assert!(
            c.message.contains("c was not zeroed first?"),
            "{}",
            c.message
        );

        // Zeroed inside the p loop: right unless k = 0.
        let zero_late =
            |a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, mut c: ArrayViewMut2<'_, f64>| {
                for i in 0..a.nrows() {
                    for p in 0..a.ncols() {
                        if p == 0 {
                            c.row_mut(i).fill(0.0);
                        }
                        for j in 0..b.ncols() {
                            c[[i, j]] += a[[i, p]] * b[[p, j]];
                        }
                    }
                }
            };
        let c = check_matmul_ikj(zero_late);
        assert_eq!(c.status, Status::Failed);
        assert!(c.message.contains("k = 0"), "{}", c.message);
        assert!(c.message.contains("c must be all zeros"), "{}", c.message);
    }

    #[test]
    fn square_only_loops_are_caught() {
        // p runs to a.nrows(): right for square matrices only.
        let square =
            |a: ArrayView2<'_, f64>, b: ArrayView2<'_, f64>, mut c: ArrayViewMut2<'_, f64>| {
                c.fill(0.0);
                for i in 0..a.nrows() {
                    for p in 0..a.nrows() {
                        for j in 0..b.ncols() {
                            c[[i, j]] += a[[i, p]] * b[[p, j]];
                        }
                    }
                }
            };
        let c = crate::timing::catch_panic(|| check_matmul_ikj(square)).unwrap();
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message
                .starts_with("for a 3×5 · 5×2 product, c[[0, 0]] ="),
            "{}",
            c.message
        );
    }

    #[test]
    fn the_outcomes_of_blocked_matmul() {
        let c = check_blocked_matmul(|a, b, c, bs| tiled(a, b, c, bs, &[], false));
        assert_eq!(c.status, Status::Passed, "{}", c.message);
        let stub = |_: ArrayView2<'_, f64>,
                    _: ArrayView2<'_, f64>,
                    _: ArrayViewMut2<'_, f64>,
                    _: usize| todo!();
        assert_eq!(check_blocked_matmul(stub).status, Status::NotDone);

        let c = check_blocked_matmul(|a, b, c, bs| tiled(a, b, c, bs, &[0], false));
        assert_eq!(c.status, Status::Failed);
        assert!(
            c.message.contains("rows 96–99 (the last 4 rows) of c are wrong — the i block loop stops at m − m % block = 96"),
            "{}",
            c.message
        );
        let c = check_blocked_matmul(|a, b, c, bs| tiled(a, b, c, bs, &[2], false));
        assert!(
            c.message
                .contains("columns 96–99 (the last 4 columns) of c are wrong — the j block loop"),
            "{}",
            c.message
        );
        let c = check_blocked_matmul(|a, b, c, bs| tiled(a, b, c, bs, &[1], false));
        assert!(
            c.message
                .contains("every sum misses its last 4 terms — the p block loop"),
            "{}",
            c.message
        );
        // The ragged last block dropped in all three loops (and in two).
        for skip in [&[0, 1, 2][..], &[0, 2]] {
            let c = check_blocked_matmul(|a, b, c, bs| tiled(a, b, c, bs, skip, false));
            assert!(
                c.message.contains("the ragged last block is dropped"),
                "{}",
                c.message
            );
        }
        // A tile loop that runs past the edge on 100×100: not "not square".
        let past = |a: ArrayView2<'_, f64>,
                    b: ArrayView2<'_, f64>,
                    mut c: ArrayViewMut2<'_, f64>,
                    bs: usize| {
            let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
            c.fill(0.0);
            for i0 in (0..m).step_by(bs) {
                for p0 in (0..k).step_by(bs) {
                    for j0 in (0..n).step_by(bs) {
                        for i in i0..i0 + bs {
                            for p in p0..p0 + bs {
                                for j in j0..j0 + bs {
                                    c[[i, j]] += a[[i, p]] * b[[p, j]];
                                }
                            }
                        }
                    }
                }
            }
        };
        let c = crate::timing::catch_panic(|| check_blocked_matmul(past)).unwrap();
        assert!(c.message.contains("100×100 matrices"), "{}", c.message);
        assert!(c.message.contains("runs past the edge"), "{}", c.message);
        assert!(!c.message.contains("not square"), "{}", c.message);
        let c = check_blocked_matmul(|a, b, c, bs| tiled(a, b, c, bs, &[], true));
        assert!(
            c.message.contains(
                "c holds only the terms p = 96..100, the last block of the inner dimension"
            ),
            "{}",
            c.message
        );
    }
}
