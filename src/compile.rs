//! What the compiler says about a piece of Rust: the machine's own `rustc`,
//! run on a source string, so that a notebook can show the errors that keep
//! data races out of Rust programs (E0499, E0373, E0277) without the cell
//! itself failing to compile.
//!
//! ```no_run
//! # fn main() -> parlab::Result<()> {
//! let racy = r#"
//!     pub fn count(xs: &[u64]) -> usize {
//!         let mut total = 0;
//!         std::thread::scope(|s| {
//!             for part in xs.chunks(2) {
//!                 s.spawn(|| total += part.len());
//!             }
//!         });
//!         total
//!     }"#;
//! let compiled = parlab::compile::check(racy)?;
//! assert!(compiled.error_codes().contains(&"E0499"));
//! println!("{compiled}"); // rustc's own messages
//! # Ok(()) }
//! ```
//!
//! Each call runs `rustc` once in a fresh temporary folder (removed
//! afterwards): about 0.2 s to check a small library, 1–2 s to build and run
//! a small program with optimisations.

use crate::display::{Html, emit, escape_html};
use crate::error::{Error, ErrorKind, Result};
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One message of the compiler.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Diagnostic {
    /// `error` or `warning`.
    pub level: String,
    /// The error code, e.g. `E0499`, when the message has one.
    pub code: Option<String>,
    /// The one-line message: "cannot borrow `total` as mutable more than once at a time".
    pub message: String,
    /// The message as rustc prints it, with the source lines it points at.
    pub rendered: String,
}

/// What `rustc` said about a source: its errors and warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Compiled {
    /// The errors, in the order rustc gave them (empty when the source compiles).
    pub errors: Vec<Diagnostic>,
    /// The warnings.
    pub warnings: Vec<Diagnostic>,
}

impl Compiled {
    /// `true` when there is no error.
    pub fn ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The error codes, in order, each once: `["E0499", "E0373"]`.
    pub fn error_codes(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = Vec::new();
        for c in self.errors.iter().filter_map(|d| d.code.as_deref()) {
            if !codes.contains(&c) {
                codes.push(c);
            }
        }
        codes
    }

    fn to_text(&self) -> String {
        if self.ok() {
            let w = self.warnings.len();
            return match w {
                0 => "compiles, without warnings".to_string(),
                1 => "compiles, with 1 warning".to_string(),
                _ => format!("compiles, with {w} warnings"),
            };
        }
        self.errors
            .iter()
            .map(|d| d.rendered.trim_end())
            .collect::<Vec<_>>()
            .join("\n\n")
    }

    /// The compiler's messages as a preformatted block.
    pub fn to_html(&self) -> Html {
        let color = if self.ok() { "#1a7f37" } else { "#cf222e" };
        Html(format!(
            "<pre class=\"parlab-rustc\" style=\"border-left:6px solid {color};padding:6px 10px;\
             white-space:pre-wrap\">{}</pre>",
            escape_html(&self.to_text())
        ))
    }

    /// Shows it in a notebook.
    pub fn evcxr_display(&self) {
        emit("text/html", self.to_html().as_str());
    }
}

impl fmt::Display for Compiled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

/// Checks that `source` compiles as a library (edition 2021, nothing but
/// `std`), without building it.
///
/// # Errors
/// [`ErrorKind::Unsupported`] when no `rustc` can be found or started (the
/// message says where it looked); [`ErrorKind::Io`] when the temporary folder
/// cannot be written. A source that does not compile is not an error: it is
/// a [`Compiled`] with its errors.
pub fn check(source: &str) -> Result<Compiled> {
    let dir = TempDir::new()?;
    dir.write("snippet.rs", source)?;
    let (_, compiled) = run_rustc(
        &dir,
        &[
            "--crate-type",
            "lib",
            "--emit=metadata",
            "-o",
            "snippet.rmeta",
            "snippet.rs",
        ],
    )?;
    Ok(compiled)
}

/// What building and running a program gave.
#[derive(Debug, Clone)]
pub(crate) enum Run {
    /// It did not compile.
    NoBuild(Compiled),
    /// It ran: exit status, standard output and error.
    Ran {
        success: bool,
        stdout: String,
        stderr: String,
    },
    /// It ran longer than the time limit and was killed.
    TimedOut(Duration),
}

