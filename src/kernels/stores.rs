//! How the memory-bound kernels store their results, and which vector width
//! they read with — both chosen at run time, from the CPU and from the
//! machine probe's measurements, never from a constant tuned to one CPU.
//!
//! # Ordinary and streaming stores
//! An ordinary store to memory that is not in the cache first *reads* the
//! cache line (write-allocate), then overwrites it: `c = a + b` moves 32 bytes
//! per `f64` element over the memory bus, not 24. A streaming
//! (non-temporal) store writes the line straight to memory without reading it
//! — but also without keeping it in the cache. So:
//!
//! - when a kernel's arrays are far larger than the caches, streaming stores
//!   save a quarter of the traffic of an add and make it up to ≈ 1.3× faster;
//! - when they fit, ordinary stores win: the next call finds the output in the
//!   cache, a streaming store would throw it out.
//!
//! The kernels that write an output they do not read ([`add`](super::add),
//! [`triad`](super::triad), [`fill`](super::fill) and their `par_` twins)
//! switch to streaming stores when the bytes one call touches reach
//! [`streaming_threshold`]. [`crate::timing::Machine::probe`] measures where
//! this machine's caches end (a working-set sweep) and sets the threshold
//! there; before any probe it is the size of the last-level cache that the
//! operating system reports (which on a VM can be the whole host's — run a
//! probe). `PARLAB_STREAMING_BYTES=<bytes>` sets it by hand (`0`: always
//! stream, a huge value: never).
//!
//! # Vector width
//! The loops are compiled for SSE2, AVX2 and AVX-512 and the widest the CPU
//! has is used (see [`super::simd_level`]). For the read-bound reductions the
//! probe also times the SSE2 and the widest version at memory size and keeps
//! the faster ([`memory_simd_level`]): on one AMD Zen 4 the 128-bit loop was
//! the faster, on an Intel Xeon the AVX-512 one.
//!
//! Streaming stores and the width change only *how* values reach memory,
//! never the arithmetic: every path gives the same bits.

use super::Float;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

const UNSET: usize = usize::MAX;
// Each evcxr cell links its own copy of parlab, so statics start afresh in
// every cell; the environment is the process's and carries over. The statics
// only cache what the environment says, within one cell.
static THRESHOLD: AtomicUsize = AtomicUsize::new(UNSET);
static MEMORY_LEVEL: AtomicU8 = AtomicU8::new(u8::MAX);

const THRESHOLD_VAR: &str = "PARLAB_STREAMING_BYTES";
const MEMORY_SIMD_VAR: &str = "PARLAB_MEMORY_SIMD";

/// Bytes touched by one call (all arrays together) from which the
/// memory-bound kernels use streaming stores.
///
/// From `PARLAB_STREAMING_BYTES` (set by [`crate::timing::Machine::probe`]
/// from its measurement, or by hand); otherwise the last-level cache size the
/// operating system reports, or 32 MiB when it reports none.
///
/// ```
/// let t = parlab::kernels::streaming_threshold();
/// assert!(t > 0);
/// ```
pub fn streaming_threshold() -> usize {
    let t = THRESHOLD.load(Ordering::Relaxed);
    if t != UNSET {
        return t;
    }
    let t = std::env::var(THRESHOLD_VAR)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .unwrap_or_else(|| crate::timing::machine::last_level_cache_bytes().unwrap_or(32 << 20));
    THRESHOLD.store(t.min(UNSET - 1), Ordering::Relaxed);
    t
}

/// Sets [`streaming_threshold`] for the whole process (also for later
/// notebook cells), as the probe does.
///
/// It writes the environment variable `PARLAB_STREAMING_BYTES`; do it while
/// no other thread reads the environment through C code (`getenv`), e.g.
/// at the start of a notebook or a program. parlab's own reads go through
/// Rust's environment lock.
///
/// ```
/// let before = parlab::kernels::streaming_threshold();
/// parlab::kernels::set_streaming_threshold(64 << 20);
/// assert_eq!(parlab::kernels::streaming_threshold(), 64 << 20);
/// parlab::kernels::set_streaming_threshold(before);
/// ```
pub fn set_streaming_threshold(bytes: usize) {
    let bytes = bytes.min(UNSET - 1);
    // SAFETY: see the doc comment: the caller sets it while no other thread
    // reads the environment through libc.
    unsafe { std::env::set_var(THRESHOLD_VAR, bytes.to_string()) };
    THRESHOLD.store(bytes, Ordering::Relaxed);
}

