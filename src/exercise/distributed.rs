//! Exercises of notebook 08: the band of rows a rank owns and the halo rows it
//! needs; combining per-rank partial sums so that the result does not depend
//! on the rank count.

use super::{Check, Problem, call, finish, ranges};
use crate::dist::{band, combine_partials, reduction_range, sum_partials};

/// `(owned, needed)`, each a half-open `(start, end)` pair of rows.
type RankBand = ((usize, usize), (usize, usize));

/// Exercise 8.1: `rank_band(rows, ranks, rank)` must return `(owned, needed)`
/// as half-open `(start, end)` pairs: the rows rank `rank` of `ranks` owns —
/// `rows / ranks` each, the first `rows % ranks` ranks one more, in rank order
/// (as [`crate::dist::block_range`]) — and the rows it needs for a 3×3 stencil:
/// its own plus one halo row above and one below where the image has them. A
/// rank that owns no rows needs none (an empty range).
pub fn check_rank_band(
    f: impl Fn(usize, usize, usize) -> ((usize, usize), (usize, usize)),
) -> Check {
    let cases = [
        (10, 4),
        (1001, 4),
        (10, 3),
        (12, 4),
        (1, 1),
        (7, 7),
        (3, 4),
        (2, 5),
        (1000, 1),
    ];
    let outcome = (|| {
        for (rows, ranks) in cases {
            let mut got = Vec::with_capacity(ranks);
            for rank in 0..ranks {
                let case = format!("rows = {rows}, ranks = {ranks}, rank = {rank}");
                let r = call(|| f(rows, ranks, rank), &case).map_err(|p| match p {
                    Problem::Wrong(m) if m.contains("overflow") => Problem::Wrong(format!(
                        "{m}. The band at the top of the image has no row above it: its halo starts at row 0 (`start.saturating_sub(1)`)"
                    )),
                    p => p,
                })?;
                got.push(r);
            }
            check_owned(rows, ranks, &got)?;
            for (rank, &(_, (ns, ne))) in got.iter().enumerate() {
                let want = band(rows, ranks, rank).expect("valid case");
                let case = format!("rows = {rows}, ranks = {ranks}, rank = {rank}");
                let (os, oe) = (want.owned.start, want.owned.end);
                if want.owned.is_empty() {
                    if ns != ne {
                        return Err(Problem::Wrong(format!(
                            "for {case} the rank owns no rows but you say it needs rows {ns}..{ne}: \
                             with nothing to compute it needs no halo (return an empty range)"
                        )));
                    }
                    continue;
                }
                if ne > rows {
                    return Err(Problem::Wrong(format!(
                        "for {case} the needed rows {ns}..{ne} go past the image's last row ({}): \
                         the band at the bottom has no halo below it",
                        rows - 1
                    )));
                }
                if ns > os || ne < oe {
                    return Err(Problem::Wrong(format!(
                        "for {case} the needed rows {ns}..{ne} do not include the owned rows {os}..{oe}"
                    )));
                }
                if os > 0 && ns == os {
                    return Err(Problem::Wrong(format!(
                        "for {case} the band {os}..{oe} needs row {} above it (owned by rank {}) for the 3×3 \
                         stencil of its first row: you return needed = {ns}..{ne}, no halo above",
                        os - 1,
                        rank - 1
                    )));
                }
                if oe < rows && ne == oe {
                    return Err(Problem::Wrong(format!(
                        "for {case} the band {os}..{oe} needs row {oe} below it (owned by rank {}) for the \
                         stencil of its last row: you return needed = {ns}..{ne}, no halo below",
                        rank + 1
                    )));
                }
                if (ns, ne) != (want.needed.start, want.needed.end) {
                    return Err(Problem::Wrong(format!(
                        "for {case} you return needed = {ns}..{ne}; a 3×3 stencil reads one row on each side, \
                         so the band {os}..{oe} needs {}..{} (more halo is more to send each step)",
                        want.needed.start, want.needed.end
                    )));
                }
            }
        }
        Ok(format!(
            "{} hidden cases, including rows not divisible by the ranks and more ranks than rows.",
            cases.len()
        ))
    })();
    finish("8.1 rank_band", "rank_band", outcome)
}

