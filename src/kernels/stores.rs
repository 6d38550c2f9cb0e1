//! How the memory-bound kernels store their results, and which vector width
//! they read with — chosen per *working-set regime* (in the private caches, in
//! the last-level cache, from memory), from the CPU and from the machine
//! probe's measurements, never from a constant tuned to one CPU.
//!
//! # Ordinary and streaming stores
//! An ordinary store to memory that is not in the cache first *reads* the
//! cache line (write-allocate), then overwrites it: `c = a + b` moves 32 bytes
//! per `f64` element over the memory bus, not 24. A streaming
//! (non-temporal) store writes the line straight to memory without reading it
//! — but also without keeping it in the cache. So:
//!
//! - when a kernel's arrays are far larger than the caches, streaming stores
//!   save a quarter of the traffic of an add (1.3× faster on an AMD Zen 4 and
//!   1.4× on an Intel Xeon, measured; within a few per cent on a Zen 3);
//! - when they fit, ordinary stores win: the next call finds the output in the
//!   cache, a streaming store would throw it out.
//!
//! The kernels that write an output they do not read ([`add`](super::add),
//! [`triad`](super::triad), [`fill`](super::fill) and their `par_` twins)
//! compute and stream in the same loop once the bytes one call touches reach
//! [`Tuning::streaming_from`].
//!
//! # Vector width
//! The loops are compiled for SSE2, AVX2 and AVX-512. In the caches the
//! widest the CPU has is used; from memory, where every width waits on the
//! same bus, the probe may pick SSE2 when it read clearly faster in most of
//! its rounds (one width per regime: [`Tuning::read_simd`]).
//!
//! # Without a probe, and after one
//! [`Tuning::default_for_this_cpu`] needs no measurement: widest vectors
//! everywhere, the private caches ending at the L2 size the operating system
//! reports, memory from twice the last-level cache it reports, and streaming
//! stores from there on x86-64. [`crate::timing::Machine::probe`] measures the
//! regimes and decisions and applies them; a saved probe is applied again
//! with [`crate::timing::Machine::apply`]. Environment variables set them by
//! hand, for teaching and testing: `PARLAB_STREAMING_BYTES` (`0`: always
//! stream, a huge value: never), `PARLAB_L3_BYTES`, `PARLAB_MEMORY_BYTES`,
//! `PARLAB_CACHE_SIMD`, `PARLAB_L3_SIMD`, `PARLAB_MEMORY_SIMD`
//! (`sse2|avx2|avx512`).
//!
//! Streaming stores and the width change only *how* values reach memory,
//! never the arithmetic: every path gives the same bits.

use super::Float;
use std::sync::RwLock;

/// A streaming threshold that no call reaches: ordinary stores always.
pub const NEVER: usize = usize::MAX - 1;

/// Where a call's working set lives, by the bytes it touches in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    /// Within one core's private caches (L1 and L2).
    Cache,
    /// Past the private caches, within the last-level cache.
    L3,
    /// From memory.
    Memory,
}

impl Regime {
    /// All three, in order.
    pub const ALL: [Regime; 3] = [Regime::Cache, Regime::L3, Regime::Memory];

    fn index(self) -> usize {
        self as usize
    }

    /// `"cache"`, `"L3"`, `"memory"`.
    pub fn name(self) -> &'static str {
        match self {
            Regime::Cache => "cache",
            Regime::L3 => "L3",
            Regime::Memory => "memory",
        }
    }
}

/// What the memory-bound kernels decide by: regime boundaries, a read width
/// per regime, and where streaming stores start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Bytes touched from which a call is past one core's private caches.
    pub l3_from: usize,
    /// Bytes touched from which a call reads from memory.
    pub memory_from: usize,
    /// SIMD level per regime (0 = SSE2, 1 = AVX2, 2 = AVX-512), indexed as
    /// [`Regime::ALL`].
    pub read_simd: [u8; 3],
    /// Bytes touched from which write-only outputs are streamed ([`NEVER`]:
    /// ordinary stores always).
    pub streaming_from: usize,
}

const L3_VAR: &str = "PARLAB_L3_BYTES";
const MEMORY_VAR: &str = "PARLAB_MEMORY_BYTES";
const THRESHOLD_VAR: &str = "PARLAB_STREAMING_BYTES";
const SIMD_VARS: [&str; 3] = ["PARLAB_CACHE_SIMD", "PARLAB_L3_SIMD", "PARLAB_MEMORY_SIMD"];

