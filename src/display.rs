//! Rich output in evcxr notebooks.
//!
//! evcxr shows the last expression of a cell through its `evcxr_display(&self)`
//! method when the type has one. That method prints a block
//!
//! ```text
//! EVCXR_BEGIN_CONTENT text/html
//! …
//! EVCXR_END_CONTENT
//! ```
//!
//! to standard output. The kernel parses the stream, so the whole block must
//! arrive in one write: [`emit`] formats it into one string and writes it with
//! one locked `write_all`. Within a cell a later block of the same MIME type
//! replaces the earlier one, so a cell that wants two charts shows them as one
//! HTML block (see [`Html::join`]).

use std::io::Write;

/// Whether this code runs inside an evcxr kernel (evcxr sets
/// `EVCXR_IS_RUNTIME` in the process that runs the cells).
pub fn in_evcxr() -> bool {
    std::env::var_os("EVCXR_IS_RUNTIME").is_some()
}

/// Writes one complete `EVCXR_BEGIN_CONTENT` block in a single write.
pub fn emit(mime: &str, content: &str) {
    let block = content_block(mime, content);
    let mut out = std::io::stdout().lock();
    // A closed stdout is not worth a panic in a notebook cell.
    let _ = out.write_all(block.as_bytes());
    let _ = out.flush();
}

/// The text [`emit`] writes: the block evcxr recognises, ending in a newline.
pub fn content_block(mime: &str, content: &str) -> String {
    let mut s = String::with_capacity(content.len() + mime.len() + 48);
    s.push_str("EVCXR_BEGIN_CONTENT ");
    s.push_str(mime);
    s.push('\n');
    s.push_str(content);
    if !content.ends_with('\n') {
        s.push('\n');
    }
    s.push_str("EVCXR_END_CONTENT\n");
    s
}

/// An HTML fragment that displays as HTML in a notebook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Html(pub String);

impl Html {
    /// The HTML text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shows the fragment in the notebook (what evcxr calls for a cell's last value).
    pub fn evcxr_display(&self) {
        emit("text/html", &self.0);
    }

    /// Puts several fragments into one block: a cell shows only its last block of
    /// each MIME type.
    pub fn join(parts: impl IntoIterator<Item = Html>) -> Html {
        Html(
            parts
                .into_iter()
                .map(|h| h.0)
                .collect::<Vec<_>>()
                .join("\n"),
        )
    }
}

impl std::fmt::Display for Html {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An SVG image that displays inline in a notebook and can be saved to a file.
///
/// parlab's charts are themed (see [`Svg::themed`]): in JupyterLab they take
/// the page's background and text colours, light or dark; saved to a file
/// they are dark on white.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(pub String);

impl Svg {
    /// Makes an SVG document follow the page's theme, the one step every
    /// parlab chart goes through.
    ///
    /// The root `<svg>` gets the class `parlab-chart` and a `<style>` block
    /// that recolours the neutral colours the charts draw with (presentation
    /// attributes such as `fill="#000000"` cannot hold `var()`, but a CSS rule
    /// overrides them):
    ///
    /// - a white rectangle (the background, a legend's box) becomes
    ///   `var(--jp-layout-color0, #FFFFFF)`;
    /// - black becomes `var(--jp-ui-font-color0, #000000)`;
    /// - any other grey `#GGGGGG` becomes the same mix of text colour and
    ///   background (`#F0F0F0`: 6 % text on the background), so grid lines
    ///   stay faint and secondary lines stay secondary on a dark page.
    ///
    /// Series colours and white text (labels on coloured bars) are unchanged.
    /// A document with a viewBox and no style of its own also gets
    /// `style="max-width:100%;height:auto"`: it shrinks to a narrow output
    /// area instead of being cut off.
    /// Outside JupyterLab (a saved file, nbconvert's light export) the
    /// variables are unset and the fallbacks, the original colours, apply.
    /// Applying it twice changes nothing.
    ///
    /// ```
    /// use parlab::display::Svg;
    /// let svg = Svg::themed(r##"<svg width="10" height="10"><rect fill="#FFFFFF"/></svg>"##);
    /// assert!(svg.as_str().starts_with(r#"<svg class="parlab-chart" "#));
    /// assert!(svg.as_str().contains("var(--jp-layout-color0,#FFFFFF)"));
    /// ```
    pub fn themed(svg: impl Into<String>) -> Svg {
        Svg(theme_svg(svg.into()))
    }

    /// Shows the image in the notebook, inline as HTML so that it follows the
    /// page's theme (JupyterLab draws `image/svg+xml` in an `<img>`, which the
    /// page's CSS variables do not reach, and whose `<title>` tooltips do not
    /// show).
    pub fn evcxr_display(&self) {
        emit("text/html", &self.to_html().0);
    }

    /// The SVG as an HTML fragment (without an XML declaration or doctype),
    /// for [`Html::join`] with tables and other charts.
    pub fn to_html(&self) -> Html {
        Html(inline_svg(&self.0).to_string())
    }

