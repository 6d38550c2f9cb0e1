//! Faster and slower machines: every notebook-facing helper that times
//! something must give the same non-timing result (verdicts, values, shapes,
//! names, errors) whatever number of calls its calibration chose.
//!
//! `helpers_do_not_depend_on_the_number_of_calls` runs the `#[ignore]`d
//! `report` below in a child process per time scale
//! (`PARLAB_BENCH_TIME_SCALE` = 1e-3, 1/3, 1 and 3: the calls of a CPU 1000×
//! and 3× slower, this one, and one 3× faster), each alone on the machine,
//! and compares what they report. It also checks that the scale took effect
//! (the calls per sample follow it) and that a result which does count calls
//! — a total summed inside a benchmarked closure, as a notebook once asserted
//! on — is caught by the comparison, so the test can fail.

use ndarray::{Array1, Array2, ArrayView2, ArrayViewMut2, s};
use parlab::exercise::{self, Check};
use parlab::par::Par;
use parlab::timing::machine::ProbeConfig;
use parlab::timing::{Bench, BenchResult, Compare, Machine, SizeSweep, ThreadSweep, Work};
use parlab::verify::Tol;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::{Duration, Instant};

/// The scales compared, as the environment variable spells them, and the
/// factor each stands for.
const SCALES: [(&str, f64); 4] = [("1e-3", 1e-3), ("1/3", 1.0 / 3.0), ("1", 1.0), ("3", 3.0)];

/// What a child prints before each line of its report.
const MARK: &str = "PARLAB-TIME-SCALE ";

/// Settings every helper here gets (scaled by the child's time scale):
/// 3 samples of at least 1 ms after 2 ms of warm-up.
fn quick() -> Bench {
    Bench::new()
        .samples(3)
        .warmup(Duration::from_millis(2))
        .min_sample_time(Duration::from_millis(1))
}

/// The report of one child: non-timing results that must agree at every
/// scale, and the call counts that must not.
#[derive(Default)]
struct Report {
    same: BTreeMap<String, String>,
    calls: BTreeMap<String, String>,
}

impl Report {
    fn same(&mut self, key: &str, value: impl Debug) {
        let old = self.same.insert(key.to_string(), format!("{value:?}"));
        assert!(old.is_none(), "key {key} reported twice");
    }
    fn calls(&mut self, key: &str, value: impl Debug) {
        self.calls.insert(key.to_string(), format!("{value:?}"));
    }
    /// What every measurement must keep: its name, sample count and
    /// threads, and statistics in order; never its loops or warm-up calls.
    fn bench(&mut self, key: &str, r: &BenchResult) {
        let ordered = r.min() <= r.median()
            && r.median() <= r.max()
            && r.samples.iter().all(|s| s.is_finite() && *s >= 0.0);
        self.same(
            key,
            (&r.name, r.samples.len(), r.threads, ordered, r.loops >= 1),
        );
        self.calls(&format!("{key}.loops"), r.loops);
    }
    fn check(&mut self, key: &str, c: &Check, with_message: bool) {
        if with_message {
            self.same(key, (&c.exercise, c.status, &c.message));
        } else {
            self.same(key, (&c.exercise, c.status));
        }
    }
}

fn error(e: &parlab::Error) -> (parlab::ErrorKind, String) {
    (e.kind(), e.to_string())
}

fn add_in_chunks(
    a: ArrayView2<'_, f32>,
    b: ArrayView2<'_, f32>,
    mut c: ArrayViewMut2<'_, f32>,
    threads: usize,
) {
    std::thread::scope(|scope| {
        let mut rest = c.view_mut();
        for r in parlab::par::chunk_ranges(a.nrows(), threads) {
            let (mut mine, tail) = rest.split_at(ndarray::Axis(0), r.len());
            rest = tail;
            let (a, b) = (a.slice(s![r.clone(), ..]), b.slice(s![r, ..]));
            scope.spawn(move || mine.zip_mut_with(&(&a + &b), |x, &y| *x = y));
        }
    });
}

