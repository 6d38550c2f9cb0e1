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

/// Message and location of the latest panic seen by the quiet hook.
static LAST_PANIC: std::sync::Mutex<Option<(String, String)>> = std::sync::Mutex::new(None);

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn quiet_hook(info: &std::panic::PanicHookInfo<'_>) {
    let loc = info.location().map_or(String::new(), |l| {
        format!(" ({}:{}:{})", l.file(), l.line(), l.column())
    });
    *lock(&LAST_PANIC) = Some((payload_message(info.payload()), loc));
}

/// Runs `f`, catching a panic and returning its message (with its location)
/// instead of letting the default hook print `thread … panicked at …` to stderr.
///
/// The panic hook is process-wide: while any `catch_panic` runs, parlab's quiet
/// hook is installed, and the previous hook is restored when the last one ends.
/// Panics on other threads during that time are not printed either.
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
    {
        let mut st = lock(&HOOK_STATE);
        if st.depth == 0 {
            st.previous = Some(std::panic::take_hook());
            std::panic::set_hook(Box::new(quiet_hook));
        }
        st.depth += 1;
    }
    let result = catch_unwind(AssertUnwindSafe(f));
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
        match lock(&LAST_PANIC).take() {
            Some((m, loc)) if m == msg => msg + &loc,
            _ => msg,
        }
    })
}

fn payload_message(p: &(dyn std::any::Any + Send)) -> String {
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
