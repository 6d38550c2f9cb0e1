//! Legends that never cover the data: a box placed in the first corner of
//! the plot area (or edge middle) free of every plotted point, line and
//! ceiling, else outside the plot on the right; and series styles that stay
//! distinct for any number of series.

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{PALETTE, plot_error};
use crate::error::Result;

/// The border colour of a legend box (tests find the box by it).
pub(crate) const BORDER: RGBColor = RGBColor(0xaa, 0xaa, 0xaa);

/// Font size of legend text, in pixels.
const FONT: u32 = 13;
/// Height of a legend row.
const ROW: i32 = 18;
/// Width of the sample (line and marker) before each label.
const SAMPLE: i32 = 26;
/// Padding inside the box and between the box and the plot's edges.
const PAD: i32 = 6;

/// Colours after [`PALETTE`]'s six, no grey (greys are for ceilings): as
/// PALETTE, a contrast of at least 3:1 on JupyterLab's dark page (#111) and
/// 2.3:1 on white.
const MORE: [RGBColor; 6] = [
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x63, 0x79, 0x39),
    RGBColor(0x11, 0x9e, 0xad),
    RGBColor(0x9a, 0x9b, 0x10),
    RGBColor(0x7b, 0x68, 0xee),
    RGBColor(0xb8, 0x86, 0x0b),
];

/// A marker shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Square,
    Diamond,
}

/// How series `i` is drawn: twelve colours, then the colours again with
/// another marker and a dashed line, so no two series look the same.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    pub color: RGBColor,
    pub marker: Marker,
    pub dashed: bool,
}

/// The style of series `i` (0-based).
pub(crate) fn style(i: usize) -> Style {
    let color = if i % 12 < 6 {
        PALETTE[i % 6]
    } else {
        MORE[i % 6]
    };
    let marker = [
        Marker::Circle,
        Marker::Triangle,
        Marker::Square,
        Marker::Diamond,
    ][(i / 12) % 4];
    Style {
        color,
        marker,
        dashed: (i / 12) % 2 == 1,
    }
}

/// Draws `marker` of radius `r` at a backend pixel.
pub(crate) fn draw_marker(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    marker: Marker,
    at: (i32, i32),
    r: i32,
    color: RGBColor,
) -> Result<()> {
    let (x, y) = at;
    match marker {
        Marker::Circle => area.draw(&Circle::new(at, r, color.filled())),
        Marker::Triangle => area.draw(&Polygon::new(
            vec![(x, y - r - 1), (x - r - 1, y + r), (x + r + 1, y + r)],
            color.filled(),
        )),
        Marker::Square => area.draw(&Rectangle::new(
            [(x - r, y - r), (x + r, y + r)],
            color.filled(),
        )),
        Marker::Diamond => area.draw(&Polygon::new(
            vec![
                (x, y - r - 1),
                (x + r + 1, y),
                (x, y + r + 1),
                (x - r - 1, y),
            ],
            color.filled(),
        )),
    }
    .map_err(plot_error)
}

/// Draws a (possibly dashed) polyline through backend pixels.
pub(crate) fn draw_line(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    points: &[(i32, i32)],
    color: RGBColor,
    width: u32,
    dashed: bool,
) -> Result<()> {
    if points.len() < 2 {
        return Ok(());
    }
    let style = color.stroke_width(width);
    if dashed {
        area.draw(&DashedPathElement::new(points.to_vec(), 7, 4, style))
            .map_err(plot_error)?;
    } else {
        area.draw(&PathElement::new(points.to_vec(), style))
            .map_err(plot_error)?;
    }
    Ok(())
}

/// One legend row.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub label: String,
    pub color: RGBColor,
    /// Line width of the sample, 0 for a marker only.
    pub width: u32,
    pub dashed: bool,
    pub marker: Option<Marker>,
}

/// The approximate width of `text` at `size` pixels in a sans-serif font.
pub(crate) fn text_width(text: &str, size: u32) -> i32 {
    let w: f64 = text
        .chars()
        .map(|c| {
            if c.is_ascii_uppercase() || "mwMW%".contains(c) {
                0.72
            } else if "il.,:;|!'()[] ".contains(c) {
                0.32
            } else {
                0.58
            }
        })
        .sum();
    // SVG text of plotters is drawn at size / 1.24; a little margin kept.
    (w * size as f64 * 0.9).ceil() as i32
}

/// Width and height of the legend box of `entries`.
pub(crate) fn size(entries: &[Entry]) -> (i32, i32) {
    let text = entries
        .iter()
        .map(|e| text_width(&e.label, FONT))
        .max()
        .unwrap_or(0);
    (
        PAD + SAMPLE + 6 + text + PAD,
        2 * PAD + ROW * entries.len() as i32 - 4,
    )
}

