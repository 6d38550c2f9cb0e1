//! Line charts: size sweeps with ceilings (a roofline), thread scaling.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::{PALETTE, SIZE, check_finite, plot_error};
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
        let (mut x0, mut x1) = bounds(all.iter().map(|p| p.0));
        let (mut y0, mut y1) = bounds(
            all.iter()
                .map(|p| p.1)
                .chain(self.ceilings.iter().map(|c| c.value)),
        );
        pad(&mut x0, &mut x1, self.log_x, false);
        pad(&mut y0, &mut y1, self.log_y, !self.log_y);

        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
            root.fill(&WHITE).map_err(plot_error)?;
            match (self.log_x, self.log_y) {
                (false, false) => self.draw_on(&root, x0..x1, y0..y1)?,
                (true, false) => self.draw_on(&root, (x0..x1).log_scale(), y0..y1)?,
                (false, true) => self.draw_on(&root, x0..x1, (y0..y1).log_scale())?,
                (true, true) => self.draw_on(&root, (x0..x1).log_scale(), (y0..y1).log_scale())?,
            }
            root.present().map_err(plot_error)?;
        }
        Ok(Svg::themed(svg))
    }

    fn draw_on<X, Y>(&self, root: &DrawingArea<SVGBackend<'_>, Shift>, x: X, y: Y) -> Result<()>
    where
        X: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
        Y: plotters::coord::ranged1d::AsRangedCoord<Value = f64>,
        X::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
        Y::CoordDescType: plotters::coord::ranged1d::ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, ("sans-serif", 20).into_font().color(&BLACK))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d(x, y)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .x_label_formatter(&|v| {
                if self.integer_x && v.fract() != 0.0 {
                    String::new()
                } else {
                    super::tick(*v)
                }
            })
            .y_label_formatter(&|v| super::tick(*v))
            .label_style(("sans-serif", 14).into_font().color(&BLACK))
            .axis_desc_style(("sans-serif", 15).into_font().color(&BLACK))
            .max_light_lines(1)
            .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
            .draw()
            .map_err(plot_error)?;
        let (xr, _) = (chart.x_range(), chart.y_range());
        for c in &self.ceilings {
            let grey = RGBColor(0x55, 0x55, 0x55);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xr.start, c.value), (xr.end, c.value)],
                    8,
                    5,
                    grey.stroke_width(2),
                ))
                .map_err(plot_error)?
                .label(format!("{} ({})", c.name, super::tick(c.value)))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], grey.stroke_width(2))
                });
        }
        for (i, s) in self.series.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let style = color.stroke_width(if s.reference { 1 } else { 2 });
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), style))
                .map_err(plot_error)?
                .label(&s.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
            if !s.reference {
                chart
                    .draw_series(s.points.iter().map(|&p| Circle::new(p, 3, color.filled())))
                    .map_err(plot_error)?;
            }
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(RGBColor(0xaa, 0xaa, 0xaa))
            .label_font(("sans-serif", 13).into_font().color(&BLACK))
            .draw()
            .map_err(plot_error)?;
        Ok(())
    }
}

fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    })
}

fn pad(lo: &mut f64, hi: &mut f64, log: bool, from_zero: bool) {
    if log {
        *lo /= 1.5;
        *hi *= 1.5;
    } else {
        let span = if *hi > *lo {
            *hi - *lo
        } else {
            hi.abs().max(1.0)
        };
        *lo = if from_zero && *lo >= 0.0 {
            0.0
        } else {
            *lo - 0.05 * span
        };
        *hi += 0.12 * span;
    }
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
    LineChart {
        title: title.to_string(),
        x_label: "threads".into(),
        y_label: "speedup (×)".into(),
        series,
        integer_x: true,
        ..Default::default()
    }
    .draw()
}

#[cfg(test)]
mod tests {
    use super::*;
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
            "STREAM add (47)",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing from {texts:?}");
        }
        // 2 data lines + 1 ceiling + 3 legend samples, drawn as polylines
        assert!(svg.as_str().matches("<polyline").count() >= 5);
        assert!(!svg.as_str().contains("NaN"));
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
        assert!(scaling("s", &[(0, 1.0)], None).is_err());
        assert!(scaling("s", &[(1, 1.0)], Some(1.5)).is_err());
    }
}
