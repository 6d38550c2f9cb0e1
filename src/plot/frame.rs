//! The frame shared by the charts that draw their own axes and legend (line
//! charts, rooflines, histograms): the canvas, the title, the two axes and
//! their grid — and the rule for the legend: inside the plot where it covers
//! nothing, else outside on the right, on a canvas made wider for it.

use super::axis::Axis;
use super::{SIZE, plot_error};
use crate::display::Svg;
use crate::error::Result;
use plotters::coord::Shift;
use plotters::prelude::*;

/// The whole canvas.
pub(crate) type Root<'b> = DrawingArea<SVGBackend<'b>, Shift>;
/// The plot with parlab's axes.
pub(crate) type Axes<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<Axis, Axis>>;

/// What the frame says: the title and the axis descriptions.
pub(crate) struct Frame<'t> {
    pub title: &'t str,
    pub x_desc: &'t str,
    pub y_desc: &'t str,
    /// Vertical grid lines (a histogram has none: its bins are the grid).
    pub x_grid: bool,
}

impl Frame<'_> {
    /// Draws the frame on a canvas `legend_width` wider when `outside`, then
    /// the data with `draw`, which returns `false` when the legend found no
    /// free spot inside the plot (the chart is then drawn again, outside).
    pub(crate) fn render(
        &self,
        xa: &Axis,
        ya: &Axis,
        legend_width: i32,
        outside: bool,
        draw: impl FnOnce(&Axes<'_, '_>, &Root<'_>) -> Result<bool>,
    ) -> Result<Option<String>> {
        let width = if outside {
            SIZE.0 + legend_width.max(0) as u32 + 12
        } else {
            SIZE.0
        };
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (width, SIZE.1)).into_drawing_area();
            root.fill(&WHITE).map_err(plot_error)?;
            let area = if outside {
                root.split_horizontally(SIZE.0).0
            } else {
                root.clone()
            };
            let mut chart = ChartBuilder::on(&area)
                .caption(self.title, ("sans-serif", 20).into_font().color(&BLACK))
                .margin(14)
                .x_label_area_size(44)
                .y_label_area_size(64)
                .build_cartesian_2d(xa.clone(), ya.clone())
                .map_err(plot_error)?;
            let mut mesh = chart.configure_mesh();
            if !self.x_grid {
                mesh.disable_x_mesh();
            }
            mesh.x_desc(self.x_desc)
                .y_desc(self.y_desc)
                .label_style(("sans-serif", 14).into_font().color(&BLACK))
                .axis_desc_style(("sans-serif", 15).into_font().color(&BLACK))
                .light_line_style(RGBColor(0xf4, 0xf4, 0xf4))
                .bold_line_style(RGBColor(0xe2, 0xe2, 0xe2))
                .draw()
                .map_err(plot_error)?;
            if !draw(&chart, &root)? {
                return Ok(None);
            }
            root.present().map_err(plot_error)?;
        }
        Ok(Some(svg))
    }
}

/// Where a legend drawn outside goes: right of the plot, level with its top.
pub(crate) fn outside_at(plot_top: i32) -> (i32, i32) {
    (SIZE.0 as i32 + 4, plot_top)
}

/// The chart `render(outside)` draws, with its legend inside when it found a
/// free spot there, else drawn again with the legend outside.
pub(crate) fn legend_inside_or_outside(
    render: impl Fn(bool) -> Result<Option<String>>,
) -> Result<Svg> {
    match render(false)? {
        Some(svg) => Ok(Svg::themed(svg)),
        None => Ok(Svg::themed(render(true)?.unwrap_or_default())),
    }
}
