//! Classroom exercises that check themselves.
//!
//! A student cell holds a function with a `todo!()` body; the next cell hands
//! that function to a checker of this module, which runs it on hidden cases
//! (sizes not divisible by the thread count, empty inputs, strided views, fixed
//! seeds) and reports one of three outcomes, without ever crashing the notebook:
//!
//! - **passed** — every hidden case agrees with the reference;
//! - **failed** — says exactly what is wrong, e.g. `rows 1020–1022 were never
//!   written: your chunks drop the remainder`;
//! - **not done yet** — the function still panics with `todo!()`.
//!
//! The student's function runs under `catch_unwind` with a quiet panic hook, so
//! a panic in it is reported, not printed. In a notebook each checker shows its
//! result as HTML at once (and again as the cell's value, if it is the last
//! expression); outside evcxr it prints one line of text instead;
//! the HTML carries `data-parlab-check="passed|failed|not-done"`, which the
//! notebook runner reads: in a `*.solution.ipynb` every check must pass, in a
//! student notebook every check must say "not done yet".
//!
//! ```
//! use parlab::exercise::{self, Status};
//! // A correct solution of exercise 1.1:
//! fn chunk_bounds(rows: usize, threads: usize) -> Vec<(usize, usize)> {
//!     parlab::par::chunk_ranges(rows, threads).into_iter().map(|r| (r.start, r.end)).collect()
//! }
//! assert_eq!(exercise::check_chunk_bounds(chunk_bounds).status, Status::Passed);
//! // The stub a student starts from:
//! fn stub(_rows: usize, _threads: usize) -> Vec<(usize, usize)> { todo!() }
//! assert_eq!(exercise::check_chunk_bounds(stub).status, Status::NotDone);
//! ```

mod distributed;
mod image;
mod matmul;
mod matrix_add;
mod monte_carlo;
mod observe;
mod parallel;
mod profiling;
mod races;
mod rust_basics;
mod statistics;
mod sync;
mod verification;

pub use distributed::{check_combine_partials, check_rank_band};
pub use image::{check_blur_in_bands, check_box_blur};
pub use matmul::{check_blocked_matmul, check_matmul_ikj};
pub use matrix_add::{check_add_in_chunks, check_chunk_bounds};
pub use monte_carlo::{check_call_estimate, check_reproducible_pi};
pub use parallel::{
    check_padded_counter, check_predicted_speedup, check_process_rows, check_reproducible_sum,
};
pub use profiling::{check_normalise_columns, check_row_medians};
pub use races::{COUNT_EVENS_RACY, check_count_evens};
pub use rust_basics::{check_column_means, check_make_counter, check_parse_sizes};
pub use statistics::{check_bytes_moved, check_median};
pub use sync::{
    Rank, STALL, check_flag_orderings, check_histogram, check_ring_shift, check_transfer,
    run_ranks, within,
};
pub use verification::{check_first_mismatch, check_kahan_sum};

use crate::display::escape_html;

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every hidden case agrees with the reference.
    Passed,
    /// A hidden case disagrees, or the function panicked on it.
    Failed,
    /// The function still panics with `todo!()` / `unimplemented!()`.
    NotDone,
}

impl Status {
    /// `passed`, `failed` or `not-done`: the value of the HTML marker.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Failed => "failed",
            Status::NotDone => "not-done",
        }
    }
}

/// What a checker found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The exercise, e.g. `1.1 chunk_bounds`.
    pub exercise: String,
    /// Passed, failed or not done yet.
    pub status: Status,
    /// What was checked, or exactly what is wrong.
    pub message: String,
}

impl Check {
    /// The check as an HTML box, marked for the notebook runner.
    pub fn to_html(&self) -> String {
        let (color, word) = match self.status {
            Status::Passed => ("#1a7f37", "✔ passed"),
            Status::Failed => ("#cf222e", "✘ not yet right"),
            Status::NotDone => ("#6e7781", "not done yet"),
        };
        format!(
            "<div class=\"parlab-check\" data-parlab-check=\"{}\" data-exercise=\"{}\" \
             style=\"border-left:6px solid {color};padding:6px 10px;margin:4px 0;\
             background:rgba(127,127,127,0.08)\"><b style=\"{}\">Exercise {} — {word}</b>\
             <br><span style=\"white-space:pre-wrap\">{}</span></div>",
            self.status.as_str(),
            escape_html(&self.exercise),
            crate::display::theme_color(color),
            escape_html(&self.exercise),
            code_spans(&escape_html(&self.message)),
        )
    }

    /// Shows the check in a notebook: as HTML, with its text as the plain
    /// form (autograders such as nbgrader read `text/plain`).
    pub fn evcxr_display(&self) {
        crate::display::emit("text/html", &self.to_html());
        crate::display::emit("text/plain", &self.to_string());
    }

    /// `true` when the check passed.
    pub fn passed(&self) -> bool {
        self.status == Status::Passed
    }
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let word = match self.status {
            Status::Passed => "passed",
            Status::Failed => "not yet right",
            Status::NotDone => "not done yet",
        };
        f.write_str(&crate::report::wrap(&format!(
            "Exercise {}: {word}. {}",
            self.exercise, self.message
        )))
    }
}