// Each evcxr cell links its own copy of parlab, so statics start afresh in
// every cell; the environment is the process's and carries over. The static
// only caches what the environment says, within one cell.
static CURRENT: RwLock<Option<Tuning>> = RwLock::new(None);

/// Parses `sse2|avx2|avx512`.
pub fn parse_simd_level(name: &str) -> Option<u8> {
    match name.trim() {
        "sse2" => Some(0),
        "avx2" => Some(1),
        "avx512" => Some(2),
        _ => None,
    }
}

impl Tuning {
    /// The decisions for this CPU without any measurement: widest vectors,
    /// the private caches as large as the L2 the operating system reports
    /// (1 MiB when it reports none), memory from twice its last-level cache
    /// (64 MiB when unknown), streaming stores from memory on x86-64.
    pub fn default_for_this_cpu() -> Tuning {
        let caches = crate::timing::machine::caches();
        let l2 = caches
            .iter()
            .filter(|c| c.level == 2)
            .map(|c| c.bytes)
            .max()
            .unwrap_or(1 << 20);
        let llc = caches.iter().map(|c| c.bytes).max().unwrap_or(32 << 20);
        let memory_from = (2 * llc).max(2 * l2);
        let w = super::simd_level();
        Tuning {
            l3_from: l2,
            memory_from,
            read_simd: [w; 3],
            streaming_from: if streaming_supported() {
                memory_from
            } else {
                NEVER
            },
        }
    }

    /// The defaults overridden by the `PARLAB_*` environment variables (see
    /// the module's documentation).
    pub fn from_env() -> Tuning {
        let mut t = Tuning::default_for_this_cpu();
        let bytes = |var: &str| {
            std::env::var(var)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
        };
        if let Some(b) = bytes(L3_VAR) {
            t.l3_from = b;
        }
        if let Some(b) = bytes(MEMORY_VAR) {
            t.memory_from = b;
        }
        if let Some(b) = bytes(THRESHOLD_VAR) {
            t.streaming_from = b.min(NEVER);
        }
        for (slot, var) in t.read_simd.iter_mut().zip(SIMD_VARS) {
            if let Some(l) = std::env::var(var).ok().and_then(|v| parse_simd_level(&v)) {
                *slot = l;
            }
        }
        t.clamped()
    }

    fn clamped(mut self) -> Tuning {
        let w = super::simd_level();
        for l in &mut self.read_simd {
            *l = (*l).min(w);
        }
        self.streaming_from = self.streaming_from.min(NEVER);
        self
    }

    /// The regime of a call touching `bytes` in all.
    pub fn regime(&self, bytes: usize) -> Regime {
        if bytes >= self.memory_from {
            Regime::Memory
        } else if bytes >= self.l3_from {
            Regime::L3
        } else {
            Regime::Cache
        }
    }

    /// The read width of a regime.
    pub fn simd(&self, regime: Regime) -> u8 {
        self.read_simd[regime.index()]
    }
}

/// The decisions in force in this process (see the module's documentation).
///
/// ```
/// let t = parlab::kernels::stores::tuning();
/// assert!(t.l3_from <= t.memory_from);
/// ```
pub fn tuning() -> Tuning {
    if let Some(t) = *CURRENT.read().unwrap_or_else(|e| e.into_inner()) {
        return t;
    }
    let t = Tuning::from_env();
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = Some(t);
    t
}

/// Puts `t` in force for the whole process (also for later notebook cells),
/// as the probe and [`crate::timing::Machine::apply`] do.
///
/// It writes the `PARLAB_*` environment variables; do it while no other
/// thread reads the environment through C code (`getenv`), e.g. at the start
/// of a notebook or a program. parlab's own reads go through Rust's
/// environment lock.
pub fn set_tuning(t: Tuning) {
    let t = t.clamped();
    let vars = [
        (L3_VAR, t.l3_from.to_string()),
        (MEMORY_VAR, t.memory_from.to_string()),
        (THRESHOLD_VAR, t.streaming_from.to_string()),
        (SIMD_VARS[0], simd_level_name(t.read_simd[0]).to_string()),
        (SIMD_VARS[1], simd_level_name(t.read_simd[1]).to_string()),
        (SIMD_VARS[2], simd_level_name(t.read_simd[2]).to_string()),
    ];
    for (k, v) in vars {
        // SAFETY: see the doc comment: the caller sets it while no other
        // thread reads the environment through libc.
        unsafe { std::env::set_var(k, v) };
    }
    *CURRENT.write().unwrap_or_else(|e| e.into_inner()) = Some(t);
}