/// Builds `source` (optimised, edition 2021) as a program and runs it with
/// `limit` for a time limit.
pub(crate) fn build_and_run(source: &str, limit: Duration) -> Result<Run> {
    let dir = TempDir::new()?;
    dir.write("main.rs", source)?;
    let exe = dir.path().join("main");
    let (built, compiled) = run_rustc(&dir, &["-C", "opt-level=2", "-o", "main", "main.rs"])?;
    if !compiled.ok() || !built {
        return Ok(Run::NoBuild(compiled));
    }
    let mut child = Command::new(&exe)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot start {}: {e}", exe.display()),
            )
        })?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let _ = child.wait();
                return Ok(Run::TimedOut(limit));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => {
                return Err(Error::new(
                    ErrorKind::Io,
                    format!("waiting for the program: {e}"),
                ));
            }
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::new(ErrorKind::Io, format!("reading the program's output: {e}")))?;
    Ok(Run::Ran {
        success: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Runs rustc in `dir` (edition 2021, crate `snippet`, JSON diagnostics,
/// on a relative path, so that messages point at `snippet.rs:6:21`, not at a
/// temporary folder) with `args`: whether it succeeded, and what it said.
fn run_rustc(dir: &TempDir, args: &[&str]) -> Result<(bool, Compiled)> {
    let output = rustc()?
        .current_dir(dir.path())
        .args([
            "--edition",
            "2021",
            "--crate-name",
            "snippet",
            "--error-format=json",
        ])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::new(ErrorKind::Unsupported, format!("cannot run rustc: {e}")))?;
    Ok((
        output.status.success(),
        parse(&String::from_utf8_lossy(&output.stderr)),
    ))
}

/// `rustc`: `$RUSTC`, else the one on `PATH`, else `$CARGO_HOME/bin` or
/// `~/.cargo/bin` (where rustup puts it; a notebook server started from a
/// desktop may not have it on `PATH`).
fn rustc() -> Result<Command> {
    let mut tried: Vec<PathBuf> = Vec::new();
    if let Some(r) = std::env::var_os("RUSTC") {
        return Ok(Command::new(r));
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join("rustc");
            if p.is_file() {
                return Ok(Command::new(p));
            }
        }
        tried.push(PathBuf::from("$PATH"));
    }
    let homes = [
        std::env::var_os("CARGO_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")),
    ];
    for home in homes.into_iter().flatten() {
        let p = home.join("bin").join("rustc");
        if p.is_file() {
            return Ok(Command::new(p));
        }
        tried.push(p);
    }
    let tried: Vec<String> = tried.iter().map(|p| p.display().to_string()).collect();
    Err(Error::new(
        ErrorKind::Unsupported,
        format!(
            "no rustc found (looked in $RUSTC, {}): install a Rust toolchain, or set RUSTC",
            tried.join(", ")
        ),
    ))
}

/// The diagnostics of rustc's `--error-format=json` output.
fn parse(stderr: &str) -> Compiled {
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for line in stderr.lines().filter(|l| l.starts_with('{')) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let level = v["level"].as_str().unwrap_or("").to_string();
        let message = v["message"].as_str().unwrap_or("").to_string();
        // The summary lines ("aborting due to 2 previous errors") say nothing new.
        if message.starts_with("aborting due to")
            || message.ends_with("warning emitted")
            || message.ends_with("warnings emitted")
            || level == "failure-note"
        {
            continue;
        }
        let d = Diagnostic {
            code: v["code"]["code"].as_str().map(str::to_string),
            rendered: v["rendered"].as_str().unwrap_or(&message).to_string(),
            message,
            level: level.clone(),
        };
        match level.as_str() {
            "error" | "error: internal compiler error" => errors.push(d),
            "warning" => warnings.push(d),
            _ => {}
        }
    }
    Compiled { errors, warnings }
}

/// A folder under the system's temporary folder, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("parlab-rustc-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot create {}: {e}", dir.display()),
            )
        })?;
        Ok(TempDir(dir))
    }

    fn path(&self) -> &Path {
        &self.0
    }

    fn write(&self, name: &str, text: &str) -> Result<()> {
        let p = self.0.join(name);
        std::fs::write(&p, text)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write {}: {e}", p.display())))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RACY: &str = "pub fn count(xs: &[u64]) -> usize {
        let mut total = 0;
        std::thread::scope(|s| {
            for part in xs.chunks(2) {
                s.spawn(|| total += part.len());
            }
        });
        total
    }";

    #[test]
    fn a_data_race_is_e0499_with_rustc_s_message() {
        let c = check(RACY).expect("rustc runs");
        assert!(!c.ok());
        assert!(c.error_codes().contains(&"E0499") || c.error_codes().contains(&"E0373"));
        let text = c.to_string();
        assert!(text.contains("total"), "{text}");
        assert!(!text.contains("aborting due to"), "{text}");
    }

    #[test]
    fn rc_into_a_thread_is_e0277() {
        let src = "pub fn f() { let r = std::rc::Rc::new(1); std::thread::spawn(move || *r + 1); }";
        let c = check(src).expect("rustc runs");
        assert_eq!(c.error_codes(), vec!["E0277"], "{c}");
        assert!(
            c.errors[0]
                .message
                .contains("cannot be sent between threads safely")
        );
    }

    #[test]
    fn good_code_compiles_and_counts_warnings() {
        let c = check("pub fn f(x: u32) -> u32 { let unused = 1; x + 1 }").expect("rustc runs");
        assert!(c.ok());
        assert_eq!(c.warnings.len(), 1);
        assert_eq!(c.to_string(), "compiles, with 1 warning");
        assert!(c.to_html().as_str().contains("compiles"));
    }

    #[test]
    fn programs_run_with_a_time_limit() {
        let ok = "fn main() { println!(\"{}\", 6 * 7); }";
        match build_and_run(ok, Duration::from_secs(20)).expect("rustc runs") {
            Run::Ran {
                success, stdout, ..
            } => {
                assert!(success);
                assert_eq!(stdout.trim(), "42");
            }
            other => panic!("{other:?}"),
        }
        let endless = "fn main() { loop { std::hint::black_box(0); } }";
        assert!(matches!(
            build_and_run(endless, Duration::from_millis(300)).expect("rustc runs"),
            Run::TimedOut(_)
        ));
        assert!(matches!(
            build_and_run("fn main() { let x: u32 = \"a\"; }", Duration::from_secs(5))
                .expect("rustc runs"),
            Run::NoBuild(c) if c.error_codes() == vec!["E0308"]
        ));
    }
}
