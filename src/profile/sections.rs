//! Named, nested sections timed by a guard or a closure.

use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::error::{Error, ErrorKind, Result};

thread_local! {
    static THREAD_ID: ThreadId = std::thread::current().id();
}

/// This thread's id, cached: `std::thread::current()` clones an `Arc` each time.
fn thread_id() -> ThreadId {
    THREAD_ID.with(|id| *id)
}

#[derive(Debug, Clone)]
struct Node {
    name: String,
    parent: Option<usize>,
    calls: u64,
    total: Duration,
    children: Duration,
    panics: u64,
}

#[derive(Debug, Default)]
struct State {
    nodes: Vec<Node>,
    /// The top-level sections, then each node's children, in order of first
    /// appearance: looked up by a linear scan of a few names, which needs no
    /// allocation (a map keyed by `String` would allocate one per lookup).
    roots: Vec<usize>,
    children_of: Vec<Vec<usize>>,
    /// The open sections of each thread, innermost last.
    /// (A few threads at most: a linear scan beats hashing the id.)
    stacks: Vec<(ThreadId, Vec<usize>)>,
}

impl State {
    fn node(&mut self, parent: Option<usize>, name: &str) -> usize {
        let siblings = match parent {
            Some(p) => &self.children_of[p],
            None => &self.roots,
        };
        if let Some(&i) = siblings.iter().find(|&&i| self.nodes[i].name == name) {
            return i;
        }
        let i = self.nodes.len();
        self.nodes.push(Node {
            name: name.to_string(),
            parent,
            calls: 0,
            total: Duration::ZERO,
            children: Duration::ZERO,
            panics: 0,
        });
        self.children_of.push(Vec::new());
        match parent {
            Some(p) => self.children_of[p].push(i),
            None => self.roots.push(i),
        }
        i
    }
}

/// Collects timings of named sections. Cheap to share: `&Profiler` is `Sync`, so
/// rayon worker threads can open sections too.
///
/// A section opened with [`Profiler::section`] nests under the innermost section
/// open *on the same thread*. To time work that a parent hands to rayon's
/// workers, open the child from the parent's guard with [`Section::child`]: the
/// children's totals are then *thread time*, summed over the threads, so in a
/// parallel section they can add up to more than the parent's wall time (the
/// report marks such a parent's self time as 0 and says so).
#[derive(Debug, Default)]
pub struct Profiler {
    state: Mutex<State>,
    created: Option<Instant>,
}

/// A running section: it stops when dropped, also when a panic unwinds through it.
#[must_use = "a section stops when its guard is dropped"]
#[derive(Debug)]
pub struct Section<'p> {
    profiler: &'p Profiler,
    node: usize,
    thread: Option<ThreadId>,
    start: Instant,
}

