//! Probes this machine and prints what it found, with the working-set sweep
//! behind the cache and memory figures.
//!
//! `cargo run --release --example probe [-- --full]`

use parlab::timing::Machine;
use parlab::timing::machine::fmt_bytes;

fn main() -> parlab::Result<()> {
    let full = std::env::args().any(|a| a == "--full");
    let m = if full {
        Machine::probe()?
    } else {
        Machine::probe_quick()?
    };
    println!("{m}\n");
    for p in &m.stream {
        println!("working-set sweep, {} thread(s): read GB/s", p.threads);
        for s in &p.sweep {
            println!("  {:>10}  {:>7.1}", fmt_bytes(s.bytes), s.read);
        }
    }
    Ok(())
}
