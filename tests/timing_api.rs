//! The timing API as a notebook uses it: verify, compare, sweep, export, reload.

use ndarray::Array2;
use parlab::ErrorKind;
use parlab::export::{load_csv, save_csv};
use parlab::timing::{Baseline, Bench, Compare, SizeSweep, ThreadSweep, Verdict, Work};
use parlab::verify::Tol;
use rayon::prelude::*;
use std::time::Duration;

fn quick() -> Bench {
    Bench::new()
        .samples(3)
        .warmup(Duration::ZERO)
        .min_sample_time(Duration::from_micros(300))
}

fn add(a: &Array2<f32>, b: &Array2<f32>) -> Array2<f32> {
    a + b
}

fn par_add(a: &Array2<f32>, b: &Array2<f32>) -> Array2<f32> {
    let mut c = Array2::zeros(a.raw_dim());
    ndarray::Zip::from(&mut c)
        .and(a)
        .and(b)
        .par_for_each(|c, &a, &b| *c = a + b);
    c
}

#[test]
fn compare_export_and_baseline() {
    let n = 128;
    let a = Array2::from_shape_fn((n, n), |(i, j)| (i + j) as f32);
    let b = Array2::from_shape_fn((n, n), |(i, j)| (i * j % 7) as f32);
    let c = Compare::new()
        .bench(quick())
        .tol(Tol::exact())
        .work(
            Work::new()
                .bytes((3 * n * n * 4) as f64)
                .flops((n * n) as f64),
        )
        .kernel("add", || add(&a, &b))
        .kernel("par_add", || par_add(&a, &b))
        .run()
        .unwrap();
    assert_eq!(c.results.len(), 2);
    assert!(c.to_text().contains("add (baseline)"));
    assert!(c.to_html().0.contains("<table"));

    let dir = std::env::temp_dir().join(format!("parlab-api-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let csv = dir.join("cmp.csv");
    save_csv(&csv, &c.rows()).unwrap();
    let rows = load_csv(&csv).unwrap();
    assert!(
        rows.iter()
            .any(|r| r.name == "par_add" && r.stat == "bandwidth" && r.unit == "GB/s")
    );

    let base = dir.join("base.json");
    Baseline::new(c.results.clone()).save(&base).unwrap();
    let changes = Baseline::load(&base).unwrap().compare(&c.results, 0.05);
    assert!(
        changes
            .items
            .iter()
            .all(|ch| ch.verdict == Verdict::NoChange)
    );
    std::fs::write(&base, "not json").unwrap();
    let e = Baseline::load(&base).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Format);
    assert!(e.to_string().contains("base.json: not valid JSON"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn wrong_parallel_kernel_is_refused() {
    let a = Array2::from_shape_fn((16, 16), |(i, j)| (i + j) as f64);
    let e = Compare::new()
        .kernel("serial", || a.sum_axis(ndarray::Axis(1)))
        .kernel("par_off_by_one", || {
            let mut s = a.sum_axis(ndarray::Axis(1));
            s[15] += 1.0;
            s
        })
        .run()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Mismatch);
    assert!(
        e.to_string()
            .contains("`par_off_by_one` disagrees with `serial`"),
        "{e}"
    );
    assert!(e.to_string().contains("worst at [15]"), "{e}");
}

#[test]
fn sweeps() {
    let v: Vec<f64> = (0..50_000).map(|i| i as f64).collect();
    let s = ThreadSweep::new([1, 2])
        .bench(quick())
        .name("par_sum")
        .run(|| {
            v.par_chunks(5_000)
                .map(|c| c.iter().sum::<f64>())
                .sum::<f64>()
        })
        .unwrap();
    assert!(s.to_text().contains("Amdahl"));
    let r = SizeSweep::new([100, 1000], |n| vec![1.0f32; n])
        .bench(quick())
        .tol_for(Tol::eps_n::<f32>)
        .kernel("sum", |v| v.iter().sum::<f32>())
        .kernel("par_sum", |v| v.par_iter().sum::<f32>())
        .run()
        .unwrap();
    assert_eq!(r.to_text().lines().count(), 3);
}