/// Messages mark code with Markdown backticks (`` `c[i]` ``): in HTML they
/// become `<code>` (text output keeps the backticks). An odd count of
/// backticks is left as it is.
fn code_spans(escaped: &str) -> String {
    if !escaped.matches('`').count().is_multiple_of(2) {
        return escaped.to_string();
    }
    let mut out = String::with_capacity(escaped.len() + 16);
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Why a hidden case did not pass.
pub(crate) enum Problem {
    /// The student's function panicked with `todo!()`.
    NotDone,
    /// Not started yet, said in the checker's own words.
    Pending(String),
    /// Anything else, with the message for the student.
    Wrong(String),
}

/// Runs a student's function on one case, turning a panic into a [`Problem`].
pub(crate) fn call<R>(f: impl FnOnce() -> R, case: &str) -> Result<R, Problem> {
    observe::catch(f).map_err(|msg| {
        let cause = msg
            .strip_prefix("a scoped thread panicked: ")
            .unwrap_or(&msg);
        if cause.starts_with("not yet implemented") || cause.starts_with("not implemented") {
            Problem::NotDone
        } else {
            Problem::Wrong(format!("your function panicked on {case}: {msg}"))
        }
    })
}

/// Builds the [`Check`] from the outcome of all cases and shows it at once.
pub(crate) fn finish(exercise: &str, function: &str, outcome: Result<String, Problem>) -> Check {
    let (status, message) = match outcome {
        Ok(summary) => (Status::Passed, summary),
        Err(Problem::NotDone) => (
            Status::NotDone,
            format!(
                "`{function}` still has its `todo!()`: write it in the cell above, run that cell, then this one."
            ),
        ),
        Err(Problem::Pending(msg)) => (Status::NotDone, msg),
        Err(Problem::Wrong(msg)) => (Status::Failed, msg),
    };
    let check = Check {
        exercise: exercise.to_string(),
        status,
        message,
    };
    // In a notebook the check shows at once as HTML; elsewhere (tests, a
    // program) as one line of text.
    if crate::display::in_evcxr() {
        check.evcxr_display();
    } else {
        println!("{check}");
    }
    if check.status != Status::Passed && strict() {
        fail_the_cell(&check);
    }
    check
}

/// The environment variable that makes a check that did not pass fail its
/// cell, for autograders that count cells with errors (nbgrader).
pub const STRICT_VAR: &str = "PARLAB_STRICT_CHECKS";

/// Whether [`STRICT_VAR`] is set to something other than `0` or empty.
pub fn strict() -> bool {
    std::env::var(STRICT_VAR).is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Ends the cell with an error. evcxr catches a panic and reports the cell
/// as successful unless `preserve_vars_on_panic = false`, so in a notebook
/// the check ends the cell's process instead, which every evcxr
/// configuration reports as an error (the notebook's functions stay defined,
/// its variables are lost). Outside evcxr it panics.
fn fail_the_cell(check: &Check) -> ! {
    if crate::display::in_evcxr() {
        use std::io::Write;
        // evcxr shows a cell's HTML when the cell ends, and drops it when the
        // process dies; stderr it forwards at once: the check's words go there.
        let _ = std::io::stdout().flush();
        eprintln!("{check}");
        let _ = std::io::stderr().flush();
        std::process::exit(1);
    }
    panic!("{check}");
}

/// Formats a set of row indices as ranges: `0–3, 8, 10–11`.
pub(crate) fn ranges(rows: &[usize]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < rows.len() {
        let start = rows[i];
        let mut end = start;
        while i + 1 < rows.len() && rows[i + 1] == end + 1 {
            i += 1;
            end = rows[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}–{end}")
        });
        i += 1;
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {

    #[test]
    fn backticks_become_code_in_html_only() {
        assert_eq!(code_spans("set `c[i]` to 0"), "set <code>c[i]</code> to 0");
        assert_eq!(code_spans("a ` lone tick"), "a ` lone tick");
        let c = Check {
            exercise: "1.1 x".into(),
            status: Status::NotDone,
            message: "write `chunk_bounds` first".into(),
        };
        let html = c.to_html();
        assert!(html.contains("<code>chunk_bounds</code>"), "{html}");
        assert!(html.contains("Exercise 1.1 x — not done yet"), "{html}");
        assert!(c.to_string().contains("`chunk_bounds`"));
    }

    use super::*;

    #[test]
    fn strict_checks_fail_when_not_passed() {
        let run = |name: &str| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--ignored", "--exact", name, "--test-threads", "1"])
                .env(STRICT_VAR, "1")
                .output()
                .unwrap()
        };
        let wrong = run("exercise::tests::strict_wrong_alone");
        assert!(!wrong.status.success());
        assert!(String::from_utf8_lossy(&wrong.stdout).contains("not yet right"));
        assert!(run("exercise::tests::strict_right_alone").status.success());
    }

    #[test]
    #[ignore = "run with PARLAB_STRICT_CHECKS=1 by strict_checks_fail_when_not_passed"]
    fn strict_wrong_alone() {
        check_chunk_bounds(|_, _| vec![]);
    }

    #[test]
    #[ignore = "run with PARLAB_STRICT_CHECKS=1 by strict_checks_fail_when_not_passed"]
    fn strict_right_alone() {
        check_chunk_bounds(|rows, threads| {
            crate::par::chunk_ranges(rows, threads)
                .into_iter()
                .map(|r| (r.start, r.end))
                .collect()
        });
    }

    #[test]
    fn ranges_are_compact() {
        assert_eq!(ranges(&[0, 1, 2, 3, 8, 10, 11]), "0–3, 8, 10–11");
        assert_eq!(ranges(&[]), "");
    }

    #[test]
    fn html_carries_the_marker_for_the_runner() {
        let c = Check {
            exercise: "1.1 x".into(),
            status: Status::NotDone,
            message: "a < b".into(),
        };
        let html = c.to_html();
        assert!(html.contains("data-parlab-check=\"not-done\""));
        assert!(html.contains("a &lt; b"));
    }
}
