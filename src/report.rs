//! Text and HTML renderings of timing results, and their `evcxr_display`.
//!
//! This is the only timing-side module that imports [`crate::display`]; the
//! statistics and measurements it renders are plain values.

use crate::display::{Html, emit, escape_html, html_table};
use crate::timing::machine::Machine;
use crate::timing::{
    BenchResult, Changes, Comparison, Efficiency, Scaling, SizeScaling, Throughput, Verdict,
};
use std::fmt;

/// One rule for every result parlab shows: `Display` is its `to_text()`, and
/// a notebook shows its `to_html()` (evcxr calls `evcxr_display` on a cell's
/// last value).
macro_rules! shown_as_text_and_html {
    ($($t:ty),* $(,)?) => {$(
        impl $t {
            /// Shows it in a notebook as HTML (one complete block).
            pub fn evcxr_display(&self) {
                emit("text/html", self.to_html().as_str());
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_text())
            }
        }
    )*};
}

shown_as_text_and_html!(
    BenchResult,
    Machine,
    Comparison,
    Scaling,
    SizeScaling,
    Changes
);

/// Seconds in a human unit with 3 significant digits: `812 ns`, `12.3 ms`, `1.50 s`.
///
/// ```
/// use parlab::report::fmt_seconds;
/// assert_eq!(fmt_seconds(0.0123), "12.3 ms");
/// assert_eq!(fmt_seconds(8.12e-7), "812 ns");
/// assert_eq!(fmt_seconds(1.5), "1.50 s");
/// assert_eq!(fmt_seconds(2.5e-5), "25.0 µs");
/// ```
pub fn fmt_seconds(s: f64) -> String {
    if !s.is_finite() {
        return format!("{s} s");
    }
    let (scale, unit) = unit_of(s);
    format!("{} {unit}", sig3(s * scale))
}

/// `1.50 GiB`, `12.0 MiB`, `512 B`: binary units, with sign.
pub fn fmt_bytes(n: f64) -> String {
    let a = n.abs();
    let (value, unit) = if a < 1024.0 {
        return format!("{n:.0} B");
    } else if a < 1024.0 * 1024.0 {
        (n / 1024.0, "KiB")
    } else if a < 1024.0 * 1024.0 * 1024.0 {
        (n / (1024.0 * 1024.0), "MiB")
    } else {
        (n / (1024.0 * 1024.0 * 1024.0), "GiB")
    };
    format!("{} {unit}", sig3(value))
}

/// Two values that differ, with just enough significant digits (at least
/// 4) that they read differently: `(6236, NaN)`, `(1.00001, 1.00002)` —
/// not `6236.2080000000005` or `2.3283064365386963e-10`.
///
/// ```
/// use parlab::report::fmt_pair;
/// assert_eq!(fmt_pair(6236.2080000000005, f64::NAN), ("6236".into(), "NaN".into()));
/// assert_eq!(fmt_pair(1.00001, 1.00002), ("1.00001".into(), "1.00002".into()));
/// assert_eq!(fmt_pair(2.3283064365386963e-10, 0.0), ("2.328e-10".into(), "0".into()));
/// ```
pub fn fmt_pair(a: f64, b: f64) -> (String, String) {
    for digits in 4..=17 {
        let (x, y) = (fmt_sig(a, digits), fmt_sig(b, digits));
        if x != y || a == b || digits == 17 {
            return (x, y);
        }
    }
    (format!("{a}"), format!("{b}"))
}

/// `x` with `digits` significant digits, trailing zeros trimmed; scientific
/// below 10⁻³ and from 10⁹: `121.7`, `0.001234`, `2.328e-10`.
pub fn fmt_sig(x: f64, digits: usize) -> String {
    let digits = digits.clamp(1, 17);
    let a = x.abs();
    if !x.is_finite() {
        return format!("{x}");
    }
    if a == 0.0 {
        return "0".into();
    }
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if !(1e-3..1e9).contains(&a) {
        let t = format!("{:.*e}", digits - 1, x);
        return match t.split_once('e') {
            Some((m, e)) => format!("{}e{e}", trim(m.to_string())),
            None => t,
        };
    }
    let decimals = (digits as i32 - 1 - a.log10().floor() as i32).max(0) as usize;
    trim(format!("{x:.decimals$}"))
}

/// A tolerance with at most 3 significant digits: `1e-8`, `8.88e-10`, `0`
/// (not `8.881784197001252e-10`).
pub(crate) fn fmt_tol(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    let t = format!("{x:.2e}");
    match t.split_once('e') {
        Some((m, e)) => {
            let m = m.trim_end_matches('0').trim_end_matches('.');
            format!("{m}e{e}")
        }
        None => t,
    }
}

