//! Who ran what, when: a per-thread timeline of the pieces of work of a call
//! (the row chunks of `add_chunks`, the parts of a `par_` element-wise kernel,
//! the bands of a stencil, spans a student marks), drawn as a Gantt chart.
//! It shows what a median cannot: one thread still working while the others
//! wait (load imbalance, the remainder row), threads that start late, idle time.
//!
//! ```
//! use parlab::timing::timeline::{record, span};
//! use parlab::ndarray::Array2;
//! let a = Array2::<f32>::ones((1023, 512));
//! let mut c = Array2::<f32>::zeros((1023, 512));
//! let (result, t) = record(|| parlab::kernels::add_chunks(a.view(), a.view(), c.view_mut(), 4));
//! result?;
//! assert_eq!(t.spans.len(), 4);                 // one chunk per worker
//! assert_eq!(t.threads(), 4);
//! assert!(t.spans.iter().any(|s| s.label == "rows 0..256"));
//! assert!(t.spans.iter().any(|s| s.label == "rows 768..1023"));
//! let chart = t.plot()?;                         // the Gantt chart
//! assert!(chart.as_str().contains("rows 768..1023") || chart.as_str().contains("thread"));
//! // A student's own pieces of work:
//! let (_, mine) = record(|| span("my part", || (0..1000u64).sum::<u64>()));
//! assert_eq!(mine.spans[0].label, "my part");
//! # Ok::<(), parlab::Error>(())
//! ```
//!
//! Recording is off unless a [`record`] is running: then a span costs one
//! atomic load. While it runs, every thread of the process adds its spans
//! (record one call at a time). In evcxr each cell has its own copy of parlab,
//! so record in the cell that runs the kernels.

use crate::display::Svg;
use crate::error::{Error, ErrorKind, Result};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

/// One piece of work on one thread.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Span {
    /// The worker: its index in the timeline (0, 1, … in order of first
    /// appearance).
    pub thread: usize,
    /// What it did.
    pub label: String,
    /// Start, seconds since the recording began.
    pub start: f64,
    /// End, seconds since the recording began.
    pub end: f64,
}

/// The spans of one recorded call.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Timeline {
    /// Every span, in the order they ended.
    pub spans: Vec<Span>,
    /// Wall time of the whole call, seconds.
    pub wall: f64,
    /// The OS thread names behind the thread indices (`main`, `parlab-0`, …).
    pub thread_names: Vec<String>,
}

static RECORDING: AtomicBool = AtomicBool::new(false);
static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
struct Recording {
    origin: Instant,
    spans: Vec<Span>,
    /// (process-unique thread id, name) in order of first appearance.
    threads: Vec<(usize, String)>,
}
static STATE: Mutex<Option<Recording>> = Mutex::new(None);
thread_local! {
    static THREAD_ID: usize = NEXT_ID.fetch_add(1, Ordering::Relaxed);
}

fn lock() -> std::sync::MutexGuard<'static, Option<Recording>> {
    STATE.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs `f` and returns what it returned with the timeline of the spans that
/// ran meanwhile, on any thread.
pub fn record<R>(f: impl FnOnce() -> R) -> (R, Timeline) {
    let origin = Instant::now();
    *lock() = Some(Recording {
        origin,
        spans: Vec::new(),
        threads: Vec::new(),
    });
    RECORDING.store(true, Ordering::SeqCst);
    // Stop recording even when `f` panics.
    struct Stop;
    impl Drop for Stop {
        fn drop(&mut self) {
            RECORDING.store(false, Ordering::SeqCst);
        }
    }
    let stop = Stop;
    let r = f();
    drop(stop);
    let wall = origin.elapsed().as_secs_f64();
    let rec = lock().take().expect("the recording this call started");
    (
        r,
        Timeline {
            spans: rec.spans,
            wall,
            thread_names: rec.threads.into_iter().map(|t| t.1).collect(),
        },
    )
}

/// Runs `f` as a span named `label` on the current thread (recorded only
/// while a [`record`] runs).
pub fn span<R>(label: impl Into<String>, f: impl FnOnce() -> R) -> R {
    span_with(|| label.into(), f)
}

/// As [`span`], building the label only when recording.
pub(crate) fn span_with<R>(label: impl FnOnce() -> String, f: impl FnOnce() -> R) -> R {
    if !RECORDING.load(Ordering::Relaxed) {
        return f();
    }
    let start = Instant::now();
    let r = f();
    let end = Instant::now();
    let id = THREAD_ID.with(|id| *id);
    let mut guard = lock();
    if let Some(rec) = guard.as_mut() {
        let thread = match rec.threads.iter().position(|t| t.0 == id) {
            Some(k) => k,
            None => {
                let name = std::thread::current()
                    .name()
                    .map_or_else(|| format!("worker {}", rec.threads.len()), str::to_string);
                rec.threads.push((id, name));
                rec.threads.len() - 1
            }
        };
        rec.spans.push(Span {
            thread,
            label: label(),
            start: start.saturating_duration_since(rec.origin).as_secs_f64(),
            end: end.saturating_duration_since(rec.origin).as_secs_f64(),
        });
    }
    r
}