fn check_owned(rows: usize, ranks: usize, got: &[RankBand]) -> Result<(), Problem> {
    let case = format!("rows = {rows}, ranks = {ranks}");
    let mut covered = vec![0u32; rows];
    for (rank, &((s, e), _)) in got.iter().enumerate() {
        if s > e || e > rows {
            return Err(Problem::Wrong(format!(
                "for {case} rank {rank} owns ({s}, {e}), which is not a range inside 0..{rows}"
            )));
        }
        for c in &mut covered[s..e] {
            *c += 1;
        }
    }
    let missing: Vec<usize> = (0..rows).filter(|&i| covered[i] == 0).collect();
    if !missing.is_empty() {
        let hint = if missing.last() == Some(&(rows - 1)) && !rows.is_multiple_of(ranks) {
            format!(": the remainder is dropped ({rows} is not a multiple of {ranks})")
        } else {
            String::new()
        };
        return Err(Problem::Wrong(format!(
            "for {case} rows {} belong to no rank{hint}",
            ranges(&missing)
        )));
    }
    let twice: Vec<usize> = (0..rows).filter(|&i| covered[i] > 1).collect();
    if !twice.is_empty() {
        return Err(Problem::Wrong(format!(
            "for {case} rows {} belong to more than one rank",
            ranges(&twice)
        )));
    }
    let sizes: Vec<usize> = got.iter().map(|&((s, e), _)| e - s).collect();
    let (lo, hi) = (
        *sizes.iter().min().unwrap_or(&0),
        *sizes.iter().max().unwrap_or(&0),
    );
    if hi - lo > 1 {
        return Err(Problem::Wrong(format!(
            "for {case} the ranks own {sizes:?} rows: the remainder all lands on one rank, which then \
             makes every other rank wait; give it out one row per rank"
        )));
    }
    for (rank, &((s, e), _)) in got.iter().enumerate() {
        let want = crate::dist::block_range(rows, ranks, rank).expect("valid case");
        if (s, e) != (want.start, want.end) {
            return Err(Problem::Wrong(format!(
                "for {case} rank {rank} owns ({s}, {e}); the sizes are balanced, but the ranks must hold the \
                 bands in rank order with the extra rows on the first {} ranks (scatter_rows sends rank \
                 {rank} rows {}..{})",
                rows % ranks,
                want.start,
                want.end
            )));
        }
    }
    Ok(())
}

/// The data of exercise 8.2: values of mixed magnitude, so that the order of
/// the additions shows in the last bits.
fn reduction_data() -> Vec<f64> {
    let n = 37 * crate::kernels::BLOCK + 5;
    (0..n)
        .map(|i| {
            let base = ((i * 7919) % 1000) as f64 * 1e-3 - 0.3;
            if i % 97 == 0 { base * 1e6 } else { base }
        })
        .collect()
}

