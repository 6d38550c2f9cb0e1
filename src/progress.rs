//! Progress lines for long work: one line on stdout as each step of a
//! [`ThreadSweep`](crate::timing::ThreadSweep), a
//! [`SizeSweep`](crate::timing::SizeSweep), a [`Compare`](crate::timing::Compare)
//! or an MPI run ([`dist::run_example`](crate::dist::run_example)) finishes —
//! its name, step k of n, the time so far and an estimate of the time left.
//!
//! evcxr streams a cell's stdout while the cell runs (rich output only comes
//! at the end), so a long cell shows where it is. Short work stays quiet: by
//! default ([`Progress::auto`]) nothing is printed until the work has run for
//! [`QUIET_FOR`], then every later step prints its line.
//! `PARLAB_PROGRESS=0` silences every automatic progress line,
//! `PARLAB_PROGRESS=all` prints every step. The lines are written between
//! the timed calls, never inside them: the results are the same with or
//! without them.
//!
//! ```
//! use parlab::progress::Progress;
//! use std::sync::{Arc, Mutex};
//!
//! #[derive(Clone, Default)]
//! struct Buffer(Arc<Mutex<Vec<u8>>>);
//! impl std::io::Write for Buffer {
//!     fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
//!         self.0.lock().unwrap().extend_from_slice(b);
//!         Ok(b.len())
//!     }
//!     fn flush(&mut self) -> std::io::Result<()> { Ok(()) }
//! }
//!
//! let buffer = Buffer::default();
//! let mut steps = Progress::always().to_writer(buffer.clone()).start("sweep", 2);
//! steps.step("1 thread");
//! steps.step("2 threads");
//! let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
//! assert!(text.starts_with("[parlab] sweep: 1/2 (1 thread), elapsed "), "{text}");
//! assert!(text.lines().nth(1).unwrap().ends_with(", done"), "{text}");
//! ```

use std::fmt;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Work that has run for less than this prints no progress line (with
/// [`Progress::auto`]).
pub const QUIET_FOR: Duration = Duration::from_secs(1);

/// The environment variable that overrides [`Progress::auto`]: `0` (or
/// `off`) prints nothing, `all` prints every step.
pub const PROGRESS_ENV: &str = "PARLAB_PROGRESS";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Auto,
    Always,
    Never,
}

type Sink = Arc<Mutex<dyn Write + Send>>;

/// When and where progress lines go; given to the long-running builders
/// (`.progress(Progress::never())`). The default is [`Progress::auto`] on stdout.
#[derive(Clone, Default)]
pub struct Progress {
    mode: Mode,
    sink: Option<Sink>,
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Progress")
            .field("mode", &self.mode)
            .field("to_writer", &self.sink.is_some())
            .finish()
    }
}

impl Progress {
    /// Quiet for work shorter than [`QUIET_FOR`], then a line per step; see
    /// [`PROGRESS_ENV`].
    pub fn auto() -> Self {
        Progress::default()
    }

    /// A line for every step, however short.
    pub fn always() -> Self {
        Progress {
            mode: Mode::Always,
            sink: None,
        }
    }

    /// No lines at all.
    pub fn never() -> Self {
        Progress {
            mode: Mode::Never,
            sink: None,
        }
    }

    /// Writes the lines to `w` instead of stdout (for tests, or a log file).
    pub fn to_writer(mut self, w: impl Write + Send + 'static) -> Self {
        self.sink = Some(Arc::new(Mutex::new(w)));
        self
    }

    /// Starts the clock of `total` steps of the work called `name`.
    pub fn start(&self, name: impl Into<String>, total: usize) -> Steps {
        let mode = match self.mode {
            Mode::Auto => match std::env::var(PROGRESS_ENV).as_deref() {
                Ok("0") | Ok("off") | Ok("never") => Mode::Never,
                Ok("all") | Ok("always") => Mode::Always,
                _ => Mode::Auto,
            },
            m => m,
        };
        Steps {
            mode,
            sink: self.sink.clone(),
            name: name.into(),
            total,
            done: 0,
            started: Instant::now(),
            printed: false,
        }
    }
}

