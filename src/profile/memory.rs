//! `%memit` for Rust: resident memory around a closure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

/// Resident memory (RSS) of the process before, after, and at its peak during a call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemReport {
    /// Resident bytes before the call.
    pub before: u64,
    /// Resident bytes after the call (the result still alive).
    pub after: u64,
    /// The highest resident bytes seen during the call.
    pub peak: u64,
    /// How the peak was found: `"kernel high-water mark"` (Linux's exact
    /// `VmHWM`, reset before the call) or `"sampling every 1 ms"`.
    pub peak_method: String,
    /// Wall time of the call, in seconds.
    pub seconds: f64,
}

impl MemReport {
    /// `after - before`, in bytes (negative when the call freed memory).
    pub fn increment(&self) -> i64 {
        self.after as i64 - self.before as i64
    }

    /// `peak - before`, in bytes: the extra memory the call needed at its worst.
    pub fn peak_increment(&self) -> u64 {
        self.peak.saturating_sub(self.before)
    }

    /// The report as one HTML line for notebooks.
    pub fn to_html(&self) -> crate::display::Html {
        crate::display::Html(format!(
            "<p><code>{}</code></p>",
            crate::display::escape_html(&self.to_string())
        ))
    }

    /// Shows the report in a notebook.
    pub fn evcxr_display(&self) {
        crate::display::emit("text/html", self.to_html().as_str());
    }
}

impl std::fmt::Display for MemReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::report::fmt_bytes as bytes;
        f.write_str(&crate::report::wrap(&format!(
            "peak memory: {}, increment: {} (peak {} above the start; {}, {})",
            bytes(self.peak as f64),
            bytes(self.increment() as f64),
            bytes(self.peak_increment() as f64),
            self.peak_method,
            crate::report::fmt_seconds(self.seconds),
        )))
    }
}

fn rss() -> u64 {
    memory_stats::memory_stats().map_or(0, |m| m.physical_mem as u64)
}

#[cfg(target_os = "linux")]
fn reset_high_water_mark() -> bool {
    // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

#[cfg(target_os = "linux")]
fn high_water_mark() -> Option<u64> {
    // memory-stats reports current RSS only; the peak needs the kernel's field.
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Measures resident memory around `f`, like IPython's `%memit`, and returns
/// `f`'s result with the report.
///
/// The peak is exact on Linux (the kernel's high-water mark, reset just before
/// the call); elsewhere a thread samples the resident size every millisecond,
/// which can miss a spike shorter than that. Memory is per *process*: other
/// threads allocating at the same time count too.
///
/// ```
/// let (v, mem) = parlab::profile::memit_with(|| vec![1u8; 64 << 20]);
/// assert_eq!(v.len(), 64 << 20);
/// assert!(mem.peak_increment() >= 60 << 20, "{mem}");
/// ```
pub fn memit_with<R>(f: impl FnOnce() -> R) -> (R, MemReport) {
    #[cfg(target_os = "linux")]
    let exact = reset_high_water_mark();
    #[cfg(not(target_os = "linux"))]
    let exact = false;

    let before = rss();
    let peak_sampled = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = (!exact).then(|| {
        let (peak, done) = (Arc::clone(&peak_sampled), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(1));
            }
        })
    });
    let start = Instant::now();
    let out = f();
    let seconds = start.elapsed().as_secs_f64();
    let after = rss();
    done.store(true, Ordering::Relaxed);
    if let Some(s) = sampler {
        let _ = s.join();
    }
    #[cfg(target_os = "linux")]
    let hwm = if exact { high_water_mark() } else { None };
    #[cfg(not(target_os = "linux"))]
    let hwm: Option<u64> = None;
    let (peak, peak_method) = match hwm {
        Some(p) => (p, "kernel high-water mark"),
        None => (peak_sampled.load(Ordering::Relaxed), "sampling every 1 ms"),
    };
    let peak = peak.max(before).max(after);
    (
        out,
        MemReport {
            before,
            after,
            peak,
            peak_method: peak_method.to_string(),
            seconds,
        },
    )
}

/// Measures resident memory around `f` and drops its result: the report to
/// show in a notebook cell. See [`memit_with`].
///
/// ```
/// let mem = parlab::profile::memit(|| vec![0.0f64; 1 << 20].iter().sum::<f64>());
/// assert!(mem.peak >= mem.before);
/// ```
pub fn memit<R>(f: impl FnOnce() -> R) -> MemReport {
    memit_with(f).1
}
