//! `memit` measures the whole process's resident memory, so this test has a
//! binary of its own: no other test allocates while it runs.

use parlab::profile::{memit, memit_with};

#[test]
fn a_temporary_buffer_shows_in_the_peak_not_the_increment() {
    let mem = memit(|| {
        let v = vec![1u8; 128 << 20]; // touched, so resident
        v.iter().map(|&x| x as u64).sum::<u64>()
    });
    assert!(mem.peak_increment() >= 120 << 20, "{mem}");
    assert!(mem.increment() < 64 << 20, "the buffer was freed: {mem}");
    assert!(mem.to_string().starts_with("peak memory: "));

    let (v, kept) = memit_with(|| vec![7u8; 64 << 20]);
    assert_eq!(v[v.len() - 1], 7);
    assert!(
        kept.increment() >= 60 << 20,
        "the result is still alive: {kept}"
    );
}