/// Formats `x` with 3 significant digits (no exponent for the usual ranges).
pub fn sig3(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        format!("{x}")
    } else if a == 0.0 {
        "0".to_string()
    } else if a < 1e-3 {
        fmt_tol(x)
    } else if a < 0.1 {
        let decimals = (2 - a.log10().floor() as i32).max(3) as usize;
        format!("{x:.decimals$}")
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// `x ± e` with `e` in the unit chosen for `x`: `12.3 ms ± 0.4 ms`.
fn plus_minus(x: f64, e: f64) -> String {
    let (scale, unit) = unit_of(x);
    format!("{} {unit} ± {} {unit}", sig3(x * scale), sig3(e * scale))
}

fn unit_of(s: f64) -> (f64, &'static str) {
    let a = s.abs();
    if a >= 1.0 || a == 0.0 || !a.is_finite() {
        (1.0, "s")
    } else if a >= 1e-3 {
        (1e3, "ms")
    } else if a >= 1e-6 {
        (1e6, "µs")
    } else {
        (1e9, "ns")
    }
}

/// Thousands separated by a space: `10 000`.
pub fn fmt_count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// `CPU 1.9 ms per call = 1.96 cores kept busy (of 2 threads); 0.1 context
/// switches, 0 page faults per call`.
fn cpu_line(c: &crate::timing::CpuUsage, threads: usize) -> String {
    let busy = if threads > 1 && c.parallelism < 0.75 * threads as f64 {
        format!(" — fewer than the {threads} threads: they waited, or other programs had the cores")
    } else {
        String::new()
    };
    format!(
        "CPU {} per call = {:.2} cores kept busy (of {threads} thread{}){busy}; {} context switches, {} page faults per call",
        fmt_seconds(c.cpu_per_call),
        c.parallelism,
        if threads == 1 { "" } else { "s" },
        sig3(c.context_switches_per_call),
        sig3(c.page_faults_per_call),
    )
}

impl BenchResult {
    /// One line: `12.3 ms ± 0.4 ms per loop (median ± IQR/2 of 7 runs, 10 loops each)`,
    /// followed by a second line with the noise warning when there is one.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if !self.name.is_empty() {
            s.push_str(&self.name);
            s.push_str(": ");
        }
        let loops = if self.loops == 1 {
            "1 loop".to_string()
        } else {
            format!("{} loops", fmt_count(self.loops))
        };
        s.push_str(&format!(
            "{} per loop (median ± IQR/2 of {} runs, {loops} each)",
            plus_minus(self.median(), self.iqr() / 2.0),
            self.samples.len(),
        ));
        if let Some(c) = &self.cpu {
            s.push('\n');
            s.push_str(&cpu_line(c, self.threads));
        }
        for w in self.warnings() {
            s.push('\n');
            s.push_str(&w);
        }
        wrap(&s)
    }

    /// The noise warning and the contention warning, when there are any.
    pub fn warnings(&self) -> Vec<String> {
        self.noise_warning()
            .into_iter()
            .chain(self.contention.clone())
            .collect()
    }

    /// An HTML table of the statistics, with the noise warning if any.
    pub fn to_html(&self) -> Html {
        let s = &self.summary;
        let pct = (s.confidence * 100.0).round();
        let rows = vec![
            vec!["median".to_string(), fmt_seconds(s.median)],
            vec![
                format!("{pct} % CI of median"),
                format!(
                    "{} … {}",
                    fmt_seconds(s.median_ci.0),
                    fmt_seconds(s.median_ci.1)
                ),
            ],
            vec!["IQR".into(), fmt_seconds(s.iqr)],
            vec![
                "min / max".into(),
                format!("{} / {}", fmt_seconds(s.min), fmt_seconds(s.max)),
            ],
            vec!["mean ± std".into(), plus_minus(s.mean, s.std_dev)],
            vec![
                "runs × loops".into(),
                format!("{} × {}", s.n, fmt_count(self.loops)),
            ],
            vec!["outliers (Tukey)".into(), s.outliers.total().to_string()],
            vec![
                "timer overhead (subtracted)".into(),
                fmt_seconds(self.timer_overhead),
            ],
            vec!["threads".into(), self.threads.to_string()],
        ];
        let mut rows = rows;
        if let Some(c) = &self.cpu {
            rows.push(vec![
                "CPU time per call".into(),
                fmt_seconds(c.cpu_per_call),
            ]);
            rows.push(vec![
                "CPU ÷ wall (cores kept busy)".into(),
                format!("{:.2}", c.parallelism),
            ]);
            rows.push(vec![
                "context switches / page faults per call".into(),
                format!(
                    "{} / {}",
                    sig3(c.context_switches_per_call),
                    sig3(c.page_faults_per_call)
                ),
            ]);
        }
        let title = if self.name.is_empty() {
            "benchmark".to_string()
        } else {
            self.name.clone()
        };
        let mut h = format!(
            "<div class=\"parlab-bench\"><b>{}</b>: {}",
            escape_html(&title),
            escape_html(&plus_minus(s.median, s.iqr / 2.0))
        );
        h.push_str(" per loop (median ± IQR/2)\n");
        h.push_str(&html_table(&["statistic", "value"], &rows).0);
        for w in self.warnings() {
            h.push_str(&format!(
                "\n<p style=\"{}\">⚠ {}</p>",
                crate::display::theme_color("#b45309"),
                escape_html(&w)
            ));
        }
        h.push_str("</div>");
        Html(h)
    }
}

