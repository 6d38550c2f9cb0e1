//! Bar charts: one bar per kernel, with optional error bars and a note.

use plotters::prelude::*;

use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{PALETTE, categorical, check_finite, plot_error};
use crate::display::Svg;
use crate::error::{Error, ErrorKind, Result};

/// One bar: a label, a value, an optional error range and a note printed above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Label under the bar.
    pub label: String,
    /// Height of the bar.
    pub value: f64,
    /// Lower and upper end of an error bar (for example the quartiles).
    pub range: Option<(f64, f64)>,
    /// Text above the bar (for example `3.1×`).
    pub note: Option<String>,
}

impl Bar {
    /// A bar with a label and a value.
    pub fn new(label: impl Into<String>, value: f64) -> Self {
        Bar {
            label: label.into(),
            value,
            range: None,
            note: None,
        }
    }

    /// Adds an error bar from `low` to `high`.
    pub fn range(mut self, low: f64, high: f64) -> Self {
        self.range = Some((low, high));
        self
    }

    /// Adds a note above the bar.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// Draws a bar chart with a title and a y-axis label (give the unit, e.g. `time (ms)`).
///
/// ```
/// use parlab::plot::{bars, Bar};
/// let svg = bars("add, 1024² f32", "time (ms)", &[
///     Bar::new("serial", 0.40).range(0.38, 0.43),
///     Bar::new("2 threads", 0.21).note("1.9×"),
/// ]).unwrap();
/// assert!(svg.as_str().contains("time (ms)"));
/// assert!(svg.as_str().contains("1.9×"));
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for no bars, or a value that is negative, NaN or
/// infinite (the message names the bar); [`ErrorKind::Plot`] if drawing fails.
pub fn bars(title: &str, y_label: &str, bars: &[Bar]) -> Result<Svg> {
    if bars.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("bar chart {title:?}: no bars to draw"),
        ));
    }
    let mut top: f64 = 0.0;
    for b in bars {
        check_finite("value", &b.label, b.value)?;
        if b.value < 0.0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "value of {:?} is {}: bars need values ≥ 0",
                    b.label, b.value
                ),
            ));
        }
        top = top.max(b.value);
        if let Some((lo, hi)) = b.range {
            check_finite("error-bar low end", &b.label, lo)?;
            check_finite("error-bar high end", &b.label, hi)?;
            top = top.max(hi);
        }
    }
    let top = if top > 0.0 { top * 1.18 } else { 1.0 };

    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    categorical(title, y_label, &labels, top, |chart| {
        let fill = PALETTE[0];
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                Rectangle::new(
                    [(i as f64 - 0.35, 0.0), (i as f64 + 0.35, b.value)],
                    fill.filled(),
                )
            }))
            .map_err(plot_error)?;
        // Whiskers: a line from the low to the high end with a cap at each
        // (plotters' ErrorBar also draws a circle at the value, which reads
        // as a "⊖" glyph on top of every bar).
        let whisker = BLACK.stroke_width(2);
        chart
            .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
                b.range.map(|(lo, hi)| {
                    let x = i as f64;
                    PathElement::new(vec![(x, lo), (x, hi)], whisker)
                })
            }))
            .map_err(plot_error)?;
        chart
            .draw_series(bars.iter().enumerate().flat_map(|(i, b)| {
                b.range.into_iter().flat_map(move |(lo, hi)| {
                    let x = i as f64;
                    [lo, hi].map(|y| PathElement::new(vec![(x - 0.1, y), (x + 0.1, y)], whisker))
                })
            }))
            .map_err(plot_error)?;
        chart
            .draw_series(bars.iter().enumerate().filter_map(|(i, b)| {
                let y = b.range.map_or(b.value, |(_, hi)| hi.max(b.value));
                b.note.as_ref().map(|t| {
                    Text::new(
                        t.clone(),
                        (i as f64, y + top * 0.015),
                        ("sans-serif", 15)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Center, VPos::Bottom)),
                    )
                })
            }))
            .map_err(plot_error)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_rect_per_bar_plus_background() {
        let svg = bars(
            "t",
            "time (ms)",
            &[Bar::new("a", 1.0), Bar::new("b", 2.0), Bar::new("c", 0.0)],
        )
        .unwrap();
        let s = svg.as_str();
        assert!(s.starts_with("<svg"), "{}", &s[..40]);
        let texts = crate::plot::svg_texts(s);
        for t in ["t", "time (ms)", "a", "b", "c"] {
            assert!(
                texts.iter().any(|x| x == t),
                "text {t:?} missing in {texts:?}"
            );
        }
        // background + 3 bars
        assert_eq!(s.matches("<rect").count(), 4, "{s}");
        let (x, y) = crate::plot::legend::check::tick_labels(s);
        assert_eq!(x, ["a", "b", "c"]);
        let mut d = y.clone();
        d.dedup();
        assert!(y.len() >= 3 && d == y, "{y:?}");
        crate::plot::legend::check::keep("bars", s);
        assert!(!s.contains("NaN") && !s.contains("inf"));
    }

    #[test]
    fn error_ranges_are_whiskers_not_circles() {
        let svg = bars(
            "t",
            "ms",
            &[
                Bar::new("a", 1.0).range(0.8, 1.3),
                Bar::new("b", 2.0).range(1.9, 2.2),
            ],
        )
        .unwrap();
        let s = svg.as_str();
        assert!(!s.contains("<circle"), "no marker at the value: {s}");
        // one line and two caps per bar, beyond the same chart without ranges
        let plain = bars("t", "ms", &[Bar::new("a", 1.0), Bar::new("b", 2.0)]).unwrap();
        let lines = |x: &str| x.matches("<polyline").count();
        assert!(lines(s) >= lines(plain.as_str()) + 6, "{s}");
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        let e = bars("t", "ms", &[]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        assert!(e.to_string().contains("no bars"), "{e}");
        let e = bars("t", "ms", &[Bar::new("slow", f64::NAN)]).unwrap_err();
        assert!(e.to_string().contains("\"slow\""), "{e}");
        let e = bars("t", "ms", &[Bar::new("neg", -1.0)]).unwrap_err();
        assert!(e.to_string().contains("≥ 0"), "{e}");
    }
}
