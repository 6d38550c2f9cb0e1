//! Catching a panic without printing it: the machinery every part of parlab
//! that runs code it did not write uses — benchmarks, comparisons, sweeps,
//! profiler sections, exercise checkers — so that a student's panicking
//! closure becomes a typed error with its message, not a dead notebook kernel
//! or a screen of `thread … panicked at …`.

type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// How many `catch_panic` calls are running (on any thread) and the hook they
/// replaced. The lock is held only to install or restore hooks, never while a
/// closure runs, so a `catch_panic` inside a rayon worker of another one does
/// not deadlock.
struct HookState {
    depth: usize,
    previous: Option<Hook>,
}

static HOOK_STATE: std::sync::Mutex<HookState> = std::sync::Mutex::new(HookState {
    depth: 0,
    previous: None,
});

/// A panic the quiet hook saw.
struct Seen {
    /// Its number, in the order panics happened.
    seq: u64,
    message: String,
    /// ` (file:line:column)`, or empty.
    location: String,
    /// Whether the panicking thread was itself inside a `catch_panic` (a
    /// scoped worker is not: it is the caller's child): with several catches
    /// on several threads at once (tests run in parallel), a worker's panic
    /// is told apart from another caller's own.
    inside: bool,
    thread: std::thread::ThreadId,
}

/// The latest panics seen by the quiet hook — several, because a panic in a
/// worker of `std::thread::scope` reaches the caller as a second panic ("a
/// scoped thread panicked", or `Any { .. }` through `join().unwrap()`) and
/// the worker's own message is only in the first.
static PANICS: std::sync::Mutex<Vec<Seen>> = std::sync::Mutex::new(Vec::new());
static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
const KEPT: usize = 32;

/// The message `std::thread::scope` panics with when a worker panicked.
const SCOPED: &str = "a scoped thread panicked";
/// How the payload of a joined thread's panic prints in the message of
/// `handle.join().unwrap()`: the worker's own message is lost there.
const JOINED: &str = "Any { .. }";

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// How many `catch_panic` calls are running on this thread.
    static CATCHING: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

fn quiet_hook(info: &std::panic::PanicHookInfo<'_>) {
    let loc = info.location().map_or(String::new(), |l| {
        format!(" ({}:{}:{})", l.file(), l.line(), l.column())
    });
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let mut panics = lock(&PANICS);
    if panics.len() >= KEPT {
        panics.remove(0);
    }
    panics.push(Seen {
        seq,
        message: payload_message(info.payload()),
        location: loc,
        inside: CATCHING.with(|c| c.get() > 0),
        thread: std::thread::current().id(),
    });
}