/// Bytes touched by one call (all arrays together) from which the
/// write-only kernels use streaming stores ([`Tuning::streaming_from`]).
///
/// ```
/// let t = parlab::kernels::streaming_threshold();
/// assert!(t > 0);
/// ```
pub fn streaming_threshold() -> usize {
    tuning().streaming_from
}

/// Sets [`streaming_threshold`] for the whole process; same caveat as
/// [`set_tuning`].
///
/// ```
/// let before = parlab::kernels::streaming_threshold();
/// parlab::kernels::set_streaming_threshold(64 << 20);
/// assert_eq!(parlab::kernels::streaming_threshold(), 64 << 20);
/// parlab::kernels::set_streaming_threshold(before);
/// ```
pub fn set_streaming_threshold(bytes: usize) {
    set_tuning(Tuning {
        streaming_from: bytes,
        ..tuning()
    });
}

/// The SIMD level of the memory-bound loops for calls that read from
/// memory: 0 = SSE2, 1 = AVX2, 2 = AVX-512, never above [`super::simd_level`].
pub fn memory_simd_level() -> u8 {
    tuning().simd(Regime::Memory)
}

/// The SIMD level for a call touching `bytes` in all.
#[inline]
pub fn read_simd_level(bytes: usize) -> u8 {
    let t = tuning();
    t.simd(t.regime(bytes))
}

/// The name of a SIMD level.
pub fn simd_level_name(level: u8) -> &'static str {
    match level {
        0 => "sse2",
        1 => "avx2",
        _ => "avx512",
    }
}

/// How one call of a memory-bound kernel runs: its vector width, and whether
/// it streams its output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Mode {
    pub(crate) level: u8,
    pub(crate) streaming: bool,
}

impl Mode {
    /// The mode of a call touching `bytes` in all; `write_only` when its
    /// output is not read (so that it may be streamed).
    #[inline]
    pub(crate) fn for_call(bytes: usize, write_only: bool) -> Mode {
        let t = tuning();
        Mode {
            level: t.simd(t.regime(bytes)),
            streaming: write_only && bytes >= t.streaming_from && streaming_supported(),
        }
    }
}

#[inline]
fn streaming_supported() -> bool {
    cfg!(target_arch = "x86_64")
}

/// What a streaming loop computes per element.
#[derive(Debug, Clone, Copy)]
pub(crate) enum StreamOp<T> {
    /// `out = x + y`
    Add,
    /// `out = x + s·y` (a multiply, then an add: two roundings)
    Triad(T),
    /// `out = s·x`
    Scale(T),
    /// `out = v`
    Fill(T),
}

impl<T: Float> StreamOp<T> {
    #[inline(always)]
    fn at(self, x: &[T], y: &[T], i: usize) -> T {
        match self {
            StreamOp::Add => x[i] + y[i],
            StreamOp::Triad(s) => x[i] + s * y[i],
            StreamOp::Scale(s) => s * x[i],
            StreamOp::Fill(v) => v,
        }
    }
}

