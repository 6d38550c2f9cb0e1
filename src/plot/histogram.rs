//! Histograms of samples: how the timings of each kernel are distributed,
//! with the same bins for every set so that they compare.

use plotters::prelude::*;

use super::axis::Axis;
use super::frame::{Frame, legend_inside_or_outside, outside_at};
use super::legend::{self, Entry, Marker};
use super::{check_finite, plot_error};
use crate::display::Svg;
use crate::error::{Error, ErrorKind, Result};

/// Bins shared by all sets: the first edge, the width and the count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bins {
    pub start: f64,
    pub width: f64,
    pub count: usize,
}

impl Bins {
    /// Freedman–Diaconis bins for `values` (width 2·IQR·n^(−1/3), rounded
    /// to 1, 2 or 5 × 10ᵏ; Sturges' rule when the IQR is 0), 1 to 60 of them.
    #[cfg(test)]
    pub(crate) fn freedman_diaconis(values: &[f64]) -> Bins {
        Bins::shared(&[values])
    }

    /// Bins for several sets at once: the narrowest Freedman–Diaconis width
    /// of any set (the pooled IQR of two distant sets would be the distance
    /// between them), over the range of all of them.
    pub(crate) fn shared(sets: &[&[f64]]) -> Bins {
        let sorted: Vec<Vec<f64>> = sets
            .iter()
            .map(|s| {
                let mut v: Vec<f64> = s.iter().copied().filter(|x| x.is_finite()).collect();
                v.sort_by(f64::total_cmp);
                v
            })
            .filter(|v| !v.is_empty())
            .collect();
        let min = sorted.iter().map(|v| v[0]).fold(f64::INFINITY, f64::min);
        let max = sorted
            .iter()
            .map(|v| v[v.len() - 1])
            .fold(f64::NEG_INFINITY, f64::max);
        if sorted.is_empty() {
            return Bins {
                start: 0.0,
                width: 1.0,
                count: 1,
            };
        }
        if max <= min {
            let w = nice_width(if min == 0.0 { 1.0 } else { min.abs() * 0.02 });
            return Bins {
                start: (min / w).floor() * w - w,
                width: w,
                count: 3,
            };
        }
        let fd = |v: &Vec<f64>| -> Option<f64> {
            let q = |p: f64| {
                let at = p * (v.len() - 1) as f64;
                let (i, f) = (at.floor() as usize, at.fract());
                v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
            };
            let n = v.len() as f64;
            let iqr = q(0.75) - q(0.25);
            let spread = v[v.len() - 1] - v[0];
            if iqr > 0.0 {
                Some(2.0 * iqr / n.cbrt())
            } else if spread > 0.0 {
                Some(spread / (n.log2().ceil() + 1.0))
            } else {
                None
            }
        };
        let raw = sorted.iter().filter_map(fd).fold(f64::INFINITY, f64::min);
        let raw = if raw.is_finite() {
            raw
        } else {
            (max - min) / 10.0
        };
        // Not more than 60 bins, not fewer than 3 where the data spread.
        let raw = raw.clamp((max - min) / 60.0, (max - min) / 3.0);
        let width = nice_width(raw);
        let start = (min / width).floor() * width;
        let count = (((max - start) / width).floor() as usize + 1).clamp(1, 80);
        Bins {
            start,
            width,
            count,
        }
    }

    /// The bin of `v`.
    fn index(&self, v: f64) -> usize {
        (((v - self.start) / self.width).floor().max(0.0) as usize).min(self.count - 1)
    }

    /// Samples per bin.
    pub(crate) fn counts(&self, values: &[f64]) -> Vec<usize> {
        let mut c = vec![0; self.count];
        for &v in values {
            c[self.index(v)] += 1;
        }
        c
    }
}

/// The 1, 2, 2.5 or 5 × 10ᵏ nearest to `raw` (on a log scale).
fn nice_width(raw: f64) -> f64 {
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .min_by(|a, b| (a / raw).ln().abs().total_cmp(&(b / raw).ln().abs()))
        .unwrap_or(mag)
}

