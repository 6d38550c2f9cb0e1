//! Exact allocation counts through a counting global allocator.
//!
//! A program or a test opts in by installing it:
//!
//! ```
//! use parlab::profile::{count_allocs, CountingAlloc};
//!
//! #[global_allocator]
//! static ALLOC: CountingAlloc = CountingAlloc::new();
//!
//! fn main() {
//!     let (v, stats) = count_allocs(&ALLOC, || vec![0u64; 1000]);
//!     assert_eq!(v.len(), 1000);
//!     assert_eq!(stats.allocations, 1);
//!     assert_eq!(stats.bytes_allocated, 8000);
//! }
//! ```
//!
//! **In an evcxr notebook it works within one cell** (measured with evcxr
//! 0.22): each cell is compiled into its own shared library with its own copy of
//! std, so a cell that declares the `#[global_allocator]` static counts the
//! allocations of code compiled into it — the cell's code and the libraries
//! linked into it, parlab included. evcxr re-declares the static in every later
//! cell, so **the counters start again at zero in each cell**, and a cell sees
//! frees of memory that earlier cells allocated. Call [`count_allocs`] in the
//! same cell as the code it measures.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// The system allocator, counting every allocation, deallocation and byte.
#[derive(Debug, Default)]
pub struct CountingAlloc {
    allocations: AtomicU64,
    deallocations: AtomicU64,
    reallocations: AtomicU64,
    bytes_allocated: AtomicU64,
    bytes_freed: AtomicU64,
}

impl CountingAlloc {
    /// A counting allocator with all counters at zero.
    pub const fn new() -> Self {
        CountingAlloc {
            allocations: AtomicU64::new(0),
            deallocations: AtomicU64::new(0),
            reallocations: AtomicU64::new(0),
            bytes_allocated: AtomicU64::new(0),
            bytes_freed: AtomicU64::new(0),
        }
    }

    /// The counters so far.
    pub fn snapshot(&self) -> AllocStats {
        AllocStats {
            allocations: self.allocations.load(Relaxed),
            deallocations: self.deallocations.load(Relaxed),
            reallocations: self.reallocations.load(Relaxed),
            bytes_allocated: self.bytes_allocated.load(Relaxed),
            bytes_freed: self.bytes_freed.load(Relaxed),
        }
    }
}

// SAFETY: every call forwards to `System` with the same arguments; the counters
// are atomics and never allocate.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.allocations.fetch_add(1, Relaxed);
        self.bytes_allocated
            .fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.allocations.fetch_add(1, Relaxed);
        self.bytes_allocated
            .fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.deallocations.fetch_add(1, Relaxed);
        self.bytes_freed.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.reallocations.fetch_add(1, Relaxed);
        self.bytes_freed.fetch_add(layout.size() as u64, Relaxed);
        self.bytes_allocated.fetch_add(new_size as u64, Relaxed);
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocation counters, or their change over a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AllocStats {
    /// Calls to `alloc` and `alloc_zeroed`.
    pub allocations: u64,
    /// Calls to `dealloc`.
    pub deallocations: u64,
    /// Calls to `realloc` (each counts its new size as allocated and its old as freed).
    pub reallocations: u64,
    /// Bytes requested.
    pub bytes_allocated: u64,
    /// Bytes returned.
    pub bytes_freed: u64,
}

impl AllocStats {
    fn since(self, earlier: AllocStats) -> AllocStats {
        AllocStats {
            allocations: self.allocations - earlier.allocations,
            deallocations: self.deallocations - earlier.deallocations,
            reallocations: self.reallocations - earlier.reallocations,
            bytes_allocated: self.bytes_allocated - earlier.bytes_allocated,
            bytes_freed: self.bytes_freed - earlier.bytes_freed,
        }
    }
}

impl std::fmt::Display for AllocStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} allocations ({} allocated), {} frees ({} freed), {} reallocations",
            self.allocations,
            crate::report::fmt_bytes(self.bytes_allocated as f64),
            self.deallocations,
            crate::report::fmt_bytes(self.bytes_freed as f64),
            self.reallocations
        )
    }
}

/// Runs `f` and returns its result with the allocations made meanwhile.
///
/// The counters are process-wide: allocations by other threads during the call
/// count too (run it where nothing else is busy, e.g. a single test).
pub fn count_allocs<R>(alloc: &CountingAlloc, f: impl FnOnce() -> R) -> (R, AllocStats) {
    let before = alloc.snapshot();
    let out = f();
    (out, alloc.snapshot().since(before))
}
