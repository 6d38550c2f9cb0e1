//! Flame graphs of a closure, sampled by pprof.

use crate::display::Svg;
#[allow(unused_imports)]
use crate::error::{Error, ErrorKind, Result};

/// A flame graph as SVG, with the number of samples it was drawn from.
#[derive(Debug, Clone)]
pub struct FlameGraph {
    /// The SVG image (inferno's, with its own fonts and colours).
    pub svg: Svg,
    /// How many stack samples were taken.
    pub samples: usize,
}

impl FlameGraph {
    /// Shows the flame graph in a notebook.
    pub fn evcxr_display(&self) {
        self.svg.evcxr_display();
    }

    /// Saves the SVG (atomically).
    ///
    /// # Errors
    /// [`ErrorKind::Io`] naming the path.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        self.svg.save(path)
    }
}

/// Shared libraries in which a sample is dropped (unwinding from a signal
/// handler inside them is not safe), matched as substrings of their paths.
/// pprof's README suggests `"libc"`, but that also matches evcxr's cell
/// libraries (`libcode_13.so`) and would drop every sample of notebook code.
#[cfg_attr(
    not(all(feature = "flamegraph", target_os = "linux")),
    allow(dead_code)
)]
const BLOCKLIST: &[&str] = &["/libc.so", "/libc-", "/libgcc_s", "/libpthread", "vdso"];

/// Samples the call stack `frequency` times a second while `f` runs and draws
/// the flame graph, returning it with `f`'s result.
///
/// Samples are taken on CPU time (`SIGPROF`), at most as often as the kernel's
/// timer tick allows: 997 Hz gave ≈ 217 samples per CPU-second on the course's
/// machine. A sample whose innermost frame is in libc, libgcc, pthread or the
/// vDSO is dropped (unwinding there from a signal handler is not safe), so
/// time spent inside `malloc`/`free` or `clock_gettime` is under-counted:
/// count allocations with [`CountingAlloc`](crate::profile::CountingAlloc).
///
/// Needs parlab's `flamegraph` feature and Linux (pprof samples with SIGPROF):
/// `:dep parlab = { path = "..", features = ["flamegraph"] }` in a notebook.
///
/// # Errors
/// [`ErrorKind::Unsupported`] without the feature or off Linux, saying how to
/// get it; [`ErrorKind::InvalidInput`] when `f` ran too briefly to be sampled.
#[cfg(all(feature = "flamegraph", target_os = "linux"))]
pub fn flame_graph<R>(frequency: i32, f: impl FnOnce() -> R) -> Result<(R, FlameGraph)> {
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(frequency)
        .blocklist(BLOCKLIST)
        .build()
        .map_err(|e| {
            Error::new(ErrorKind::Unsupported, "cannot start the sampling profiler").with_source(e)
        })?;
    let out = f();
    let report = guard.report().build().map_err(|e| {
        Error::new(ErrorKind::Unsupported, "cannot build the profile").with_source(e)
    })?;
    let samples: usize = report.data.values().map(|&n| n as usize).sum();
    if samples == 0 {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "no samples at {frequency} Hz: the closure ran too briefly; run it longer or in a loop"
            ),
        ));
    }
    let mut svg = Vec::new();
    report
        .flamegraph(&mut svg)
        .map_err(|e| Error::new(ErrorKind::Plot, "cannot draw the flame graph").with_source(e))?;
    let svg = String::from_utf8(svg)
        .map_err(|e| Error::new(ErrorKind::Plot, "flame graph is not UTF-8").with_source(e))?;
    Ok((
        out,
        FlameGraph {
            svg: Svg(svg),
            samples,
        },
    ))
}

/// Flame graphs need parlab's `flamegraph` feature on Linux; this build has
/// neither, so this says how to get one.
///
/// # Errors
/// Always [`ErrorKind::Unsupported`].
#[cfg(not(all(feature = "flamegraph", target_os = "linux")))]
pub fn flame_graph<R>(frequency: i32, f: impl FnOnce() -> R) -> Result<(R, FlameGraph)> {
    let _ = (frequency, f);
    Err(Error::new(
        ErrorKind::Unsupported,
        if cfg!(target_os = "linux") {
            "flame graphs need parlab's `flamegraph` feature: \
             `:dep parlab = { path = \"..\", features = [\"flamegraph\"] }`"
        } else {
            "flame graphs need Linux (pprof samples with SIGPROF); use Profiler sections instead"
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(feature = "flamegraph", target_os = "linux"))]
    #[test]
    fn a_busy_loop_is_sampled_and_drawn() {
        let (x, fg) = flame_graph(997, || {
            // Read the clock rarely: a sample that lands in the vDSO's
            // clock_gettime is dropped (blocklisted), and a loop around
            // `elapsed()` spends most of its time there.
            let mut x = 0u64;
            let t = std::time::Instant::now();
            while t.elapsed().as_millis() < 400 {
                for _ in 0..1 << 16 {
                    x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
                }
            }
            x
        })
        .unwrap();
        let _ = x;
        // SIGPROF counts CPU time, so a loaded machine gives fewer samples.
        assert!(fg.samples >= 5, "{} samples", fg.samples);
        assert!(fg.svg.as_str().contains("<svg"));
        assert!(
            fg.svg.as_str().contains("a_busy_loop_is_sampled_and_drawn"),
            "the sampled function is not named"
        );
    }

    #[test]
    fn the_blocklist_spares_notebook_cells() {
        let blocked = |path: &str| BLOCKLIST.iter().any(|b| path.contains(b));
        assert!(blocked("/lib/x86_64-linux-gnu/libc.so.6"));
        assert!(blocked("/lib/x86_64-linux-gnu/libgcc_s.so.1"));
        assert!(blocked("linux-vdso.so.1"));
        assert!(!blocked(
            "/tmp/evcxr/target/x86_64-unknown-linux-gnu/debug/libcode_13.so"
        ));
    }

    #[cfg(not(all(feature = "flamegraph", target_os = "linux")))]
    #[test]
    fn without_the_feature_the_error_says_how_to_get_it() {
        let e = flame_graph(99, || ()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
        assert!(e.to_string().contains("flamegraph"), "{e}");
    }
}
