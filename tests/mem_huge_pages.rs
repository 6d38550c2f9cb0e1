//! `parlab::mem` arrays are on huge pages where the system gives them on
//! request. In a binary of its own: the figure is per process, and other
//! tests allocating at the same time would move it.

/// Anonymous memory on huge pages in this process, from smaps_rollup (kB).
fn anon_huge_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/smaps_rollup").ok()?;
    let l = s.lines().find(|l| l.starts_with("AnonHugePages:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn large_arrays_get_huge_pages_where_the_system_gives_them_on_request() {
    let mode = parlab::mem::huge_pages_mode();
    let before = anon_huge_kib();
    let a = parlab::mem::zeros::<f64, _>((2048, 2048)); // 32 MiB: 16 huge pages
    let after = anon_huge_kib();
    assert!(a.iter().all(|&x| x == 0.0));
    match (mode.as_deref(), before, after) {
        (Some("madvise" | "always"), Some(b), Some(x)) => {
            // At least a quarter of the 2 MiB extents (the ends may not be
            // aligned; compaction may fail for a few).
            assert!(
                x >= b + 8 * 1024,
                "AnonHugePages {b} → {x} kB with THP {mode:?}"
            );
        }
        other => eprintln!("huge pages not checked here: {other:?}"),
    }
    // An ordinary Array2 of the same size does not ask for them.
    let mid = anon_huge_kib();
    let plain = ndarray::Array2::<f64>::from_elem((2048, 2048), 1.0);
    let end = anon_huge_kib();
    if mode.as_deref() == Some("madvise") {
        assert_eq!(mid, end, "a plain array got huge pages under THP madvise");
    }
    drop((a, plain));
}
