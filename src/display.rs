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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Svg(pub String);

impl Svg {
    /// Shows the image in the notebook.
    pub fn evcxr_display(&self) {
        emit("image/svg+xml", &self.0);
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
    fn table_escapes_cells() {
        let t = html_table(&["a<b"], &[vec!["x & y"]]);
        assert!(t.0.contains("<th>a&lt;b</th>"));
        assert!(t.0.contains("<td>x &amp; y</td>"));
    }
}
