//! Five quick probes in a row on one machine must decide alike: the same read
//! width in every regime, the same kind of stores, and memory reached within
//! one power of two. A decision that flips between probes is noise, and every
//! "in cache / from memory" sentence of a notebook would inherit it.

use parlab::timing::Machine;
use parlab::timing::machine::ProbeConfig;

/// The two tests probe: one at a time, or each would measure the other.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "measures the probe as programs and notebooks run it (optimised): cargo test --release --test probe_stability"
)]
fn five_quick_probes_decide_alike() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let cfg = ProbeConfig {
        apply: false,
        ..ProbeConfig::quick()
    };
    let probes: Vec<Machine> = (0..5).map(|_| Machine::probe_with(&cfg).unwrap()).collect();
    let choices = |m: &Machine| {
        m.decisions
            .iter()
            .map(|d| format!("{} {}: {}", d.regime, d.what, d.choice))
            .collect::<Vec<_>>()
    };
    let first = choices(&probes[0]);
    assert_eq!(
        first.len(),
        4,
        "one decision per regime and one for stores: {first:?}"
    );
    for (i, m) in probes.iter().enumerate() {
        assert_eq!(
            choices(m),
            first,
            "probe {i} decided otherwise than probe 0; evidence: {:?} against {:?}",
            m.decisions,
            probes[0].decisions
        );
        assert_eq!(m.tuning().read_simd, probes[0].tuning().read_simd);
        assert_eq!(
            m.streaming_threshold >= parlab::timing::machine::NEVER,
            probes[0].streaming_threshold >= parlab::timing::machine::NEVER
        );
    }
    let from: Vec<usize> = probes.iter().map(|m| m.memory_from_bytes).collect();
    let (lo, hi) = (from.iter().min().unwrap(), from.iter().max().unwrap());
    assert!(
        *hi <= 2 * *lo,
        "memory reached at {from:?} bytes in five probes: more than a power of two apart"
    );
}

#[test]
fn a_saved_probe_is_reused_and_applied() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let dir = std::env::temp_dir().join(format!("parlab-probe-reuse-{}", std::process::id()));
    let path = dir.join("machine.json");
    let _ = std::fs::remove_dir_all(&dir);
    let first = Machine::load_or_probe(&path).unwrap();
    assert!(path.exists(), "load_or_probe saves what it probed");
    assert!(first.is_this_machine());
    // Change what is in force, then reuse: the saved decisions come back.
    parlab::kernels::set_streaming_threshold(12345);
    let again = Machine::load_or_probe(&path).unwrap();
    assert_eq!(
        again, first,
        "the second call loads the file instead of probing"
    );
    assert_eq!(parlab::kernels::tuning(), first.tuning());
    // A probe of another machine is not applied here: it is probed afresh.
    let mut other = first.clone();
    other.cpu_model = "a CPU this is not".into();
    other.save(&path).unwrap();
    let fresh = Machine::load_or_probe(&path).unwrap();
    assert_ne!(fresh.cpu_model, "a CPU this is not");
    assert_eq!(Machine::load(&path).unwrap().cpu_model, fresh.cpu_model);
    std::fs::remove_dir_all(&dir).unwrap();
}