/// `out[i] = op(x[i], y[i])` with streaming stores at SIMD `level`, computing
/// and storing in one loop; the head up to the first 64-byte boundary and the
/// tail with ordinary stores. `x` and `y` at least as long as `out` when the
/// op reads them (pass empty slices otherwise). Same bits as the plain loops.
pub(crate) fn stream_map<T: Float>(level: u8, op: StreamOp<T>, x: &[T], y: &[T], out: &mut [T]) {
    let n = out.len();
    let reads = match op {
        StreamOp::Add | StreamOp::Triad(_) => 2,
        StreamOp::Scale(_) => 1,
        StreamOp::Fill(_) => 0,
    };
    assert!(
        (reads < 1 || x.len() >= n) && (reads < 2 || y.len() >= n),
        "stream_map: inputs shorter than the output"
    );
    let size = std::mem::size_of::<T>();
    let misalign = (out.as_ptr() as usize) % 64;
    let head = if misalign == 0 {
        0
    } else {
        ((64 - misalign) / size).min(n)
    };
    // A multiple of 16 elements: whole vectors at every width and type.
    let body = (n - head) / 16 * 16;
    let plain = |out: &mut [T], from: usize| {
        for (i, o) in out.iter_mut().enumerate() {
            *o = op.at(x, y, from + i);
        }
    };
    plain(&mut out[..head], 0);
    if body > 0 && streaming_supported() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: out[head..head + body] is in bounds and 64-byte aligned
        // (misaligned by a multiple of `size` only when `T`'s alignment is
        // broken, which Rust rules out); the inputs are at least as long when
        // the op reads them; `level` is capped by the CPU's features.
        unsafe {
            let level = level.min(super::simd_level());
            let px = if reads >= 1 {
                x.as_ptr().add(head)
            } else {
                x.as_ptr()
            };
            let py = if reads >= 2 {
                y.as_ptr().add(head)
            } else {
                y.as_ptr()
            };
            x86::stream(level, op, px, py, out.as_mut_ptr().add(head), body);
        }
    } else {
        plain(&mut out[head..head + body], head);
    }
    plain(&mut out[head + body..], head + body);
    fence();
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
    use super::super::Float;
    use super::StreamOp;
    use std::arch::x86_64::*;

    const ADD: u8 = 0;
    const TRIAD: u8 = 1;
    const SCALE: u8 = 2;

    macro_rules! stream_loop {
        ($name:ident, $feat:literal, $t:ty, $lanes:expr, $loadu:ident, $stream:ident, $add:ident, $mul:ident, $set1:ident) => {
            /// # Safety
            /// `n` a multiple of the lanes; `out` aligned for the stores and
            /// `n` long; `x`/`y` `n` long when the op reads them; the CPU has
            /// the feature.
            #[target_feature(enable = $feat)]
            unsafe fn $name(op: u8, s: $t, x: *const $t, y: *const $t, out: *mut $t, n: usize) {
                // SAFETY: by the function's contract.
                unsafe {
                    let sv = $set1(s);
                    let mut i = 0;
                    match op {
                        ADD => {
                            while i < n {
                                $stream(out.add(i), $add($loadu(x.add(i)), $loadu(y.add(i))));
                                i += $lanes;
                            }
                        }
                        TRIAD => {
                            while i < n {
                                let p = $mul(sv, $loadu(y.add(i)));
                                $stream(out.add(i), $add($loadu(x.add(i)), p));
                                i += $lanes;
                            }
                        }
                        SCALE => {
                            while i < n {
                                $stream(out.add(i), $mul(sv, $loadu(x.add(i))));
                                i += $lanes;
                            }
                        }
                        _ => {
                            while i < n {
                                $stream(out.add(i), sv);
                                i += $lanes;
                            }
                        }
                    }
                }
            }
        };
    }

    stream_loop!(
        f64_512,
        "avx512f",
        f64,
        8,
        _mm512_loadu_pd,
        _mm512_stream_pd,
        _mm512_add_pd,
        _mm512_mul_pd,
        _mm512_set1_pd
    );
    stream_loop!(
        f64_256,
        "avx",
        f64,
        4,
        _mm256_loadu_pd,
        _mm256_stream_pd,
        _mm256_add_pd,
        _mm256_mul_pd,
        _mm256_set1_pd
    );
    stream_loop!(
        f64_128,
        "sse2",
        f64,
        2,
        _mm_loadu_pd,
        _mm_stream_pd,
        _mm_add_pd,
        _mm_mul_pd,
        _mm_set1_pd
    );
    stream_loop!(
        f32_512,
        "avx512f",
        f32,
        16,
        _mm512_loadu_ps,
        _mm512_stream_ps,
        _mm512_add_ps,
        _mm512_mul_ps,
        _mm512_set1_ps
    );
    stream_loop!(
        f32_256,
        "avx",
        f32,
        8,
        _mm256_loadu_ps,
        _mm256_stream_ps,
        _mm256_add_ps,
        _mm256_mul_ps,
        _mm256_set1_ps
    );
    stream_loop!(
        f32_128,
        "sse2",
        f32,
        4,
        _mm_loadu_ps,
        _mm_stream_ps,
        _mm_add_ps,
        _mm_mul_ps,
        _mm_set1_ps
    );

    /// # Safety
    /// As the loops: `n` a multiple of 16, `out` 64-byte aligned, `level` no
    /// higher than the CPU supports.
    pub(super) unsafe fn stream<T: Float>(
        level: u8,
        op: StreamOp<T>,
        x: *const T,
        y: *const T,
        out: *mut T,
        n: usize,
    ) {
        let (code, s) = match op {
            StreamOp::Add => (ADD, T::ZERO),
            StreamOp::Triad(s) => (TRIAD, s),
            StreamOp::Scale(s) => (SCALE, s),
            StreamOp::Fill(v) => (3, v),
        };
        // `Float` is sealed to f32 and f64: the size tells which.
        // SAFETY: forwarded; the casts are to the type `T` is.
        unsafe {
            if std::mem::size_of::<T>() == 8 {
                let (x, y, out, s) = (
                    x.cast::<f64>(),
                    y.cast::<f64>(),
                    out.cast::<f64>(),
                    s.to_f64(),
                );
                match level {
                    2 => f64_512(code, s, x, y, out, n),
                    1 => f64_256(code, s, x, y, out, n),
                    _ => f64_128(code, s, x, y, out, n),
                }
            } else {
                let (x, y, out, s) = (
                    x.cast::<f32>(),
                    y.cast::<f32>(),
                    out.cast::<f32>(),
                    s.to_f64() as f32,
                );
                match level {
                    2 => f32_512(code, s, x, y, out, n),
                    1 => f32_256(code, s, x, y, out, n),
                    _ => f32_128(code, s, x, y, out, n),
                }
            }
        }
    }
}