impl Throughput {
    /// Shows the rates in a notebook.
    pub fn evcxr_display(&self) {
        emit(
            "text/html",
            &format!("<p>{}</p>", escape_html(&self.to_string())),
        );
    }
}

impl fmt::Display for Throughput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = vec![fmt_seconds(self.seconds)];
        if let Some(g) = self.gb_per_s {
            parts.push(format!("{} GB/s", sig3(g)));
        }
        if let Some(g) = self.gflop_per_s {
            parts.push(format!("{} GFLOP/s", sig3(g)));
        }
        if !self.name.is_empty() {
            write!(f, "{}: ", self.name)?;
        }
        write!(f, "{} on {} thread(s)", parts.join(", "), self.threads)
    }
}

impl Machine {
    fn probe_rows(&self) -> Vec<Vec<String>> {
        self.stream
            .iter()
            .zip(&self.peak)
            .map(|(st, pk)| {
                let ceil = |l: &str| st.ceiling(l).map_or("–".to_string(), sig3);
                vec![
                    st.threads.to_string(),
                    sig3(st.read),
                    format!("{} / {}", sig3(st.copy), sig3(st.copy_nt)),
                    format!("{} / {}", sig3(st.add), sig3(st.add_nt)),
                    format!("{} / {}", sig3(st.triad), sig3(st.triad_nt)),
                    format!("{} / {} / {}", ceil("L1"), ceil("L2"), ceil("L3")),
                    sig3(pk.f32),
                    sig3(pk.f64),
                ]
            })
            .collect()
    }

    const PROBE_HEAD: [&'static str; 8] = [
        "threads",
        "read GB/s",
        "copy GB/s (ordinary / streaming)",
        "add GB/s (ordinary / streaming)",
        "triad GB/s (ordinary / streaming)",
        "L1 / L2 / L3 read GB/s",
        "f32 GFLOP/s",
        "f64 GFLOP/s",
    ];

