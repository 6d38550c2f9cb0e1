//! Exercise 1.3: code that does not compile because it has a data race, to
//! be fixed by the student. The student's source is a string: the checker
//! compiles it with the machine's `rustc` (see [`crate::compile`]), runs it
//! on hidden cases, and names the mistake.

use super::{Check, Problem, finish};
use crate::compile::{Run, build_and_run};
use crate::timing::stats::SplitMix64;
use std::time::Duration;

/// The starting point of exercise 1.3: threads counting the even numbers of
/// their chunk into one shared `total`. rustc refuses it — two threads
/// capture `&mut total` (E0499), and each borrows its `part` past the loop
/// iteration that owns it (E0373).
pub const COUNT_EVENS_RACY: &str = r#"pub fn count_evens(xs: &[u64], threads: usize) -> usize {
    let chunk = xs.len().div_ceil(threads.max(1)).max(1);
    let mut total = 0;
    std::thread::scope(|s| {
        for part in xs.chunks(chunk) {
            s.spawn(|| {
                for &x in part {
                    if x % 2 == 0 {
                        total += 1;
                    }
                }
            });
        }
    });
    total
}"#;

/// The hidden cases: a name, a length and a modulus (0: any u64). The
/// values come from SplitMix64 seeded with the case's index, drawn the same
/// way here and in the program the checker builds.
const CASES: [(&str, usize, u64); 4] = [
    ("an empty slice", 0, 0),
    ("one value", 1, 2),
    ("1023 values", 1023, 1000),
    ("100 003 values", 100_003, 0),
];

fn values(k: usize) -> Vec<u64> {
    let (_, len, modulus) = CASES[k];
    let mut rng = SplitMix64::new(k as u64);
    (0..len)
        .map(|_| match rng.next_u64() {
            v if modulus > 0 => v % modulus,
            v => v,
        })
        .collect()
}

/// The same generator, as source for the program the checker builds.
const HARNESS_RNG: &str = "fn values(seed: u64, len: usize, modulus: u64) -> Vec<u64> {
    let mut state = seed;
    (0..len).map(|_| {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        let v = z ^ (z >> 31);
        if modulus > 0 { v % modulus } else { v }
    }).collect()
}
";

const THREADS: [usize; 4] = [1, 2, 3, 4];