/// The loops the probe times: the same dispatched code the kernels run.
pub(crate) mod probe {
    use super::super::Float;
    use super::{Mode, StreamOp};

    simd_dispatch! {
        #[memory_bound]
        /// `out[i] = s·x[i]`: a copy when `s` is 1 (kept opaque to the
        /// compiler, which would otherwise call `memcpy`, whose store kind
        /// varies with the C library and the CPU).
        fn scale_into<T: Float>(x: &[T], out: &mut [T], s: T) {
            let n = out.len();
            let x = &x[..n];
            for i in 0..n {
                out[i] = s * x[i];
            }
        }
    }

    /// STREAM's copy `out = s·x` (pass an opaque 1) in mode `m`.
    pub(crate) fn copy_into<T: Float>(m: Mode, x: &[T], out: &mut [T], s: T) {
        if m.streaming {
            super::stream_map(m.level, StreamOp::Scale(s), x, &[], out);
        } else {
            scale_into(m.level, x, out, s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_map_writes_every_element_at_any_alignment_and_width() {
        for level in 0..=super::super::simd_level() {
            for offset in 0..17 {
                for n in [0, 1, 5, 15, 16, 17, 1023, 1024, 1025, 5000] {
                    let x: Vec<f32> = (0..n + offset).map(|i| i as f32 * 0.37).collect();
                    let y: Vec<f32> = (0..n + offset).map(|i| 1.0 / (i as f32 + 1.0)).collect();
                    let (x, y) = (&x[offset..], &y[offset..]);
                    let mut v = vec![f32::NAN; n + offset];
                    let out = &mut v[offset..];
                    for (op, want) in [
                        (
                            StreamOp::Add,
                            &(|i: usize| x[i] + y[i]) as &dyn Fn(usize) -> f32,
                        ),
                        (StreamOp::Triad(3.1), &|i| x[i] + 3.1 * y[i]),
                        (StreamOp::Scale(-0.7), &|i| -0.7 * x[i]),
                        (StreamOp::Fill(2.5), &|_| 2.5),
                    ] {
                        stream_map(level, op, x, y, out);
                        for (i, v) in out.iter().enumerate() {
                            assert_eq!(
                                v.to_bits(),
                                want(i).to_bits(),
                                "{op:?} level {level} offset {offset} n {n} i {i}"
                            );
                        }
                    }
                    let xd: Vec<f64> = (0..n + offset).map(|i| i as f64 * 0.37).collect();
                    let yd: Vec<f64> = (0..n + offset).map(|i| 1.0 / (i as f64 + 1.0)).collect();
                    let mut w = vec![f64::NAN; n + offset];
                    stream_map(
                        level,
                        StreamOp::Triad(3.1),
                        &xd[offset..],
                        &yd[offset..],
                        &mut w[offset..],
                    );
                    assert!(
                        w[offset..].iter().enumerate().all(|(i, &v)| v.to_bits()
                            == (xd[offset + i] + 3.1 * yd[offset + i]).to_bits())
                    );
                }
            }
        }
    }

    #[test]
    fn regimes_follow_the_boundaries() {
        let t = Tuning {
            l3_from: 1 << 20,
            memory_from: 64 << 20,
            read_simd: [2, 1, 0],
            streaming_from: 64 << 20,
        };
        assert_eq!(t.regime(1000), Regime::Cache);
        assert_eq!(t.regime(1 << 20), Regime::L3);
        assert_eq!(t.regime(64 << 20), Regime::Memory);
        assert_eq!(t.simd(Regime::L3), 1);
        let d = Tuning::default_for_this_cpu();
        assert!(d.l3_from <= d.memory_from);
        assert_eq!(d.read_simd, [super::super::simd_level(); 3]);
        assert!(simd_level_name(memory_simd_level()).starts_with(['s', 'a']));
        assert_eq!(parse_simd_level("avx2"), Some(1));
        assert_eq!(parse_simd_level("avx1024"), None);
    }
}
