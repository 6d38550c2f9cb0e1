//! 2D arrays as images with a colour map, encoded as PNG.

use base64::Engine as _;
use ndarray::ArrayView2;

use crate::display::{Html, escape_html};
use crate::error::{Error, ErrorKind, Result};

/// A PNG image that displays inline in a notebook and saves to a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Png {
    /// The encoded PNG file.
    pub bytes: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Png {
    /// Shows the image in a notebook.
    pub fn evcxr_display(&self) {
        crate::display::emit(
            "image/png",
            &base64::engine::general_purpose::STANDARD.encode(&self.bytes),
        );
    }

    /// The image as an HTML `<img>` with a caption under it (a `<figure>`
    /// with a `<figcaption>` in the page's text colour), for a cell's last
    /// value or [`Html::join`].
    ///
    /// ```
    /// use parlab::ndarray::Array2;
    /// use parlab::plot::{image, ColorMap};
    /// let png = image(Array2::<f32>::eye(8).view(), ColorMap::Gray).unwrap();
    /// let html = png.captioned("identity, 8×8");
    /// assert!(html.as_str().contains("<figcaption"));
    /// assert!(html.as_str().contains("identity, 8×8</figcaption>"));
    /// ```
    pub fn captioned(&self, caption: &str) -> Html {
        Html(format!(
            "<div class=\"parlab-panels\" style=\"display:flex;flex-wrap:wrap;gap:12px;\
             align-items:flex-start\">{}</div>",
            self.figure(caption)
        ))
    }

    /// One `<figure>`: the image at its size at most, shrinking with the
    /// output area, and its caption.
    fn figure(&self, caption: &str) -> String {
        let alt = escape_html(caption);
        format!(
            "<figure class=\"parlab-figure\" style=\"margin:0;flex:0 1 {w}px;min-width:96px\">\
             <img src=\"data:image/png;base64,{data}\" width=\"{w}\" height=\"{h}\" alt=\"{alt}\" \
             style=\"display:block;width:100%;max-width:{w}px;height:auto\">\
             <figcaption style=\"text-align:center;font-size:13px;margin-top:4px;\
             color:var(--jp-ui-font-color1,inherit)\">{alt}</figcaption></figure>",
            w = self.width,
            h = self.height,
            data = base64::engine::general_purpose::STANDARD.encode(&self.bytes),
        )
    }

    /// Writes the PNG to `path` atomically.
    ///
    /// # Errors
    /// [`ErrorKind::Io`] naming the path.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::export::write_atomic(path.as_ref(), &self.bytes)
    }
}

/// Colour maps for [`image`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ColorMap {
    /// Black to white.
    Gray,
    /// Perceptually uniform dark blue → green → yellow (matplotlib's default).
    Viridis,
}

impl ColorMap {
    /// The colour for `t` in `0..=1` (clamped).
    pub fn rgb(self, t: f64) -> [u8; 3] {
        let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
        match self {
            ColorMap::Gray => {
                let v = (255.0 * t).round() as u8;
                [v, v, v]
            }
            ColorMap::Viridis => {
                // Nine samples of matplotlib's viridis, linearly interpolated.
                const V: [[f64; 3]; 9] = [
                    [68.0, 1.0, 84.0],
                    [71.0, 44.0, 122.0],
                    [59.0, 81.0, 139.0],
                    [44.0, 113.0, 142.0],
                    [33.0, 144.0, 141.0],
                    [39.0, 173.0, 129.0],
                    [92.0, 200.0, 99.0],
                    [170.0, 220.0, 50.0],
                    [253.0, 231.0, 37.0],
                ];
                let x = t * 8.0;
                let i = (x.floor() as usize).min(7);
                let f = x - i as f64;
                let mut out = [0u8; 3];
                for (c, o) in out.iter_mut().enumerate() {
                    *o = (V[i][c] + f * (V[i + 1][c] - V[i][c])).round() as u8;
                }
                out
            }
        }
    }
}

/// Draws a 2D array as a PNG, row 0 at the top, scaling values from their
/// minimum (first colour) to their maximum (last colour).
///
/// [`Png::captioned`] shows it with a caption; [`panels`] shows several
/// images side by side, each captioned, on one colour scale.
///
/// ```
/// use parlab::ndarray::Array2;
/// use parlab::plot::{image, ColorMap};
/// let a = Array2::from_shape_fn((64, 128), |(i, j)| (i + j) as f32);
/// let png = image(a.view(), ColorMap::Viridis).unwrap();
/// assert_eq!((png.width, png.height), (128, 64));
/// assert_eq!(&png.bytes[1..4], b"PNG");
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for an empty array or one with a NaN or
/// infinite value (naming its position); [`ErrorKind::Plot`] if encoding fails.
pub fn image<T: Copy + Into<f64>>(a: ArrayView2<'_, T>, map: ColorMap) -> Result<Png> {
    let (lo, hi) = value_range(a, "image")?;
    encode(a, map, lo, hi)
}