/// Every helper, under the time scale of this process.
fn measure_everything() -> Report {
    let mut rep = Report::default();
    rep.same("time_scale", parlab::timing::time_scale());
    let v: Vec<f64> = (0..1000).map(|i| i as f64).collect();

    // Bench::run, on the calling thread and on a pool of its own.
    let r = quick().name("sum").run(|| v.iter().sum::<f64>()).unwrap();
    rep.bench("run", &r);
    let r = quick()
        .par(Par::threads(2))
        .run(rayon::current_num_threads)
        .unwrap();
    rep.bench("run.par2", &r);
    let e = quick()
        .name("bad")
        .run(|| -> u8 { panic!("always") })
        .unwrap_err();
    rep.same("run.panics", error(&e));
    rep.same(
        "run.zero_samples",
        error(&quick().samples(0).run(|| 1).unwrap_err()),
    );
    // The negative control: a total counted inside the closure follows the
    // number of calls; reported as a count, it must differ between scales.
    let mut total = 0u64;
    quick()
        .run(|| {
            total += 1;
            std::hint::black_box(v.iter().sum::<f64>())
        })
        .unwrap();
    rep.calls("counted_total", total);

    // try_run: a parlab kernel, and one that fails.
    let (a, b) = (Array1::<f64>::ones(4096), Array1::<f64>::ones(4096));
    let mut c = Array1::<f64>::zeros(4096);
    let r = quick()
        .name("add")
        .try_run(|| parlab::kernels::add(a.view(), b.view(), c.view_mut()))
        .unwrap();
    rep.bench("try_run", &r);
    rep.same("try_run.output", c.iter().all(|&x| x == 2.0));
    let mut short = Array1::<f64>::zeros(4095);
    let e = quick()
        .name("short")
        .try_run(|| parlab::kernels::add(a.view(), b.view(), short.view_mut()))
        .unwrap_err();
    rep.same("try_run.error", error(&e));

    // run_with_setup: a sort on fresh inputs.
    let r = quick()
        .batch(8)
        .run_with_setup(
            || (0..256).rev().map(f64::from).collect::<Vec<_>>(),
            |mut x| {
                x.sort_by(f64::total_cmp);
                x
            },
        )
        .unwrap();
    rep.bench("run_with_setup", &r);
    let e = quick()
        .run_with_setup(|| -> Vec<u8> { panic!("no input") }, |x| x.len())
        .unwrap_err();
    rep.same("run_with_setup.panics", error(&e));

    // Compare: returning and writing kernels, a pool per kernel, a mismatch.
    let n = 128;
    let (ma, mb) = (
        Array2::from_shape_fn((n, n), |(i, j)| (i + j) as f32),
        Array2::from_shape_fn((n, n), |(i, j)| (i * j % 7) as f32),
    );
    let nan = Array2::from_elem((n, n), f32::NAN);
    let cmp = Compare::new()
        .bench(quick())
        .tol(Tol::exact())
        .work(Work::new().bytes((3 * n * n * 4) as f64))
        .kernel("ops", || &ma + &mb)
        .kernel_into("add", nan.clone(), |c| {
            parlab::kernels::add(ma.view(), mb.view(), c.view_mut())
        })
        .kernel_into("par_add", nan.clone(), |c| {
            parlab::kernels::par_add(ma.view(), mb.view(), c.view_mut())
        })
        .par("ops", Par::Seq)
        .par("par_add", Par::threads(2))
        .run()
        .unwrap();
    for (k, r) in cmp.results.iter().enumerate() {
        rep.bench(&format!("compare.{k}"), r);
    }
    rep.same("compare.baseline", cmp.baseline);
    rep.same("compare.diffs", &cmp.diffs);
    rep.same("compare.speedup_of_baseline", cmp.speedup("ops"));
    let e = Compare::new()
        .bench(quick())
        .kernel("right", || vec![1.0f64, 2.0, 3.0])
        .kernel("wrong", || vec![1.0f64, 2.5, 3.0])
        .run()
        .unwrap_err();
    rep.same("compare.mismatch", error(&e));

    // SizeSweep: two sizes, a returning and a writing kernel.
    let sweep = SizeSweep::new([1_000, 5_000], |n| Array1::from_shape_fn(n, |i| i as f64))
        .bench(quick())
        .tol_for(Tol::eps_n::<f64>)
        .kernel("sum", |x| parlab::kernels::sum(x.view()))
        .kernel("par_sum", |x| parlab::kernels::par_sum(x.view()))
        .work(|n| Work::new().bytes(8.0 * n as f64))
        .threads(2)
        .run()
        .unwrap();
    rep.same("size_sweep.sizes", &sweep.sizes);
    rep.same("size_sweep.names", &sweep.names);
    for (k, row) in sweep.results.iter().enumerate() {
        for (j, r) in row.iter().enumerate() {
            rep.bench(&format!("size_sweep.{k}.{j}"), r);
        }
    }
    let sweep = SizeSweep::new([100, 1000], Array1::<f64>::ones)
        .bench(quick())
        .kernel_into(
            "add",
            |n| Array1::from_elem(n, f64::NAN),
            |x, out| parlab::kernels::add(x.view(), x.view(), out.view_mut()),
        )
        .kernel_into(
            "half",
            |n| Array1::from_elem(n, f64::NAN),
            |x, out| {
                let h = x.len() / 2;
                out.slice_mut(s![..h]).fill(2.0);
            },
        )
        .run()
        .unwrap_err();
    rep.same("size_sweep.mismatch", error(&sweep));

    // ThreadSweep on 1 and 2 threads.
    let ts = ThreadSweep::new([1, 2])
        .bench(quick())
        .name("par_sum")
        .run(|| parlab::kernels::par_sum(ndarray::aview1(&v)))
        .unwrap();
    rep.same(
        "thread_sweep",
        (
            &ts.name,
            ts.points.iter().map(|p| p.threads).collect::<Vec<_>>(),
            ts.points[0].speedup,
            ts.serial_fraction.is_some(),
        ),
    );
    for p in &ts.points {
        rep.bench(&format!("thread_sweep.{}", p.threads), &p.result);
    }

    // The machine probe in its tiny configuration.
    let m = Machine::probe_with(&ProbeConfig::tiny()).unwrap();
    let positive = |x: f64| x.is_finite() && x > 0.0;
    rep.same(
        "machine",
        (
            &m.cpu_model,
            m.threads,
            &m.simd,
            &m.peak_isa,
            &m.caches,
            m.llc_bytes,
            m.array_bytes,
        ),
    );
    rep.same(
        "machine.stream",
        m.stream
            .iter()
            .map(|p| {
                (
                    p.threads,
                    p.sweep.iter().map(|s| s.bytes).collect::<Vec<_>>(),
                    [p.copy, p.add, p.triad, p.read].into_iter().all(positive),
                )
            })
            .collect::<Vec<_>>(),
    );
    rep.same(
        "machine.peak",
        m.peak
            .iter()
            .map(|p| (p.threads, positive(p.f32) && positive(p.f64)))
            .collect::<Vec<_>>(),
    );

    // The exercise checkers that time the student's function, with the
    // solutions and with a serial one (right, but not on threads).
    let c = exercise::check_add_in_chunks(add_in_chunks);
    rep.check("check_add_in_chunks", &c, true);
    let serial = |a: ArrayView2<'_, f32>,
                  b: ArrayView2<'_, f32>,
                  mut c: ArrayViewMut2<'_, f32>,
                  _t| { c.assign(&(&a + &b)) };
    let c = exercise::check_add_in_chunks(serial);
    rep.check("check_add_in_chunks.serial", &c, true);
    let c = exercise::check_blur_in_bands(|s, d, t| {
        parlab::par::with_threads(t, || parlab::kernels::par_box_blur(s, d)).unwrap()
    });
    rep.check("check_blur_in_bands", &c, true);
    let c = exercise::check_blur_in_bands(|s, d, _t| parlab::kernels::box_blur(s, d).unwrap());
    rep.check("check_blur_in_bands.serial", &c, true);
    // 5.4's message quotes the measured speed-ups: only the verdict counts.
    let c = exercise::check_predicted_speedup(|p, cores| p.min(cores) as f64);
    rep.check("check_predicted_speedup", &c, false);
    rep
}