fn squash(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Exercise 1.3: `source` is the fixed `count_evens` (the text of
/// [`COUNT_EVENS_RACY`], edited so that it compiles). The checker compiles it
/// with a small `main` that calls it on hidden cases (an empty slice, 1023
/// and 100 003 values, 1–4 threads), runs it, and compares with a count of
/// its own. It refuses `unsafe`, and a version without threads.
pub fn check_count_evens(source: &str) -> Check {
    finish("1.3 count_evens", "count_evens", outcome(source))
}

fn outcome(source: &str) -> Result<String, Problem> {
    if squash(source) == squash(COUNT_EVENS_RACY) {
        let hint = match crate::compile::check(source) {
            Ok(c) if !c.ok() => format!(" (rustc: {})", c.error_codes().join(", ")),
            _ => String::new(),
        };
        return Err(Problem::Pending(format!(
            "this is still the code that does not compile{hint}: fix it in the string of the \
             cell above, run that cell, then this one"
        )));
    }
    if !source.contains("fn count_evens") {
        return Err(Problem::Pending(
            "the string holds no `fn count_evens` yet: paste the code above into it and fix it"
                .into(),
        ));
    }
    if source.contains("unsafe") {
        return Err(Problem::Wrong(
            "`unsafe` switches off the very check that found the race: fix it without `unsafe` \
             (an `AtomicUsize`, or a count per thread returned from it)"
                .into(),
        ));
    }
    if !(source.contains("spawn") || source.contains("par_")) {
        return Err(Problem::Wrong(
            "it no longer starts any thread: counting on one thread removes the race, and the \
             parallelism with it. Keep `s.spawn`, one thread per chunk"
                .into(),
        ));
    }
    let mut main =
        String::from("#![allow(dead_code, unused)]\nmod student {\n#![allow(dead_code, unused)]\n");
    main.push_str(source);
    main.push_str("\n}\n");
    main.push_str(HARNESS_RNG);
    main.push_str("fn main() {\n");
    for (k, (_, len, modulus)) in CASES.iter().enumerate() {
        main.push_str(&format!(
            "    let xs = values({k}, {len}, {modulus});\n    for t in {THREADS:?} {{ \
             println!(\"{k} {{t}} {{}}\", student::count_evens(&xs, t)); }}\n"
        ));
    }
    main.push_str("}\n");
    let run = build_and_run(&main, Duration::from_secs(60))
        .map_err(|e| Problem::Wrong(format!("the checker could not compile your code: {e}")))?;
    let stdout = match run {
        Run::NoBuild(compiled) => {
            let codes = compiled.error_codes();
            let why = if codes.contains(&"E0499") {
                "several threads still capture `&mut total` (E0499): only one `&mut` may exist \
                 at a time. Give each thread its own count and add them up after the threads \
                 finish (`spawn` returns a handle; `join` gives its result), or share an \
                 `AtomicUsize` and `fetch_add`"
            } else if codes.contains(&"E0373") {
                "a thread borrows a value of one loop iteration, which ends before the thread \
                 does (E0373): `move` the chunk into the closure (`s.spawn(move || …)`)"
            } else if codes.contains(&"E0277") {
                "something that is not thread-safe crosses into a thread (E0277: not `Send` or \
                 not `Sync`): an `Rc` or `Cell` becomes an `Arc` or an atomic"
            } else if codes.contains(&"E0596") || codes.contains(&"E0594") {
                "it writes through a shared reference (E0594/E0596): a shared count must be an \
                 atomic (`AtomicUsize::fetch_add`) or behind a `Mutex`"
            } else {
                "it does not compile yet"
            };
            let first = compiled
                .errors
                .first()
                .map(|d| d.rendered.trim_end().to_string())
                .unwrap_or_default();
            return Err(Problem::Wrong(format!("{why}. rustc says:\n{first}")));
        }
        Run::TimedOut(limit) => {
            return Err(Problem::Wrong(format!(
                "it compiles, but did not finish the hidden cases within {} s: is a thread \
                 waiting for a lock it already holds, or a loop that never ends?",
                limit.as_secs()
            )));
        }
        Run::Ran {
            success: false,
            stdout,
            stderr,
        } => {
            let done = stdout.lines().count();
            let (k, t) = (done / THREADS.len(), THREADS[done % THREADS.len()]);
            let case = CASES.get(k).map(|c| c.0).unwrap_or("a hidden case");
            let msg = stderr
                .lines()
                .skip_while(|l| !l.contains("panicked"))
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            return Err(Problem::Wrong(format!(
                "it compiles, but panicked on {case} with {t} thread(s): {}",
                if msg.is_empty() {
                    stderr.trim()
                } else {
                    msg.trim()
                }
            )));
        }
        Run::Ran { stdout, .. } => stdout,
    };
    let mut lines = stdout.lines();
    for (k, (name, _, _)) in CASES.iter().enumerate() {
        let xs = values(k);
        let want = xs.iter().filter(|&&x| x % 2 == 0).count();
        for t in THREADS {
            let got: Option<usize> = lines
                .next()
                .and_then(|l| l.split_whitespace().nth(2))
                .and_then(|v| v.parse().ok());
            let Some(got) = got else {
                return Err(Problem::Wrong(format!(
                    "the program printed less than expected on {name} with {t} thread(s): \
                     does your code print or exit itself?"
                )));
            };
            if got != want {
                let why = if got == 0 && want > 0 {
                    "each thread counted into its own copy of `total` (a `move` closure copies \
                     a `usize`), and the `total` you return was never touched — the bug of the \
                     Python original, where every process filled its own copy of `c`. Share \
                     one atomic counter, or return each thread's count and add them up"
                } else if got < want {
                    "some evens were not counted: are elements dropped (the remainder after \
                     the last full chunk), or a thread's count lost?"
                } else {
                    "more than there are: are elements counted twice (overlapping chunks)?"
                };
                return Err(Problem::Wrong(format!(
                    "on {name} with {t} thread(s) you counted {got} evens, there are {want}: {why}"
                )));
            }
        }
    }
    Ok(format!(
        "compiles without a data race, and counts right on {} hidden cases with 1–4 threads",
        CASES.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exercise::Status;

    fn status(src: &str) -> (Status, String) {
        let c = check_count_evens(src);
        (c.status, c.message)
    }

    #[test]
    fn the_racy_start_is_not_done_and_names_the_errors() {
        let (s, m) = status(COUNT_EVENS_RACY);
        assert_eq!(s, Status::NotDone, "{m}");
        assert!(m.contains("E0499"), "{m}");
        let (s, _) = status("paste the code here");
        assert_eq!(s, Status::NotDone);
    }

    #[test]
    fn per_thread_counts_and_an_atomic_pass() {
        let handles = r#"pub fn count_evens(xs: &[u64], threads: usize) -> usize {
            let chunk = xs.len().div_ceil(threads.max(1)).max(1);
            std::thread::scope(|s| {
                let hs: Vec<_> = xs.chunks(chunk)
                    .map(|part| s.spawn(move || part.iter().filter(|&&x| x % 2 == 0).count()))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            })
        }"#;
        let (s, m) = status(handles);
        assert_eq!(s, Status::Passed, "{m}");
        let atomic = COUNT_EVENS_RACY
            .replace(
                "let mut total = 0;",
                "let total = std::sync::atomic::AtomicUsize::new(0);",
            )
            .replace("s.spawn(||", "let total = &total; s.spawn(move ||")
            .replace(
                "total += 1;",
                "total.fetch_add(1, std::sync::atomic::Ordering::Relaxed);",
            )
            .replace("    total\n}", "    total.into_inner()\n}");
        let (s, m) = status(&atomic);
        assert_eq!(s, Status::Passed, "{m}");
    }

    #[test]
    fn typical_wrong_fixes_are_named() {
        // `move` alone compiles: each thread counts into its own copy.
        let copies = COUNT_EVENS_RACY.replace("s.spawn(||", "s.spawn(move ||");
        let (s, m) = status(&copies);
        assert_eq!(s, Status::Failed, "{m}");
        assert!(m.contains("own copy"), "{m}");
        // A shared reference to a plain integer cannot be written.
        let shared = COUNT_EVENS_RACY
            .replace("let mut total = 0;", "let mut total = 0; let t = &total;")
            .replace("s.spawn(||", "s.spawn(move ||")
            .replace("total += 1;", "*t += 1;");
        let (s, m) = status(&shared);
        assert_eq!(s, Status::Failed, "{m}");
        assert!(m.contains("rustc says"), "{m}");
        // Dropping the remainder.
        let dropped = r#"pub fn count_evens(xs: &[u64], threads: usize) -> usize {
            let chunk = (xs.len() / threads).max(1);
            std::thread::scope(|s| {
                let hs: Vec<_> = xs.chunks_exact(chunk).take(threads)
                    .map(|part| s.spawn(move || part.iter().filter(|&&x| x % 2 == 0).count()))
                    .collect();
                hs.into_iter().map(|h| h.join().unwrap()).sum()
            })
        }"#;
        let (s, m) = status(dropped);
        assert_eq!(s, Status::Failed, "{m}");
        assert!(m.contains("remainder"), "{m}");
        let (s, m) = status(&COUNT_EVENS_RACY.replace("let chunk", "unsafe {} let chunk"));
        assert_eq!(s, Status::Failed);
        assert!(m.contains("unsafe"));
        let serial = "pub fn count_evens(xs: &[u64], _t: usize) -> usize { xs.iter().filter(|&&x| x % 2 == 0).count() }";
        let (s, m) = status(serial);
        assert_eq!(s, Status::Failed);
        assert!(m.contains("thread"), "{m}");
    }
}
