//! A Gantt chart of a [`Timeline`]: one row per thread, one bar per span.

use plotters::prelude::*;

use super::{PALETTE, SIZE, plot_error};
use crate::display::Svg;
use crate::error::Result;
use crate::timing::timeline::Timeline;

/// Draws `t` (time in ms on x; threads on y, named).
pub(crate) fn gantt(t: &Timeline) -> Result<Svg> {
    let n = t.threads().max(1);
    let end = t
        .spans
        .iter()
        .map(|s| s.end)
        .fold(t.wall, f64::max)
        .max(1e-9)
        * 1e3;
    let height = (120 + 36 * n as u32).clamp(200, SIZE.1 + 200);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (SIZE.0, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let busy = t.busy();
        let title = format!(
            "who ran what: {} span(s) on {} thread(s){}",
            t.spans.len(),
            t.threads(),
            t.imbalance()
                .map_or(String::new(), |i| format!(", imbalance {i:.2}"))
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 18).into_font().color(&BLACK))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..end * 1.02, -0.5..(n as f64 - 0.5))
            .map_err(plot_error)?;
        let names = t.thread_names.clone();
        chart
            .configure_mesh()
            .x_desc("time (ms)")
            .y_labels(n)
            .y_label_formatter(&|v| {
                let k = v.round();
                if (v - k).abs() < 1e-6 && k >= 0.0 && (k as usize) < names.len() {
                    let i = k as usize;
                    format!(
                        "{} ({:.0} %)",
                        names[i],
                        100.0 * busy[i] / t.wall.max(f64::MIN_POSITIVE)
                    )
                } else {
                    String::new()
                }
            })
            .x_label_formatter(&|v| super::tick(*v))
            .label_style(("sans-serif", 13).into_font().color(&BLACK))
            .axis_desc_style(("sans-serif", 15).into_font().color(&BLACK))
            .disable_y_mesh()
            .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
            .draw()
            .map_err(plot_error)?;
        chart
            .draw_series(t.spans.iter().enumerate().map(|(i, s)| {
                let y = s.thread as f64;
                let color = PALETTE[i % PALETTE.len()];
                Rectangle::new(
                    [(s.start * 1e3, y - 0.35), (s.end * 1e3, y + 0.35)],
                    color.mix(0.85).filled(),
                )
            }))
            .map_err(plot_error)?;
        // Span labels where the bar is wide enough to hold them.
        chart
            .draw_series(t.spans.iter().filter_map(|s| {
                let width = (s.end - s.start) * 1e3 / end;
                (width > 0.009 * s.label.len() as f64).then(|| {
                    Text::new(
                        s.label.clone(),
                        (s.start * 1e3 + 0.004 * end, s.thread as f64 + 0.12),
                        ("sans-serif", 12).into_font().color(&WHITE),
                    )
                })
            }))
            .map_err(plot_error)?;
        root.present().map_err(plot_error)?;
    }
    Ok(Svg::themed(svg))
}
