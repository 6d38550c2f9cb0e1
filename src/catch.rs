//! Catching a panic without printing it.
//!
//! `catch_unwind` stops a panic, but the default panic hook has already printed
//! `thread … panicked at …` to stderr by then. In a notebook that is noise at
//! best; for parlab's notebook runner, which fails a cell whose stderr says
//! `panicked at`, it would turn a handled panic into a failure. So while the
//! closure runs, a hook that records the message replaces the current one, and
//! the previous hook is restored afterwards.

use std::panic::{self, AssertUnwindSafe, UnwindSafe};
use std::sync::{Arc, Mutex};

/// Hooks are process-wide: one swap at a time.
static HOOK_SWAP: Mutex<()> = Mutex::new(());

/// Runs `f`, returning its result, or the panic's message and location if it
/// panicked. Nothing is printed for a panic inside `f` (nor for one on another
/// thread while `f` runs: the hook is process-wide).
pub(crate) fn catch_silently<R>(f: impl FnOnce() -> R + UnwindSafe) -> Result<R, String> {
    let _swap = HOOK_SWAP.lock().unwrap_or_else(|e| e.into_inner());
    let seen: Arc<Mutex<Option<String>>> = Arc::default();
    let previous = panic::take_hook();
    {
        let seen = Arc::clone(&seen);
        panic::set_hook(Box::new(move |info| {
            let mut slot = seen.lock().unwrap_or_else(|e| e.into_inner());
            if slot.is_none() {
                *slot = Some(match info.location() {
                    Some(l) => format!(
                        "{} (at {}:{})",
                        payload_message(info.payload()),
                        l.file(),
                        l.line()
                    ),
                    None => payload_message(info.payload()),
                });
            }
        }));
    }
    let out = panic::catch_unwind(f);
    panic::set_hook(previous);
    out.map_err(|payload| {
        seen.lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| payload_message(payload.as_ref()))
    })
}

/// Like [`catch_silently`] for closures that are not `UnwindSafe`; the caller
/// promises not to observe broken invariants afterwards.
#[allow(dead_code)]
pub(crate) fn catch_silently_unchecked<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_silently(AssertUnwindSafe(f))
}

fn payload_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_the_value_or_the_message() {
        assert_eq!(catch_silently(|| 3), Ok(3));
        let e = catch_silently(|| -> u8 { panic!("bad {}", 42) }).unwrap_err();
        assert!(e.starts_with("bad 42 (at "), "{e}");
        assert!(e.contains("catch.rs"), "{e}");
    }
}
