//! Arrays on huge pages: fewer TLB misses and longer hardware prefetch runs
//! for large arrays.
//!
//! Memory is mapped in 4 KiB pages unless asked otherwise. Walking a 384 MiB
//! addition touches ≈ 100 000 pages, each needing a TLB entry, and the
//! hardware prefetchers stop at every page boundary. Linux can back a range
//! with 2 MiB *transparent huge pages* instead; where
//! `/sys/kernel/mm/transparent_hugepage/enabled` says `madvise` (a common
//! default), only ranges that ask for it get them — numpy asks for every array
//! of 4 MiB or more, `Array2::zeros` does not. [`zeros`] and [`from_elem`]
//! ask (`madvise(MADV_HUGEPAGE)` before the first write), then write every
//! element, so the pages are mapped at once and the first timed call pays no
//! page faults.
//!
//! ```
//! let a = parlab::mem::zeros::<f64, _>((1024, 1024));
//! assert_eq!(a.shape(), &[1024, 1024]);
//! assert!(a.iter().all(|&x| x == 0.0));
//! let b = parlab::mem::from_elem((3, 4), 2.5f32);
//! assert_eq!(b.sum(), 30.0);
//! ```
//!
//! Elsewhere (other systems, small arrays, `never`) these are ordinary
//! allocations. [`huge_pages_mode`] says what the system allows.

use crate::kernels::Float;
use ndarray::{Array, Dimension, ShapeBuilder};

/// Arrays from this size on ask for huge pages (numpy's threshold).
pub const HUGE_PAGE_MIN_BYTES: usize = 4 << 20;

/// An array of zeros, asking for huge pages when it is large (see the
/// module docs).
///
/// # Panics
/// When the shape's element count overflows `usize`, as `Array::zeros`.
pub fn zeros<T: Float, Sh: ShapeBuilder>(shape: Sh) -> Array<T, Sh::Dim> {
    from_elem(shape, T::ZERO)
}

/// An array with every element `value`, asking for huge pages when it is
/// large (see the module docs).
///
/// # Panics
/// When the shape's element count overflows `usize`, as `Array::from_elem`.
pub fn from_elem<T: Float, Sh: ShapeBuilder>(shape: Sh, value: T) -> Array<T, Sh::Dim> {
    let shape = shape.into_shape_with_order();
    let len = shape
        .raw_dim()
        .size_checked()
        .expect("array size overflows usize");
    let mut v: Vec<T> = Vec::with_capacity(len);
    advise_huge(v.as_mut_ptr().cast(), len * std::mem::size_of::<T>());
    v.resize(len, value);
    Array::from_shape_vec(shape, v).expect("the length matches the shape")
}

/// The system's transparent huge page mode (`"always"`, `"madvise"`,
/// `"never"`), or `None` where it does not say.
pub fn huge_pages_mode() -> Option<String> {
    let s = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled").ok()?;
    let start = s.find('[')?;
    let end = s[start..].find(']')? + start;
    Some(s[start + 1..end].to_string())
}

/// How many bytes of the memory mappings that hold `data` are backed by
/// transparent huge pages (`AnonHugePages` in `/proc/self/smaps`), and the
/// mappings' size: `Some((huge, size))`, or `None` where the system does not
/// say. Shows whether an array — e.g. one made by `Array2::zeros` in a
/// notebook — got huge pages:
///
/// ```
/// let a = parlab::mem::zeros::<f64, _>((2048, 2048));
/// if let Some((huge, size)) = parlab::mem::huge_page_bytes(a.as_slice().unwrap()) {
///     assert!(huge <= size);
/// }
/// ```
pub fn huge_page_bytes<T>(data: &[T]) -> Option<(usize, usize)> {
    let lo_addr = data.as_ptr() as usize;
    let hi_addr = lo_addr + std::mem::size_of_val(data).max(1);
    let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
    // An madvise'd range is its own mapping: sum every mapping the data
    // overlaps.
    let (mut inside, mut huge, mut size, mut seen) = (false, 0usize, 0usize, false);
    for line in smaps.lines() {
        let first = line.split_whitespace().next().unwrap_or("");
        if let Some((lo, hi)) = first.split_once('-')
            && let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        {
            inside = lo < hi_addr && lo_addr < hi;
            if inside {
                size += hi - lo;
                seen = true;
            }
            continue;
        }
        if inside && let Some(rest) = line.strip_prefix("AnonHugePages:") {
            huge += rest
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<usize>()
                .ok()?
                * 1024;
        }
    }
    seen.then_some((huge, size))
}

#[cfg(target_os = "linux")]
fn advise_huge(ptr: *mut u8, bytes: usize) {
    use std::ffi::{c_int, c_void};
    unsafe extern "C" {
        fn madvise(addr: *mut c_void, len: usize, advice: c_int) -> c_int;
    }
    const MADV_HUGEPAGE: c_int = 14;
    if bytes < HUGE_PAGE_MIN_BYTES {
        return;
    }
    let start = (ptr as usize).next_multiple_of(4096);
    let end = (ptr as usize + bytes) & !4095;
    if end > start {
        // SAFETY: the range lies inside this allocation; MADV_HUGEPAGE is
        // advice only and changes no contents. A refusal (EINVAL where THP is
        // not built in) leaves ordinary pages, which is fine.
        unsafe { madvise(start as *mut c_void, end - start, MADV_HUGEPAGE) };
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge(_ptr: *mut u8, _bytes: usize) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_shapes_are_right() {
        let a = from_elem((1000, 1100), 1.5f64);
        assert_eq!(a.dim(), (1000, 1100));
        assert!(a.iter().all(|&x| x == 1.5));
        let z = zeros::<f32, _>(ndarray::Ix1(0));
        assert_eq!(z.len(), 0);
        let f = zeros::<f64, _>((3, 5).f());
        assert!(f.t().is_standard_layout());
    }

    #[test]
    fn large_arrays_that_ask_get_huge_pages_where_the_system_allows() {
        let a = zeros::<f64, _>(8 << 20); // 64 MiB
        let Some((huge, size)) = huge_page_bytes(a.as_slice().unwrap()) else {
            return; // not Linux, or no smaps: nothing to check
        };
        assert!(size >= 64 << 20 && huge <= size, "{huge} of {size}");
        if matches!(huge_pages_mode().as_deref(), Some("madvise" | "always")) {
            // Most of it: the ends need not be 2 MiB aligned.
            assert!(
                huge >= 32 << 20,
                "only {huge} bytes of a 64 MiB array on huge pages"
            );
        }
    }
}
