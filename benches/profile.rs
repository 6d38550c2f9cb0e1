//! What a profiler section costs: `prof.section("x")` opened and closed, timed
//! with parlab's own `Bench`.
//!
//! `cargo bench --bench profile` (release) or
//! `cargo bench --bench profile --profile notebook` (what a notebook cell gets).
//! A section should cost well under 100 ns, so that sections around work of a
//! few microseconds or more do not change what they measure.

use parlab::profile::Profiler;
use parlab::report::fmt_seconds;
use parlab::timing::{Bench, timer_overhead};
use std::hint::black_box;

fn main() {
    let bench = Bench::new().samples(15);
    let prof = Profiler::new();
    let flat = bench
        .clone()
        .name("section open+close")
        .run(|| drop(black_box(prof.section(black_box("x")))))
        .expect("bench");
    let outer = prof.section("outer");
    let nested = bench
        .clone()
        .name("nested section open+close")
        .run(|| drop(black_box(prof.section(black_box("inner")))))
        .expect("bench");
    drop(outer);
    let timed = bench
        .clone()
        .name("prof.time(\"x\", || ())")
        .run(|| prof.time(black_box("y"), || ()))
        .expect("bench");
    let empty = bench
        .clone()
        .name("empty closure")
        .run(|| ())
        .expect("bench");
    let build = if cfg!(debug_assertions) {
        "notebook profile (opt-level 2, debug assertions)"
    } else {
        "release"
    };
    println!("profiler overhead per section ({build}):");
    for r in [&flat, &nested, &timed] {
        println!(
            "  {:<28} median {:>6.1} ns, fastest sample {:>6.1} ns",
            r.name,
            r.median() * 1e9,
            r.min() * 1e9
        );
        if let Some(w) = r.noise_warning() {
            println!("    {w}");
        }
    }
    println!(
        "  (an empty closure: {}; one Instant::now(): {})",
        fmt_seconds(empty.median()),
        fmt_seconds(timer_overhead())
    );
    let calls = prof.report().row("x").map_or(0, |r| r.calls);
    println!("  sections recorded under \"x\": {calls}");
    // The fastest sample: a busy machine inflates the median, not the cost.
    let worst = [&flat, &nested, &timed]
        .iter()
        .map(|r| r.min())
        .fold(0.0, f64::max);
    println!(
        "  target ≤ 100 ns per section (fastest samples): {}",
        if worst <= 100e-9 { "met" } else { "NOT met" }
    );
}
