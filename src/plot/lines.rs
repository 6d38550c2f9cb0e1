//! Line charts: size sweeps with ceilings (a roofline), thread scaling.

use plotters::prelude::*;

use super::axis::{Axis, sig, unit_of};
use super::check_finite;
use super::frame::{Frame, legend_inside_or_outside, outside_at};
use super::legend::{self, Entry};
use crate::display::Svg;
use crate::error::{Error, ErrorKind, Result};

/// One named series of `(x, y)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// The points, in drawing order.
    pub points: Vec<(f64, f64)>,
    /// Draw a dashed line without markers (for references such as "ideal").
    pub reference: bool,
}

impl Series {
    /// A measured series: a line with markers.
    pub fn new(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            reference: false,
        }
    }

    /// A reference curve: a thin line without markers.
    pub fn reference(name: impl Into<String>, points: Vec<(f64, f64)>) -> Self {
        Series {
            name: name.into(),
            points,
            reference: true,
        }
    }
}

/// A horizontal limit drawn across the chart: a machine's bandwidth or peak.
#[derive(Debug, Clone, PartialEq)]
pub struct Ceiling {
    /// Label printed on the line, e.g. `STREAM add, 2 threads`.
    pub name: String,
    /// Its height in y units.
    pub value: f64,
}

impl Ceiling {
    /// A ceiling at `value`.
    pub fn new(name: impl Into<String>, value: f64) -> Self {
        Ceiling {
            name: name.into(),
            value,
        }
    }
}

/// A line chart: the general form behind sweeps, rooflines and scaling charts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LineChart {
    /// Title above the chart.
    pub title: String,
    /// x-axis label, with its unit.
    pub x_label: String,
    /// y-axis label, with its unit.
    pub y_label: String,
    /// Logarithmic x axis.
    pub log_x: bool,
    /// Logarithmic y axis.
    pub log_y: bool,
    /// The data.
    pub series: Vec<Series>,
    /// Horizontal limits.
    pub ceilings: Vec<Ceiling>,
    /// Label only whole numbers on the x axis (thread counts).
    pub integer_x: bool,
    /// x ticks of your own, each with its label (e.g. the sizes of a sweep);
    /// empty: chosen for the data.
    pub x_ticks: Vec<(f64, String)>,
}

