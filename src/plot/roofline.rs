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

use super::axis::{Axis, log_ticks, nice_ceil, nice_floor, sig};
use super::frame::{Frame, legend_inside_or_outside, outside_at};
use super::legend::{self, Entry};
use super::{check_finite, plot_error};
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
/// let mut m = Machine::probe_with(&ProbeConfig::tiny())?;
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
    let xa = Axis::with_ticks(x0, x1, true, log_ticks(x0, x1));
    let ya = Axis::with_ticks(y0, y1, true, log_ticks(y0, y1));

    // Flat roofs: the peak on 1 thread and on all of them.
    let mut peaks = vec![(1usize, peak_1)];
    if threads > 1 {
        peaks.push((threads, peak_n));
    }
    let greys = [RGBColor(0x99, 0x99, 0x99), RGBColor(0x33, 0x33, 0x33)];
    let peak_style = |k: usize| {
        let last = k + 1 == peaks.len();
        (greys[usize::from(last)], if last { 2 } else { 1 })
    };
    // Styles: the roofs take the first, the kernels the next ones.
    let roof_style = |i: usize| legend::style(i);
    let point_style = |i: usize| legend::style(roofs.len() + i);
    let mut entries: Vec<Entry> = Vec::new();
    for (k, &(t, peak)) in peaks.iter().enumerate() {
        let (color, width) = peak_style(k);
        entries.push(Entry {
            label: format!(
                "{prec} peak, {t} thread{}: {} GFLOP/s",
                if t == 1 { "" } else { "s" },
                sig(peak, 4)
            ),
            color,
            width,
            dashed: true,
            marker: None,
        });
    }
    for (i, (level, bw)) in roofs.iter().enumerate() {
        entries.push(Entry {
            label: format!("{level}: {} GB/s", sig(*bw, 4)),
            color: roof_style(i).color,
            width: 2,
            dashed: roof_style(i).dashed,
            marker: None,
        });
    }
    for (i, p) in points.iter().enumerate() {
        entries.push(Entry {
            label: format!(
                "{}: {} GFLOP/s at {} FLOP/byte",
                p.name,
                sig(p.gflops, 4),
                sig(p.intensity, 3)
            ),
            color: point_style(i).color,
            width: 0,
            dashed: false,
            marker: Some(point_style(i).marker),
        });
    }
    let (lw, lh) = legend::size(&entries);

    let render = |outside: bool| -> Result<Option<String>> {
        let y_desc = format!("{prec} GFLOP/s");
        let frame = Frame {
            title,
            x_desc: "arithmetic intensity (FLOP/byte)",
            y_desc: &y_desc,
            x_grid: true,
        };
        frame.render(&xa, &ya, lw, outside, |chart, root| {
            let plot = chart.plotting_area().get_pixel_range();
            let mut taken = Vec::new();
            for (k, &(_, peak)) in peaks.iter().enumerate() {
                let (color, width) = peak_style(k);
                let line = [
                    chart.backend_coord(&(x0, peak)),
                    chart.backend_coord(&(x1, peak)),
                ];
                legend::draw_line(root, &line, color, width, true)?;
                legend::sample_path(&line, 3.0, &mut taken);
            }
            // Sloped roofs, each up to where it meets the peak.
            for (i, (_, bw)) in roofs.iter().enumerate() {
                let corner = peak_n / bw;
                // From the bottom or left edge, whichever the roof meets.
                let start = x0.max(y0 / bw);
                let line = [
                    chart.backend_coord(&(start, bw * start)),
                    chart.backend_coord(&(corner.min(x1), (bw * corner).min(peak_n))),
                ];
                let st = roof_style(i);
                legend::draw_line(root, &line, st.color, 2, st.dashed)?;
                legend::sample_path(&line, 3.0, &mut taken);
            }
            // The ridge point of memory, and its label.
            let ridge_px = chart.backend_coord(&(ridge, peak_n));
            root.draw(&Cross::new(ridge_px, 6, BLACK.stroke_width(2)))
                .map_err(plot_error)?;
            let ridge_text = format!("ridge {} FLOP/byte", sig(ridge, 3));
            let tw = legend::text_width(&ridge_text, 13);
            let text_at = (ridge_px.0, ridge_px.1 - 8);
            root.draw(&Text::new(
                ridge_text,
                text_at,
                ("sans-serif", 13)
                    .into_font()
                    .color(&BLACK)
                    .pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))
            .map_err(plot_error)?;
            for dx in (-tw / 2..=tw / 2).step_by(4) {
                for dy in [0, -7, -14] {
                    taken.push((text_at.0 + dx, text_at.1 + dy));
                }
            }
            taken.push(ridge_px);
            // The kernels.
            for (i, p) in points.iter().enumerate() {
                let st = point_style(i);
                let at = chart.backend_coord(&(p.intensity, p.gflops));
                legend::draw_marker(root, st.marker, at, 6, st.color)?;
                for dx in [-6, 0, 6] {
                    for dy in [-6, 0, 6] {
                        taken.push((at.0 + dx, at.1 + dy));
                    }
                }
            }
            let at = if outside {
                outside_at(plot.1.start)
            } else {
                // Lower right first: under the roofs is where there is room.
                let lower_right = (plot.0.end - lw - 8, plot.1.end - lh - 6);
                let clear = |(x, y): (i32, i32)| {
                    !taken.iter().any(|&(px, py)| {
                        px >= x - 5 && px <= x + lw + 5 && py >= y - 5 && py <= y + lh + 5
                    })
                };
                if clear(lower_right) {
                    lower_right
                } else {
                    match legend::free_spot((lw, lh), plot, &taken, 5) {
                        Some(at) => at,
                        None => return Ok(false),
                    }
                }
            };
            legend::draw(root, &entries, at)?;
            Ok(true)
        })
    };
    legend_inside_or_outside(render)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::legend::check;
    use crate::plot::svg_texts;
    use crate::timing::machine::{Ceiling, PeakPoint, ProbeConfig, StreamPoint};

    fn machine() -> Machine {
        let mut m = Machine::probe_with(&ProbeConfig::tiny()).unwrap();
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
            "add: 2.5 GFLOP/s at 0.0833 FLOP/byte",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing in {texts:?}");
        }
        assert!(!svg.as_str().contains("NaN"));
        check::keep("roofline", svg.as_str());
        check::assert_axes(svg.as_str(), 3);
        check::assert_legend_clear(svg.as_str());
        // Kernels everywhere: the legend still covers none of them.
        let many: Vec<RooflinePoint> = (0..10)
            .map(|i| RooflinePoint {
                name: format!("k{i}"),
                intensity: 0.05 * 3f64.powi(i),
                gflops: 1.0 + 12.0 * i as f64,
            })
            .collect();
        let crowded = roofline("roof", &machine(), 2, Precision::F64, &many).unwrap();
        check::keep("roofline_many", crowded.as_str());
        check::assert_axes(crowded.as_str(), 3);
        check::assert_legend_clear(crowded.as_str());
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
}