#[test]
#[ignore = "run by helpers_do_not_depend_on_the_number_of_calls, once per time scale"]
fn report() {
    let t = Instant::now();
    let rep = measure_everything();
    for (k, v) in &rep.same {
        println!("{MARK}same {k} = {v}");
    }
    for (k, v) in &rep.calls {
        println!("{MARK}calls {k} = {v}");
    }
    println!("{MARK}seconds = {:.2}", t.elapsed().as_secs_f64());
}

/// Runs `report` in a child process under `PARLAB_BENCH_TIME_SCALE=scale`.
fn child_report(scale: &str) -> (Report, f64) {
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "report",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env("PARLAB_BENCH_TIME_SCALE", scale)
        .output()
        .expect("the test binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the report at scale {scale} failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rep = Report::default();
    let mut seconds = f64::NAN;
    for line in stdout.lines().filter_map(|l| l.strip_prefix(MARK)) {
        let (key, value) = line.split_once(" = ").expect("key = value");
        let value = value.to_string();
        match key.split_once(' ') {
            Some(("same", k)) => {
                rep.same.insert(k.to_string(), value);
            }
            Some(("calls", k)) => {
                rep.calls.insert(k.to_string(), value);
            }
            _ => seconds = value.parse().unwrap_or(f64::NAN),
        }
    }
    assert!(
        !rep.same.is_empty(),
        "no report at scale {scale}:\n{stdout}"
    );
    (rep, seconds)
}

fn count(rep: &Report, key: &str) -> u64 {
    rep.calls[key]
        .parse()
        .unwrap_or_else(|e| panic!("{key} = {}: {e}", rep.calls[key]))
}

#[test]
fn helpers_do_not_depend_on_the_number_of_calls() {
    let reports: Vec<(&str, f64, Report, f64)> = SCALES
        .iter()
        .map(|&(name, factor)| {
            let (rep, seconds) = child_report(name);
            (name, factor, rep, seconds)
        })
        .collect();
    let mut problems = Vec::new();
    for (name, factor, rep, seconds) in &reports {
        eprintln!("scale {name}: {seconds:.2} s");
        let got: f64 = rep.same["time_scale"].parse().unwrap();
        assert!(
            (got - factor).abs() <= 1e-12 * factor,
            "PARLAB_BENCH_TIME_SCALE={name} read as {got}"
        );
    }
    // The scale took effect: the calls per sample grow with it, summed over
    // every measurement (a preempted calibration may stop early), from 1 µs
    // of budget per sample at 1e-3 to 3 ms at 3: a ratio near 3000.
    let loops: Vec<u64> = reports
        .iter()
        .map(|r| {
            r.2.calls
                .keys()
                .filter(|k| k.ends_with(".loops"))
                .map(|k| count(&r.2, k))
                .sum()
        })
        .collect();
    assert!(
        loops[0] * 10 < loops[loops.len() - 1],
        "calls per sample, summed, at scales {:?}: {loops:?}: the scale did not take effect",
        SCALES.map(|s| s.0)
    );
    // A total counted over the calls differs, so the comparison below would
    // catch a helper returning one.
    let totals: Vec<u64> = reports
        .iter()
        .map(|r| count(&r.2, "counted_total"))
        .collect();
    assert!(
        totals[0] * 10 < totals[totals.len() - 1],
        "a total counted over the calls did not follow the scale: {totals:?}"
    );

    let (base_name, _, base, _) = &reports[0];
    for (name, _, rep, _) in &reports[1..] {
        for (k, v) in &base.same {
            if k == "time_scale" {
                continue;
            }
            match rep.same.get(k) {
                Some(w) if w == v => {}
                Some(w) => problems.push(format!(
                    "{k}:\n  at scale {base_name}: {v}\n  at scale {name}: {w}"
                )),
                None => problems.push(format!("{k}: missing at scale {name}")),
            }
        }
    }
    assert!(
        problems.is_empty(),
        "results that depend on the number of calls:\n{}",
        problems.join("\n")
    );
    // And the verdicts are the right ones, not merely the same ones.
    for (key, want) in [
        ("check_add_in_chunks", "Passed"),
        (
            "check_add_in_chunks.serial",
            "correct, but it ran on one thread",
        ),
        ("check_blur_in_bands", "Passed"),
        (
            "check_blur_in_bands.serial",
            "correct, but it ran on one thread",
        ),
        ("check_predicted_speedup", "Passed"),
    ] {
        assert!(base.same[key].contains(want), "{key}: {}", base.same[key]);
    }
}