impl Profiler {
    /// An empty profiler.
    pub fn new() -> Self {
        Profiler {
            state: Mutex::default(),
            created: Some(Instant::now()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic never happens while the lock is held, but a poisoned lock
        // must not make the profiler unusable either.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a section named `name` under the innermost section open on this thread.
    ///
    /// Cost: two uncontended lock acquisitions and two clock reads, no
    /// allocation once the section exists: ≈ 65 ns to open and close one on the
    /// course's machine (release build; `cargo bench --bench profile`), of which
    /// the two `Instant::now()` calls are ≈ 46 ns there.
    pub fn section(&self, name: &str) -> Section<'_> {
        let thread = thread_id();
        let node = {
            let mut st = self.lock();
            let k = match st.stacks.iter().position(|(t, _)| *t == thread) {
                Some(k) => k,
                None => {
                    st.stacks.push((thread, Vec::new()));
                    st.stacks.len() - 1
                }
            };
            let parent = st.stacks[k].1.last().copied();
            let node = st.node(parent, name);
            st.stacks[k].1.push(node);
            node
        };
        Section {
            profiler: self,
            node,
            thread: Some(thread),
            start: Instant::now(),
        }
    }

    /// Times `f` as a section named `name` and returns its result.
    pub fn time<R>(&self, name: &str, f: impl FnOnce() -> R) -> R {
        let _s = self.section(name);
        f()
    }

    /// Times `f` as a section, catching a panic: the section records the time up
    /// to the panic, the profiler stays usable, and the panic comes back as an
    /// error naming the section and the panic message.
    ///
    /// # Errors
    /// [`ErrorKind::Panicked`] when `f` panics.
    pub fn try_time<R>(&self, name: &str, f: impl FnOnce() -> R) -> Result<R> {
        let section = self.section(name);
        let node = section.node;
        let out = crate::timing::catch_panic(f);
        drop(section);
        out.map_err(|msg| {
            self.lock().nodes[node].panics += 1;
            Error::new(
                ErrorKind::Panicked,
                format!("section {name:?} panicked: {msg}"),
            )
        })
    }

    /// Forgets every section recorded so far.
    pub fn reset(&mut self) {
        *self.state.get_mut().unwrap_or_else(|e| e.into_inner()) = State::default();
        self.created = Some(Instant::now());
    }

    /// The report of everything recorded so far (open sections are not counted yet).
    pub fn report(&self) -> Profile {
        let st = self.lock();
        let roots_total: Duration = st
            .nodes
            .iter()
            .filter(|n| n.parent.is_none())
            .map(|n| n.total)
            .sum();
        let mut rows = Vec::with_capacity(st.nodes.len());
        // Depth-first, children in order of first appearance.
        fn visit(
            st: &State,
            node: usize,
            depth: usize,
            path: String,
            roots: Duration,
            rows: &mut Vec<ProfileRow>,
        ) {
            let n = &st.nodes[node];
            let self_time = n.total.saturating_sub(n.children);
            rows.push(ProfileRow {
                path: path.clone(),
                name: n.name.clone(),
                depth,
                calls: n.calls,
                total_s: n.total.as_secs_f64(),
                self_s: self_time.as_secs_f64(),
                mean_s: if n.calls > 0 {
                    n.total.as_secs_f64() / n.calls as f64
                } else {
                    0.0
                },
                share: if roots.is_zero() {
                    0.0
                } else {
                    n.total.as_secs_f64() / roots.as_secs_f64()
                },
                parallel_children: n.children > n.total,
                panics: n.panics,
            });
            for (i, c) in st.nodes.iter().enumerate() {
                if c.parent == Some(node) {
                    visit(st, i, depth + 1, format!("{path}/{}", c.name), roots, rows);
                }
            }
        }
        for (i, n) in st.nodes.iter().enumerate() {
            if n.parent.is_none() {
                visit(&st, i, 0, n.name.clone(), roots_total, &mut rows);
            }
        }
        Profile {
            rows,
            total_s: roots_total.as_secs_f64(),
            wall_s: self.created.map_or(0.0, |c| c.elapsed().as_secs_f64()),
        }
    }
}

impl Section<'_> {
    /// Opens a child of this section, on any thread: use it inside rayon closures.
    pub fn child(&self, name: &str) -> Section<'_> {
        let node = self.profiler.lock().node(Some(self.node), name);
        Section {
            profiler: self.profiler,
            node,
            thread: None,
            start: Instant::now(),
        }
    }
}

impl Drop for Section<'_> {
    fn drop(&mut self) {
        let elapsed = self.start.elapsed();
        let mut st = self.profiler.lock();
        let node = &mut st.nodes[self.node];
        node.calls += 1;
        node.total += elapsed;
        if let Some(p) = node.parent {
            st.nodes[p].children += elapsed;
        }
        if let Some(thread) = self.thread
            && let Some((_, stack)) = st.stacks.iter_mut().find(|(t, _)| *t == thread)
            && let Some(pos) = stack.iter().rposition(|&n| n == self.node)
        {
            stack.truncate(pos);
        }
    }
}

/// One section of a [`Profile`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileRow {
    /// `outer/inner` path of the section.
    pub path: String,
    /// The section's own name.
    pub name: String,
    /// Nesting depth, 0 for top-level sections.
    pub depth: usize,
    /// How many times the section ran.
    pub calls: u64,
    /// Total time in seconds, children included.
    pub total_s: f64,
    /// Time in seconds not spent in child sections.
    pub self_s: f64,
    /// Mean time per call in seconds.
    pub mean_s: f64,
    /// Share of the total time of all top-level sections.
    pub share: f64,
    /// The children ran in parallel: their thread time exceeds this section's wall time.
    pub parallel_children: bool,
    /// How many calls ended in a panic.
    pub panics: u64,
}

/// What a [`Profiler`] recorded: one row per section, parents before children.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Profile {
    /// The sections, depth-first.
    pub rows: Vec<ProfileRow>,
    /// Sum of the top-level sections' totals, in seconds.
    pub total_s: f64,
    /// Time since the profiler was created or reset, in seconds.
    pub wall_s: f64,
}

impl Profile {
    /// The row with this path (`outer/inner`) or, failing that, this name.
    pub fn row(&self, path_or_name: &str) -> Option<&ProfileRow> {
        self.rows
            .iter()
            .find(|r| r.path == path_or_name)
            .or_else(|| self.rows.iter().find(|r| r.name == path_or_name))
    }

    /// The children of the row with this path.
    pub fn children(&self, path: &str) -> Vec<&ProfileRow> {
        let prefix = format!("{path}/");
        self.rows
            .iter()
            .filter(|r| {
                r.path
                    .strip_prefix(&prefix)
                    .is_some_and(|rest| !rest.contains('/'))
            })
            .collect()
    }

