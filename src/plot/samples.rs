//! Sample distributions: every timing sample as a point, per kernel.

use plotters::prelude::*;

use super::{PALETTE, categorical, check_finite, plot_error};
use crate::display::Svg;
use crate::error::{Error, ErrorKind, Result};

/// A strip chart: one column per named sample set, each sample a point (spread
/// sideways so that equal values stay visible), the median a black bar. Noise
/// and outliers show at a glance.
///
/// ```
/// let svg = parlab::plot::strip("add, 1024² f32", "time (µs)", &[
///     ("serial", vec![410.0, 402.0, 415.0, 640.0]),
///     ("par_add", vec![220.0, 214.0, 230.0, 226.0]),
/// ]).unwrap();
/// assert!(svg.as_str().contains("par_add"));
/// ```
///
/// # Errors
/// [`ErrorKind::InvalidInput`] for no sets, an empty set or a sample that is
/// NaN or infinite (naming the set); [`ErrorKind::Plot`] if drawing fails.
pub fn strip<S: AsRef<str>>(title: &str, y_label: &str, sets: &[(S, Vec<f64>)]) -> Result<Svg> {
    if sets.is_empty() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("strip chart {title:?}: no sample sets"),
        ));
    }
    let mut hi: f64 = 0.0;
    for (name, samples) in sets {
        if samples.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("strip chart {title:?}: {:?} has no samples", name.as_ref()),
            ));
        }
        for &v in samples {
            check_finite("sample", name.as_ref(), v)?;
            hi = hi.max(v);
        }
    }
    let hi = if hi > 0.0 { hi * 1.12 } else { 1.0 };
    let labels: Vec<String> = sets
        .iter()
        .map(|(name, _)| name.as_ref().to_string())
        .collect();
    categorical(title, y_label, &labels, hi, |chart| {
        for (i, (_, samples)) in sets.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let m = samples.len();
            // A fixed spread (not random) so that the chart is reproducible.
            chart
                .draw_series(samples.iter().enumerate().map(|(k, &v)| {
                    let dx = if m > 1 {
                        0.3 * (k as f64 / (m - 1) as f64 - 0.5)
                    } else {
                        0.0
                    };
                    Circle::new((i as f64 + dx, v), 3, color.mix(0.8).filled())
                }))
                .map_err(plot_error)?;
            let mut sorted = samples.clone();
            sorted.sort_by(f64::total_cmp);
            let med = if m % 2 == 1 {
                sorted[m / 2]
            } else {
                0.5 * (sorted[m / 2 - 1] + sorted[m / 2])
            };
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(i as f64 - 0.25, med), (i as f64 + 0.25, med)],
                    BLACK.stroke_width(3),
                )))
                .map_err(plot_error)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::svg_texts;

    #[test]
    fn one_point_per_sample_and_a_median_per_set() {
        let svg = strip(
            "t",
            "time (ms)",
            &[("a", vec![1.0, 2.0, 3.0]), ("b", vec![2.0, 2.0])],
        )
        .unwrap();
        let s = svg.as_str();
        assert_eq!(s.matches("<circle").count(), 5);
        let texts = svg_texts(s);
        for t in ["t", "time (ms)", "a", "b"] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing from {texts:?}");
        }
        let (x, y) = crate::plot::legend::check::tick_labels(s);
        assert_eq!(x, ["a", "b"]);
        let mut d = y.clone();
        d.dedup();
        assert!(y.len() >= 3 && d == y, "{y:?}");
        assert!(!s.contains("NaN"));
        crate::plot::legend::check::keep("strip", s);
    }

    #[test]
    fn empty_sets_are_errors() {
        let none: &[(&str, Vec<f64>)] = &[];
        assert!(
            strip("t", "ms", none)
                .unwrap_err()
                .to_string()
                .contains("no sample sets")
        );
        let e = strip("t", "ms", &[("slow", vec![])]).unwrap_err();
        assert!(e.to_string().contains("\"slow\" has no samples"), "{e}");
    }
}