/// The SIMD level of the read-bound loops (`sum`, `dot`): 0 = SSE2,
/// 1 = AVX2, 2 = AVX-512, never above [`super::simd_level`].
///
/// From `PARLAB_MEMORY_SIMD=sse2|avx2|avx512` (set by the probe from its
/// measurement); otherwise the widest the CPU has.
pub fn memory_simd_level() -> u8 {
    let l = MEMORY_LEVEL.load(Ordering::Relaxed);
    if l != u8::MAX {
        return l;
    }
    let l = match std::env::var(MEMORY_SIMD_VAR).as_deref() {
        Ok("sse2") => 0,
        Ok("avx2") => 1,
        _ => 2,
    }
    .min(super::simd_level());
    MEMORY_LEVEL.store(l, Ordering::Relaxed);
    l
}

/// Sets [`memory_simd_level`] for the process, as the probe does; same
/// caveat as [`set_streaming_threshold`].
pub fn set_memory_simd_level(level: u8) {
    let name = match level {
        0 => "sse2",
        1 => "avx2",
        _ => "avx512",
    };
    // SAFETY: as in set_streaming_threshold.
    unsafe { std::env::set_var(MEMORY_SIMD_VAR, name) };
    MEMORY_LEVEL.store(level.min(super::simd_level()), Ordering::Relaxed);
}

/// The name of a SIMD level.
pub fn simd_level_name(level: u8) -> &'static str {
    match level {
        0 => "sse2",
        1 => "avx2",
        _ => "avx512",
    }
}

/// Whether a call touching `bytes` in all should use streaming stores.
#[inline]
pub(crate) fn use_streaming(bytes: usize) -> bool {
    bytes >= streaming_threshold() && streaming_supported()
}

#[inline]
fn streaming_supported() -> bool {
    cfg!(target_arch = "x86_64")
}

/// Elements computed per block before they are streamed out: 4 KiB of output,
/// which stays in L1 between the computation and the streaming copy.
const BLOCK_BYTES: usize = 4096;

#[repr(C, align(64))]
struct Scratch([u8; BLOCK_BYTES]);

/// Writes `out[i]` for every `i` with `compute(start, block)`, which fills
/// `block` with the values of `out[start..start + block.len()]`, and sends
/// them to memory with streaming stores. The head up to the first 64-byte
/// boundary and the tail are written in place with ordinary stores.
pub(crate) fn stream_out<T: Float>(out: &mut [T], compute: impl Fn(usize, &mut [T])) {
    let size = std::mem::size_of::<T>();
    let n = out.len();
    let misalign = (out.as_ptr() as usize) % 64;
    let head = if misalign == 0 {
        0
    } else {
        ((64 - misalign) / size).min(n)
    };
    if head > 0 {
        compute(0, &mut out[..head]);
    }
    let per_block = BLOCK_BYTES / size;
    let mut scratch = Scratch([0; BLOCK_BYTES]);
    // SAFETY: the scratch is 64-byte aligned and BLOCK_BYTES long; T is f32
    // or f64, for which every bit pattern is valid.
    let buf: &mut [T] =
        unsafe { std::slice::from_raw_parts_mut(scratch.0.as_mut_ptr().cast::<T>(), per_block) };
    let mut start = head;
    let level = memory_simd_level();
    while start + per_block <= n {
        compute(start, buf);
        // SAFETY: out[start..start + per_block] is in bounds and, since
        // `start - head` is a multiple of the block, 64-byte aligned.
        unsafe {
            stream_copy(
                level,
                out.as_mut_ptr().add(start).cast::<u8>(),
                buf.as_ptr().cast::<u8>(),
            )
        };
        start += per_block;
    }
    if start < n {
        compute(start, &mut out[start..]);
    }
    fence();
}