/// Pixels along a polyline through `points`, at most `step` apart: what a
/// legend box must not cover.
pub(crate) fn sample_path(points: &[(i32, i32)], step: f64, out: &mut Vec<(i32, i32)>) {
    if let [only] = points {
        out.push(*only);
    }
    for w in points.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (dx, dy) = ((b.0 - a.0) as f64, (b.1 - a.1) as f64);
        let n = ((dx.hypot(dy) / step).ceil() as usize).clamp(1, 4000);
        for k in 0..=n {
            let t = k as f64 / n as f64;
            out.push((
                (a.0 as f64 + t * dx).round() as i32,
                (a.1 as f64 + t * dy).round() as i32,
            ));
        }
    }
}

/// The top-left corner of a `w`×`h` box inside the plot area `plot` (x and y
/// pixel ranges) that keeps `margin` pixels away from every obstacle: the
/// upper corners first, then the lower ones, then the middles of the edges,
/// then anywhere along the right or left edge, then anywhere.
pub(crate) fn free_spot(
    (w, h): (i32, i32),
    plot: (std::ops::Range<i32>, std::ops::Range<i32>),
    obstacles: &[(i32, i32)],
    margin: i32,
) -> Option<(i32, i32)> {
    let (xr, yr) = plot;
    let (left, right) = (xr.start + PAD + 2, xr.end - PAD - 2 - w);
    let (top, bottom) = (yr.start + PAD, yr.end - PAD - h);
    if right < left || bottom < top {
        return None;
    }
    let (cx, cy) = ((left + right) / 2, (top + bottom) / 2);
    let candidates = [
        (left, top),
        (right, top),
        (right, bottom),
        (left, bottom),
        (cx, top),
        (cx, bottom),
        (left, cy),
        (right, cy),
    ];
    // Then anywhere along the right and left edges, then anywhere at all.
    let ys: Vec<i32> = (top..=bottom).step_by(6).chain([bottom]).collect();
    let xs: Vec<i32> = (left..=right).step_by(16).chain([right]).collect();
    let edges = ys.iter().flat_map(|&y| [(right, y), (left, y)]);
    let anywhere = ys
        .iter()
        .flat_map(|&y| xs.iter().rev().map(move |&x| (x, y)));
    candidates
        .into_iter()
        .chain(edges)
        .chain(anywhere)
        .find(|&(x, y)| {
            !obstacles.iter().any(|&(px, py)| {
                px >= x - margin && px <= x + w + margin && py >= y - margin && py <= y + h + margin
            })
        })
}

/// Draws the legend box with its top-left corner at `at`.
pub(crate) fn draw(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    entries: &[Entry],
    at: (i32, i32),
) -> Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let (w, h) = size(entries);
    let (x, y) = at;
    area.draw(&Rectangle::new([(x, y), (x + w, y + h)], WHITE.filled()))
        .map_err(plot_error)?;
    area.draw(&Rectangle::new(
        [(x, y), (x + w, y + h)],
        BORDER.stroke_width(1),
    ))
    .map_err(plot_error)?;
    for (k, e) in entries.iter().enumerate() {
        let mid = y + PAD + ROW * k as i32 + ROW / 2 - 2;
        let (s0, s1) = (x + PAD, x + PAD + SAMPLE);
        if e.width > 0 {
            draw_line(area, &[(s0, mid), (s1, mid)], e.color, e.width, e.dashed)?;
        }
        if let Some(m) = e.marker {
            draw_marker(area, m, ((s0 + s1) / 2, mid), 4, e.color)?;
        }
        area.draw(&Text::new(
            e.label.clone(),
            (s1 + 6, mid),
            ("sans-serif", FONT)
                .into_font()
                .color(&BLACK)
                .pos(Pos::new(HPos::Left, VPos::Center)),
        ))
        .map_err(plot_error)?;
    }
    Ok(())
}