/// A histogram of every sample set, with bins shared by all of them
/// (Freedman–Diaconis on the pooled samples) and the sets' bars side by
/// side in each bin; y is the number of samples.
///
/// ```
/// let svg = parlab::plot::histogram("add, 1024² f32", "time (µs)", &[
///     ("serial", vec![410.0, 402.0, 415.0, 640.0, 405.0]),
///     ("par_add", vec![220.0, 214.0, 230.0, 226.0, 221.0]),
/// ]).unwrap();
/// assert!(svg.as_str().contains("samples"));
/// assert!(svg.as_str().contains("par_add"));
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for no sets, an empty set or a sample that is
/// NaN or infinite (naming the set); [`ErrorKind::Plot`] if drawing fails.
pub fn histogram<S: AsRef<str>>(title: &str, x_label: &str, sets: &[(S, Vec<f64>)]) -> Result<Svg> {
    if sets.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("histogram {title:?}: no sample sets"),
        ));
    }
    for (name, samples) in sets {
        if samples.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("histogram {title:?}: {:?} has no samples", name.as_ref()),
            ));
        }
        for &v in samples {
            check_finite("sample", name.as_ref(), v)?;
        }
    }
    let bins = Bins::shared(&sets.iter().map(|s| s.1.as_slice()).collect::<Vec<_>>());
    let counts: Vec<Vec<usize>> = sets.iter().map(|s| bins.counts(&s.1)).collect();
    let top = counts.iter().flatten().copied().max().unwrap_or(1).max(1);
    let end = bins.start + bins.width * bins.count as f64;
    let xa = Axis::covering(bins.start, end, false, false, false);
    let ya = Axis::covering(0.0, top as f64, false, true, true);
    let entries: Vec<Entry> = sets
        .iter()
        .enumerate()
        .map(|(i, (name, _))| Entry {
            label: name.as_ref().to_string(),
            color: legend::style(i).color,
            width: 0,
            dashed: false,
            marker: Some(Marker::Square),
        })
        .collect();
    let (lw, lh) = legend::size(&entries);
    let render = |outside: bool| -> Result<Option<String>> {
        let frame = Frame {
            title,
            x_desc: x_label,
            y_desc: "samples",
            x_grid: false,
        };
        frame.render(&xa, &ya, lw, outside, |chart, root| {
            let plot = chart.plotting_area().get_pixel_range();
            let mut taken = Vec::new();
            // In each bin, the sets with samples there share its width.
            #[allow(clippy::needless_range_loop)] // b indexes every set's counts
            for b in 0..bins.count {
                let here: Vec<usize> = (0..sets.len()).filter(|&i| counts[i][b] > 0).collect();
                let m = here.len() as f64;
                for (j, &i) in here.iter().enumerate() {
                    let n = counts[i][b];
                    let color = legend::style(i).color;
                    let left = bins.start + bins.width * (b as f64 + 0.05 + 0.9 * j as f64 / m);
                    let right = left + bins.width * 0.9 / m;
                    let (p0, p1) = (
                        chart.backend_coord(&(left, n as f64)),
                        chart.backend_coord(&(right, 0.0)),
                    );
                    root.draw(&Rectangle::new([p0, p1], color.mix(0.85).filled()))
                        .map_err(plot_error)?;
                    for x in (p0.0..=p1.0).step_by(3) {
                        for y in (p0.1..=p1.1).step_by(3) {
                            taken.push((x, y));
                        }
                        taken.push((x, p0.1));
                    }
                    taken.push((p1.0, p0.1));
                }
            }
            let at = if outside {
                outside_at(plot.1.start)
            } else {
                match legend::free_spot((lw, lh), plot, &taken, 4) {
                    Some(at) => at,
                    None => return Ok(false),
                }
            };
            legend::draw(root, &entries, at)?;
            Ok(true)
        })
    };
    legend_inside_or_outside(render)
}

/// The strip chart of `sets` ([`strip`](super::strip)) and their histogram
/// ([`histogram`]) side by side in one SVG: every sample, and how they are
/// distributed.
///
/// ```
/// let svg = parlab::plot::distribution("add", "time (µs)", &[
///     ("serial", vec![410.0, 402.0, 415.0, 640.0]),
///     ("par_add", vec![220.0, 214.0, 230.0, 226.0]),
/// ]).unwrap();
/// assert!(svg.as_str().contains("every sample"));
/// assert!(svg.as_str().contains("distribution"));
/// ```
///
/// # Errors
/// As [`strip`](super::strip) and [`histogram`].
pub fn distribution<S: AsRef<str>>(
    title: &str,
    unit_label: &str,
    sets: &[(S, Vec<f64>)],
) -> Result<Svg> {
    let left = super::strip(&format!("{title}: every sample"), unit_label, sets)?;
    let right = histogram(&format!("{title}: distribution"), unit_label, sets)?;
    Ok(side_by_side(&[left, right]))
}

