//! CPU time beside wall time: how many cores a measurement really kept busy,
//! and what got in its way (context switches, page faults), from
//! `getrusage(RUSAGE_SELF)` — the whole process, every thread.
//!
//! Wall time alone cannot tell a kernel that ran on 2 threads from one that
//! ran on 1 while another program held the second core. CPU time ÷ wall time
//! (the *effective parallelism*) can: `par_add` on 2 threads that shows 1.0
//! did not run in parallel, whatever the pool size says. A sleep is wall time
//! but no CPU time.
//!
//! ```
//! use parlab::timing::Bench;
//! use std::time::Duration;
//! let r = Bench::new().samples(3).warmup(Duration::ZERO).min_sample_time(Duration::from_millis(2))
//!     .run(|| std::thread::sleep(Duration::from_micros(500)))?;
//! let cpu = r.cpu.expect("getrusage works on Linux");
//! assert!(cpu.parallelism < 0.5, "sleeping is not CPU time: {cpu:?}");
//! # Ok::<(), parlab::Error>(())
//! ```

use serde::{Deserialize, Serialize};

/// A reading of the process's resource counters.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// User + system CPU seconds of every thread so far.
    pub cpu_seconds: f64,
    /// Context switches so far: the process gave up the CPU (waiting) or was
    /// made to (another thread or program wanted it).
    pub context_switches: u64,
    /// Page faults so far (minor and major).
    pub page_faults: u64,
}

impl Usage {
    /// The counters now, or `None` where `getrusage` is not available.
    pub fn now() -> Option<Usage> {
        #[cfg(unix)]
        {
            let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
            // SAFETY: getrusage writes a complete `rusage` into the pointer it
            // is given and reads nothing from it.
            let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr()) };
            if rc != 0 {
                return None;
            }
            // SAFETY: rc == 0, so the struct was filled in.
            let ru = unsafe { ru.assume_init() };
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
            Some(Usage {
                cpu_seconds: secs(ru.ru_utime) + secs(ru.ru_stime),
                context_switches: (ru.ru_nvcsw + ru.ru_nivcsw) as u64,
                page_faults: (ru.ru_minflt + ru.ru_majflt) as u64,
            })
        }
        #[cfg(not(unix))]
        None
    }
}

/// What a measurement cost the process beyond wall time, per call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CpuUsage {
    /// CPU seconds per call, all threads of the process together.
    pub cpu_per_call: f64,
    /// CPU time ÷ wall time over the samples: the cores kept busy on average
    /// (≈ 1 serial, ≈ n for n busy threads; below 1 while waiting or sleeping).
    pub parallelism: f64,
    /// Context switches per call.
    pub context_switches_per_call: f64,
    /// Page faults per call (the first touch of fresh memory costs one per
    /// 4 KiB page, or per 2 MiB huge page).
    pub page_faults_per_call: f64,
}

impl CpuUsage {
    /// From two readings around `calls` calls that took `wall` seconds.
    pub fn between(before: Usage, after: Usage, wall: f64, calls: u64) -> CpuUsage {
        let calls = calls.max(1) as f64;
        let cpu = (after.cpu_seconds - before.cpu_seconds).max(0.0);
        CpuUsage {
            cpu_per_call: cpu / calls,
            parallelism: if wall > 0.0 { cpu / wall } else { 0.0 },
            context_switches_per_call: after
                .context_switches
                .saturating_sub(before.context_switches)
                as f64
                / calls,
            page_faults_per_call: after.page_faults.saturating_sub(before.page_faults) as f64
                / calls,
        }
    }
}

/// CPUs the system has online (not those this process may use: see
/// [`crate::par::available_threads`]).
pub fn online_cpus() -> usize {
    #[cfg(unix)]
    {
        // SAFETY: sysconf has no preconditions.
        let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
        if n > 0 {
            return n as usize;
        }
    }
    crate::par::available_threads()
}

/// The 1-minute load average (runnable threads, averaged), where the system
/// reports one.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A warning when a measurement on `threads` threads cannot be trusted to
/// have run them at once: more threads than this process may run (its
/// affinity mask or cgroup CPU quota, as `available_parallelism` reads them),
/// or a machine busy with other work (a load average above the CPUs online
/// before this measurement added its own threads) — a classroom hub is shared.
pub fn contention_warning(threads: usize, load: Option<f64>) -> Option<String> {
    let allowed = crate::par::available_threads();
    let online = online_cpus();
    if threads > allowed {
        let why = if allowed < online {
            format!(" ({online} online; the affinity mask or cgroup CPU quota allows {allowed})")
        } else {
            String::new()
        };
        return Some(format!(
            "{threads} threads asked for, but this process may run {allowed} at once{why}: \
             the extra threads take turns, so this is not a {threads}-thread measurement"
        ));
    }
    match load {
        Some(l) if l > online as f64 + 0.5 => Some(format!(
            "the machine is busy: load average {l:.1} on {online} CPUs — other programs \
             shared the cores, so times are slower and noisier than on a quiet machine"
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hint::black_box;

    /// Fixed work, not fixed time: the same CPU cost on a busy machine.
    fn spin(n: u64) -> u64 {
        let mut x = 0u64;
        for i in 0..n {
            x = black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        x
    }

    #[test]
    fn a_sleep_is_wall_time_but_not_cpu_time() {
        let before = Usage::now().unwrap();
        let t = std::time::Instant::now();
        std::thread::sleep(std::time::Duration::from_millis(60));
        let u = CpuUsage::between(before, Usage::now().unwrap(), t.elapsed().as_secs_f64(), 1);
        assert!(u.cpu_per_call < 0.02, "{u:?}");
        assert!(u.parallelism < 0.35, "{u:?}");
        assert!(
            u.context_switches_per_call >= 1.0,
            "a sleep gives up the CPU: {u:?}"
        );
    }

    #[test]
    fn two_busy_threads_cost_twice_the_cpu_of_one() {
        let n = 30_000_000;
        let cpu = |threads: usize| {
            let before = Usage::now().unwrap();
            std::thread::scope(|s| {
                for _ in 0..threads {
                    s.spawn(|| spin(n));
                }
            });
            Usage::now().unwrap().cpu_seconds - before.cpu_seconds
        };
        let (one, two) = (cpu(1), cpu(2));
        let ratio = two / one;
        assert!(
            (1.5..2.8).contains(&ratio),
            "1 thread {one} s, 2 threads {two} s"
        );
    }

    #[test]
    fn fresh_memory_costs_page_faults() {
        let before = Usage::now().unwrap();
        let v = vec![1u8; 64 << 20];
        black_box(&v);
        let u = CpuUsage::between(before, Usage::now().unwrap(), 1.0, 1);
        assert!(u.page_faults_per_call >= 32.0, "{u:?}");
    }

    #[test]
    fn warnings_name_the_counts() {
        let allowed = crate::par::available_threads();
        let w = contention_warning(allowed + 2, None).unwrap();
        assert!(
            w.contains(&format!("{} threads asked for", allowed + 2)),
            "{w}"
        );
        assert!(w.contains(&format!("may run {allowed} at once")), "{w}");
        assert!(contention_warning(1, Some(0.0)).is_none());
        let busy = contention_warning(1, Some(online_cpus() as f64 + 3.0)).unwrap();
        assert!(busy.contains("the machine is busy"), "{busy}");
    }
}
