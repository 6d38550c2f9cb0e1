//! Exercise 3.1's allocation limit, with the counting allocator installed as
//! the global allocator. Its own test binary with a single test: the counters
//! are per process, and other tests allocating at the same time would count.

use parlab::exercise::{Status, check_row_medians};
use parlab::ndarray::ArrayView2;
use parlab::profile::CountingAlloc;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc::new();

fn median(v: &mut [f64]) -> f64 {
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => v[n / 2],
        _ => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

#[test]
fn one_buffer_passes_and_one_vec_per_row_is_caught() {
    let reused = |a: ArrayView2<'_, f64>| {
        let mut buf = Vec::with_capacity(a.ncols());
        let mut out = Vec::with_capacity(a.nrows());
        for row in a.rows() {
            buf.clear();
            buf.extend(row.iter().copied());
            out.push(median(&mut buf));
        }
        out
    };
    let c = check_row_medians(reused, &ALLOC);
    assert_eq!(c.status, Status::Passed, "{}", c.message);

    let per_row = |a: ArrayView2<'_, f64>| {
        a.rows()
            .into_iter()
            .map(|r| median(&mut r.to_vec()))
            .collect::<Vec<f64>>()
    };
    let c = check_row_medians(per_row, &ALLOC);
    assert_eq!(c.status, Status::Failed);
    assert!(
        c.message
            .contains("the medians are right, but for a 600×257 matrix your function allocated 6"),
        "{}",
        c.message
    );
}