/// Several images side by side, each with its caption under it, on one
/// shared colour scale (the minimum over all of them gets the first colour,
/// the maximum the last), so that equal values look equal in every panel.
/// The panels wrap onto a new row when the output area is too narrow.
///
/// ```
/// use parlab::ndarray::Array2;
/// use parlab::plot::{panels, ColorMap};
/// let a = Array2::from_shape_fn((32, 48), |(i, j)| (i + j) as f32);
/// let b = a.mapv(|x| x / 2.0);
/// let html = panels(ColorMap::Gray, &[("input", a.view()), ("halved", b.view())]).unwrap();
/// assert_eq!(html.as_str().matches("<figcaption").count(), 2);
/// assert!(html.as_str().contains(">halved</figcaption>"));
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for no panels, or a panel that is empty or
/// holds a NaN or infinite value (naming the panel's caption and the
/// position); [`ErrorKind::Plot`] if encoding fails.
pub fn panels<T: Copy + Into<f64>>(
    map: ColorMap,
    items: &[(&str, ArrayView2<'_, T>)],
) -> Result<Html> {
    if items.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "panels needs at least one (caption, image) pair",
        ));
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for (caption, a) in items {
        let (l, h) = value_range(a.view(), &format!("panel {caption:?}"))?;
        lo = lo.min(l);
        hi = hi.max(h);
    }
    let mut html = String::from(
        "<div class=\"parlab-panels\" style=\"display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start\">",
    );
    for (caption, a) in items {
        html.push_str(&encode(a.view(), map, lo, hi)?.figure(caption));
    }
    html.push_str("</div>");
    Ok(Html(html))
}

/// The smallest and largest value of a non-empty, finite 2D array; `what`
/// names it in the errors.
fn value_range<T: Copy + Into<f64>>(a: ArrayView2<'_, T>, what: &str) -> Result<(f64, f64)> {
    let (h, w) = a.dim();
    if h == 0 || w == 0 {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("cannot draw an empty {h}×{w} {what}"),
        ));
    }
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for ((i, j), &v) in a.indexed_iter() {
        let v: f64 = v.into();
        if !v.is_finite() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("{what} value at [{i}, {j}] is {v}"),
            ));
        }
        lo = lo.min(v);
        hi = hi.max(v);
    }
    Ok((lo, hi))
}

/// The PNG of `a` with `lo` at the first colour of `map` and `hi` at the last.
fn encode<T: Copy + Into<f64>>(
    a: ArrayView2<'_, T>,
    map: ColorMap,
    lo: f64,
    hi: f64,
) -> Result<Png> {
    let (h, w) = a.dim();
    let span = if hi > lo { hi - lo } else { 1.0 };
    let mut rgb = Vec::with_capacity(3 * h * w);
    for row in a.rows() {
        for &v in row {
            rgb.extend_from_slice(&map.rgb((v.into() - lo) / span));
        }
    }
    let (width, height) = (
        u32::try_from(w).map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("image width {w} is too large"),
            )
        })?,
        u32::try_from(h).map_err(|_| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("image height {h} is too large"),
            )
        })?,
    );
    let mut bytes = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut bytes, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let plot = |e: png::EncodingError| {
            Error::new(ErrorKind::Plot, "cannot encode the PNG").with_source(e)
        };
        let mut writer = enc.write_header().map_err(plot)?;
        writer.write_image_data(&rgb).map_err(plot)?;
        writer.finish().map_err(plot)?;
    }
    Ok(Png {
        bytes,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn decodes_back_to_the_colour_map() {
        let a = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
        let png = image(a.view(), ColorMap::Gray).unwrap();
        let decoder = png::Decoder::new(std::io::Cursor::new(&png.bytes));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (4, 3));
        assert_eq!(&buf[..3], &[0, 0, 0], "minimum is black");
        assert_eq!(&buf[33..36], &[255, 255, 255], "maximum is white");
    }

    #[test]
    fn empty_and_nan_are_errors() {
        let e = image(Array2::<f32>::zeros((0, 5)).view(), ColorMap::Gray).unwrap_err();
        assert!(e.to_string().contains("empty 0×5"), "{e}");
        let mut a = Array2::<f32>::zeros((2, 2));
        a[[1, 0]] = f32::NAN;
        let e = image(a.view(), ColorMap::Viridis).unwrap_err();
        assert!(e.to_string().contains("[1, 0]"), "{e}");
    }

    #[test]
    fn panels_share_one_scale_and_name_the_bad_panel() {
        let dark = Array2::from_elem((2, 3), 0.0f32);
        let light = Array2::from_elem((2, 3), 1.0f32);
        let html = panels(
            ColorMap::Gray,
            &[("dark", dark.view()), ("light <1>", light.view())],
        )
        .unwrap();
        let s = html.as_str();
        assert_eq!(s.matches("<figure").count(), 2, "{s}");
        assert!(s.contains(">light &lt;1&gt;</figcaption>"), "{s}");
        // Alone each is a flat image of the first colour; together the light
        // one is white. Decode the second panel's PNG.
        let second = s
            .split("base64,")
            .nth(2)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(second)
            .unwrap();
        let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        reader.next_frame(&mut buf).unwrap();
        assert_eq!(&buf[..3], &[255, 255, 255]);

        let mut bad = Array2::<f32>::zeros((2, 2));
        bad[[0, 1]] = f32::INFINITY;
        let e = panels(
            ColorMap::Gray,
            &[("ok", dark.view()), ("blurred", bad.view())],
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("panel \"blurred\" value at [0, 1] is inf"),
            "{e}"
        );
        let none: &[(&str, ArrayView2<'_, f32>)] = &[];
        assert!(
            panels(ColorMap::Gray, none)
                .unwrap_err()
                .to_string()
                .contains("at least one")
        );
    }

    #[test]
    fn a_captioned_image_keeps_its_size_and_escapes_the_caption() {
        let png = image(Array2::<f64>::zeros((4, 6)).view(), ColorMap::Viridis).unwrap();
        let s = png.captioned("a & b").0;
        assert!(s.contains(r#"width="6" height="4" alt="a &amp; b""#), "{s}");
        assert!(s.contains(">a &amp; b</figcaption>"), "{s}");
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(ColorMap::Viridis.rgb(0.0), [68, 1, 84]);
        assert_eq!(ColorMap::Viridis.rgb(1.0), [253, 231, 37]);
    }
}
