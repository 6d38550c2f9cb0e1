//! What the checkers observe while a student's function runs: the panics of
//! its worker threads, and whether the calling thread did all the work.

use std::time::{Duration, Instant};

/// Runs `f`, catching a panic and returning its message, with its location,
/// without printing it — [`crate::catch::catch_panic`], which also names the
/// cause of a panic in a `std::thread::scope` worker.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    crate::catch::catch_panic(f)
}

const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

/// CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`) or of the whole
/// process, finished threads included (`CLOCK_PROCESS_CPUTIME_ID`); Linux
/// only, `None` elsewhere.
fn cpu_time(clock: i32) -> Option<Duration> {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct Timespec {
            tv_sec: i64,
            tv_nsec: i64,
        }
        unsafe extern "C" {
            fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
        }
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec (64-bit Linux layout).
        let rc = unsafe { clock_gettime(clock, &mut ts) };
        if rc == 0 && cfg!(target_pointer_width = "64") {
            return Some(Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32));
        }
        None
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = clock;
        None
    }
}

/// A run shorter than this tells nothing about where its work ran; multiplied
/// by [`time_scale`](crate::timing::time_scale) (a faster CPU finishes the
/// same call sooner).
const MEASURABLE: Duration = Duration::from_millis(2);
/// At most this many calls make up one run.
const MAX_CALLS: usize = 1000;
/// A serial solution keeps the calling thread busy for the whole call; a
/// parallel one leaves it waiting in `join` for most of it.
const BUSY: f64 = 0.7;
/// ... and a serial solution uses all the CPU time the process used.
const ALL: f64 = 0.9;

/// Whether the calling thread did all the work of `f`, judged by its share:
/// CPU time over the wall time of a run, or over the CPU time of the
/// whole process during the run, whichever is higher, the highest of up to
/// `tries` runs. A parallel solution keeps both low, whatever the load; a
/// serial one gets one of them high: a busy machine preempts it, which lowers
/// the first, and other threads of the process (tests running side by side)
/// lower the second. A run calls `f` until it has lasted [`MEASURABLE`] (at
/// most [`MAX_CALLS`] times), so a fast CPU, on which one call is too short to
/// tell, gets the same answer as a slow one: a share, unlike a sum, does not
/// depend on the number of calls. `f` returns whether to go on: `false`
/// (the student's function panicked) ends the runs. `None` when it cannot be
/// told (calls too short even together, no per-thread clock, a failed call).
pub(crate) fn ran_on_calling_thread(tries: usize, mut f: impl FnMut() -> bool) -> Option<bool> {
    let measurable = MEASURABLE.mul_f64(crate::timing::time_scale().min(1e3));
    let mut best: Option<f64> = None;
    for _ in 0..tries {
        let (cpu0, all0) = (
            cpu_time(CLOCK_THREAD_CPUTIME_ID)?,
            cpu_time(CLOCK_PROCESS_CPUTIME_ID)?,
        );
        let wall0 = Instant::now();
        let mut calls = 0;
        while calls < MAX_CALLS && (calls == 0 || wall0.elapsed() < measurable) {
            if !f() {
                return None;
            }
            calls += 1;
        }
        let wall = wall0.elapsed();
        let cpu = cpu_time(CLOCK_THREAD_CPUTIME_ID)?.saturating_sub(cpu0);
        let all = cpu_time(CLOCK_PROCESS_CPUTIME_ID)?.saturating_sub(all0);
        if wall < measurable {
            continue;
        }
        let of_wall = cpu.as_secs_f64() / wall.as_secs_f64();
        let of_all = cpu.as_secs_f64() / all.as_secs_f64().max(1e-9);
        // Scaled so that BUSY stands for both thresholds.
        let share = of_wall.max(of_all * BUSY / ALL);
        best = Some(best.map_or(share, |b: f64| b.max(share)));
        if share > BUSY {
            break;
        }
    }
    best.map(|b| b > BUSY)
}

/// Runs the `#[ignore]`d test `name` alone in a process of its own and
/// asserts that it passed: the serial-solution tests judge by the CPU time of
/// the whole process, which tests running side by side would blur.
#[cfg(test)]
pub(crate) fn alone_in_a_process(name: &str) {
    let exe = std::env::current_exe().expect("the test binary");
    let out = std::process::Command::new(exe)
        .args(["--ignored", "--exact", name, "--test-threads", "1"])
        .output()
        .expect("the test binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("1 passed"),
        "{name} in a process of its own:\n{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_worker_panic_names_its_cause() {
        let msg = catch(|| {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let v: Vec<usize> = Vec::new();
                    #[allow(clippy::unnecessary_literal_unwrap)]
                    let x: Option<usize> = v.first().copied();
                    x.unwrap()
                });
            })
        })
        .unwrap_err();
        assert!(msg.starts_with("a scoped thread panicked: "), "{msg}");
        assert!(msg.contains("on a `None` value"), "{msg}");
        let plain = catch(|| -> u32 { panic!("boom {}", 7) }).unwrap_err();
        assert!(plain.starts_with("boom 7 ("), "{plain}");
    }

    #[test]
    fn serial_work_keeps_the_calling_thread_busy() {
        alone_in_a_process("exercise::observe::tests::serial_work_alone");
    }

    #[test]
    #[ignore = "run alone by serial_work_keeps_the_calling_thread_busy"]
    fn serial_work_alone() {
        let spin = |ms: u64| {
            let t = Instant::now();
            let mut x = 0u64;
            while t.elapsed() < Duration::from_millis(ms) {
                x = std::hint::black_box(x.wrapping_add(1));
            }
        };
        if let Some(serial) = ran_on_calling_thread(5, || {
            spin(10);
            true
        }) {
            assert!(serial);
            let serial = ran_on_calling_thread(3, || {
                std::thread::scope(|s| {
                    s.spawn(|| spin(10));
                });
                true
            });
            assert_eq!(serial, Some(false));
        }
    }
}