/// Test helpers: the legend box and the plotted geometry of an SVG.
#[cfg(test)]
pub(crate) mod check {
    /// The value of attribute `name` in the tag `tag`.
    fn attr(tag: &str, name: &str) -> Option<f64> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        let end = tag[start..].find('"')? + start;
        tag[start..end].parse().ok()
    }

    /// Every `<rect>` with the legend's border colour: (x, y, w, h), and the
    /// byte offset where it starts.
    pub(crate) fn legend_boxes(svg: &str) -> Vec<((f64, f64, f64, f64), usize)> {
        let border = format!(
            "stroke=\"#{:02X}{:02X}{:02X}\"",
            super::BORDER.0,
            super::BORDER.1,
            super::BORDER.2
        );
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(i) = svg[from..].find("<rect") {
            let start = from + i;
            let end = svg[start..].find('>').map_or(svg.len(), |e| start + e);
            let tag = &svg[start..end];
            if let (true, Some(x), Some(y), Some(w), Some(h)) = (
                tag.to_ascii_uppercase()
                    .contains(&border.to_ascii_uppercase()),
                attr(tag, "x"),
                attr(tag, "y"),
                attr(tag, "width"),
                attr(tag, "height"),
            ) {
                out.push(((x, y, w, h), start));
            }
            from = end;
        }
        out
    }

    /// Points of every circle and polyline (sampled every 2 px along each
    /// segment) drawn before byte offset `before`: the plotted data.
    pub(crate) fn plotted_points(svg: &str, before: usize) -> Vec<(f64, f64)> {
        let svg = &svg[..before];
        let mut out = Vec::new();
        let mut from = 0;
        while let Some(i) = svg[from..].find('<') {
            let start = from + i;
            let end = svg[start..].find('>').map_or(svg.len(), |e| start + e);
            let tag = &svg[start..end];
            if tag.starts_with("<circle") {
                if let (Some(x), Some(y)) = (attr(tag, "cx"), attr(tag, "cy")) {
                    out.push((x, y));
                }
            } else if tag.starts_with("<rect")
                && !tag.contains("fill=\"none\"")
                && !tag.contains("fill=\"#FFFFFF\"")
            {
                // A filled bar: its whole area.
                if let (Some(x), Some(y), Some(w), Some(h)) = (
                    attr(tag, "x"),
                    attr(tag, "y"),
                    attr(tag, "width"),
                    attr(tag, "height"),
                ) {
                    let (mut px, mut py) = (x, y);
                    while px <= x + w {
                        while py <= y + h {
                            out.push((px, py));
                            py += 2.0;
                        }
                        out.push((px, y + h));
                        py = y;
                        px += 2.0;
                    }
                }
            } else if tag.starts_with("<polyline") || tag.starts_with("<polygon") {
                let key = " points=\"";
                if let Some(p) = tag.find(key) {
                    let rest = &tag[p + key.len()..];
                    let list = &rest[..rest.find('"').unwrap_or(rest.len())];
                    let pts: Vec<(f64, f64)> = list
                        .split_whitespace()
                        .filter_map(|xy| {
                            let (x, y) = xy.split_once(',')?;
                            Some((x.parse().ok()?, y.parse().ok()?))
                        })
                        .collect();
                    if let [only] = pts[..] {
                        out.push(only);
                    }
                    for w in pts.windows(2) {
                        let (a, b) = (w[0], w[1]);
                        let n = ((b.0 - a.0).hypot(b.1 - a.1) / 2.0).ceil().max(1.0) as usize;
                        for k in 0..=n {
                            let t = k as f64 / n as f64;
                            out.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
                        }
                    }
                }
            }
            from = end.max(start + 1);
        }
        out
    }

    /// The texts of the x and y tick labels: x labels are centred under the
    /// plot on one line, y labels right-aligned at one x.
    pub(crate) fn tick_labels(svg: &str) -> (Vec<String>, Vec<String>) {
        let mut texts = Vec::new();
        let mut from = 0;
        while let Some(i) = svg[from..].find("<text") {
            let start = from + i;
            let Some(open_end) = svg[start..].find('>').map(|e| start + e) else {
                break;
            };
            let Some(close) = svg[open_end..].find("</text>").map(|e| open_end + e) else {
                break;
            };
            let tag = &svg[start..open_end];
            let body = svg[open_end + 1..close].trim().to_string();
            let anchor = if tag.contains("text-anchor=\"end\"") {
                "end"
            } else if tag.contains("text-anchor=\"middle\"") && tag.contains("dy=\"0.76em\"") {
                "middle"
            } else {
                ""
            };
            if let (Some(x), Some(y)) = (attr(tag, "x"), attr(tag, "y")) {
                texts.push((anchor, x, y, body, tag.contains("rotate")));
            }
            from = close + 7;
        }
        // The x labels: the most common y among centred texts.
        let mut ys: Vec<f64> = texts
            .iter()
            .filter(|t| t.0 == "middle" && !t.4)
            .map(|t| t.2)
            .collect();
        ys.sort_by(f64::total_cmp);
        let x_line = ys
            .iter()
            .max_by_key(|&&y| ys.iter().filter(|&&v| v == y).count())
            .copied();
        let mut xs: Vec<f64> = texts.iter().filter(|t| t.0 == "end").map(|t| t.1).collect();
        xs.sort_by(f64::total_cmp);
        let y_line = xs
            .iter()
            .max_by_key(|&&x| xs.iter().filter(|&&v| v == x).count())
            .copied();
        let x_labels = texts
            .iter()
            .filter(|t| t.0 == "middle" && Some(t.2) == x_line && !t.3.is_empty())
            .map(|t| t.3.clone())
            .collect();
        let y_labels = texts
            .iter()
            .filter(|t| t.0 == "end" && Some(t.1) == y_line && !t.3.is_empty())
            .map(|t| t.3.clone())
            .collect();
        (x_labels, y_labels)
    }

    /// Panics unless both axes have at least `min` tick labels, all
    /// distinct, and no coordinate is NaN.
    pub(crate) fn assert_axes(svg: &str, min: usize) {
        assert!(!svg.contains("NaN"), "NaN in the chart");
        assert!(!svg.contains("inf"), "inf in the chart");
        let (x, y) = tick_labels(svg);
        for (axis, labels) in [("x", &x), ("y", &y)] {
            assert!(labels.len() >= min, "{axis} axis has the labels {labels:?}");
            let mut d = labels.clone();
            d.sort();
            d.dedup();
            assert_eq!(
                d.len(),
                labels.len(),
                "{axis} axis repeats a label: {labels:?}"
            );
        }
    }

    /// Writes `svg` to `$PARLAB_SVG_DIR/name.svg` when that is set, to look at.
    pub(crate) fn keep(name: &str, svg: &str) {
        if let Ok(dir) = std::env::var("PARLAB_SVG_DIR") {
            let _ = std::fs::write(format!("{dir}/{name}.svg"), svg);
        }
    }

    /// Panics when a legend box of `svg` covers a plotted point (markers
    /// count with a 3 px radius), or when there is no legend box.
    pub(crate) fn assert_legend_clear(svg: &str) {
        let boxes = legend_boxes(svg);
        assert!(!boxes.is_empty(), "no legend box in the chart");
        for ((x, y, w, h), at) in boxes {
            let pts = plotted_points(svg, at);
            assert!(!pts.is_empty(), "no plotted points before the legend");
            for (px, py) in pts {
                let inside =
                    px >= x - 3.0 && px <= x + w + 3.0 && py >= y - 3.0 && py <= y + h + 3.0;
                assert!(
                    !inside,
                    "the legend box ({x}, {y}, {w}×{h}) covers the plotted point ({px}, {py})"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_and_more_series_look_different() {
        let styles: Vec<Style> = (0..30).map(style).collect();
        for i in 0..styles.len() {
            for j in 0..i {
                assert_ne!(styles[i], styles[j], "series {i} and {j}");
            }
        }
        let colours: Vec<RGBColor> = (0..12).map(|i| style(i).color).collect();
        for i in 0..12 {
            assert!(!colours[..i].contains(&colours[i]), "colour {i} repeats");
        }
    }

    #[test]
    fn extra_colours_read_on_white_and_on_a_dark_page() {
        let lum = |c: RGBColor| {
            let f = |v: u8| {
                let v = f64::from(v) / 255.0;
                if v <= 0.03928 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * f(c.0) + 0.7152 * f(c.1) + 0.0722 * f(c.2)
        };
        let contrast = |a: RGBColor, b: RGBColor| {
            let (x, y) = (lum(a), lum(b));
            (x.max(y) + 0.05) / (x.min(y) + 0.05)
        };
        for c in MORE {
            assert!(
                contrast(c, RGBColor(0x11, 0x11, 0x11)) >= 3.0,
                "{c:?} on #111"
            );
            assert!(contrast(c, WHITE) >= 2.3, "{c:?} on white");
            assert!(!(c.0 == c.1 && c.1 == c.2), "{c:?} is a grey");
        }
    }

    #[test]
    fn free_spot_avoids_obstacles() {
        let plot = (0..400, 0..300);
        let at = free_spot((100, 50), plot.clone(), &[], 4).unwrap();
        assert_eq!(at, (8, 6));
        // Everything on the left half is taken.
        let left: Vec<(i32, i32)> = (0..200)
            .flat_map(|x| (0..300).map(move |y| (x, y)))
            .step_by(3)
            .collect();
        let (x, _) = free_spot((100, 50), plot.clone(), &left, 4).unwrap();
        assert!(x >= 200);
        let all: Vec<(i32, i32)> = (0..400)
            .flat_map(|x| (0..300).map(move |y| (x, y)))
            .step_by(5)
            .collect();
        assert_eq!(free_spot((100, 50), plot, &all, 4), None);
    }
}
