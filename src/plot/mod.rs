//! Charts as SVG, drawn with plotters, shown inline in notebooks.
//!
//! Every chart function returns an [`Svg`](crate::display::Svg): it displays
//! inline in evcxr as a cell's last value and saves with `.save(path)`. Charts
//! read plain values (numbers and labels), never timing internals, and draw on
//! a white background with dark text so they stay readable in light and dark
//! JupyterLab themes. Text is SVG `<text>`: no system fonts are needed.

mod bars;

pub use bars::{Bar, bars};

use crate::error::{Error, ErrorKind, Result};

/// Width and height of charts, in pixels.
pub const SIZE: (u32, u32) = (720, 400);

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
