//! Flame graphs of a closure, sampled by pprof.
// Without the feature only the tests use the stack trimming and SVG fitting.
#![cfg_attr(
    not(all(feature = "flamegraph", target_os = "linux")),
    allow(dead_code)
)]

use crate::display::Svg;
#[allow(unused_imports)]
use crate::error::{Error, ErrorKind, Result};

/// A flame graph as SVG, with the number of samples it was drawn from.
#[derive(Debug, Clone)]
pub struct FlameGraph {
    /// The SVG image: inferno's, trimmed to the closure's stacks, fitted to
    /// the notebook's width and themed (see [`flame_graph`]).
    pub svg: Svg,
    /// How many stack samples were taken.
    pub samples: usize,
    /// The trimmed stacks it was drawn from, in inferno's folded form: one
    /// `root;…;leaf count` line per distinct stack, sorted.
    pub stacks: Vec<String>,
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
/// The graph shows `f` and what it calls, nothing below it: each sampled
/// stack is cut at `flame_graph`'s own frame, and the runtime frames left at
/// the root of a stack (thread start, `std::rt`, `core::ops::function`
/// wrappers, rayon's scheduler on worker threads, evcxr) are dropped, so
/// rayon tasks start at the user's closure. The threads are merged; samples
/// with nothing but runtime frames (rayon workers looking for work) show as
/// one `[runtime]` frame. The SVG fits the width of the notebook (`width="100%"`
/// and a viewBox) and every frame keeps its hover tooltip (`<title>`: name,
/// samples, share).
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
            Error::new(
                ErrorKind::Unsupported,
                "cannot start the sampling profiler (one flame_graph samples at a time, \
                 process-wide)",
            )
            .with_source(e)
        })?;
    let out = f();
    let report = guard.report().build().map_err(|e| {
        Error::new(ErrorKind::Unsupported, "cannot build the profile").with_source(e)
    })?;
    let samples: usize = report.data.values().map(|&n| n.max(0) as usize).sum();
    if samples == 0 {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!(
                "no samples at {frequency} Hz: the closure ran too briefly; run it longer or in a loop"
            ),
        ));
    }
    // pprof lists a stack leaf first, and each frame's inlined functions
    // innermost first: reversed twice, root first.
    let stacks = report.data.iter().map(|(frames, &n)| {
        let names: Vec<String> = frames
            .frames
            .iter()
            .rev()
            .flat_map(|frame| frame.iter().rev().map(|symbol| symbol.name()))
            .collect();
        (names, n.max(0) as usize)
    });
    let lines = folded_stacks(stacks);
    let mut options = pprof::flamegraph::Options::default();
    options.title = format!(
        "flame graph: {samples} samples; width = share of CPU time, hover a frame for its name"
    );
    options.image_width = Some(FLAME_WIDTH);
    options.no_javascript = true;
    options.count_name = "samples".into();
    let mut svg = Vec::new();
    pprof::flamegraph::from_lines(&mut options, lines.iter().map(String::as_str), &mut svg)
        .map_err(|e| Error::new(ErrorKind::Plot, "cannot draw the flame graph").with_source(e))?;
    let svg = String::from_utf8(svg)
        .map_err(|e| Error::new(ErrorKind::Plot, "flame graph is not UTF-8").with_source(e))?;
    Ok((
        out,
        FlameGraph {
            svg: Svg::themed(fit_flame_svg(&svg)),
            samples,
            stacks: lines,
        },
    ))
}

/// The width inferno lays the graph out for, in pixels: the SVG scales down
/// to a narrower notebook and never grows past this.
#[cfg_attr(
    not(all(feature = "flamegraph", target_os = "linux")),
    allow(dead_code)
)]
const FLAME_WIDTH: usize = 960;

/// The frame [`flame_graph`] runs the closure from: every stack is cut above it.
const ENTRY: &str = "parlab::profile::flame::flame_graph";

/// Frames of the runtime that can sit at the root of a stack, below the
/// user's code: thread start, std's and core's call wrappers, rayon's
/// scheduler and the iterator adapters its folders drive, evcxr. Matched
/// as prefixes of the name (a leading `<` of a trait impl ignored), or as
/// whole names for the C start routines.
const RUNTIME_PREFIXES: &[&str] = &[
    "std::rt::",
    "std::sys::",
    "std::thread::",
    "std::panicking::",
    "std::panic::",
    "core::ops::function::",
    "core::panic::",
    "alloc::boxed::Box<",
    "fn(",
    "rayon_core::",
    "rayon::",
    // rayon's folders call the user's closure through iterator adapters.
    "core::iter::",
    "crossbeam",
    "evcxr",
    "test::",
    "__rust_",
];
const RUNTIME_NAMES: &[&str] = &[
    "main",
    "_start",
    "__libc_start_main",
    "__libc_start_call",
    "__libc_start_main_impl",
    "start_thread",
    "clone",
    "clone3",
    "__clone",
    "__clone3",
    "Unknown",
    "[unknown]",
];