/// Exercise 8.2: `combine(per_rank)` gets every rank's block partials (the
/// sums of its [`BLOCK`](crate::kernels::BLOCK)-element blocks, as
/// [`crate::dist::sum_partials`] computes them), in rank order, and must return
/// the sum with the bits of the serial [`crate::kernels::sum`] — for every
/// rank count.
pub fn check_combine_partials(f: impl Fn(&[Vec<f64>]) -> f64) -> Check {
    let x = reduction_data();
    let want = crate::kernels::sum(ndarray::ArrayView1::from(&x[..]));
    let outcome = (|| {
        for ranks in [1, 2, 3, 4, 5, 8] {
            let per_rank: Vec<Vec<f64>> = (0..ranks)
                .map(|r| sum_partials(&x[reduction_range(x.len(), ranks, r).expect("valid case")]))
                .collect();
            let case = format!("{ranks} rank{}", if ranks == 1 { "" } else { "s" });
            let got = call(|| f(&per_rank), &case)?;
            if got.to_bits() == want.to_bits() {
                continue;
            }
            let all: Vec<f64> = per_rank.iter().flatten().copied().collect();
            let totals: f64 = per_rank.iter().map(|p| combine_partials(p)).sum();
            let left: f64 = all.iter().sum();
            let reversed: Vec<f64> = per_rank.iter().rev().flatten().copied().collect();
            let ulps = (got.to_bits() as i64 - want.to_bits() as i64).unsigned_abs();
            let why = if got.to_bits() == totals.to_bits() {
                "you add one total per rank: how the additions group then depends on the rank count. \
                 Put every rank's partials side by side in rank order and combine them all at once, \
                 pairwise, as `sum` does (`parlab::dist::combine_partials`)"
                    .to_string()
            } else if got.to_bits() == combine_partials(&reversed).to_bits() {
                "you combine the ranks' partials in reverse rank order: the blocks must stay in the order of the data"
                    .to_string()
            } else if got.to_bits() == left.to_bits() {
                "you add the partials left to right; `sum` adds its block partials pairwise \
                 (`parlab::dist::combine_partials`)"
                    .to_string()
            } else if got.is_nan() || (got - want).abs() > 1e-6 * want.abs() {
                "that is not the sum of the partials".to_string()
            } else {
                format!(
                    "{ulps} units in the last place off: the order of the additions differs from `sum`'s"
                )
            };
            return Err(Problem::Wrong(format!(
                "with {case} you return {got:e}, the serial sum is {want:e}: {why}"
            )));
        }
        Ok(format!(
            "the same bits as the serial sum of {} elements on 1, 2, 3, 4, 5 and 8 ranks.",
            x.len()
        ))
    })();
    finish("8.2 combine_partials", "combine", outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercise::Status;

    fn right_band(rows: usize, ranks: usize, rank: usize) -> ((usize, usize), (usize, usize)) {
        let b = band(rows, ranks, rank).unwrap();
        ((b.owned.start, b.owned.end), (b.needed.start, b.needed.end))
    }

    fn message(c: &Check) -> &str {
        assert_eq!(c.status, Status::Failed, "{c}");
        &c.message
    }

    #[test]
    fn rank_band_passes_the_right_answer_and_names_each_mistake() {
        assert_eq!(check_rank_band(right_band).status, Status::Passed);
        let stub = |_: usize, _: usize, _: usize| -> ((usize, usize), (usize, usize)) { todo!() };
        assert_eq!(check_rank_band(stub).status, Status::NotDone);

        // The remainder dropped.
        let drop_rem = |rows: usize, ranks: usize, rank: usize| {
            let per = rows / ranks;
            let (s, e) = (rank * per, (rank + 1) * per);
            ((s, e), (s.saturating_sub(1), (e + 1).min(rows)))
        };
        assert!(message(&check_rank_band(drop_rem)).contains("the remainder is dropped"));

        // The remainder all on the last rank.
        let last_gets_all = |rows: usize, ranks: usize, rank: usize| {
            let per = rows / ranks;
            let s = rank * per;
            let e = if rank + 1 == ranks { rows } else { s + per };
            ((s, e), (s.saturating_sub(1), (e + 1).min(rows)))
        };
        assert!(message(&check_rank_band(last_gets_all)).contains("lands on one rank"));
        // Balanced sizes, but the extra row on the last rank.
        let one_extra_last = |rows: usize, ranks: usize, rank: usize| {
            let r = crate::dist::block_range(rows, ranks, ranks - 1 - rank).unwrap();
            let (s, e) = (rows - r.end, rows - r.start);
            let needed = if s == e {
                (s, s)
            } else {
                (s.saturating_sub(1), (e + 1).min(rows))
            };
            ((s, e), needed)
        };
        assert!(message(&check_rank_band(one_extra_last)).contains("in rank order"));

        // Halo above row 0 (usize underflow: a panic with overflow checks).
        let below_zero = |rows: usize, ranks: usize, rank: usize| {
            let ((s, e), _) = right_band(rows, ranks, rank);
            #[allow(clippy::implicit_saturating_sub)]
            let ns = if s == 0 {
                s.wrapping_sub(1).min(rows + 7)
            } else {
                s - 1
            };
            ((s, e), (ns, (e + 1).min(rows)))
        };
        assert!(message(&check_rank_band(below_zero)).contains("do not include the owned rows"));

        // Halo past the last row.
        let past_end = |rows: usize, ranks: usize, rank: usize| {
            let ((s, e), (ns, _)) = right_band(rows, ranks, rank);
            ((s, e), (ns, if e > s { e + 1 } else { e }))
        };
        assert!(message(&check_rank_band(past_end)).contains("past the image's last row"));

        // No halo at all.
        let no_halo = |rows: usize, ranks: usize, rank: usize| {
            let ((s, e), _) = right_band(rows, ranks, rank);
            ((s, e), (s, e))
        };
        assert!(message(&check_rank_band(no_halo)).contains("no halo below"));

        // An empty rank that asks for rows.
        let empty_needs = |rows: usize, ranks: usize, rank: usize| {
            let ((s, e), (ns, ne)) = right_band(rows, ranks, rank);
            if s == e && s > 0 {
                ((s, e), (s - 1, s))
            } else {
                ((s, e), (ns, ne))
            }
        };
        assert!(message(&check_rank_band(empty_needs)).contains("owns no rows"));

        // Two halo rows.
        let wide = |rows: usize, ranks: usize, rank: usize| {
            let ((s, e), _) = right_band(rows, ranks, rank);
            if s == e {
                ((s, e), (s, s))
            } else {
                ((s, e), (s.saturating_sub(2), (e + 2).min(rows)))
            }
        };
        assert!(message(&check_rank_band(wide)).contains("one row on each side"));
    }

    #[test]
    fn a_panic_with_overflow_gets_the_hint_about_row_0() {
        let sub = |rows: usize, ranks: usize, rank: usize| {
            let ((s, e), _) = right_band(rows, ranks, rank);
            let ns = s.checked_sub(1).expect("attempt to subtract with overflow");
            ((s, e), (ns, (e + 1).min(rows)))
        };
        assert!(message(&check_rank_band(sub)).contains("saturating_sub"));
    }

    #[test]
    fn combine_passes_the_right_answer_and_names_each_mistake() {
        let right = |p: &[Vec<f64>]| combine_partials(&p.concat());
        assert_eq!(check_combine_partials(right).status, Status::Passed);
        let stub = |_: &[Vec<f64>]| -> f64 { todo!() };
        assert_eq!(check_combine_partials(stub).status, Status::NotDone);

        let totals = |p: &[Vec<f64>]| p.iter().map(|r| combine_partials(r)).sum::<f64>();
        assert!(message(&check_combine_partials(totals)).contains("one total per rank"));
        let left = |p: &[Vec<f64>]| p.iter().flatten().sum::<f64>();
        assert!(message(&check_combine_partials(left)).contains("left to right"));
        let reversed = |p: &[Vec<f64>]| {
            combine_partials(&p.iter().rev().flatten().copied().collect::<Vec<_>>())
        };
        assert!(message(&check_combine_partials(reversed)).contains("reverse rank order"));
        let first_only = |p: &[Vec<f64>]| combine_partials(&p[0]);
        assert!(message(&check_combine_partials(first_only)).contains("not the sum"));
    }
}
