//! Text and HTML renderings of timing results, and their `evcxr_display`.
//!
//! This is the only timing-side module that imports [`crate::display`]; the
//! statistics and measurements it renders are plain values.

use crate::display::{Html, emit, escape_html, html_table};
use crate::timing::machine::Machine;
use crate::timing::{BenchResult, Throughput};
use std::fmt;

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

/// Formats `x` with 3 significant digits (no exponent for the usual ranges).
pub fn sig3(x: f64) -> String {
    let a = x.abs();
    if a == 0.0 {
        "0".to_string()
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
        if let Some(w) = self.noise_warning() {
            s.push('\n');
            s.push_str(&w);
        }
        s
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
        if let Some(w) = self.noise_warning() {
            h.push_str(&format!(
                "\n<p style=\"color:#b45309\">⚠ {}</p>",
                escape_html(&w)
            ));
        }
        h.push_str("</div>");
        Html(h)
    }

    /// Shows the result in a notebook as HTML (one complete block).
    pub fn evcxr_display(&self) {
        emit("text/html", &self.to_html().0);
    }
}

impl fmt::Display for BenchResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
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
    /// A plain-text summary.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{} — {} threads, SIMD {}, peak measured with {}\n",
            self.cpu_model,
            self.threads,
            self.simd.join(" "),
            self.peak_isa
        );
        s.push_str("threads   copy GB/s   add GB/s  triad GB/s   f32 GFLOP/s   f64 GFLOP/s\n");
        for (st, pk) in self.stream.iter().zip(&self.peak) {
            s.push_str(&format!(
                "{:>7} {:>11} {:>10} {:>11} {:>13} {:>13}\n",
                st.threads,
                sig3(st.copy),
                sig3(st.add),
                sig3(st.triad),
                sig3(pk.f32),
                sig3(pk.f64)
            ));
        }
        s.push_str(&format!(
            "(STREAM arrays 3 × {} MiB; probe took {})",
            self.array_bytes >> 20,
            fmt_seconds(self.probe_seconds)
        ));
        s
    }

    /// An HTML table of the probe.
    pub fn to_html(&self) -> Html {
        let rows: Vec<Vec<String>> = self
            .stream
            .iter()
            .zip(&self.peak)
            .map(|(st, pk)| {
                vec![
                    st.threads.to_string(),
                    sig3(st.copy),
                    sig3(st.add),
                    sig3(st.triad),
                    sig3(pk.f32),
                    sig3(pk.f64),
                ]
            })
            .collect();
        let head = format!(
            "<p><b>{}</b> — {} threads, SIMD {}, peak with {}; STREAM arrays 3 × {} MiB; probe took {}</p>\n",
            escape_html(&self.cpu_model),
            self.threads,
            escape_html(&self.simd.join(" ")),
            escape_html(&self.peak_isa),
            self.array_bytes >> 20,
            escape_html(&fmt_seconds(self.probe_seconds)),
        );
        let t = html_table(
            &[
                "threads",
                "copy GB/s",
                "add GB/s",
                "triad GB/s",
                "f32 GFLOP/s",
                "f64 GFLOP/s",
            ],
            &rows,
        );
        Html(head + &t.0)
    }

    /// Shows the probe in a notebook as HTML.
    pub fn evcxr_display(&self) {
        emit("text/html", &self.to_html().0);
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
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
}