    fn probe_notes(&self) -> Vec<String> {
        use crate::timing::machine::fmt_bytes;
        let reported = self
            .caches
            .iter()
            .map(|c| format!("L{} {}", c.level, fmt_bytes(c.bytes)))
            .collect::<Vec<_>>()
            .join(", ");
        let plateau = if self.plateau_found {
            format!(
                "reads come from memory from a working set of ≈ {} (the sweep's plateau)",
                fmt_bytes(self.memory_from_bytes)
            )
        } else {
            format!(
                "no memory plateau within the probe's {}: figures at that size may still be partly cached",
                fmt_bytes(self.memory_from_bytes)
            )
        };
        vec![
            format!(
                "caches as the system reports them: {}; {plateau}",
                if reported.is_empty() {
                    "unknown".to_string()
                } else {
                    reported
                }
            ),
            format!(
                "bandwidth arrays 3 × {}; bytes counted as STREAM counts them (reads + writes, not the write-allocate read of an ordinary store)",
                fmt_bytes(self.array_bytes)
            ),
            format!(
                "{}; read width in the caches {}, in L3 {}, from memory {}; probe took {}",
                if self.streaming_threshold >= crate::timing::machine::NEVER {
                    "kernels keep ordinary stores (ordinary stores were clearly faster here, or streaming is not available)"
                        .to_string()
                } else {
                    format!(
                        "kernels stream their output from {} on",
                        fmt_bytes(self.streaming_threshold)
                    )
                },
                self.cache_simd,
                self.l3_simd,
                self.memory_simd,
                fmt_seconds(self.probe_seconds)
            ),
            self.decisions
                .iter()
                .filter(|d| d.median_ratio.is_some())
                .map(|d| {
                    format!(
                        "{} {}: {} ({} at {} ran {:.2}× the default's speed in the median of {} rounds; above {:.2}× switches)",
                        d.regime,
                        d.what,
                        d.choice,
                        d.alternative,
                        fmt_bytes(d.working_set),
                        d.median_ratio.unwrap_or(f64::NAN),
                        d.rounds,
                        crate::timing::machine::CLEAR_MARGIN,
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ]
    }

    /// A plain-text summary.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{} — {} threads, SIMD {}, peak measured with {}\n",
            self.cpu_model,
            self.threads,
            self.simd.join(" "),
            self.peak_isa
        );
        s.push_str(&fitted_table(&Self::PROBE_HEAD, &self.probe_rows(), false));
        s.push('\n');
        s.push_str(&self.probe_notes().join("\n"));
        wrap(&s)
    }

    /// An HTML table of the probe.
    pub fn to_html(&self) -> Html {
        let head = format!(
            "<p><b>{}</b> — {} threads, SIMD {}, peak with {}</p>\n",
            escape_html(&self.cpu_model),
            self.threads,
            escape_html(&self.simd.join(" ")),
            escape_html(&self.peak_isa),
        );
        let t = html_table(&Self::PROBE_HEAD, &self.probe_rows());
        let notes: String = self
            .probe_notes()
            .iter()
            .map(|n| format!("<p style=\"margin:2px 0\">{}</p>\n", escape_html(n)))
            .collect();
        Html(head + &t.0 + &notes)
    }
}

/// The widest line parlab's text output prints: a notebook's output area
/// holds about 100 characters, and JupyterLab breaks longer lines anywhere,
/// in the middle of a word or a number.
pub const TEXT_WIDTH: usize = 100;

/// `text` with every line longer than [`TEXT_WIDTH`] broken at spaces,
/// the continuation lines indented two spaces more than the line they
/// continue. Shorter lines, tables included, are unchanged; a single word
/// longer than the width stays whole.
///
/// ```
/// use parlab::report::{wrap, TEXT_WIDTH};
/// let long = "word ".repeat(40);
/// let wrapped = wrap(long.trim_end());
/// assert!(wrapped.lines().count() > 1);
/// assert!(wrapped.lines().all(|l| l.chars().count() <= TEXT_WIDTH));
/// assert!(wrapped.lines().nth(1).unwrap().starts_with("  word"));
/// assert_eq!(wrap("short\n  line"), "short\n  line");
/// ```
pub fn wrap(text: &str) -> String {
    text.split('\n')
        .map(|line| wrap_line(line, TEXT_WIDTH))
        .collect::<Vec<_>>()
        .join("\n")
}

fn wrap_line(line: &str, width: usize) -> String {
    if line.chars().count() <= width {
        return line.to_string();
    }
    let indent = line.len() - line.trim_start_matches(' ').len();
    let (first_indent, more_indent) = (indent, indent + 2);
    let mut out = String::with_capacity(line.len() + 16);
    let mut cur = " ".repeat(first_indent);
    let (mut cur_len, mut empty) = (first_indent, true);
    for word in line
        .trim_start_matches(' ')
        .split(' ')
        .filter(|w| !w.is_empty())
    {
        let n = word.chars().count();
        if !empty && cur_len + 1 + n > width {
            out.push_str(&cur);
            out.push('\n');
            cur = " ".repeat(more_indent);
            cur_len = more_indent;
            empty = true;
        }
        if !empty {
            cur.push(' ');
            cur_len += 1;
        }
        cur.push_str(word);
        cur_len += n;
        empty = false;
    }
    out.push_str(&cur);
    out
}

/// A plain-text table: columns padded to their widest cell, first column
/// left-aligned, the others right-aligned. A table wider than
/// [`TEXT_WIDTH`] is printed in parts, each repeating the first column,
/// separated by an empty line.
///
/// ```
/// use parlab::report::text_table;
/// assert_eq!(text_table(&["a", "bb"], &[vec!["xyz".into(), "1".into()]]), "a    bb\nxyz   1");
/// ```
pub fn text_table(headers: &[&str], rows: &[Vec<String>]) -> String {
    fitted_table(headers, rows, true)
}

/// [`text_table`], with the first column right-aligned too when `first_left`
/// is false (numbers).
fn fitted_table(headers: &[&str], rows: &[Vec<String>], first_left: bool) -> String {
    let mut w: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < w.len() {
                w[i] = w[i].max(c.chars().count());
            }
        }
    }
    // Column groups, each starting with column 0, each as wide as fits.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group = vec![0];
    let mut width = w.first().copied().unwrap_or(0);
    for (i, &wi) in w.iter().enumerate().skip(1) {
        if width + 2 + wi > TEXT_WIDTH && group.len() > 1 {
            groups.push(std::mem::replace(&mut group, vec![0]));
            width = w[0];
        }
        group.push(i);
        width += 2 + wi;
    }
    groups.push(group);
    let line = |cells: &[&str], cols: &[usize]| {
        cols.iter()
            .map(|&i| {
                let c = cells.get(i).copied().unwrap_or("");
                let pad = w[i].saturating_sub(c.chars().count());
                if i == 0 && first_left {
                    format!("{c}{}", " ".repeat(pad))
                } else {
                    format!("{}{c}", " ".repeat(pad))
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    groups
        .iter()
        .map(|cols| {
            let mut out = line(headers, cols);
            for r in rows {
                out.push('\n');
                out.push_str(&line(
                    &r.iter().map(String::as_str).collect::<Vec<_>>(),
                    cols,
                ));
            }
            out
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn opt(x: Option<f64>, f: impl Fn(f64) -> String) -> String {
    x.map_or_else(|| "–".to_string(), f)
}

fn pct(x: f64) -> String {
    format!("{} %", sig3(x * 100.0))
}

impl Comparison {
    fn table(&self) -> (Vec<&'static str>, Vec<Vec<String>>) {
        let bw = self.work.bytes_per_call().is_some();
        let fl = self.work.flops_per_call().is_some();
        let mut head = vec![
            "kernel",
            "median",
            "± IQR/2",
            "speedup (95 % CI)",
            "max |diff|",
        ];
        let cpu = self.results.iter().all(|r| r.cpu.is_some());
        if cpu {
            head.push("threads");
            head.push("cores busy");
        }
        if bw {
            head.push("GB/s");
        }
        if fl {
            head.push("GFLOP/s");
        }
        let base = self.results[self.baseline].median();
        let rows = self
            .results
            .iter()
            .zip(&self.diffs)
            .enumerate()
            .map(|(i, (r, d))| {
                let mut name = r.name.clone();
                if i == self.baseline {
                    name.push_str(" (baseline)");
                }
                let mut row = vec![
                    name,
                    fmt_seconds(r.median()),
                    fmt_seconds(r.iqr() / 2.0),
                    match self.speedup_ci(&r.name) {
                        Some((lo, hi)) if i != self.baseline => {
                            format!("{}× ({}–{})", sig3(base / r.median()), sig3(lo), sig3(hi))
                        }
                        _ => format!("{}×", sig3(base / r.median())),
                    },
                    if i == 0 {
                        "reference".into()
                    } else {
                        if d.max_abs == 0.0 {
                            "0".into()
                        } else {
                            fmt_tol(d.max_abs)
                        }
                    },
                ];
                if let (true, Some(c)) = (cpu, &r.cpu) {
                    row.push(r.threads.to_string());
                    row.push(format!("{:.2}", c.parallelism));
                }
                let t = r.throughput(self.work);
                if bw {
                    row.push(opt(t.gb_per_s, sig3));
                }
                if fl {
                    row.push(opt(t.gflop_per_s, sig3));
                }
                row
            })
            .collect();
        (head, rows)
    }

    fn warnings(&self) -> Vec<String> {
        self.results
            .iter()
            .flat_map(|r| r.warnings().into_iter().map(|w| format!("{}: {w}", r.name)))
            .collect()
    }

    /// A text table: median, spread, speedup over the baseline, difference
    /// from the reference output, and rates when the work was given.
    pub fn to_text(&self) -> String {
        let (h, rows) = self.table();
        let mut s = text_table(&h, &rows);
        s.push_str(&format!(
            "\nAll outputs agree with `{}` within abs {} + rel {}.",
            self.results[0].name,
            fmt_tol(self.tol.abs),
            fmt_tol(self.tol.rel)
        ));
        for w in self.warnings() {
            s.push('\n');
            s.push_str(&w);
        }
        wrap(&s)
    }

    /// The same as an HTML table.
    pub fn to_html(&self) -> Html {
        let (h, rows) = self.table();
        let mut s = html_table(&h, &rows).0;
        s.push_str(&format!(
            "\n<p>All outputs agree with <code>{}</code> within abs {} + rel {}.</p>",
            escape_html(&self.results[0].name),
            fmt_tol(self.tol.abs),
            fmt_tol(self.tol.rel)
        ));
        for w in self.warnings() {
            s.push_str(&format!(
                "\n<p style=\"{}\">⚠ {}</p>",
                crate::display::theme_color("#b45309"),
                escape_html(&w)
            ));
        }
        Html(s)
    }
}

impl Scaling {
    fn table(&self) -> Vec<Vec<String>> {
        self.points
            .iter()
            .map(|p| {
                vec![
                    p.threads.to_string(),
                    fmt_seconds(p.result.median()),
                    fmt_seconds(p.result.iqr() / 2.0),
                    match p.speedup_ci {
                        Some((lo, hi)) if p.threads != self.points[0].threads => {
                            format!("{}× ({}–{})", sig3(p.speedup), sig3(lo), sig3(hi))
                        }
                        _ => format!("{}×", sig3(p.speedup)),
                    },
                    pct(p.efficiency),
                    opt(p.result.cpu.map(|c| c.parallelism), |x| format!("{x:.2}")),
                    opt(p.amdahl, |a| format!("{}×", sig3(a))),
                ]
            })
            .collect()
    }

    fn fit_line(&self) -> String {
        match self.serial_fraction {
            Some(s) if s <= 0.0 => format!(
                "Amdahl fit: no serial part seen (the fit gives {}, below 0: speed-ups at or \
                 above ideal), so these points set no bound on the speed-up.",
                pct(s)
            ),
            Some(s) if s >= 1.0 => format!(
                "Amdahl fit: serial fraction {} — more threads made it no faster or slower, \
                 which serial code cannot do: a shared limit (memory bandwidth) or other \
                 programs on the cores, not Amdahl's law.",
                pct(s)
            ),
            // No bound beyond the measured threads: a kernel that saturates
            // memory bandwidth fits a "serial fraction" as well as serial code does.
            Some(s) => format!(
                "Amdahl fit: serial fraction {}{} — the share of the time these points did not \
                 speed up. Serial code and a saturated shared limit (memory bandwidth, cores \
                 busy with other work) look alike here, so the fit bounds nothing beyond the \
                 threads measured.",
                pct(s),
                match self.serial_fraction_ci {
                    Some((lo, hi)) => format!(" (95 % interval {} … {})", pct(lo), pct(hi)),
                    None => String::new(),
                }
            ),
            None => "No Amdahl fit: it needs a 1-thread point and a parallel one.".into(),
        }
    }

    const HEAD: [&'static str; 7] = [
        "threads",
        "median",
        "± IQR/2",
        "speedup (95 % CI)",
        "efficiency",
        "cores busy",
        "Amdahl",
    ];

    /// A text table of the thread sweep with the Amdahl fit.
    pub fn to_text(&self) -> String {
        wrap(&format!(
            "{}\n{}",
            text_table(&Self::HEAD, &self.table()),
            self.fit_line()
        ))
    }

    /// The same as HTML.
    pub fn to_html(&self) -> Html {
        Html(format!(
            "{}\n<p>{}</p>",
            html_table(&Self::HEAD, &self.table()).0,
            escape_html(&self.fit_line())
        ))
    }
}

impl SizeScaling {
    fn table(&self) -> (Vec<String>, Vec<Vec<String>>) {
        let mut head = vec!["size".to_string()];
        head.extend(self.names.iter().cloned());
        let rows = self
            .sizes
            .iter()
            .enumerate()
            .map(|(j, n)| {
                let mut row = vec![n.to_string()];
                for per_kernel in &self.results {
                    let r = &per_kernel[j];
                    let t = r.throughput(self.work[j]);
                    let mut cell = fmt_seconds(r.median());
                    if let Some(g) = t.gb_per_s {
                        cell.push_str(&format!(" ({} GB/s)", sig3(g)));
                    } else if let Some(g) = t.gflop_per_s {
                        cell.push_str(&format!(" ({} GFLOP/s)", sig3(g)));
                    }
                    row.push(cell);
                }
                row
            })
            .collect();
        (head, rows)
    }

    /// A text table: one row per size, one column per kernel (median time).
    pub fn to_text(&self) -> String {
        let (h, rows) = self.table();
        text_table(&h.iter().map(String::as_str).collect::<Vec<_>>(), &rows)
    }

    /// The same as HTML.
    pub fn to_html(&self) -> Html {
        let (h, rows) = self.table();
        html_table(&h.iter().map(String::as_str).collect::<Vec<_>>(), &rows)
    }
}

impl fmt::Display for Efficiency {
    /// `add: 24.1 GB/s = 62 % of the add limit from memory (39.0 GB/s on 2 threads)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.throughput;
        let mut parts = Vec::new();
        if let Some(g) = t.gb_per_s {
            parts.push(match self.bandwidth_limit {
                Some(l) => format!(
                    "{} GB/s = {} of the {} limit from memory ({} GB/s on {} thread(s)){}",
                    sig3(g),
                    pct(g / l),
                    if self.reads_only { "read" } else { "add" },
                    sig3(l),
                    t.threads,
                    if g > l {
                        ": the data must be in cache"
                    } else {
                        ""
                    }
                ),
                None => format!("{} GB/s", sig3(g)),
            });
        }
        if let Some(g) = t.gflop_per_s {
            let prec = if self.precision_f32 { "f32" } else { "f64" };
            parts.push(match self.peak_gflops {
                Some(l) => format!(
                    "{} GFLOP/s = {} of {prec} peak ({} GFLOP/s)",
                    sig3(g),
                    pct(g / l),
                    sig3(l)
                ),
                None => format!("{} GFLOP/s", sig3(g)),
            });
        }
        if parts.is_empty() {
            parts.push("no work given: pass a `Work` with bytes and/or flops per call".into());
        }
        let name = if t.name.is_empty() {
            String::new()
        } else {
            format!("{}: ", t.name)
        };
        f.write_str(&wrap(&format!("{name}{}", parts.join("; "))))
    }
}

impl Efficiency {
    /// Shows the line in a notebook.
    pub fn evcxr_display(&self) {
        emit(
            "text/html",
            &format!("<p>{}</p>", escape_html(&self.to_string())),
        );
    }
}

impl Changes {
    fn table(&self) -> Vec<Vec<String>> {
        self.items
            .iter()
            .map(|c| {
                vec![
                    c.name.clone(),
                    c.threads.to_string(),
                    if c.old.is_nan() {
                        "–".into()
                    } else {
                        fmt_seconds(c.old)
                    },
                    fmt_seconds(c.new),
                    if c.ratio.is_nan() {
                        "–".into()
                    } else {
                        format!("{:+.1} %", (c.ratio - 1.0) * 100.0)
                    },
                    match c.verdict {
                        Verdict::Improved => "improved",
                        Verdict::Regressed => "regressed",
                        Verdict::NoChange => "no change",
                        Verdict::New => "new",
                    }
                    .to_string(),
                ]
            })
            .collect()
    }

    const HEAD: [&'static str; 6] = [
        "benchmark",
        "threads",
        "baseline",
        "now",
        "change",
        "verdict",
    ];

    /// A text table of the changes.
    pub fn to_text(&self) -> String {
        wrap(&format!(
            "{}\n(threshold {}; a change also needs non-overlapping confidence intervals)",
            text_table(&Self::HEAD, &self.table()),
            pct(self.threshold)
        ))
    }

    /// The same as HTML.
    pub fn to_html(&self) -> Html {
        html_table(&Self::HEAD, &self.table())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_switch_at_powers_of_1000() {
        assert_eq!(fmt_seconds(999e-9), "999 ns");
        assert_eq!(fmt_seconds(1e-6), "1.00 µs");
        assert_eq!(fmt_seconds(0.0), "0 s");
        assert_eq!(fmt_seconds(12.0), "12.0 s");
        assert_eq!(fmt_count(10_000), "10 000");
        assert_eq!(fmt_count(100), "100");
    }

    #[test]
    fn bench_line_says_what_the_spread_is() {
        let r = BenchResult::from_samples(
            "",
            vec![0.0120, 0.0123, 0.0124, 0.0130, 0.0121, 0.0125, 0.0122],
            10,
        )
        .unwrap();
        assert_eq!(
            r.to_text(),
            "12.3 ms ± 0.150 ms per loop (median ± IQR/2 of 7 runs, 10 loops each)"
        );
        let h = r.to_html().0;
        assert!(h.contains("95 % CI of median"), "{h}");
        assert!(!h.contains("⚠"));
        let noisy = BenchResult::from_samples("n<1>", vec![1.0, 3.0], 1).unwrap();
        assert!(noisy.to_text().contains("\nThe slowest run took 3.0 times"));
        assert!(noisy.to_html().0.contains("n&lt;1&gt;"));
    }

    #[test]
    fn tolerances_print_with_three_digits() {
        assert_eq!(fmt_tol(1e-8), "1e-8");
        assert_eq!(fmt_tol(1e-5), "1e-5");
        assert_eq!(fmt_tol(8.881784197001252e-10), "8.88e-10");
        assert_eq!(fmt_tol(0.0), "0");
    }

    #[test]
    fn tables_render() {
        use crate::timing::{Baseline, Scaling};
        let mk = |name: &str, p: usize, t: f64| {
            let mut r = BenchResult::from_samples(name, vec![t; 3], 1).unwrap();
            r.threads = p;
            r
        };
        let s = Scaling::from_results("k".into(), vec![mk("k", 1, 1.0), mk("k", 2, 0.6)]);
        let t = s.to_text();
        assert!(t.contains("threads  median"), "{t}");
        let flat = t.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            flat.contains("Amdahl fit: serial fraction 20.0 % (95 % interval 20.0 % … 20.0 %) —"),
            "{t}"
        );
        // Two points of a kernel that may be memory-bound bound nothing beyond them.
        assert!(
            flat.contains("bounds nothing beyond the threads measured"),
            "{t}"
        );
        assert!(!flat.contains("at most"), "{t}");
        assert!(t.contains("1.67× (1.67–1.67)"), "{t}");
        let b = Baseline::new([mk("k", 1, 1.0)]);
        let c = b.compare(&[mk("k", 1, 2.0), mk("z", 1, 1.0)], 0.05);
        let t = c.to_text();
        assert!(
            t.contains("+100.0 %") && t.contains("regressed") && t.contains("new"),
            "{t}"
        );
        assert_eq!(
            text_table(&["a", "bb"], &[vec!["xyz".into(), "1".into()]]),
            "a    bb\nxyz   1"
        );
    }
}

#[cfg(test)]
mod width_tests {
    use super::*;
    use crate::timing::machine::{Ceiling, PeakPoint, ProbeConfig, StreamPoint};
    use crate::timing::{Bench, Compare, CpuUsage, Work};

    /// Every line of `text` fits a notebook's output area.
    fn assert_fits(what: &str, text: &str) {
        for line in text.lines() {
            assert!(
                line.chars().count() <= TEXT_WIDTH,
                "{what}: a line of {} characters:\n{line}\nin\n{text}",
                line.chars().count()
            );
        }
    }

    const BUSY: &str = "the machine is busy: load average 5.2 on 2 CPUs — other programs shared \
                        the cores, so times are slower and noisier than on a quiet machine";

    fn noisy(name: &str, threads: usize) -> BenchResult {
        let mut r = BenchResult::from_samples(
            name,
            vec![0.0244, 0.0251, 0.0302, 0.0299, 0.0910, 0.0248, 0.0260],
            10,
        )
        .unwrap();
        r.threads = threads;
        r.cpu = Some(CpuUsage {
            cpu_per_call: 0.0217,
            parallelism: 0.78,
            context_switches_per_call: 17.2,
            page_faults_per_call: 1.40,
        });
        r.contention = Some(BUSY.into());
        r
    }

    fn machine() -> Machine {
        let mut m = Machine::probe_with(&ProbeConfig::tiny()).unwrap();
        m.cpu_model = "AMD EPYC 7B13 64-Core Processor".into();
        let roof = |level: &str, read| Ceiling {
            level: level.into(),
            cache_bytes: Some(32 << 20),
            working_set: 0,
            read,
        };
        m.stream = [1, 2]
            .map(|t| StreamPoint {
                threads: t,
                read: 15.4 * t as f64,
                copy: 16.8,
                add: 20.9,
                triad: 22.2,
                copy_nt: 15.4,
                add_nt: 19.5,
                triad_nt: 18.4,
                ceilings: vec![
                    roof("L1", 58.2),
                    roof("L2", 51.2),
                    roof("L3", 34.4),
                    roof("memory", 15.4),
                ],
                ..Default::default()
            })
            .to_vec();
        m.peak = [1, 2]
            .map(|t| PeakPoint {
                threads: t,
                f32: 98.9 * t as f64,
                f64: 49.0 * t as f64,
            })
            .to_vec();
        m
    }

    #[test]
    fn typical_outputs_fit_a_notebook_line() {
        let one = noisy("add_chunks, 4 new threads a call", 4);
        assert_fits("BenchResult", &one.to_text());

        let tiny = Bench::new()
            .samples(3)
            .warmup(std::time::Duration::from_millis(1))
            .min_sample_time(std::time::Duration::from_millis(1));
        let x: Vec<f64> = (0..1000).map(f64::from).collect();
        let mut cmp = Compare::new()
            .bench(tiny)
            .work(Work::new().bytes(8000.0).flops(1000.0))
            .kernel("add (SIMD), 1 thread", || x.iter().sum::<f64>())
            .kernel("add_chunks, 4 new threads a call", || x.iter().sum::<f64>())
            .kernel("par_add, a pool of 4 threads", || {
                x.iter().rev().sum::<f64>()
            })
            .run()
            .unwrap();
        for r in &mut cmp.results {
            *r = BenchResult {
                name: r.name.clone(),
                ..noisy(&r.name, 4)
            };
        }
        assert_fits("Comparison", &cmp.to_text());

        let m = machine();
        assert_fits("Machine", &m.to_text());
        for e in cmp.vs(&m) {
            assert_fits("Efficiency", &e.to_string());
        }

        let mk = |p: usize, t: f64| {
            let mut r = BenchResult::from_samples("par_european_call", vec![t; 3], 1).unwrap();
            r.threads = p;
            r
        };
        let slower = Scaling::from_results("k".into(), vec![mk(1, 1.0), mk(2, 1.3), mk(4, 1.4)]);
        assert_fits("Scaling", &slower.to_text());
        let faster = Scaling::from_results("k".into(), vec![mk(1, 1.0), mk(2, 0.55), mk(4, 0.4)]);
        assert_fits("Scaling", &faster.to_text());

        let mem = crate::profile::MemReport {
            before: 80 << 20,
            after: 112 << 20,
            peak: 117 << 20,
            peak_method: "kernel high-water mark".into(),
            seconds: 0.555,
        };
        assert_fits("MemReport", &mem.to_string());

        let check = crate::exercise::Check {
            exercise: "5.4 predicted_speedup".into(),
            status: crate::exercise::Status::Passed,
            message: "your prediction is the model of independent work on 2 core(s); this \
                      machine did not reach it (1 thread(s): predicted 1.00×, measured 1.00×; \
                      2 thread(s): predicted 2.00×, measured 1.21×): other programs share the \
                      cores, or memory bandwidth is the limit"
                .into(),
        };
        assert_fits("Check", &check.to_string());
    }

    #[test]
    fn a_wide_table_is_split_and_keeps_its_first_column() {
        let head = ["kernel", "a", "b", "c"];
        let cell = "x".repeat(40);
        let rows = vec![vec![
            "par_add".to_string(),
            cell.clone(),
            cell.clone(),
            cell,
        ]];
        let t = text_table(&head, &rows);
        assert_fits("table", &t);
        let parts: Vec<&str> = t.split("\n\n").collect();
        assert_eq!(parts.len(), 2, "{t}");
        assert!(
            parts
                .iter()
                .all(|p| p.lines().nth(1).unwrap().starts_with("par_add")),
            "{t}"
        );
    }

    #[test]
    fn wrapping_breaks_between_words_only() {
        let line = format!(
            "kernel `x`: {}",
            "1048575 of 1048576 elements differ; ".repeat(5)
        );
        let w = wrap(line.trim_end());
        assert_fits("wrap", &w);
        let words: Vec<&str> = line.split_whitespace().collect();
        let back: Vec<&str> = w.split_whitespace().collect();
        assert_eq!(words, back, "no word was cut");
    }
}

#[cfg(test)]
mod bytes_tests {
    #[test]
    fn bytes_pick_a_binary_unit() {
        assert_eq!(super::fmt_bytes(512.0), "512 B");
        assert_eq!(super::fmt_bytes(12.0 * 1024.0 * 1024.0), "12.0 MiB");
        assert_eq!(
            super::fmt_bytes(-1.5 * 1024.0 * 1024.0 * 1024.0),
            "-1.50 GiB"
        );
    }
}
