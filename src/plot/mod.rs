//! Charts as SVG, drawn with plotters, shown inline in notebooks.
//!
//! Every chart function returns an [`Svg`](crate::display::Svg): it displays
//! inline in evcxr as a cell's last value and saves with `.save(path)`. Charts
//! read plain values (numbers and labels), never timing internals. They are
//! drawn dark on white and then themed ([`Svg::themed`](crate::display::Svg::themed)):
//! in JupyterLab, light or dark, the background, text, axes and grid take the
//! page's colours; a saved file stays dark on white. Text is SVG `<text>`: no
//! system fonts are needed.

mod axis;
mod bars;
mod frame;
mod gantt;
mod histogram;
mod image;
mod legend;
mod lines;
mod profile;
mod results;
mod roofline;
mod samples;

pub use bars::{Bar, bars};
pub(crate) use gantt::gantt;
pub use histogram::{distribution, histogram};
pub use image::{ColorMap, Png, image, panels};
pub use lines::{Ceiling, LineChart, Series, scaling};
pub use roofline::{RooflinePoint, roofline};
pub use samples::strip;

use plotters::style::RGBColor;

use crate::error::{Error, ErrorKind, Result};

/// Series colours: distinguishable, and readable on a white page and on
/// JupyterLab's dark one (#111): each has a contrast of at least 3:1 on
/// #111, and at least 2.3:1 on white (the orange is the lightest).
pub(crate) const PALETTE: [RGBColor; 6] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x8c, 0x56, 0x4b),
];

/// A tick label: `500`, `2.5`, `0.04`, `10k`, `1M`, `100G` — no `1000000.0`.
pub(crate) fn tick(v: f64) -> String {
    let a = v.abs();
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    for (scale, suffix) in [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e4, "k")] {
        if a >= scale {
            let div = if suffix == "k" { 1e3 } else { scale };
            return format!("{}{}", trim(format!("{:.2}", v / div)), suffix);
        }
    }
    if a == 0.0 {
        "0".into()
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        let digits = (-a.log10()).ceil() as usize + 1;
        trim(format!("{v:.digits$}"))
    }
}

/// Width and height of charts, in pixels.
pub const SIZE: (u32, u32) = (720, 400);

/// A chart context on an SVG string with f64 axes.
pub(crate) type Chart<'a, 'b> = plotters::chart::ChartContext<
    'a,
    plotters::prelude::SVGBackend<'b>,
    plotters::prelude::Cartesian2d<
        plotters::coord::types::RangedCoordf64,
        plotters::coord::types::RangedCoordf64,
    >,
>;

/// Draws a chart with one column per label (at x = 0, 1, …) and y from 0 to
/// `top` on a white background; `draw` adds the series. Shared by bar and
/// strip charts.
pub(crate) fn categorical(
    title: &str,
    y_label: &str,
    labels: &[String],
    top: f64,
    draw: impl FnOnce(&mut Chart<'_, '_>) -> Result<()>,
) -> Result<crate::display::Svg> {
    use plotters::prelude::*;
    let n = labels.len();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20).into_font().color(&BLACK))
            .margin(14)
            .x_label_area_size(40)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..(n as f64 - 0.5), 0.0..top)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-9 && i >= 0.0 && (i as usize) < n {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .y_desc(y_label)
            .y_label_formatter(&|v| tick(*v))
            .label_style(("sans-serif", 14).into_font().color(&BLACK))
            .axis_desc_style(("sans-serif", 15).into_font().color(&BLACK))
            .max_light_lines(1)
            .light_line_style(RGBColor(0xf0, 0xf0, 0xf0))
            .draw()
            .map_err(plot_error)?;
        draw(&mut chart)?;
        root.present().map_err(plot_error)?;
    }
    Ok(crate::display::Svg::themed(svg))
}

pub(crate) fn plot_error(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Plot, format!("cannot draw the chart: {e}"))
}

pub(crate) fn check_finite(what: &str, label: &str, v: f64) -> Result<()> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidInput,
            format!("{what} of {label:?} is {v}: a chart needs finite values"),
        ))
    }
}

/// The text content of every `<text>` element of an SVG document, trimmed.
#[cfg(test)]
pub(crate) fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        rest = &rest[start..];
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let Some(close) = rest.find("</text>") else {
            break;
        };
        out.push(rest[open_end + 1..close].trim().to_string());
        rest = &rest[close + 7..];
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn ticks_are_short() {
        assert_eq!(super::tick(1000.0), "1000");
        assert_eq!(super::tick(100000000.0), "100M");
        assert_eq!(super::tick(10000.0), "10k");
        assert_eq!(super::tick(2.5), "2.5");
        assert_eq!(super::tick(500.0), "500");
        assert_eq!(super::tick(0.04), "0.04");
        assert_eq!(super::tick(0.0), "0");
    }
}
