//! Kernel speed against the machine's limits, measured in the same run.
//!
//! `cargo bench --bench perf` (release) or `cargo bench --bench perf --profile
//! notebook` (what an evcxr cell gets: opt-level 2, no target-cpu). Set
//! `PARLAB_SIMD=sse2|avx2` to cap the run-time SIMD dispatch.
//!
//! Probes the machine once (memory hierarchy and FMA peak per thread count),
//! then prints a markdown table: kernel, size, threads, median time, rate, the
//! limit it is compared with, the ratio, and the course's target.

use ndarray::{Array2, ArrayView2, ArrayViewMut2};
use parlab::kernels as k;
use parlab::timing::{Bench, Machine, Precision};
use std::time::Duration;

struct Row {
    kernel: String,
    size: String,
    threads: usize,
    median: f64,
    rate: String,
    limit: String,
    ratio: f64,
    target: String,
}

fn fmt_time(s: f64) -> String {
    if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// The median time per call.
fn time(name: &str, samples: usize, f: impl FnMut() + Send) -> f64 {
    let mut f = f;
    let r = Bench::new()
        .name(name)
        .samples(samples)
        .warmup(Duration::from_millis(50))
        .run(&mut f)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    r.median()
}

/// Medians of a kernel and of its limit loop, the limit timed
/// before and after the kernel (the faster of the two counts).
fn paired(
    name: &str,
    mut kernel: impl FnMut() + Send,
    mut reference: impl FnMut() + Send,
) -> (f64, f64) {
    let r1 = time(&format!("{name} reference"), 7, &mut reference);
    let k = time(name, 9, &mut kernel);
    let r2 = time(&format!("{name} reference"), 7, &mut reference);
    (k, r1.min(r2))
}

/// The physical limits, one chunk per thread of the current pool: an add
/// with streaming stores (an add or a triad must move at least its bytes, and
/// without the write-allocate read) and a read with the probe's chosen width.
fn stream_add(a: &[f64], b: &[f64], c: &mut [f64], _threads: usize) {
    parlab::timing::limit_add_streaming(a, b, c);
}

fn stream_read(a: &[f64], _threads: usize) -> f64 {
    parlab::timing::limit_read(a)
}

/// A copy of `src` into `dst`: the bytes a 3×3 stencil must move at least.
fn stream_copy(src: &[f32], dst: &mut [f32], threads: usize) {
    use rayon::prelude::*;
    let ch = dst.len().div_ceil(threads);
    dst.par_chunks_mut(ch)
        .zip(src.par_chunks(ch))
        .for_each(|(d, s)| d.copy_from_slice(s));
}

fn main() {
    let profile = if cfg!(debug_assertions) {
        "notebook (opt-level 2, debug assertions, no target-cpu)"
    } else {
        "release"
    };
    let m = Machine::probe().expect("machine probe");
    println!("# parlab kernel benchmark\n");
    println!(
        "build: {profile}; SIMD level used by the kernels: {} (0 = SSE2, 1 = AVX2, 2 = AVX-512)",
        k::simd_level()
    );
    println!("{m}\n");
    let peak = |t: usize| m.peak_gflops(t, Precision::F64).unwrap_or(f64::NAN);
    let pools: Vec<_> = (1..=2).map(|t| parlab::par::pool(t).unwrap()).collect();
    let pool = |t: usize| &pools[t - 1];
    let mut rows = Vec::new();

    // ---- Memory-bound kernels, 4096² f64: each is compared with the limit
    // loop (streaming-store add, or read) on the same arrays and threads, timed just before and just after it
    // (the faster of the two counts). The memory is shared with other machines
    // and its bandwidth drifts from minute to minute (21 to 72 GB/s have been
    // seen), so a limit probed at the start of the run would not be fair.
    let n = 4096;
    let a = Array2::<f64>::from_elem((n, n), 1.0);
    let b = Array2::<f64>::from_elem((n, n), 2.0);
    let mut c = Array2::<f64>::zeros((n, n));
    let mut d = vec![0.0f64; n * n];
    let elems = (n * n) as f64;
    let (sa, sb) = (
        a.as_slice().unwrap().to_vec(),
        b.as_slice().unwrap().to_vec(),
    );
    let rows_bw =
        |name: &str, t: usize, bytes: f64, k: f64, r: f64, what: &str, target: &str| Row {
            kernel: name.into(),
            size: "4096²".into(),
            threads: t,
            median: k,
            rate: format!("{:.1} GB/s", bytes / k / 1e9),
            limit: format!("{what} limit {:.1} GB/s", bytes / r / 1e9),
            ratio: r / k,
            target: target.into(),
        };
    for t in [1, 2] {
        let target = if t == 2 { "≥ 0.90" } else { "" };
        let (k, r) = paired(
            "par_add",
            || pool(t).install(|| k::par_add(a.view(), b.view(), c.view_mut()).unwrap()),
            || pool(t).install(|| stream_add(&sa, &sb, &mut d, t)),
        );
        rows.push(rows_bw("par_add f64", t, 24.0 * elems, k, r, "add", target));
        let (k, r) = paired(
            "par_triad",
            || pool(t).install(|| k::par_triad(a.view(), b.view(), c.view_mut(), 3.0).unwrap()),
            || pool(t).install(|| stream_add(&sa, &sb, &mut d, t)),
        );
        rows.push(rows_bw("par_triad f64", t, 24.0 * elems, k, r, "add", ""));
    }
    let (k, r) = paired(
        "add_alloc",
        || {
            std::hint::black_box(k::add_alloc(a.view(), b.view()).unwrap());
        },
        || stream_add(&sa, &sb, &mut d, 1),
    );
    rows.push(rows_bw(
        "add_alloc (&a + &b) f64",
        1,
        24.0 * elems,
        k,
        r,
        "add",
        "(page faults)",
    ));

    // ---- sum and dot, 4096² f64: read bandwidth, against a plain read loop.
    for t in [1, 2] {
        let target = if t == 2 { "≥ 0.85" } else { "" };
        let (k, r) = paired(
            "par_sum",
            || {
                std::hint::black_box(pool(t).install(|| k::par_sum(a.view())));
            },
            || {
                std::hint::black_box(pool(t).install(|| stream_read(&sa, t)));
            },
        );
        rows.push(rows_bw("par_sum f64", t, 8.0 * elems, k, r, "read", target));
        let (k, r) = paired(
            "par_dot",
            || {
                std::hint::black_box(pool(t).install(|| k::par_dot(a.view(), b.view()).unwrap()));
            },
            || {
                std::hint::black_box(pool(t).install(|| stream_read(&sa, t) + stream_read(&sb, t)));
            },
        );
        rows.push(rows_bw(
            "par_dot f64",
            t,
            16.0 * elems,
            k,
            r,
            "read",
            target,
        ));
        let (k, r) = paired(
            "par_sum_compensated",
            || {
                std::hint::black_box(pool(t).install(|| k::par_sum_compensated(a.view())));
            },
            || {
                std::hint::black_box(pool(t).install(|| stream_read(&sa, t)));
            },
        );
        rows.push(rows_bw(
            "par_sum_compensated f64",
            t,
            8.0 * elems,
            k,
            r,
            "read",
            "",
        ));
    }
    drop((a, b, c, d, sa, sb));

    // ---- add, 1024² f32, in L3: speed-up from 2 threads, and the teaching steps.
    let n = 1024;
    let a = Array2::<f32>::from_elem((n, n), 1.0);
    let b = Array2::<f32>::from_elem((n, n), 2.0);
    let mut c = Array2::<f32>::zeros((n, n));
    let bytes = 3.0 * 4.0 * (n * n) as f64;
    let t1 = time("par_add 1t", 15, || {
        pool(1).install(|| k::par_add(a.view(), b.view(), c.view_mut()).unwrap())
    });
    let t2 = time("par_add 2t", 15, || {
        pool(2).install(|| k::par_add(a.view(), b.view(), c.view_mut()).unwrap())
    });
    // The one-thread baseline is the faster of serial `add` and `par_add` on
    // one thread, so pool overhead cannot inflate the speed-up.
    let t0 = time("add", 15, || {
        k::add(a.view(), b.view(), c.view_mut()).unwrap()
    });
    let t1 = t1.min(t0);
    for (t, s) in [(1, t1), (2, t2)] {
        rows.push(Row {
            kernel: "par_add f32 (in L3)".into(),
            size: "1024²".into(),
            threads: t,
            median: s,
            rate: format!("{:.1} GB/s", bytes / s / 1e9),
            limit: "best 1-thread time".into(),
            ratio: t1 / s,
            target: if t == 2 {
                "≥ 1.7× (speed-up)".into()
            } else {
                String::new()
            },
        });
    }
    type AddFn = fn(ArrayView2<f32>, ArrayView2<f32>, ArrayViewMut2<f32>) -> parlab::Result<()>;
    let steps: [(&str, AddFn); 4] = [
        ("add_loop", k::add_loop),
        ("add_zip", k::add_zip),
        ("add", k::add),
        ("add_chunks(threads = 4)", |a, b, c| {
            k::add_chunks(a, b, c, 4)
        }),
    ];
    for (name, f) in steps {
        let s = time(name, 9, || f(a.view(), b.view(), c.view_mut()).unwrap());
        rows.push(Row {
            kernel: format!("{name} f32"),
            size: "1024²".into(),
            threads: if name.starts_with("add_chunks") { 4 } else { 1 },
            median: s,
            rate: format!("{:.1} GB/s", bytes / s / 1e9),
            limit: "best 1-thread time".into(),
            ratio: t1 / s,
            target: String::new(),
        });
    }
    drop((a, b, c));

    // ---- matmul, 1024² f64: FMA peak.
    let n = 1024;
    let a = Array2::<f64>::from_shape_fn((n, n), |(i, j)| ((i + 2 * j) % 7) as f64 - 3.0);
    let b = Array2::<f64>::from_shape_fn((n, n), |(i, j)| ((3 * i + j) % 5) as f64 - 2.0);
    let mut c = Array2::<f64>::zeros((n, n));
    let flops = 2.0 * (n as f64).powi(3);
    let mut mm = |name: &str, t: usize, samples: usize, f: &mut (dyn FnMut() + Send)| {
        let s = time(name, samples, f);
        let gf = flops / s / 1e9;
        rows.push(Row {
            kernel: format!("{name} f64"),
            size: "1024²".into(),
            threads: t,
            median: s,
            rate: format!("{gf:.1} GFLOP/s"),
            limit: format!("FMA peak {:.0} GFLOP/s", peak(t)),
            ratio: gf / peak(t),
            target: if name == "matmul" || name == "par_matmul" {
                "≥ 0.75".into()
            } else {
                String::new()
            },
        });
    };
    mm("matmul", 1, 7, &mut || {
        k::matmul(a.view(), b.view(), c.view_mut()).unwrap()
    });
    mm("par_matmul", 2, 7, &mut || {
        pool(2).install(|| k::par_matmul(a.view(), b.view(), c.view_mut()).unwrap())
    });
    mm("ndarray dot (for comparison)", 1, 5, &mut || {
        std::hint::black_box(a.dot(&b));
    });
    mm("matmul_ikj", 1, 3, &mut || {
        k::matmul_ikj(a.view(), b.view(), c.view_mut()).unwrap()
    });
    mm("matmul_blocked", 1, 3, &mut || {
        k::matmul_blocked(a.view(), b.view(), c.view_mut()).unwrap()
    });
    mm("par_matmul_blocked", 2, 3, &mut || {
        pool(2).install(|| k::par_matmul_blocked(a.view(), b.view(), c.view_mut()).unwrap())
    });
    drop((a, b, c));

    // ---- stencils, 4096² f32: one read and one write per pixel (a copy's traffic).
    let n = 4096;
    let src = Array2::<f32>::from_shape_fn((n, n), |(i, j)| ((i * j) % 255) as f32);
    let mut dst = Array2::<f32>::zeros((n, n));
    let bytes = 8.0 * (n * n) as f64;
    for t in [1, 2] {
        type StFn = fn(ArrayView2<f32>, ArrayViewMut2<f32>) -> parlab::Result<()>;
        let stencils: [(&str, StFn); 3] = [
            ("par_gaussian_blur", k::par_gaussian_blur),
            ("par_box_blur", k::par_box_blur),
            ("par_sobel", k::par_sobel),
        ];
        for (name, f) in stencils {
            let mut copy = vec![0.0f32; n * n];
            let (s, bound) = paired(
                name,
                || pool(t).install(|| f(src.view(), dst.view_mut()).unwrap()),
                || pool(t).install(|| stream_copy(src.as_slice().unwrap(), &mut copy, t)),
            );
            rows.push(Row {
                kernel: format!("{name} f32"),
                size: "4096²".into(),
                threads: t,
                median: s,
                rate: format!("{:.1} GB/s", bytes / s / 1e9),
                limit: format!("copy bound {}", fmt_time(bound)),
                ratio: s / bound,
                target: if t == 2 {
                    "time ≤ 1.5× bound".into()
                } else {
                    String::new()
                },
            });
        }
    }
    drop((src, dst));

    // ---- Monte Carlo: compute-bound, speed-up from 2 threads.
    let opt = k::CallOption {
        spot: 100.0,
        strike: 105.0,
        rate: 0.03,
        volatility: 0.2,
        maturity: 1.0,
    };
    type Mc = Box<dyn Fn() -> k::Estimate + Sync>;
    let mcs: [(&str, &str, Mc); 2] = [
        (
            "par_pi",
            "10⁷ points",
            Box::new(|| k::par_pi(10_000_000, 1).unwrap()),
        ),
        (
            "par_european_call",
            "2·10⁶ paths",
            Box::new(move || k::par_european_call(&opt, 2_000_000, 1).unwrap()),
        ),
    ];
    for (name, size, f) in mcs {
        let t1 = time(name, 5, || {
            std::hint::black_box(pool(1).install(&f));
        });
        let t2 = time(name, 5, || {
            std::hint::black_box(pool(2).install(&f));
        });
        for (t, s) in [(1, t1), (2, t2)] {
            rows.push(Row {
                kernel: name.into(),
                size: size.into(),
                threads: t,
                median: s,
                rate: String::new(),
                limit: "1-thread time".into(),
                ratio: t1 / s,
                target: if t == 2 {
                    "≥ 1.8× (speed-up)".into()
                } else {
                    String::new()
                },
            });
        }
    }

    println!("| kernel | size | threads | median | rate | limit (same run) | ratio | target |");
    println!("|---|---|---:|---:|---:|---|---:|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.2} | {} |",
            r.kernel,
            r.size,
            r.threads,
            fmt_time(r.median),
            r.rate,
            r.limit,
            r.ratio,
            r.target
        );
    }
    println!(
        "\nratio: rate / limit, from medians; an add or read limit is the limit loop \
         (`parlab::timing::limit_add_streaming` / `limit_read`) on the kernel's own arrays \
         and threads, timed just before and after it (the faster counts); for stencils time / the time of a copy of the image (lower is better); \
         for speed-ups the 1-thread median / this median."
    );
}