/// The steps of one piece of work under way: call [`step`](Steps::step) as
/// each one finishes.
pub struct Steps {
    mode: Mode,
    sink: Option<Sink>,
    name: String,
    total: usize,
    done: usize,
    started: Instant,
    printed: bool,
}

impl Steps {
    /// One more step finished; `what` names it (`2 threads`, `n = 1024`).
    /// Prints its line unless the work is to stay quiet.
    pub fn step(&mut self, what: impl fmt::Display) {
        self.done += 1;
        let elapsed = self.started.elapsed();
        let print = match self.mode {
            Mode::Never => false,
            Mode::Always => true,
            Mode::Auto => self.printed || elapsed >= QUIET_FOR,
        };
        if !print {
            return;
        }
        self.printed = true;
        let line = line(&self.name, self.done, self.total, &what, elapsed);
        // A progress line that cannot be written is not worth an error.
        match &self.sink {
            Some(sink) => {
                if let Ok(mut w) = sink.lock() {
                    let _ = writeln!(w, "{line}");
                    let _ = w.flush();
                }
            }
            None => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        }
    }

    /// Steps finished so far.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Time since [`Progress::start`].
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

/// `[parlab] name: k/n (what), elapsed 2.6 s, ETA 2.6 s`; the estimate
/// assumes the steps left take as long as the steps so far on average.
fn line(
    name: &str,
    done: usize,
    total: usize,
    what: &dyn fmt::Display,
    elapsed: Duration,
) -> String {
    let total = total.max(done);
    let left = total - done;
    let eta = if left == 0 {
        "done".to_string()
    } else {
        let per_step = elapsed.as_secs_f64() / done as f64;
        format!("ETA {}", seconds(per_step * left as f64))
    };
    format!(
        "[parlab] {name}: {done}/{total} ({what}), elapsed {}, {eta}",
        seconds(elapsed.as_secs_f64())
    )
}

/// `0.4 s`, `12.3 s`, `2 min 05 s`.
fn seconds(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        let whole = s.round() as u64;
        format!("{} min {:02} s", whole / 60, whole % 60)
    }
}

/// A writer into shared memory, for tests that read the lines back.
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

#[cfg(test)]
impl Captured {
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }

    pub(crate) fn progress(&self) -> Progress {
        Progress::always().to_writer(self.clone())
    }
}

#[cfg(test)]
impl Write for Captured {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_steps_and_estimate_the_rest() {
        let l = line("sweep", 1, 4, &"1 thread", Duration::from_millis(1500));
        assert_eq!(
            l,
            "[parlab] sweep: 1/4 (1 thread), elapsed 1.5 s, ETA 4.5 s"
        );
        let l = line("sweep", 4, 4, &"8 threads", Duration::from_secs(125));
        assert_eq!(
            l,
            "[parlab] sweep: 4/4 (8 threads), elapsed 2 min 05 s, done"
        );
    }

    #[test]
    fn every_step_prints_a_line_when_asked() {
        let out = Captured::default();
        let mut steps = out.progress().start("work", 3);
        for k in 0..3 {
            steps.step(format_args!("step {k}"));
        }
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("[parlab] work: 1/3 (step 0), elapsed "));
        assert!(lines[2].ends_with(", done"));
        assert_eq!(steps.done(), 3);
    }

    #[test]
    fn short_work_stays_quiet_and_never_means_never() {
        let out = Captured::default();
        let mut quick = Progress::auto().to_writer(out.clone()).start("quick", 2);
        quick.mode = Mode::Auto; // whatever PARLAB_PROGRESS says in this process
        quick.step("a");
        quick.step("b");
        let mut off = Progress::never().to_writer(out.clone()).start("off", 1);
        std::thread::sleep(Duration::from_millis(5));
        off.step("a");
        assert_eq!(out.text(), "");
        // Once the work has lasted QUIET_FOR, every later step prints.
        let mut slow = Progress::auto().to_writer(out.clone()).start("slow", 3);
        slow.mode = Mode::Auto;
        slow.started = Instant::now()
            .checked_sub(QUIET_FOR)
            .expect("up for a second");
        slow.step("a");
        slow.started = Instant::now();
        slow.step("b");
        assert_eq!(out.text().lines().count(), 2, "{}", out.text());
    }
}