/// Copies BLOCK_BYTES from `src` to `dst` with streaming stores.
///
/// # Safety
/// Both pointers 64-byte aligned, BLOCK_BYTES valid bytes each; `level` no
/// higher than what the CPU supports.
#[inline]
unsafe fn stream_copy(level: u8, dst: *mut u8, src: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: forwarded; each variant only needs its own features.
    unsafe {
        match level {
            2 => x86::copy512(dst, src),
            1 => x86::copy256(dst, src),
            _ => x86::copy128(dst, src),
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = level;
        // SAFETY: as documented; plain copy where streaming stores are not
        // implemented (use_streaming is false there anyway).
        unsafe { std::ptr::copy_nonoverlapping(src, dst, BLOCK_BYTES) };
    }
}

/// Orders the streaming stores before anything that follows (they are weakly
/// ordered): after it, other threads see the values.
#[inline]
fn fence() {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of x86-64.
    unsafe {
        std::arch::x86_64::_mm_sfence()
    };
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::BLOCK_BYTES;
    use std::arch::x86_64::*;

    #[target_feature(enable = "avx512f")]
    pub(super) unsafe fn copy512(dst: *mut u8, src: *const u8) {
        for i in (0..BLOCK_BYTES).step_by(64) {
            // SAFETY: in bounds and aligned by the caller's contract.
            unsafe {
                let v = _mm512_load_si512(src.add(i).cast());
                _mm512_stream_si512(dst.add(i).cast(), v);
            }
        }
    }

    #[target_feature(enable = "avx")]
    pub(super) unsafe fn copy256(dst: *mut u8, src: *const u8) {
        for i in (0..BLOCK_BYTES).step_by(32) {
            // SAFETY: in bounds and aligned by the caller's contract.
            unsafe {
                let v = _mm256_load_si256(src.add(i).cast());
                _mm256_stream_si256(dst.add(i).cast(), v);
            }
        }
    }

    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn copy128(dst: *mut u8, src: *const u8) {
        for i in (0..BLOCK_BYTES).step_by(16) {
            // SAFETY: in bounds and aligned by the caller's contract.
            unsafe {
                let v = _mm_load_si128(src.add(i).cast());
                _mm_stream_si128(dst.add(i).cast(), v);
            }
        }
    }
}

/// The loops the probe times: the same dispatched code the kernels run.
pub(crate) mod probe {
    use super::super::Float;

    simd_dispatch! {
        #[memory_bound]
        /// `out[i] = s·x[i]`: a copy when `s` is 1 (kept opaque to the
        /// compiler, which would otherwise call `memcpy`, whose store kind
        /// varies with the C library and the CPU).
        pub(crate) fn scale_into<T: Float>(x: &[T], out: &mut [T], s: T) {
            let n = out.len();
            let x = &x[..n];
            for i in 0..n {
                out[i] = s * x[i];
            }
        }
    }

    /// `out[i] = a[i] + b[i]`: the kernels' own loop.
    pub(crate) use super::super::add::add_slices as add_into;

    /// `out[i] = b[i] + s·c[i]`: the kernels' own loop.
    pub(crate) use super::super::triad::triad_slices as triad_into;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_out_writes_every_element_at_any_alignment() {
        for offset in 0..17 {
            for n in [0, 1, 5, 15, 16, 1023, 1024, 1025, 5000] {
                let mut v = vec![f32::NAN; n + offset];
                let out = &mut v[offset..];
                stream_out(out, |start, block| {
                    for (i, x) in block.iter_mut().enumerate() {
                        *x = (start + i) as f32;
                    }
                });
                for (i, x) in out.iter().enumerate() {
                    assert_eq!(*x, i as f32, "offset {offset}, n {n}, element {i}");
                }
                let mut w = vec![f64::NAN; n + offset];
                stream_out(&mut w[offset..], |start, block| {
                    for (i, x) in block.iter_mut().enumerate() {
                        *x = -((start + i) as f64);
                    }
                });
                assert!(
                    w[offset..]
                        .iter()
                        .enumerate()
                        .all(|(i, &x)| x == -(i as f64))
                );
            }
        }
    }

    #[test]
    fn threshold_rules() {
        assert!(!use_streaming(1000) || streaming_threshold() <= 1000);
        assert!(simd_level_name(memory_simd_level()).starts_with(['s', 'a']));
    }
}