    /// The profile as an HTML table (what a notebook shows).
    pub fn to_html(&self) -> crate::display::Html {
        let rows: Vec<Vec<String>> = self
            .rows
            .iter()
            .map(|r| {
                vec![
                    format!("{}{}", "\u{2003}".repeat(r.depth), r.name),
                    r.calls.to_string(),
                    crate::report::fmt_seconds(r.total_s),
                    if r.parallel_children {
                        "parallel".into()
                    } else {
                        crate::report::fmt_seconds(r.self_s)
                    },
                    crate::report::fmt_seconds(r.mean_s),
                    format!("{:.1} %", 100.0 * r.share),
                ]
            })
            .collect();
        crate::display::html_table(
            &["section", "calls", "total", "self", "mean", "share"],
            &rows,
        )
    }

    /// Shows the profile in a notebook.
    pub fn evcxr_display(&self) {
        crate::display::emit("text/html", self.to_html().as_str());
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self
            .rows
            .iter()
            .map(|r| 2 * r.depth + r.name.chars().count())
            .max()
            .unwrap_or(7)
            .max(7);
        writeln!(
            f,
            "{:<width$}  {:>7}  {:>10}  {:>10}  {:>10}  {:>6}",
            "section", "calls", "total", "self", "mean", "share"
        )?;
        for r in &self.rows {
            let name = format!("{}{}", "  ".repeat(r.depth), r.name);
            let self_time = if r.parallel_children {
                "parallel".to_string()
            } else {
                crate::report::fmt_seconds(r.self_s)
            };
            writeln!(
                f,
                "{name:<width$}  {:>7}  {:>10}  {:>10}  {:>10}  {:>5.1}%",
                r.calls,
                crate::report::fmt_seconds(r.total_s),
                self_time,
                crate::report::fmt_seconds(r.mean_s),
                100.0 * r.share
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::thread::sleep;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn self_plus_children_equals_total_and_matches_the_clock() {
        let prof = Profiler::new();
        let clock = Instant::now();
        {
            let _outer = prof.section("outer");
            sleep(10 * MS);
            for _ in 0..2 {
                let _inner = prof.section("inner");
                sleep(10 * MS);
            }
        }
        let wall = clock.elapsed().as_secs_f64();
        let p = prof.report();
        let outer = p.row("outer").unwrap();
        let inner = p.row("outer/inner").unwrap();
        assert_eq!((outer.calls, inner.calls), (1, 2));
        assert_eq!(inner.depth, 1);
        let children: f64 = p.children("outer").iter().map(|r| r.total_s).sum();
        assert!(
            (outer.self_s + children - outer.total_s).abs() < 1e-6,
            "{p}"
        );
        assert!(
            outer.total_s <= wall && outer.total_s > 0.9 * wall,
            "outer {} wall {wall}",
            outer.total_s
        );
        assert!(inner.total_s >= 0.020 && outer.self_s >= 0.010, "{p}");
        assert!((inner.mean_s - inner.total_s / 2.0).abs() < 1e-12);
        assert!((outer.share - 1.0).abs() < 1e-12);
    }

    #[test]
    fn sections_from_rayon_workers_are_recorded_as_children() {
        let prof = Profiler::new();
        let pool = crate::par::pool(2).unwrap();
        {
            let outer = prof.section("parallel");
            pool.install(|| {
                rayon::scope(|s| {
                    for _ in 0..4 {
                        s.spawn(|_| {
                            let _c = outer.child("work");
                            sleep(5 * MS);
                        });
                    }
                })
            });
        }
        let p = prof.report();
        let work = p.row("parallel/work").unwrap();
        assert_eq!(work.calls, 4);
        assert!(work.total_s >= 0.020, "{p}");
    }

    #[test]
    fn a_panicking_section_is_reported_and_the_profiler_stays_usable() {
        let prof = Profiler::new();
        let e = prof
            .try_time("boom", || -> u32 { panic!("deliberate") })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Panicked);
        assert!(
            e.to_string().contains("\"boom\"") && e.to_string().contains("deliberate"),
            "{e}"
        );
        // The stack was unwound: a new section is top-level again.
        assert_eq!(prof.time("after", || 7), 7);
        let p = prof.report();
        assert_eq!(p.row("boom").unwrap().panics, 1);
        assert_eq!(p.row("after").unwrap().depth, 0);
    }

    #[test]
    fn text_and_html_name_every_section() {
        let prof = Profiler::new();
        prof.time("load", || prof.time("parse", || ()));
        let p = prof.report();
        let text = p.to_string();
        assert!(text.contains("load") && text.contains("  parse"), "{text}");
        assert!(p.to_html().as_str().contains("<td>\u{2003}parse</td>"));
    }
}