impl LineChart {
    /// Draws the chart.
    ///
    /// ```
    /// use parlab::plot::{Ceiling, LineChart, Series};
    /// let chart = LineChart {
    ///     title: "add, f64".into(),
    ///     x_label: "elements".into(),
    ///     y_label: "bandwidth (GB/s)".into(),
    ///     log_x: true,
    ///     series: vec![Series::new("par_add", vec![(1e3, 5.0), (1e6, 90.0), (1e8, 44.0)])],
    ///     ceilings: vec![Ceiling::new("STREAM add", 47.0)],
    ///     ..Default::default()
    /// };
    /// let svg = chart.draw().unwrap();
    /// assert!(svg.as_str().contains("STREAM add"));
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`] when there is no point to draw, a coordinate is
    /// NaN or infinite, or a log axis gets a value ≤ 0 (the message names the
    /// series); [`ErrorKind::Plot`] if drawing fails.
    pub fn draw(&self) -> Result<Svg> {
        let all: Vec<(f64, f64)> = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().copied())
            .collect();
        if all.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("chart {:?}: no points to draw", self.title),
            ));
        }
        for s in &self.series {
            for &(x, y) in &s.points {
                check_finite("x", &s.name, x)?;
                check_finite("y", &s.name, y)?;
                if (self.log_x && x <= 0.0) || (self.log_y && y <= 0.0) {
                    return Err(Error::new(
                        ErrorKind::InvalidInput,
                        format!(
                            "series {:?} has the point ({x}, {y}): a log axis needs values > 0",
                            s.name
                        ),
                    ));
                }
            }
        }
        for c in &self.ceilings {
            check_finite("ceiling", &c.name, c.value)?;
        }
        let (x0, x1) = bounds(all.iter().map(|p| p.0));
        let (y0, y1) = bounds(
            all.iter()
                .map(|p| p.1)
                .chain(self.ceilings.iter().map(|c| c.value)),
        );
        if let (true, Some(c)) = (self.log_y, self.ceilings.iter().find(|c| c.value <= 0.0)) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "ceiling {:?} is at {}: a log axis needs values > 0",
                    c.name, c.value
                ),
            ));
        }
        let mut xa = Axis::covering(x0, x1, self.log_x, false, self.integer_x);
        let own: Vec<&(f64, String)> = self
            .x_ticks
            .iter()
            .filter(|t| t.0.is_finite() && (!self.log_x || t.0 > 0.0))
            .collect();
        if own.len() >= 2 {
            // Just around the data and the ticks, not out to the next round number.
            let lo = own.iter().map(|t| t.0).fold(x0, f64::min);
            let hi = own.iter().map(|t| t.0).fold(x1, f64::max);
            let (lo, hi) = if self.log_x {
                (lo / 1.12, hi * 1.12)
            } else {
                let pad = 0.04 * (hi - lo).max(f64::MIN_POSITIVE);
                (lo - pad, hi + pad)
            };
            xa = Axis::labelled(
                lo,
                hi,
                self.log_x,
                own.iter().map(|t| t.0).collect(),
                own.iter().map(|t| t.1.clone()).collect(),
            );
        }
        let ya = Axis::covering(y0, y1, self.log_y, !self.log_y, false);
        let entries = self.legend_entries();
        legend_inside_or_outside(|outside| self.render(&xa, &ya, &entries, outside))
    }

    /// The legend rows: ceilings (with the y unit) first, then the series.
    fn legend_entries(&self) -> Vec<Entry> {
        let unit = unit_of(&self.y_label);
        let mut out: Vec<Entry> = self
            .ceilings
            .iter()
            .enumerate()
            .map(|(k, c)| Entry {
                label: match unit {
                    Some(u) => format!("{}: {} {u}", c.name, sig(c.value, 4)),
                    None => format!("{}: {}", c.name, sig(c.value, 4)),
                },
                color: ceiling_color(k),
                width: 2,
                dashed: true,
                marker: None,
            })
            .collect();
        out.extend(self.series.iter().enumerate().map(|(i, s)| {
            let st = legend::style(i);
            Entry {
                label: s.name.clone(),
                color: st.color,
                width: if s.reference { 1 } else { 2 },
                dashed: st.dashed,
                marker: (!s.reference).then_some(st.marker),
            }
        }));
        out
    }

    /// Draws the chart with the legend inside the plot area where it covers
    /// nothing (`None` when no place is free), or `outside` on the right.
    fn render(
        &self,
        xa: &Axis,
        ya: &Axis,
        entries: &[Entry],
        outside: bool,
    ) -> Result<Option<String>> {
        let (lw, lh) = legend::size(entries);
        let frame = Frame {
            title: &self.title,
            x_desc: &self.x_label,
            y_desc: &self.y_label,
            x_grid: true,
        };
        frame.render(xa, ya, lw, outside, |chart, root| {
            let plot = chart.plotting_area().get_pixel_range();
            let mut taken = Vec::new();
            for (k, c) in self.ceilings.iter().enumerate() {
                let y = chart.backend_coord(&(xa.lo(), c.value)).1;
                let line = [(plot.0.start, y), (plot.0.end, y)];
                legend::draw_line(root, &line, ceiling_color(k), 2, true)?;
                legend::sample_path(&line, 3.0, &mut taken);
            }
            for (i, s) in self.series.iter().enumerate() {
                let st = legend::style(i);
                let px: Vec<(i32, i32)> = s.points.iter().map(|p| chart.backend_coord(p)).collect();
                let width = if s.reference { 1 } else { 2 };
                legend::draw_line(root, &px, st.color, width, st.dashed)?;
                legend::sample_path(&px, 3.0, &mut taken);
                if !s.reference {
                    for &p in &px {
                        legend::draw_marker(root, st.marker, p, 3, st.color)?;
                    }
                }
            }
            if !entries.is_empty() {
                let at = if outside {
                    outside_at(plot.1.start)
                } else {
                    match legend::free_spot((lw, lh), plot, &taken, 5) {
                        Some(at) => at,
                        None => return Ok(false),
                    }
                };
                legend::draw(root, entries, at)?;
            }
            Ok(true)
        })
    }
}

/// Ceiling `k`'s colour: greys, distinct from the series colours.
fn ceiling_color(k: usize) -> RGBColor {
    [
        RGBColor(0x44, 0x44, 0x44),
        RGBColor(0x99, 0x99, 0x99),
        RGBColor(0x22, 0x22, 0x22),
        RGBColor(0x77, 0x77, 0x77),
    ][k % 4]
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

/// Speedup against thread count, with the ideal line and, when given, Amdahl's
/// law for the fitted serial fraction `s`: `S(p) = 1 / (s + (1 − s) / p)`.
///
/// ```
/// let svg = parlab::plot::scaling("par_sum, 2²⁴ f64", &[(1, 1.0), (2, 1.9), (4, 2.0)], Some(0.04)).unwrap();
/// assert!(svg.as_str().contains("ideal"));
/// assert!(svg.as_str().contains("Amdahl"));
/// ```
///
/// # Errors
/// As [`LineChart::draw`]; also [`ErrorKind::InvalidInput`] for a thread count of
/// 0 or a serial fraction outside 0..=1.
pub fn scaling(
    title: &str,
    speedups: &[(usize, f64)],
    serial_fraction: Option<f64>,
) -> Result<Svg> {
    if let Some(&(0, _)) = speedups.iter().find(|p| p.0 == 0) {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "scaling chart: a thread count of 0",
        ));
    }
    let max_p = speedups.iter().map(|p| p.0).max().unwrap_or(1).max(1);
    let grid: Vec<f64> = (1..=max_p).map(|p| p as f64).collect();
    let mut series = vec![
        Series::new(
            "measured",
            speedups.iter().map(|&(p, s)| (p as f64, s)).collect(),
        ),
        Series::reference("ideal (linear)", grid.iter().map(|&p| (p, p)).collect()),
    ];
    if let Some(s) = serial_fraction {
        if !(0.0..=1.0).contains(&s) {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("scaling chart: serial fraction {s} is outside 0..=1"),
            ));
        }
        let fine: Vec<f64> = (0..=40)
            .map(|i| 1.0 + (max_p as f64 - 1.0) * i as f64 / 40.0)
            .collect();
        series.push(Series::reference(
            format!("Amdahl, serial fraction {:.1} %", 100.0 * s),
            fine.iter()
                .map(|&p| (p, 1.0 / (s + (1.0 - s) / p)))
                .collect(),
        ));
    }
    // Ticks at the thread counts measured (1, 2, 4, 8, 16 rather than 0, 5,
    // 10, 15) when they are few and apart; else whole numbers for the data.
    let mut counts: Vec<usize> = speedups.iter().map(|p| p.0).collect();
    counts.sort_unstable();
    counts.dedup();
    let apart = counts
        .windows(2)
        .all(|w| (w[1] - w[0]) as f64 >= (max_p as f64 - 1.0) / 24.0);
    let x_ticks = if counts.len() >= 3 && counts.len() <= 12 && apart {
        counts.iter().map(|&p| (p as f64, p.to_string())).collect()
    } else {
        Vec::new()
    };
    LineChart {
        title: title.to_string(),
        x_label: "threads".into(),
        y_label: "speedup (×)".into(),
        series,
        integer_x: true,
        x_ticks,
        ..Default::default()
    }
    .draw()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::SIZE;
    use crate::plot::legend::check;
    use crate::plot::svg_texts;

    #[test]
    fn sweep_has_every_series_axis_labels_and_ceilings() {
        let chart = LineChart {
            title: "sweep".into(),
            x_label: "elements".into(),
            y_label: "bandwidth (GB/s)".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series::new("add", vec![(1e3, 3.0), (1e5, 60.0), (1e7, 40.0)]),
                Series::new("par_add", vec![(1e3, 1.0), (1e5, 90.0), (1e7, 45.0)]),
            ],
            ceilings: vec![Ceiling::new("STREAM add", 47.0)],
            ..Default::default()
        };
        let svg = chart.draw().unwrap();
        let texts = svg_texts(svg.as_str());
        for t in [
            "sweep",
            "elements",
            "bandwidth (GB/s)",
            "add",
            "par_add",
            "STREAM add: 47 GB/s",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing from {texts:?}");
        }
        check::keep("sweep", svg.as_str());
        check::assert_axes(svg.as_str(), 3);
        check::assert_legend_clear(svg.as_str());
        // 2 data lines + 1 ceiling + 3 legend samples, drawn as polylines
        assert!(svg.as_str().matches("<polyline").count() >= 5);
        assert!(!svg.as_str().contains("NaN"));
    }

    #[test]
    fn narrow_log_axes_label_every_part_of_the_data() {
        // Once: "100" twice, 60 … 100 crammed together, nothing below 10.
        let chart = LineChart {
            title: "narrow".into(),
            x_label: "n (terms)".into(),
            y_label: "rate (GFLOP/s)".into(),
            log_x: true,
            log_y: true,
            series: vec![Series::new(
                "k",
                vec![(256.0, 6.0), (512.0, 60.0), (1024.0, 80.0), (2048.0, 95.0)],
            )],
            ceilings: vec![Ceiling::new("f64 peak", 121.72)],
            ..Default::default()
        };
        let svg = chart.draw().unwrap();
        let s = svg.as_str();
        check::keep("narrow", s);
        check::assert_axes(s, 3);
        check::assert_legend_clear(s);
        let (x, y) = check::tick_labels(s);
        assert!(
            y.contains(&"5".to_string()) && y.contains(&"200".to_string()),
            "{y:?}"
        );
        assert!(x.len() >= 3, "{x:?}");
        assert!(
            svg_texts(s).iter().any(|t| t == "f64 peak: 121.7 GFLOP/s"),
            "{:?}",
            svg_texts(s)
        );
        // The ceiling is dashed in the legend too: the chart's dashes are
        // 2-point polylines in its grey, after the legend box as well.
        let boxes = check::legend_boxes(s);
        let after = &s[boxes[0].1..];
        assert!(after.matches("stroke=\"#444444\"").count() >= 2, "{after}");
    }

    #[test]
    fn linear_axes_and_a_crowded_plot_put_the_legend_outside() {
        // Lines through every corner and edge middle: no place inside is free.
        let zigzag = |k: f64| -> Vec<(f64, f64)> {
            (0..=40)
                .map(|i| {
                    let x = i as f64 / 4.0;
                    (x, k + if i % 2 == 0 { 0.0 } else { 10.0 })
                })
                .collect()
        };
        let chart = LineChart {
            title: "crowded".into(),
            x_label: "x (s)".into(),
            y_label: "y (m)".into(),
            series: (0..14)
                .map(|k| Series::new(format!("series {k}"), zigzag(k as f64 * 0.1)))
                .collect(),
            ..Default::default()
        };
        let svg = chart.draw().unwrap();
        let s = svg.as_str();
        check::keep("crowded", s);
        check::assert_axes(s, 3);
        check::assert_legend_clear(s);
        let ((x, _, _, _), _) = check::legend_boxes(s)[0];
        assert!(x >= SIZE.0 as f64, "legend at x = {x}");
        // 14 series: 14 different colour-and-dash styles in the legend.
        let texts = svg_texts(s);
        for k in 0..14 {
            assert!(texts.contains(&format!("series {k}")));
        }
    }

    #[test]
    fn tiny_values_read_in_scientific_notation() {
        // Relative errors of sums (notebook 04): 1e-10 … 1e-2 on a log axis.
        let sizes: Vec<f64> = (6..=14).map(|k| 10f64.powf(k as f64 / 2.0)).collect();
        let chart = LineChart {
            title: "relative error".into(),
            x_label: "n (terms)".into(),
            y_label: "relative error".into(),
            log_x: true,
            log_y: true,
            series: vec![
                Series::new(
                    "plain loop",
                    sizes.iter().map(|&n| (n, 1e-8 * n.sqrt())).collect(),
                ),
                Series::new(
                    "sum_compensated",
                    sizes.iter().map(|&n| (n, 1e-10)).collect(),
                ),
                Series::reference("bound", sizes.iter().map(|&n| (n, 6e-8 * n)).collect()),
            ],
            ..Default::default()
        };
        let svg = chart.draw().unwrap();
        let s = svg.as_str();
        check::keep("tiny", s);
        check::assert_axes(s, 3);
        check::assert_legend_clear(s);
        let (_, y) = check::tick_labels(s);
        assert!(y.contains(&"1e-10".to_string()), "{y:?}");
        assert!(y.iter().all(|l| l.len() <= 6), "{y:?}");
    }

    #[test]
    fn one_point_or_flat_data_still_gets_three_labels() {
        for (log_x, log_y, pts) in [
            (false, false, vec![(1.0, 1.0)]),
            (true, true, vec![(64.0, 3.5)]),
            (false, false, vec![(0.0, 0.0), (1.0, 0.0)]),
            (true, false, vec![(1e3, 5.0), (1e6, 5.0)]),
        ] {
            let chart = LineChart {
                title: "t".into(),
                x_label: "x (s)".into(),
                y_label: "y (m)".into(),
                log_x,
                log_y,
                series: vec![Series::new("s", pts.clone())],
                ..Default::default()
            };
            let svg = chart.draw().unwrap();
            check::assert_axes(svg.as_str(), 3);
            check::assert_legend_clear(svg.as_str());
        }
    }

    #[test]
    fn bad_points_name_the_series() {
        let mut chart = LineChart {
            log_x: true,
            ..Default::default()
        };
        assert!(chart.draw().unwrap_err().to_string().contains("no points"));
        chart.series = vec![Series::new("zero", vec![(0.0, 1.0)])];
        let e = chart.draw().unwrap_err();
        assert!(
            e.to_string().contains("\"zero\"") && e.to_string().contains("log axis"),
            "{e}"
        );
        chart.series = vec![Series::new("nan", vec![(1.0, f64::NAN)])];
        assert_eq!(chart.draw().unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn scaling_draws_ideal_and_amdahl() {
        let svg = scaling("s", &[(1, 1.0), (2, 1.8)], Some(0.1)).unwrap();
        let texts = svg_texts(svg.as_str());
        assert!(
            texts.iter().any(|t| t == "Amdahl, serial fraction 10.0 %"),
            "{texts:?}"
        );
        assert!(texts.iter().any(|t| t == "speedup (×)"));
        check::keep("scaling", svg.as_str());
        check::assert_axes(svg.as_str(), 3);
        check::assert_legend_clear(svg.as_str());
        let (x, _) = check::tick_labels(svg.as_str());
        assert_eq!(x, ["1", "2", "3"]);
        let svg = scaling("s", &[(1, 1.0), (2, 1.9), (3, 2.6), (4, 3.1)], Some(0.08)).unwrap();
        check::assert_axes(svg.as_str(), 3);
        check::assert_legend_clear(svg.as_str());
        let (x, _) = check::tick_labels(svg.as_str());
        assert_eq!(x, ["1", "2", "3", "4"]);
        let svg = scaling(
            "s",
            &[(1, 1.0), (2, 1.9), (4, 3.5), (8, 6.0), (16, 9.0)],
            Some(0.05),
        )
        .unwrap();
        check::keep("scaling16", svg.as_str());
        check::assert_axes(svg.as_str(), 3);
        check::assert_legend_clear(svg.as_str());
        let (x, _) = check::tick_labels(svg.as_str());
        assert_eq!(x, ["1", "2", "4", "8", "16"]);
        assert!(scaling("s", &[(0, 1.0)], None).is_err());
        assert!(scaling("s", &[(1, 1.0)], Some(1.5)).is_err());
    }
}