impl Timeline {
    /// How many threads ran spans.
    pub fn threads(&self) -> usize {
        self.thread_names.len()
    }

    /// Seconds each thread spent in spans, by thread index.
    pub fn busy(&self) -> Vec<f64> {
        let mut b = vec![0.0; self.threads()];
        for s in &self.spans {
            b[s.thread] += s.end - s.start;
        }
        b
    }

    /// The longest thread's busy time over the mean: 1 is perfect balance,
    /// 1.33 means the slowest thread worked a third longer than the average
    /// one (and the others waited for it). `None` without spans.
    pub fn imbalance(&self) -> Option<f64> {
        let b = self.busy();
        let mean = b.iter().sum::<f64>() / b.len().max(1) as f64;
        let max = b.iter().copied().fold(0.0, f64::max);
        (mean > 0.0).then(|| max / mean)
    }

    /// A text summary: per thread, its spans and busy share of the wall time,
    /// and the imbalance.
    pub fn to_text(&self) -> String {
        let ms = |s: f64| crate::report::fmt_seconds(s);
        let mut out = format!(
            "{} span(s) on {} thread(s) in {} of wall time",
            self.spans.len(),
            self.threads(),
            ms(self.wall)
        );
        for (t, busy) in self.busy().iter().enumerate() {
            let n = self.spans.iter().filter(|s| s.thread == t).count();
            out.push_str(&format!(
                "\n  {:<12} {n} span(s), busy {} = {:.0} % of the wall time",
                self.thread_names[t],
                ms(*busy),
                100.0 * busy / self.wall.max(f64::MIN_POSITIVE)
            ));
        }
        if let Some(i) = self.imbalance() {
            out.push_str(&format!(
                "\nimbalance (busiest thread ÷ mean): {i:.2}{}",
                if i > 1.1 {
                    " — the other threads waited for the busiest one"
                } else {
                    ""
                }
            ));
        }
        out
    }

    /// The Gantt chart: one row per thread, one bar per span, time in ms.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when nothing was recorded;
    /// [`ErrorKind::Plot`] if drawing fails.
    pub fn plot(&self) -> Result<Svg> {
        if self.spans.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                "the timeline is empty: nothing ran a span while it recorded \
                 (parlab's par_ kernels, add_chunks and stencils do; mark your own with \
                 `timeline::span`)",
            ));
        }
        crate::plot::gantt(self)
    }

    /// Shows the chart and the summary in a notebook.
    pub fn evcxr_display(&self) {
        let mut html = String::new();
        if let Ok(svg) = self.plot() {
            html.push_str(svg.to_html().as_str());
        }
        html.push_str(&format!(
            "<pre>{}</pre>",
            crate::display::escape_html(&self.to_text())
        ));
        crate::display::emit("text/html", &html);
    }
}

impl std::fmt::Display for Timeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_text())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_outside_a_recording_cost_nothing_and_are_not_kept() {
        assert_eq!(span("outside", || 2), 2);
        let (_, t) = record(|| ());
        // (Kernels of other tests running at the same time may add theirs.)
        assert!(!t.spans.iter().any(|s| s.label == "outside"));
        let empty = Timeline {
            spans: vec![],
            wall: 0.0,
            thread_names: vec![],
        };
        assert!(empty.plot().unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn known_work_gives_known_spans() {
        use std::time::Duration;
        // Two threads: one sleeps 40 ms, the other 10 ms, in one recording.
        // (Other tests run kernels at the same time and may add spans of
        // their own: look at these two only.)
        let (_, t) = record(|| {
            std::thread::scope(|s| {
                s.spawn(|| span("long", || std::thread::sleep(Duration::from_millis(40))));
                s.spawn(|| span("short", || std::thread::sleep(Duration::from_millis(10))));
            })
        });
        let long = t.spans.iter().find(|s| s.label == "long").unwrap().clone();
        let short = t.spans.iter().find(|s| s.label == "short").unwrap().clone();
        assert!(long.end - long.start >= 0.040, "{long:?}");
        assert!(short.end - short.start >= 0.010, "{short:?}");
        assert_ne!(long.thread, short.thread);
        assert!(t.wall >= 0.040);
        let names = t.thread_names.clone();
        let two = Timeline {
            spans: vec![Span { thread: 0, ..long }, Span { thread: 1, ..short }],
            wall: t.wall,
            thread_names: vec![names[0].clone(), names[1].clone()],
        };
        // busy 40 + 10 ms: mean 25, max 40 → imbalance ≥ 1.3 whatever the load
        assert!(two.imbalance().unwrap() > 1.3, "{}", two.to_text());
        assert!(two.to_text().contains("imbalance"), "{}", two.to_text());
        let svg = two.plot().unwrap();
        let texts = crate::plot::svg_texts(svg.as_str());
        assert!(texts.iter().any(|x| x == "time (ms)"), "{texts:?}");
    }

    #[test]
    fn a_panic_in_the_recorded_call_stops_the_recording() {
        let r = std::panic::catch_unwind(|| record(|| panic!("boom")));
        assert!(r.is_err());
        assert!(!RECORDING.load(Ordering::SeqCst));
    }
}