/// Runs `f`, catching a panic and returning its message (with its location)
/// instead of letting the default hook print `thread … panicked at …` to stderr.
///
/// The panic hook is process-wide: while any `catch_panic` runs, parlab's quiet
/// hook is installed, and the previous hook is restored when the last one ends.
/// Panics on other threads during that time are not printed either.
///
/// A panic in a worker of `std::thread::scope` reaches the caller only as
/// "a scoped thread panicked"; the worker's own message (`attempt to subtract
/// with overflow`, an `unwrap` on `None`) is named too. So is the message of
/// a thread whose panic the caller got from `handle.join().unwrap()`, which
/// by itself reads only ``called `Result::unwrap()` on an `Err` value: Any { .. }``.
/// The worker is found by the order of panics (the latest before the
/// caller's, from a thread outside any catch): while several threads catch
/// at once, another's worker may be named instead.
///
/// ```
/// let e = parlab::catch::catch_panic(|| {
///     std::thread::scope(|s| s.spawn(|| -> u8 { panic!("row 7") }).join().unwrap())
/// })
/// .unwrap_err();
/// assert!(e.contains("Any { .. }") && e.contains("a thread it joined panicked: row 7"), "{e}");
/// ```
///
/// ```
/// let r = parlab::catch::catch_panic(|| -> u32 { panic!("boom {}", 1) });
/// assert!(r.unwrap_err().starts_with("boom 1"));
/// assert_eq!(parlab::catch::catch_panic(|| 2).unwrap(), 2);
/// ```
///
/// # Errors
/// The panic's message when `f` panics.
pub fn catch_panic<R>(f: impl FnOnce() -> R) -> std::result::Result<R, String> {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    let start = SEQ.load(std::sync::atomic::Ordering::SeqCst);
    {
        let mut st = lock(&HOOK_STATE);
        if st.depth == 0 {
            st.previous = Some(std::panic::take_hook());
            std::panic::set_hook(Box::new(quiet_hook));
        }
        st.depth += 1;
    }
    CATCHING.with(|c| c.set(c.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(f));
    CATCHING.with(|c| c.set(c.get() - 1));
    {
        let mut st = lock(&HOOK_STATE);
        st.depth -= 1;
        if st.depth == 0
            && let Some(previous) = st.previous.take()
        {
            drop(std::panic::take_hook());
            std::panic::set_hook(previous);
        }
    }
    result.map_err(|p| {
        // rayon re-raises a worker's panic with its original payload, so the
        // payload names the panic; the hook adds where it happened.
        let msg = payload_message(&*p);
        let panics = lock(&PANICS);
        let seen: Vec<&Seen> = panics.iter().filter(|p| p.seq >= start).collect();
        // The caller's own panic: on this thread, else (a scope inside a
        // rayon job of `f`) the latest with its message.
        let here = std::thread::current().id();
        let own = seen
            .iter()
            .rev()
            .find(|p| p.message == msg && p.thread == here)
            .or_else(|| seen.iter().rev().find(|p| p.message == msg));
        let own_text = own.map_or_else(|| msg.clone(), |p| format!("{}{}", p.message, p.location));
        let relayed = |m: &str| m.starts_with(SCOPED) || m.contains(JOINED);
        if !relayed(&msg) {
            return own_text;
        }
        // The worker's own panic: the latest before the caller's, from a
        // thread outside any catch first.
        let before = own.map_or(u64::MAX, |p| p.seq);
        let origin = |p: &&&Seen| p.seq < before && !relayed(&p.message);
        let worker = seen
            .iter()
            .rev()
            .find(|p| origin(p) && !p.inside)
            .or_else(|| seen.iter().rev().find(origin));
        match worker {
            Some(w) if msg.starts_with(SCOPED) => format!("{SCOPED}: {}{}", w.message, w.location),
            Some(w) => format!(
                "{own_text}, because a thread it joined panicked: {}{}",
                w.message, w.location
            ),
            None => own_text,
        }
    })
}

/// The text of a panic's payload (`panic!` with a message gives a `&str` or
/// a `String`).
pub(crate) fn payload_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-text panic payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Runs `f` with the hook state locked at depth 0 (no `catch_panic` running).
    fn at_depth_zero<R>(f: impl FnOnce() -> R) -> R {
        loop {
            let st = lock(&HOOK_STATE);
            if st.depth == 0 {
                return f();
            }
            drop(st);
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Taken by the tests whose workers panic: a worker's panic is told
    /// from another test's by the order of panics alone, which two such
    /// tests running at once would mix up.
    static WORKERS: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn a_scoped_workers_panic_is_named() {
        let _one_at_a_time = lock(&WORKERS);
        let e = catch_panic(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let v: Vec<u8> = Vec::new();
                    v[3]
                });
            })
        })
        .unwrap_err();
        assert!(
            e.starts_with("a scoped thread panicked: index out of bounds"),
            "{e}"
        );
    }

    #[test]
    fn a_joined_threads_panic_is_named() {
        let _one_at_a_time = lock(&WORKERS);
        let e = catch_panic(|| {
            std::thread::scope(|s| {
                let h = s.spawn(|| -> u8 { panic!("band {} failed", 2) });
                h.join().unwrap()
            })
        })
        .unwrap_err();
        assert!(
            e.starts_with("called `Result::unwrap()` on an `Err` value: Any { .. } (src/"),
            "{e}"
        );
        assert!(
            e.contains(", because a thread it joined panicked: band 2 failed (src/catch.rs:"),
            "{e}"
        );
        let e = catch_panic(|| {
            std::thread::spawn(|| -> u8 { panic!("plain thread") })
                .join()
                .unwrap()
        })
        .unwrap_err();
        assert!(
            e.contains("a thread it joined panicked: plain thread"),
            "{e}"
        );
    }

    #[test]
    fn quiet_hook_captures_then_restores_the_previous_hook() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static SEEN: AtomicUsize = AtomicUsize::new(0);
        let previous = at_depth_zero(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(|_| {
                SEEN.fetch_add(1, Ordering::SeqCst);
            }));
            previous
        });
        let r = catch_panic(|| -> u8 { panic!("quiet") });
        assert!(r.unwrap_err().starts_with("quiet (src/"));
        assert_eq!(
            SEEN.load(Ordering::SeqCst),
            0,
            "the counting hook ran during catch_panic"
        );
        at_depth_zero(|| {
            let _ = std::panic::catch_unwind(|| panic!("loud"));
            assert_eq!(
                SEEN.load(Ordering::SeqCst),
                1,
                "the previous hook was not restored"
            );
            std::panic::set_hook(previous);
        });
    }
}