fn is_runtime(name: &str) -> bool {
    let n = name.trim_start_matches('<');
    RUNTIME_NAMES.contains(&n) || RUNTIME_PREFIXES.iter().any(|p| n.starts_with(p))
}

/// A root-first stack without what lies below the user's closure: cut above
/// the leafmost [`ENTRY`] frame, then without the runtime frames at its root.
fn trim_stack(names: &[String]) -> &[String] {
    let from = names
        .iter()
        .rposition(|n| n.starts_with(ENTRY))
        .map_or(0, |i| i + 1);
    let rest = &names[from..];
    let user = rest
        .iter()
        .position(|n| !is_runtime(n))
        .unwrap_or(rest.len());
    &rest[user..]
}

/// inferno's input, one `a;b;c count` line per distinct trimmed stack, sorted.
/// Semicolons inside a name (`[T; 4]`) would split it, so they become commas.
fn folded_stacks(stacks: impl IntoIterator<Item = (Vec<String>, usize)>) -> Vec<String> {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for (names, n) in stacks {
        if n == 0 {
            continue;
        }
        let kept = trim_stack(&names);
        let key = if kept.is_empty() {
            "[runtime]".to_string()
        } else {
            kept.iter()
                .map(|n| n.replace(';', ","))
                .collect::<Vec<_>>()
                .join(";")
        };
        *counts.entry(key).or_default() += n;
    }
    counts
        .into_iter()
        .map(|(stack, n)| format!("{stack} {n}"))
        .collect()
}

/// inferno's SVG made to fit a notebook and to live inside an HTML page:
/// no XML prolog, no script (inferno's zoom and search need the SVG as the
/// whole document), `width="100%"` up to its own width with the viewBox
/// keeping the proportions, a plain background for the theme to recolour,
/// and its style rules scoped to this graph (`text {…}` would otherwise set
/// the font of every SVG on the page).
fn fit_flame_svg(svg: &str) -> String {
    let mut s = svg[svg.find("<svg").unwrap_or(0)..].to_string();
    // The script: from `<script` to `</script>`.
    while let (Some(a), Some(b)) = (s.find("<script"), s.find("</script>")) {
        if b < a {
            break;
        }
        s.replace_range(a..b + "</script>".len(), "");
    }
    if let Some(end) = s.find('>') {
        let tag = &s[..end];
        let width = attr(tag, "width").unwrap_or_default();
        let mut new_tag = String::from("<svg class=\"parlab-flame\"");
        for part in split_attrs(&tag[4..]) {
            let name = part.split('=').next().unwrap_or("");
            match name {
                "width" | "height" | "onload" => {}
                _ => {
                    new_tag.push(' ');
                    new_tag.push_str(part);
                }
            }
        }
        new_tag.push_str(&format!(
            " width=\"100%\" preserveAspectRatio=\"xMinYMin meet\" style=\"max-width:{width}px;height:auto\""
        ));
        s.replace_range(..end, &new_tag);
    }
    if let (Some(a), Some(b)) = (s.find("<style"), s.find("</style>"))
        && let Some(open_end) = s[a..].find('>')
        && a + open_end < b
    {
        let body_start = a + open_end + 1;
        let scoped = scope_css(&s[body_start..b], ".parlab-flame");
        s.replace_range(body_start..b, &scoped);
    }
    s.replace("fill=\"url(#background)\"", "fill=\"#FFFFFF\"")
        .replace("fill=\"rgb(0,0,0)\"", "fill=\"#000000\"")
}

/// The value of attribute `name` in a start tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!(" {name}=\"");
    let i = tag.find(&key)? + key.len();
    Some(tag[i..].split('"').next()?.to_string())
}

/// A start tag's attributes (`name="value"`), in order.
fn split_attrs(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = s.trim_start();
    while let Some(eq) = rest.find("=\"") {
        let Some(close) = rest[eq + 2..].find('"') else {
            break;
        };
        let end = eq + 2 + close + 1;
        out.push(&rest[..end]);
        rest = rest[end..].trim_start();
    }
    out
}

