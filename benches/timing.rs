//! Checks of the timing tools themselves, printed rather than asserted (timings
//! are not test material): the machine probe, the clock's cost, and how much the
//! median of a ~1 µs kernel varies from one `bench` call to the next.
//!
//! `cargo bench --bench timing` (release) or
//! `cargo bench --bench timing --profile notebook` (what a notebook sees).

use parlab::report::fmt_seconds;
use parlab::timing::{Bench, Machine, timer_overhead};
use std::hint::black_box;
use std::time::Instant;

fn main() {
    // cargo bench passes `--bench`; ignore arguments.
    // Quick first: the peak resident size (VmHWM) only grows.
    let rss0 = peak_rss();
    let t = Instant::now();
    let q = Machine::probe_quick().expect("probe_quick");
    let quick_s = t.elapsed().as_secs_f64();
    let rss_quick = peak_rss();
    println!("{q}\n");
    let t = Instant::now();
    let m = Machine::probe().expect("probe");
    let full_s = t.elapsed().as_secs_f64();
    let rss_full = peak_rss();
    println!("{m}\n");
    let mib = |b: Option<u64>| b.map_or("unknown".to_string(), |b| format!("{} MiB", b >> 20));
    println!(
        "Machine::probe_quick(): {quick_s:.2} s, peak resident {} (process before: {}); targets ≤ 2 s, ≤ 256 MiB",
        mib(rss_quick),
        mib(rss0)
    );
    println!(
        "Machine::probe():       {full_s:.2} s, peak resident {}; targets ≤ 4 s, ≤ 1 GiB",
        mib(rss_full)
    );

    println!(
        "timer overhead (Instant::now pair): {}",
        fmt_seconds(timer_overhead())
    );

    // A ~1 µs kernel: sum of 1 000 f64 (serial, dependent adds: ≈ 1 000 × 4 cycles / 4 GHz).
    let v: Vec<f64> = (0..1000).map(|i| i as f64 * 0.5).collect();
    let kernel = || black_box(&v).iter().sum::<f64>();
    let b = Bench::new();
    let mut medians = Vec::new();
    for _ in 0..10 {
        let r = b.run(kernel).expect("bench");
        medians.push(r.median());
        println!("  {r}");
    }
    let lo = medians.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = medians.iter().cloned().fold(0.0, f64::max);
    let med = parlab::timing::stats::median(&medians);
    let sd = parlab::timing::stats::std_dev(&medians);
    println!(
        "repeatability over 10 bench calls of a {} kernel: medians {} … {}, \
         (max−min)/median = {:.2} %, std/median = {:.2} %",
        fmt_seconds(med),
        fmt_seconds(lo),
        fmt_seconds(hi),
        (hi - lo) / med * 100.0,
        sd / med * 100.0
    );
}

/// Peak resident set size of this process (Linux `VmHWM`), bytes.
fn peak_rss() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib << 10)
}
