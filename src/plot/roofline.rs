//! The roofline model (Williams, Waterman & Patterson 2009): how fast a kernel
//! can run given how many floating-point operations it does per byte it moves.
//!
//! x is the arithmetic intensity (FLOP/byte), y the rate (GFLOP/s), both on
//! log axes. The roofs are the machine's measured limits: a flat roof at the
//! peak FLOP/s (one thread and all of them), and one sloped roof per level of
//! the memory hierarchy (L1, L2, L3, memory: rate = bandwidth × intensity,
//! read bandwidths from the probe's working-set sweep). Where the memory roof
//! meets the peak is the *ridge point*: kernels left of it are limited by
//! memory, right of it by arithmetic. Each kernel is a point at its measured
//! rate.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{PALETTE, SIZE, check_finite, plot_error};
use crate::display::Svg;
use crate::error::{Error, ErrorKind, Result};
use crate::timing::{Machine, Precision};

/// One kernel on a roofline.
#[derive(Debug, Clone, PartialEq)]
pub struct RooflinePoint {
    /// Legend label.
    pub name: String,
    /// Floating-point operations per byte moved to or from memory.
    pub intensity: f64,
    /// Measured GFLOP/s.
    pub gflops: f64,
}

/// Draws a roofline for `threads` threads of `machine` with `points`.
///
/// ```
/// use parlab::plot::{RooflinePoint, roofline};
/// use parlab::timing::{Machine, Precision};
/// use parlab::timing::machine::{Ceiling, PeakPoint, ProbeConfig, StreamPoint};
/// let mut m = Machine::probe_with(&ProbeConfig {
///     max_bytes: 1 << 16, stream_reps: 1, peak_seconds: 1e-4, threads: vec![1], apply: false,
/// }).unwrap();
/// let roof = |level: &str, read| Ceiling { level: level.into(), cache_bytes: None, working_set: 0, read };
/// m.stream = vec![StreamPoint { threads: 1, read: 20.0, add: 18.0,
///     ceilings: vec![roof("L1", 300.0), roof("memory", 20.0)], ..Default::default() }];
/// m.peak = vec![PeakPoint { threads: 1, f32: 64.0, f64: 32.0 }];
/// let svg = roofline("add", &m, 1, Precision::F64,
///     &[RooflinePoint { name: "add".into(), intensity: 1.0 / 24.0, gflops: 0.7 }])?;
/// assert!(svg.as_str().contains("ridge 1.6 FLOP/byte"));
/// assert!(svg.as_str().contains("memory: 20 GB/s"));
/// # Ok::<(), parlab::Error>(())
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidInput`] when the machine has no peak or bandwidth
/// figures, or a point is not positive and finite (the message names it);
/// [`ErrorKind::Plot`] if drawing fails.
pub fn roofline(
    title: &str,
    machine: &Machine,
    threads: usize,
    precision: Precision,
    points: &[RooflinePoint],
) -> Result<Svg> {
    for p in points {
        check_finite("intensity", &p.name, p.intensity)?;
        check_finite("GFLOP/s", &p.name, p.gflops)?;
        if p.intensity <= 0.0 || p.gflops <= 0.0 {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!(
                    "roofline point {:?} is at ({}, {}): both need values > 0 (give the work \
                     as bytes and flops)",
                    p.name, p.intensity, p.gflops
                ),
            ));
        }
    }
    let prec = match precision {
        Precision::F32 => "f32",
        Precision::F64 => "f64",
    };
    let peak_n = machine.peak_gflops(threads, precision)?;
    let peak_1 = machine.peak_gflops(1, precision)?;
    let stream = machine.stream_point(threads)?;
    // Every level's read bandwidth; the memory one from the ceilings, else the
    // point's own read figure.
    let mut roofs: Vec<(String, f64)> = stream
        .ceilings
        .iter()
        .filter(|c| c.read > 0.0 && c.read.is_finite())
        .map(|c| (c.level.clone(), c.read))
        .collect();
    if !roofs.iter().any(|(l, _)| l == "memory") && stream.read > 0.0 {
        roofs.push(("memory".into(), stream.read));
    }
    if roofs.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "a roofline needs the probe's bandwidths: this Machine has none",
        ));
    }
    let memory_bw = roofs
        .iter()
        .find(|(l, _)| l == "memory")
        .map_or(roofs[roofs.len() - 1].1, |r| r.1);
    let ridge = peak_n / memory_bw;
    let slowest = roofs.iter().map(|r| r.1).fold(f64::INFINITY, f64::min);
    let fastest = roofs.iter().map(|r| r.1).fold(0.0, f64::max);

    // Axes: a decade around every point, the ridge and the roofs' corners.
    let xs = points
        .iter()
        .map(|p| p.intensity)
        .chain([ridge, peak_n / fastest]);
    let x0 = xs.clone().fold(f64::INFINITY, f64::min).min(1.0 / 64.0) / 2.0;
    let x1 = xs.fold(0.0, f64::max).max(16.0) * 2.0;
    let y0 = points
        .iter()
        .map(|p| p.gflops)
        .chain([slowest * x0])
        .fold(f64::INFINITY, f64::min)
        / 2.0;
    let y1 = peak_n.max(peak_1) * 2.5;
    let (x0, x1) = (nice_floor(x0), nice_ceil(x1));
    let (y0, y1) = (nice_floor(y0), nice_ceil(y1));

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20).into_font().color(&BLACK))
            .margin(14)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc("arithmetic intensity (FLOP/byte)")
            .y_desc(format!("{prec} GFLOP/s"))
            .x_label_formatter(&|v| decade_label(*v))
            .y_label_formatter(&|v| decade_label(*v))
            .label_style(("sans-serif", 14).into_font().color(&BLACK))
            .axis_desc_style(("sans-serif", 15).into_font().color(&BLACK))
            .max_light_lines(1)
            .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
            .draw()
            .map_err(plot_error)?;

        // Flat roofs: the peak on 1 thread and on all of them.
        let grey = RGBColor(0x44, 0x44, 0x44);
        let mut peaks = vec![(1usize, peak_1)];
        if threads > 1 {
            peaks.push((threads, peak_n));
        }
        for (k, &(t, peak)) in peaks.iter().enumerate() {
            let width = if k + 1 == peaks.len() { 2 } else { 1 };
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(x0, peak), (x1, peak)],
                    8,
                    5,
                    grey.stroke_width(width),
                ))
                .map_err(plot_error)?
                .label(format!(
                    "{prec} peak, {t} thread{}: {} GFLOP/s",
                    if t == 1 { "" } else { "s" },
                    super::tick(peak)
                ))
                .legend(move |(x, y)| {
                    plotters::element::DashedPathElement::new(
                        vec![(x, y), (x + 20, y)],
                        4,
                        3,
                        grey.stroke_width(width),
                    )
                });
        }
        // Sloped roofs, each up to where it meets the peak.
        for (i, (level, bw)) in roofs.iter().enumerate() {
            let color = PALETTE[(i + 1) % PALETTE.len()];
            let corner = peak_n / bw;
            let line = vec![(x0, bw * x0), (corner.min(x1), (bw * corner).min(peak_n))];
            chart
                .draw_series(LineSeries::new(line, color.stroke_width(2)))
                .map_err(plot_error)?
                .label(format!("{level}: {} GB/s", super::tick(*bw)))
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
                });
        }
        // The ridge point of memory.
        chart
            .draw_series(std::iter::once(Cross::new(
                (ridge, peak_n),
                6,
                BLACK.stroke_width(2),
            )))
            .map_err(plot_error)?;
        chart
            .draw_series(std::iter::once(Text::new(
                format!("ridge {} FLOP/byte", super::tick(ridge)),
                (ridge, peak_n * 1.25),
                ("sans-serif", 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            )))
            .map_err(plot_error)?;
        // The kernels.
        for (i, p) in points.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let shape = i % 2;
            let at = (p.intensity, p.gflops);
            if shape == 0 {
                chart
                    .draw_series(std::iter::once(Circle::new(at, 6, color.filled())))
                    .map_err(plot_error)?
            } else {
                chart
                    .draw_series(std::iter::once(TriangleMarker::new(at, 7, color.filled())))
                    .map_err(plot_error)?
            }
            .label(format!(
                "{}: {} GFLOP/s at {} FLOP/byte",
                p.name,
                super::tick(p.gflops),
                super::tick(p.intensity)
            ))
            .legend(
                move |(x, y)| -> DynElement<'static, SVGBackend, (i32, i32)> {
                    if shape == 0 {
                        Circle::new((x + 10, y), 5, color.filled()).into_dyn()
                    } else {
                        TriangleMarker::new((x + 10, y), 6, color.filled()).into_dyn()
                    }
                },
            );
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(0xaa, 0xaa, 0xaa))
            .label_font(("sans-serif", 12).into_font().color(&BLACK))
            .draw()
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(Svg::themed(svg))
}

/// A power of ten at or below `x`.
fn nice_floor(x: f64) -> f64 {
    10f64.powf(x.log10().floor())
}

/// A power of ten at or above `x`.
fn nice_ceil(x: f64) -> f64 {
    10f64.powf(x.log10().ceil())
}

/// Labels only 1, 2 and 5 × 10ᵏ on a log axis, so labels are distinct and
/// spread over the decades (plotters offers every key point; formatted to a
/// few digits, 95 and 100 would both read "100").
pub(crate) fn decade_label(v: f64) -> String {
    if v <= 0.0 || !v.is_finite() {
        return String::new();
    }
    let mantissa = v / 10f64.powf(v.log10().floor());
    if [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|m| (mantissa - m).abs() < 1e-6 * m)
    {
        super::tick(v)
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_texts;
    use crate::timing::machine::{Ceiling, PeakPoint, ProbeConfig, StreamPoint};

    fn machine() -> Machine {
        let mut m = Machine::probe_with(&ProbeConfig {
            max_bytes: 1 << 16,
            stream_reps: 1,
            peak_seconds: 1e-4,
            threads: vec![1],
            apply: false,
        })
        .unwrap();
        let roof = |level: &str, read| Ceiling {
            level: level.into(),
            cache_bytes: None,
            working_set: 0,
            read,
        };
        m.stream = vec![
            StreamPoint {
                threads: 1,
                read: 20.0,
                ceilings: vec![
                    roof("L1", 400.0),
                    roof("L2", 150.0),
                    roof("L3", 80.0),
                    roof("memory", 20.0),
                ],
                ..Default::default()
            },
            StreamPoint {
                threads: 2,
                read: 35.0,
                ceilings: vec![roof("L1", 800.0), roof("memory", 35.0)],
                ..Default::default()
            },
        ];
        m.peak = vec![
            PeakPoint {
                threads: 1,
                f32: 128.0,
                f64: 64.0,
            },
            PeakPoint {
                threads: 2,
                f32: 256.0,
                f64: 128.0,
            },
        ];
        m
    }

    #[test]
    fn roofs_ridge_points_and_units() {
        let pts = [
            RooflinePoint {
                name: "add".into(),
                intensity: 1.0 / 12.0,
                gflops: 2.5,
            },
            RooflinePoint {
                name: "matmul".into(),
                intensity: 40.0,
                gflops: 100.0,
            },
        ];
        let svg = roofline("roof", &machine(), 2, Precision::F64, &pts).unwrap();
        let texts = svg_texts(svg.as_str());
        for t in [
            "f64 peak, 1 thread: 64 GFLOP/s",
            "f64 peak, 2 threads: 128 GFLOP/s",
            "L1: 800 GB/s",
            "memory: 35 GB/s",
            "ridge 3.66 FLOP/byte",
            "arithmetic intensity (FLOP/byte)",
            "f64 GFLOP/s",
            "add: 2.5 GFLOP/s at 0.083 FLOP/byte",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing in {texts:?}");
        }
        assert!(!svg.as_str().contains("NaN"));
        // Enough tick labels, and none twice on one axis (a value may appear
        // once on x and once on y).
        let ticks: Vec<&String> = texts.iter().filter(|t| t.parse::<f64>().is_ok()).collect();
        assert!(ticks.len() >= 8, "{ticks:?}");
        for t in &ticks {
            assert!(
                ticks.iter().filter(|u| u == &t).count() <= 2,
                "{t} repeats: {ticks:?}"
            );
        }
    }

    #[test]
    fn bad_points_and_empty_machines_are_named() {
        let bad = [RooflinePoint {
            name: "sum".into(),
            intensity: 0.0,
            gflops: 1.0,
        }];
        let e = roofline("r", &machine(), 1, Precision::F64, &bad).unwrap_err();
        assert!(e.to_string().contains("\"sum\""), "{e}");
        let mut m = machine();
        m.peak.clear();
        let e = roofline("r", &m, 1, Precision::F64, &[]).unwrap_err();
        assert!(e.to_string().contains("no peak"), "{e}");
    }

    #[test]
    fn decade_labels_are_one_two_five() {
        assert_eq!(decade_label(100.0), "100");
        assert_eq!(decade_label(0.2), "0.2");
        assert_eq!(decade_label(95.0), "");
        assert_eq!(decade_label(3.0), "");
    }
}