    /// The SVG document as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Writes the SVG to `path` atomically (a temporary file, then rename).
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) naming the path.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> crate::Result<()> {
        crate::export::write_atomic(path.as_ref(), self.0.as_bytes())
    }
}

/// The class the root `<svg>` of a themed chart carries.
pub(crate) const CHART_CLASS: &str = "parlab-chart";

/// The document from its `<svg` tag on: an XML declaration, a doctype or a
/// comment before it mean nothing inside HTML.
fn inline_svg(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

/// A `#RRGGBB` colour's grey level when it is a grey (`#GGGGGG`).
fn grey_level(hex: &str) -> Option<u8> {
    let h = hex.strip_prefix('#')?;
    if h.len() != 6 || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let c = |i: usize| u8::from_str_radix(&h[i..i + 2], 16).ok();
    let (r, g, b) = (c(0)?, c(2)?, c(4)?);
    (r == g && g == b).then_some(r)
}

/// The theme rules for the colours `svg` draws with (see [`Svg::themed`]).
fn theme_rules(svg: &str) -> String {
    const INK: &str = "var(--jp-ui-font-color0,#000000)";
    const PAPER: &str = "var(--jp-layout-color0,#FFFFFF)";
    let mut greys = std::collections::BTreeSet::new();
    for attr in ["fill=\"", "stroke=\""] {
        for (i, _) in svg.match_indices(attr) {
            let rest = &svg[i + attr.len()..];
            let value = rest.split('"').next().unwrap_or("");
            if let Some(level) = grey_level(value) {
                greys.insert((
                    attr.trim_end_matches("=\""),
                    value.to_ascii_uppercase(),
                    level,
                ));
            }
        }
    }
    let mut css = String::new();
    for (prop, hex, level) in greys {
        let sel = format!(".{CHART_CLASS} [{prop}=\"{hex}\" i]");
        match level {
            255 if prop == "fill" => css.push_str(&format!(
                ".{CHART_CLASS} rect[fill=\"{hex}\" i]{{fill:{PAPER}}}\n"
            )),
            255 => css.push_str(&format!("{sel}{{{prop}:{PAPER}}}\n")),
            0 => css.push_str(&format!("{sel}{{{prop}:{INK}}}\n")),
            g => {
                // The share of ink in this grey on white, rounded to a percent.
                let ink = (100.0 * (255.0 - f64::from(g)) / 255.0).round();
                css.push_str(&format!(
                    "{sel}{{{prop}:color-mix(in srgb,{INK} {ink}%,{PAPER})}}\n"
                ));
            }
        }
    }
    css
}

/// Adds the theme's class and `<style>` block to the root `<svg>` tag.
fn theme_svg(svg: String) -> String {
    let Some(start) = svg.find("<svg") else {
        return svg;
    };
    let Some(len) = svg[start..].find('>') else {
        return svg;
    };
    let tag = &svg[start..start + len];
    if tag.contains(CHART_CLASS) {
        return svg;
    }
    let rules = theme_rules(&svg);
    let mut out = String::with_capacity(svg.len() + rules.len() + 96);
    out.push_str(&svg[..start]);
    let attrs = svg[start + 4..start + len + 1].trim_start();
    // With a viewBox the chart can shrink to a narrow output area.
    let fit = if tag.contains("viewBox=") && !tag.contains("style=") {
        "style=\"max-width:100%;height:auto\" "
    } else {
        ""
    };
    if let Some(i) = attrs.find("class=\"") {
        // Join the tag's own classes.
        out.push_str("<svg ");
        out.push_str(fit);
        out.push_str(&attrs[..i + 7]);
        out.push_str(CHART_CLASS);
        out.push(' ');
        out.push_str(&attrs[i + 7..]);
    } else {
        out.push_str("<svg class=\"");
        out.push_str(CHART_CLASS);
        out.push_str("\" ");
        out.push_str(fit);
        out.push_str(attrs);
    }
    out.push_str("\n<style>\n");
    out.push_str(&rules);
    out.push_str("</style>");
    out.push_str(&svg[start + len + 1..]);
    out
}

/// A CSS `color` declaration for a status colour (`#1a7f37` green, `#cf222e`
/// red, …) that stays readable on light and dark pages: the colour mixed
/// with a quarter of the page's text colour, so darker on a light page and
/// lighter on a dark one; plain `color` for browsers without `color-mix`.
///
/// ```
/// let css = parlab::display::theme_color("#cf222e");
/// assert!(css.starts_with("color:#cf222e;"));
/// assert!(css.contains("var(--jp-ui-font-color0,#000000)"));
/// ```
pub fn theme_color(color: &str) -> String {
    format!("color:{color};color:color-mix(in srgb,{color} 75%,var(--jp-ui-font-color0,#000000))")
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A plain HTML table with a header row; cells are escaped.
pub fn html_table<S: AsRef<str>>(headers: &[&str], rows: &[Vec<S>]) -> Html {
    let mut s = String::from("<table class=\"parlab\">\n<thead><tr>");
    for h in headers {
        s.push_str("<th>");
        s.push_str(&escape_html(h));
        s.push_str("</th>");
    }
    s.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        s.push_str("<tr>");
        for cell in row {
            s.push_str("<td>");
            s.push_str(&escape_html(cell.as_ref()));
            s.push_str("</td>");
        }
        s.push_str("</tr>\n");
    }
    s.push_str("</tbody></table>");
    Html(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_is_complete_and_ends_with_newline() {
        let b = content_block("text/html", "<b>x</b>");
        assert_eq!(
            b,
            "EVCXR_BEGIN_CONTENT text/html\n<b>x</b>\nEVCXR_END_CONTENT\n"
        );
    }

    #[test]
    fn themed_svg_maps_neutral_colours_to_the_page_theme() {
        let raw = concat!(
            r##"<svg width="720" height="400" viewBox="0 0 720 400" xmlns="http://www.w3.org/2000/svg">"##,
            "\n",
            r##"<rect x="0" y="0" width="720" height="400" fill="#FFFFFF"/>"##,
            r##"<text fill="#000000">title</text><line stroke="#F0F0F0"/>"##,
            r##"<polyline stroke="#1F77B4"/><text fill="#FFFFFF">on a bar</text></svg>"##
        );
        let svg = Svg::themed(raw);
        let s = svg.as_str();
        assert!(
            s.starts_with(
                r##"<svg class="parlab-chart" style="max-width:100%;height:auto" width="720""##
            ),
            "{s}"
        );
        assert!(
            s.contains(
                r##".parlab-chart rect[fill="#FFFFFF" i]{fill:var(--jp-layout-color0,#FFFFFF)}"##
            ),
            "{s}"
        );
        assert!(
            s.contains(
                r##".parlab-chart [fill="#000000" i]{fill:var(--jp-ui-font-color0,#000000)}"##
            ),
            "{s}"
        );
        assert!(s.contains(r##"[stroke="#F0F0F0" i]{stroke:color-mix(in srgb,var(--jp-ui-font-color0,#000000) 6%,var(--jp-layout-color0,#FFFFFF))}"##), "{s}");
        // Series colours and white text keep their colours.
        assert!(!s.contains("1F77B4\" i"), "{s}");
        assert_eq!(s.matches("#FFFFFF\" i]").count(), 1, "{s}");
        // Once is enough.
        assert_eq!(Svg::themed(s).as_str(), s);
        // Everything drawn is still there.
        assert!(
            s.ends_with(r##"<text fill="#FFFFFF">on a bar</text></svg>"##),
            "{s}"
        );
    }

    #[test]
    fn themed_svg_joins_an_existing_class_and_html_drops_the_prolog() {
        let svg = Svg::themed(
            r##"<?xml version="1.0"?><!DOCTYPE svg><svg class="fg" width="9"><text fill="#000">x</text></svg>"##,
        );
        assert!(
            svg.as_str()
                .contains(r##"<svg class="parlab-chart fg" width="9">"##),
            "{}",
            svg.as_str()
        );
        assert!(
            svg.to_html()
                .as_str()
                .starts_with("<svg class=\"parlab-chart fg\"")
        );
    }

    /// WCAG contrast ratio of two sRGB colours.
    fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
        let lum = |c: [u8; 3]| {
            let lin = |v: u8| {
                let v = f64::from(v) / 255.0;
                if v <= 0.03928 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2])
        };
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn series_colours_read_on_white_and_on_jupyterlab_dark() {
        for c in crate::plot::PALETTE {
            let rgb = [c.0, c.1, c.2];
            let dark = contrast(rgb, [0x11; 3]);
            let light = contrast(rgb, [0xff; 3]);
            assert!(dark >= 3.0, "{rgb:?} on #111: {dark:.2}");
            assert!(light >= 2.3, "{rgb:?} on white: {light:.2}");
        }
    }

    #[test]
    fn status_colours_mixed_with_the_text_colour_read_on_both_pages() {
        // theme_color mixes 75 % of the colour with 25 % of the text colour.
        let mix = |c: [u8; 3], ink: u8| {
            c.map(|v| (0.75 * f64::from(v) + 0.25 * f64::from(ink)).round() as u8)
        };
        for c in [
            [0x1a, 0x7f, 0x37],
            [0xcf, 0x22, 0x2e],
            [0x6e, 0x77, 0x81],
            [0xb4, 0x53, 0x09],
        ] {
            assert!(contrast(mix(c, 0xff), [0x11; 3]) >= 4.5, "{c:?} on dark");
            assert!(contrast(mix(c, 0x00), [0xff; 3]) >= 4.5, "{c:?} on light");
        }
    }

    #[test]
    fn table_escapes_cells() {
        let t = html_table(&["a<b"], &[vec!["x & y"]]);
        assert!(t.0.contains("<th>a&lt;b</th>"));
        assert!(t.0.contains("<td>x &amp; y</td>"));
    }
}