/// CSS rules with every selector put under `scope`, plus rules hiding the
/// search and zoom controls that need inferno's script.
fn scope_css(css: &str, scope: &str) -> String {
    let mut out = String::new();
    for rule in css.split('}') {
        let Some((selectors, body)) = rule.split_once('{') else {
            continue;
        };
        let scoped: Vec<String> = selectors
            .split(',')
            .map(|sel| format!("{scope} {}", sel.trim()))
            .collect();
        out.push_str(&format!("\n{} {{ {} }}", scoped.join(", "), body.trim()));
    }
    out.push_str(&format!(
        "\n{scope} #search, {scope} #unzoom, {scope} #matched {{ display:none; }}\n"
    ));
    out
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

    /// pprof samples one profiler per process: the sampling tests take turns.
    #[cfg(all(feature = "flamegraph", target_os = "linux"))]
    static SAMPLING: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[cfg(all(feature = "flamegraph", target_os = "linux"))]
    #[test]
    fn a_busy_loop_is_sampled_and_drawn() {
        let _turn = SAMPLING.lock().unwrap_or_else(|p| p.into_inner());
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
        let svg = fg.svg.as_str();
        assert!(
            svg.contains("a_busy_loop_is_sampled_and_drawn"),
            "the sampled function is not named"
        );
        // Nothing below the closure: no test harness, thread start or
        // flame_graph frame in any tooltip.
        let titles: Vec<&str> = svg
            .split("<title>")
            .skip(1)
            .filter_map(|t| t.split("</title>").next())
            .collect();
        assert!(!titles.is_empty(), "no <title> tooltips: {svg}");
        for t in &titles {
            for runtime in [
                "test::run_test",
                "std::rt",
                "start_thread",
                "clone3",
                "flame::flame_graph",
                "std::sys::",
                "evcxr",
            ] {
                assert!(!t.contains(runtime), "{runtime} in the tooltip {t:?}");
            }
        }
        assert!(
            svg.contains(r#"width="100%""#) && svg.contains("viewBox=\"0 0 960 "),
            "{svg}"
        );
        assert!(!svg.contains("<script"), "{svg}");
    }

    /// A stack as evcxr runs it, root first: the C start, std's runtime, the
    /// cell's function, `flame_graph`, its call wrapper, then `user`.
    fn evcxr_stack(user: &[&str]) -> Vec<String> {
        let mut s: Vec<String> = [
            "_start",
            "__libc_start_main",
            "main",
            "std::rt::lang_start_internal",
            "evcxr_runtime::runtime_hook",
            "evcxr::runtime::Runtime::run_loop",
            "code_13::run_user_code_13",
            "parlab::profile::flame::flame_graph::h0f3a6c1e2b4d5a69",
            "core::ops::function::FnOnce::call_once",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        s.extend(user.iter().map(|s| s.to_string()));
        s
    }

    /// A rayon worker's stack, root first, ending in `user`.
    fn worker_stack(user: &[&str]) -> Vec<String> {
        let mut s: Vec<String> = [
            "clone3",
            "start_thread",
            "std::sys::pal::unix::thread::Thread::new::thread_start",
            "core::ops::function::FnOnce::call_once{{vtable.shim}}",
            "<alloc::boxed::Box<dyn core::ops::function::FnOnce<()> + core::marker::Send> as core::ops::function::FnOnce<()>>::call_once",
            "std::thread::Builder::spawn_unchecked_::{{closure}}",
            "std::sys::backtrace::__rust_begin_short_backtrace",
            "rayon_core::registry::ThreadBuilder::run",
            "rayon_core::registry::WorkerThread::wait_until_cold",
            "<rayon_core::job::StackJob<L,F,R> as rayon_core::job::Job>::execute",
            "rayon_core::join::join_context::{{closure}}",
            "rayon::iter::plumbing::bridge_producer_consumer::helper",
            "<rayon::iter::for_each::ForEachConsumer<F> as rayon::iter::plumbing::Folder<T>>::consume",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        s.extend(user.iter().map(|s| s.to_string()));
        s
    }

    #[test]
    fn stacks_start_at_the_closure() {
        let lines = folded_stacks([
            (
                evcxr_stack(&["code_13::run_user_code_13::{{closure}}", "mylib::blur"]),
                7,
            ),
            (
                evcxr_stack(&["code_13::run_user_code_13::{{closure}}", "mylib::blur"]),
                2,
            ),
            (
                evcxr_stack(&[
                    "code_13::run_user_code_13::{{closure}}",
                    "mylib::sort<[f64; 4]>",
                ]),
                3,
            ),
            (
                worker_stack(&[
                    "parlab::kernels::add::par_add::{{closure}}",
                    "parlab::kernels::add::add_row",
                ]),
                5,
            ),
            (worker_stack(&[]), 4),
            (evcxr_stack(&[]), 0),
        ]);
        assert_eq!(
            lines,
            [
                "[runtime] 4",
                "code_13::run_user_code_13::{{closure}};mylib::blur 9",
                "code_13::run_user_code_13::{{closure}};mylib::sort<[f64, 4]> 3",
                "parlab::kernels::add::par_add::{{closure}};parlab::kernels::add::add_row 5",
            ]
        );
        for line in &lines {
            for runtime in [
                "evcxr",
                "std::rt",
                "rayon_core",
                "__libc",
                "flame_graph",
                "call_once",
                "start_thread",
            ] {
                assert!(!line.contains(runtime), "{runtime} in {line}");
            }
        }
    }

    #[test]
    fn the_closure_keeps_the_runtime_functions_it_calls() {
        // Only the runtime frames *below* the closure go.
        let lines = folded_stacks([(
            evcxr_stack(&[
                "code_2::run_user_code_2::{{closure}}",
                "rayon_core::registry::in_worker",
                "std::sys::pal::unix::thread::yield_now",
            ]),
            1,
        )]);
        assert_eq!(
            lines,
            [
                "code_2::run_user_code_2::{{closure}};rayon_core::registry::in_worker;std::sys::pal::unix::thread::yield_now 1"
            ]
        );
    }

    #[test]
    fn inferno_svg_is_fitted_and_scoped() {
        let raw = concat!(
            r#"<?xml version="1.0" standalone="no"?><!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "x.dtd">"#,
            r#"<svg version="1.1" width="960" height="326" onload="init(evt)" viewBox="0 0 960 326" xmlns="http://www.w3.org/2000/svg">"#,
            "<defs/><style type=\"text/css\">\ntext { font-family:monospace; font-size:12px }\n#search:hover, #search.show { opacity:1; }\n</style>",
            r#"<script type="text/ecmascript"><![CDATA[var fontsize = 12;]]></script>"#,
            r#"<rect x="0" y="0" width="100%" height="326" fill="url(#background)"/>"#,
            r#"<text id="title" fill="rgb(0,0,0)" x="50%" y="24">t</text>"#,
            r#"<g><title>main (5 samples, 100%)</title><rect x="0%" y="300" width="100%" height="15" fill="rgb(227,0,7)"/></g></svg>"#,
        );
        let fitted = fit_flame_svg(raw);
        assert!(
            fitted.starts_with(r#"<svg class="parlab-flame" version="1.1" viewBox="0 0 960 326""#),
            "{fitted}"
        );
        assert!(fitted.contains(r#"width="100%" preserveAspectRatio="xMinYMin meet" style="max-width:960px;height:auto">"#), "{fitted}");
        assert!(
            !fitted.contains("<script") && !fitted.contains("onload") && !fitted.contains("<?xml"),
            "{fitted}"
        );
        assert!(
            fitted.contains(".parlab-flame text { font-family:monospace; font-size:12px }"),
            "{fitted}"
        );
        assert!(
            fitted
                .contains(".parlab-flame #search:hover, .parlab-flame #search.show { opacity:1; }"),
            "{fitted}"
        );
        assert!(
            fitted.contains("<title>main (5 samples, 100%)</title>"),
            "{fitted}"
        );
        let themed = Svg::themed(fitted);
        assert!(
            themed
                .as_str()
                .starts_with(r#"<svg class="parlab-flame parlab-chart""#)
                || themed
                    .as_str()
                    .starts_with(r#"<svg class="parlab-chart parlab-flame""#),
            "{}",
            themed.as_str()
        );
        assert!(
            themed.as_str().contains("rect[fill=\"#FFFFFF\" i]"),
            "{}",
            themed.as_str()
        );
        assert!(
            themed.as_str().contains("[fill=\"#000000\" i]"),
            "{}",
            themed.as_str()
        );
    }

    #[cfg(all(feature = "flamegraph", target_os = "linux"))]
    #[test]
    fn rayon_workers_stacks_start_at_the_users_code() {
        let _turn = SAMPLING.lock().unwrap_or_else(|p| p.into_inner());
        use rayon::prelude::*;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let (sum, fg) = flame_graph(997, || {
            pool.install(|| {
                (0..64u64)
                    .into_par_iter()
                    .map(|i| {
                        let mut x = i;
                        for _ in 0..1 << 21 {
                            x = std::hint::black_box(
                                x.wrapping_mul(6364136223846793005).wrapping_add(1),
                            );
                        }
                        x
                    })
                    .reduce(|| 0, u64::wrapping_add)
            })
        })
        .unwrap();
        let _ = sum;
        assert!(fg.samples >= 5, "{} samples", fg.samples);
        assert!(!fg.stacks.is_empty());
        for line in &fg.stacks {
            let root = line.split(';').next().unwrap();
            assert!(root == "[runtime]" || !is_runtime(root), "{line}");
            assert!(
                root == "[runtime]" || root.starts_with("parlab::profile::flame::tests::"),
                "{line}"
            );
            for below in [
                "flame::flame_graph",
                "test::run_test",
                "start_thread",
                "std::rt::",
            ] {
                assert!(!line.contains(below), "{below} in {line}");
            }
        }
        assert!(
            fg.stacks
                .iter()
                .any(|l| l.contains("rayon_workers_stacks_start_at_the_users_code")),
            "the closure is not named: {:#?}",
            fg.stacks
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