/// SVG documents next to each other, in one SVG.
pub(crate) fn side_by_side(parts: &[Svg]) -> Svg {
    let size = |s: &str| -> (f64, f64) {
        let head = &s[..s.find('>').unwrap_or(s.len())];
        let get = |name: &str| {
            let key = format!("{name}=\"");
            head.find(&key)
                .and_then(|i| {
                    let rest = &head[i + key.len()..];
                    rest[..rest.find('"')?].parse().ok()
                })
                .unwrap_or(0.0)
        };
        (get("width"), get("height"))
    };
    let mut body = String::new();
    let (mut x, mut h) = (0.0, 0.0f64);
    for p in parts {
        let s = p.as_str();
        let (w, ph) = size(s);
        body.push_str(&s.replacen("<svg ", &format!("<svg x=\"{x}\" y=\"0\" "), 1));
        body.push('\n');
        x += w;
        h = h.max(ph);
    }
    Svg(format!(
        "<svg width=\"{x}\" height=\"{h}\" viewBox=\"0 0 {x} {h}\" xmlns=\"http://www.w3.org/2000/svg\">\n{body}</svg>\n"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::SIZE;
    use crate::plot::legend::check;
    use crate::plot::svg_texts;

    #[test]
    fn bins_follow_freedman_diaconis_and_are_shared() {
        let v: Vec<f64> = (0..100).map(|i| i as f64).collect();
        // IQR 49.5, n = 100: 2·49.5/4.64 = 21.3 → 20.
        let b = Bins::freedman_diaconis(&v);
        assert_eq!(b.width, 20.0);
        // Two distant sets: bins as narrow as each set needs.
        let far: Vec<f64> = v.iter().map(|x| x + 500.0).collect();
        let both = Bins::shared(&[&v, &far]);
        assert_eq!(both.width, 20.0);
        assert_eq!(both.counts(&far).iter().sum::<usize>(), 100);
        assert_eq!(b.counts(&v).iter().sum::<usize>(), 100);
        let same = Bins::freedman_diaconis(&[3.0; 5]);
        assert_eq!(same.counts(&[3.0; 5]).iter().sum::<usize>(), 5);
        assert!(same.start < 3.0 && same.start + same.width * same.count as f64 > 3.0);
    }

    #[test]
    fn counts_on_y_labels_distinct_and_the_legend_clear() {
        let a: Vec<f64> = (0..40).map(|i| 400.0 + (i * 7 % 23) as f64).collect();
        let b: Vec<f64> = (0..40).map(|i| 210.0 + (i * 5 % 17) as f64).collect();
        let svg = histogram("h", "time (µs)", &[("serial", a), ("par_add", b)]).unwrap();
        let s = svg.as_str();
        check::keep("histogram", s);
        check::assert_axes(s, 3);
        check::assert_legend_clear(s);
        let texts = svg_texts(s);
        for t in ["h", "time (µs)", "samples", "serial", "par_add"] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing from {texts:?}");
        }
        let (_, y) = check::tick_labels(s);
        assert!(y.iter().all(|l| l.parse::<u32>().is_ok()), "{y:?}");
    }

    #[test]
    fn distribution_puts_both_side_by_side() {
        let svg = distribution("add", "time (ms)", &[("k", vec![1.0, 1.1, 1.05, 3.0])]).unwrap();
        let s = svg.as_str();
        check::keep("distribution", s);
        assert!(
            s.starts_with(&format!("<svg width=\"{}\"", 2 * SIZE.0)),
            "{}",
            &s[..80]
        );
        assert_eq!(s.matches("<svg").count(), 3);
        let texts = svg_texts(s);
        assert!(texts.iter().any(|t| t == "add: every sample"));
        assert!(texts.iter().any(|t| t == "add: distribution"));
        assert!(!s.contains("NaN"));
    }

    #[test]
    fn empty_sets_are_errors() {
        let none: &[(&str, Vec<f64>)] = &[];
        assert!(
            histogram("t", "ms", none)
                .unwrap_err()
                .to_string()
                .contains("no sample sets")
        );
        let e = histogram("t", "ms", &[("slow", vec![])]).unwrap_err();
        assert!(e.to_string().contains("\"slow\" has no samples"), "{e}");
        let e = histogram("t", "ms", &[("nan", vec![f64::NAN])]).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
    }
}
