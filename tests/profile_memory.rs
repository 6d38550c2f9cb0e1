//! `memit` measures the resident memory of the whole process: in the unit-test
//! binary, other tests allocating at the same time made this check flaky, so it
//! runs alone in its own binary.

use parlab::profile::memit;

#[test]
fn a_temporary_buffer_shows_in_the_peak_not_the_increment() {
    let mem = memit(|| {
        let v = vec![1u8; 128 << 20]; // touched: resident
        v.iter().map(|&x| x as u64).sum::<u64>()
    });
    assert!(mem.peak_increment() >= 120 << 20, "{mem}");
    assert!(mem.increment() < 64 << 20, "the buffer was freed: {mem}");
    assert!(mem.to_string().starts_with("peak memory: "));
}
