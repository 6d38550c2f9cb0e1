//! Axes whose ticks a reader can trust: chosen here (not by plotters), at
//! least three, labelled with distinct text, and covering the data.
//!
//! A log axis spanning up to about two decades is labelled at 1, 2 and 5 ×
//! 10ᵏ (at every mantissa 1…9 when that gives fewer than three labels); a
//! wider one at the decades (every second or third when there are many). A
//! linear axis is labelled every 1, 2 or 5 × 10ᵏ. The axis range is widened to
//! the ticks just outside the data, so that a label lies at or beyond each
//! end of the data.

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};

/// One axis: its range, scale and labelled ticks. Implements plotters'
/// [`Ranged`], so the mesh draws grid lines and labels exactly at the ticks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    lo: f64,
    hi: f64,
    log: bool,
    ticks: Vec<f64>,
    labels: Vec<String>,
    /// Unlabelled grid lines (the 2…9 of each decade of a log axis).
    minor: Vec<f64>,
}

impl Axis {
    /// An axis covering the data from `min` to `max` (both finite, > 0 on a
    /// log axis). `from_zero`: a linear axis starts at 0 when the data are
    /// ≥ 0. `integer`: ticks only at whole numbers (thread counts).
    pub(crate) fn covering(min: f64, max: f64, log: bool, from_zero: bool, integer: bool) -> Axis {
        let (min, max) = if min <= max { (min, max) } else { (max, min) };
        if log {
            let (lo, hi) = if max > min {
                (min, max)
            } else {
                (min / 2.0, max * 2.0)
            };
            let family = log_family(lo, hi);
            // The ticks of the family just outside the data.
            let below = family_floor(lo, family);
            let above = family_ceil(hi, family);
            // A little room beyond the end ticks: 3 % of the axis, at least 12 %.
            let pad = (above / below).powf(0.03).max(1.12);
            let (lo, hi) = (below / pad, above * pad);
            let ticks = log_ticks(lo, hi);
            Axis::with_ticks(lo, hi, true, ticks)
        } else {
            let (mut lo, mut hi) = (min, max);
            if from_zero && lo >= 0.0 {
                lo = 0.0;
            }
            if hi <= lo {
                let d = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
                lo = if from_zero && min >= 0.0 { 0.0 } else { lo - d };
                hi += d;
            }
            let step = linear_step(lo, hi, integer);
            let t_lo = (lo / step).floor() * step;
            let mut t_hi = (hi / step).ceil() * step;
            // At least three labels (two thread counts get a third).
            while ((t_hi - t_lo) / step).round() < 2.0 {
                t_hi += step;
            }
            let span = t_hi - t_lo;
            let lo = if from_zero && t_lo == 0.0 {
                0.0
            } else {
                t_lo - 0.03 * span
            };
            let hi = t_hi + 0.03 * span;
            let ticks = linear_ticks(lo, hi, step);
            Axis::with_ticks(lo, hi, false, ticks)
        }
    }

    /// An axis from `lo` to `hi` labelled at `ticks` (those inside the range).
    pub(crate) fn with_ticks(lo: f64, hi: f64, log: bool, ticks: Vec<f64>) -> Axis {
        let mut ticks: Vec<f64> = ticks
            .into_iter()
            .filter(|t| t.is_finite() && *t >= lo * (1.0 - 1e-12) && *t <= hi * (1.0 + 1e-12))
            .collect();
        ticks.sort_by(f64::total_cmp);
        ticks.dedup();
        let labels = distinct_labels(&ticks);
        let minor = if log {
            log_minor(lo, hi, &ticks)
        } else {
            Vec::new()
        };
        Axis {
            lo,
            hi,
            log,
            ticks,
            labels,
            minor,
        }
    }

    /// An axis from `lo` to `hi` labelled at `ticks` with `labels` (one
    /// each; distinct ones made when they repeat or are missing).
    pub(crate) fn labelled(
        lo: f64,
        hi: f64,
        log: bool,
        ticks: Vec<f64>,
        labels: Vec<String>,
    ) -> Axis {
        let mut pairs: Vec<(f64, String)> = ticks.into_iter().zip(labels).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        pairs.dedup_by(|a, b| a.0 == b.0);
        let mut axis = Axis::with_ticks(lo, hi, log, pairs.iter().map(|p| p.0).collect());
        let labels: Vec<String> = axis
            .ticks
            .iter()
            .map(|t| {
                pairs
                    .iter()
                    .find(|p| p.0 == *t)
                    .map(|p| p.1.clone())
                    .unwrap_or_default()
            })
            .collect();
        let mut sorted = labels.clone();
        sorted.sort();
        sorted.dedup();
        if sorted.len() == labels.len() && labels.iter().all(|l| !l.is_empty()) {
            axis.labels = labels;
        }
        axis
    }

    /// The ticks, in increasing order.
    #[cfg(test)]
    pub(crate) fn ticks(&self) -> &[f64] {
        &self.ticks
    }

    /// The tick labels, one per tick.
    #[cfg(test)]
    pub(crate) fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The lower end of the range.
    pub(crate) fn lo(&self) -> f64 {
        self.lo
    }

    /// The upper end of the range.
    #[cfg(test)]
    pub(crate) fn hi(&self) -> f64 {
        self.hi
    }

    /// The label of the tick at `v`, or nothing off the ticks.
    fn label(&self, v: f64) -> String {
        self.ticks
            .iter()
            .position(|&t| (t - v).abs() <= 1e-9 * t.abs().max(1e-300))
            .map(|i| self.labels[i].clone())
            .unwrap_or_default()
    }

    /// Where `v` lies between the ends, 0 to 1.
    fn fraction(&self, v: f64) -> f64 {
        if self.log {
            (v.ln() - self.lo.ln()) / (self.hi.ln() - self.lo.ln())
        } else {
            (v - self.lo) / (self.hi - self.lo)
        }
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let f = self.fraction(*value);
        let f = if f.is_finite() {
            f.clamp(-10.0, 10.0)
        } else {
            0.0
        };
        (limit.0 as f64 + f * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        // The light mesh asks first (weight "any"): the minor lines; the bold
        // mesh and the labels get the ticks.
        if hint.weight().allow_light_points() {
            self.minor.clone()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        self.label(*value)
    }
}

/// Which ticks a log axis from `lo` to `hi` uses: mantissas `[1]` (decades),
/// `[1, 2, 5]` or 1 to 9.
fn log_family(lo: f64, hi: f64) -> &'static [f64] {
    const DECADES: &[f64] = &[1.0];
    const ONE_TWO_FIVE: &[f64] = &[1.0, 2.0, 5.0];
    const ALL: &[f64] = &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0];
    let decades = (hi / lo).log10();
    if decades > 2.3 {
        DECADES
    } else if decades > 0.9 {
        ONE_TWO_FIVE
    } else {
        ALL
    }
}

fn family_floor(v: f64, family: &[f64]) -> f64 {
    let e = v.log10().floor();
    let base = 10f64.powf(e);
    family
        .iter()
        .rev()
        .map(|m| m * base)
        .find(|&t| t <= v * (1.0 + 1e-12))
        .unwrap_or(base)
}

fn family_ceil(v: f64, family: &[f64]) -> f64 {
    let e = v.log10().floor();
    let base = 10f64.powf(e);
    family
        .iter()
        .map(|m| m * base)
        .find(|&t| t >= v * (1.0 - 1e-12))
        .unwrap_or(10.0 * base)
}

/// Ticks of a log axis from `lo` to `hi`: at least three where the range
/// allows any, never more than about ten.
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo > 0.0 && hi > lo && lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let in_range = |mantissas: &[f64], every: i32| -> Vec<f64> {
        let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        let mut out = Vec::new();
        for e in e0..=e1 {
            if every > 1 && e.rem_euclid(every) != 0 {
                continue;
            }
            for m in mantissas {
                // Exact decimals: 10^e by powi drifts (1e-1 * 3 = 0.30000000000000004).
                let t: f64 = format!("{m}e{e}").parse().unwrap_or(f64::NAN);
                if t >= lo * (1.0 - 1e-12) && t <= hi * (1.0 + 1e-12) {
                    out.push(t);
                }
            }
        }
        out
    };
    let decades = (hi / lo).log10();
    if decades > 2.3 {
        // Decades, every k-th when there are more than nine.
        let mut every = 1;
        loop {
            let t = in_range(&[1.0], every);
            if t.len() <= 9 || every >= 100 {
                if t.len() >= 3 {
                    return t;
                }
                break;
            }
            every += 1;
        }
    }
    let t = in_range(&[1.0, 2.0, 5.0], 1);
    if t.len() >= 3 && t.len() <= 10 {
        return t;
    }
    let t = in_range(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0], 1);
    if t.len() >= 3 {
        return t;
    }
    // Less than a decade with fewer than three whole mantissas: linear ticks.
    linear_ticks(lo, hi, linear_step(lo, hi, false))
}

/// Unlabelled grid lines of a log axis: every mantissa 1…9 that is not a tick.
fn log_minor(lo: f64, hi: f64, ticks: &[f64]) -> Vec<f64> {
    let decades = (hi / lo).log10();
    if !(decades.is_finite() && decades > 0.0) || decades > 12.0 {
        return Vec::new();
    }
    let (e0, e1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let mut out = Vec::new();
    for e in e0..=e1 {
        for m in 1..=9 {
            let t = m as f64 * 10f64.powi(e);
            if t >= lo && t <= hi && !ticks.iter().any(|&k| (k - t).abs() <= 1e-9 * t) {
                out.push(t);
            }
        }
    }
    out
}

/// A step of 1, 2 or 5 × 10ᵏ giving four to eight ticks from `lo` to `hi`
/// (whole numbers only when `integer`).
fn linear_step(lo: f64, hi: f64, integer: bool) -> f64 {
    let span = hi - lo;
    if !(span > 0.0 && span.is_finite()) {
        return 1.0;
    }
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw * 0.999)
        .unwrap_or(10.0 * mag);
    if integer {
        step = step.max(1.0).round();
    }
    step
}

/// Multiples of `step` from `lo` to `hi`.
fn linear_ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    if !(step > 0.0 && hi >= lo) {
        return Vec::new();
    }
    let k0 = (lo / step - 1e-9).ceil() as i64;
    let k1 = (hi / step + 1e-9).floor() as i64;
    if k1 - k0 > 1000 {
        return Vec::new();
    }
    (k0..=k1)
        .map(|k| {
            // k × step through a decimal string, so 0.1 × 3 reads 0.3.
            let v = k as f64 * step;
            let digits = (-(step.log10().floor())).max(0.0) as usize + 1;
            format!("{v:.digits$}").parse().unwrap_or(v)
        })
        .collect()
}

/// `v` to `digits` significant digits, trimmed: `121.7`, `0.0023`, `1.5k`,
/// `2.1M`. Large values take the suffixes k (from 10⁴), M, G, T.
pub(crate) fn sig(v: f64, digits: usize) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".into();
    }
    let digits = digits.max(1);
    let a = v.abs();
    for (scale, div, suffix) in [
        (1e12, 1e12, "T"),
        (1e9, 1e9, "G"),
        (1e6, 1e6, "M"),
        (1e4, 1e3, "k"),
    ] {
        if a >= scale * (1.0 - 0.5 * 10f64.powi(-(digits as i32))) {
            return format!("{}{suffix}", plain(v / div, digits));
        }
    }
    if a < 1e-3 {
        return scientific(v, digits);
    }
    plain(v, digits)
}

/// `v` as `2.33e-10`: `digits` significant digits, trailing zeros trimmed.
fn scientific(v: f64, digits: usize) -> String {
    let s = format!("{:.*e}", digits.max(1) - 1, v);
    match s.split_once('e') {
        Some((m, e)) if m.contains('.') => {
            format!("{}e{e}", m.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => s,
    }
}

/// `v` to `digits` significant digits without suffix or exponent, trimmed.
fn plain(v: f64, digits: usize) -> String {
    let a = v.abs();
    let magnitude = a.log10().floor() as i32;
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".into() } else { s }
}

/// Labels for `ticks`: [`tick`](super::tick)'s short form, with more digits
/// until no two read the same.
pub(crate) fn distinct_labels(ticks: &[f64]) -> Vec<String> {
    let distinct = |l: &[String]| {
        let mut s: Vec<&String> = l.iter().collect();
        s.sort();
        s.windows(2).all(|w| w[0] != w[1])
    };
    // Scientific for the values below 1 when the smallest is below 10⁻⁴,
    // so that one axis does not mix 0.001 and 1e-4.
    let tiny = ticks.iter().any(|&v| v != 0.0 && v.abs() < 1e-4);
    let short = |v: f64| {
        if v != 0.0 && tiny && v.abs() < 1.0 {
            scientific(v, 2)
        } else {
            super::tick(v)
        }
    };
    let labels: Vec<String> = ticks.iter().map(|&v| short(v)).collect();
    if distinct(&labels) {
        return labels;
    }
    for digits in 3..=15 {
        let labels: Vec<String> = ticks.iter().map(|&v| sig(v, digits)).collect();
        if distinct(&labels) {
            return labels;
        }
    }
    ticks.iter().map(|v| format!("{v}")).collect()
}

/// The unit in a label: the text in its last parentheses, `GB/s` of
/// `bandwidth (GB/s)`.
pub(crate) fn unit_of(label: &str) -> Option<&str> {
    let open = label.rfind('(')?;
    let close = label[open..].find(')')? + open;
    let unit = label[open + 1..close].trim();
    (!unit.is_empty()).then_some(unit)
}

/// A power of ten at or below `x`.
pub(crate) fn nice_floor(x: f64) -> f64 {
    10f64.powf(x.log10().floor())
}

/// A power of ten at or above `x`.
pub(crate) fn nice_ceil(x: f64) -> f64 {
    10f64.powf(x.log10().ceil())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct(l: &[String]) -> bool {
        let mut s = l.to_vec();
        s.sort();
        s.dedup();
        s.len() == l.len()
    }

    #[test]
    fn narrow_log_ranges_get_one_two_five_or_finer() {
        // 6 … 95: once labelled "100" twice and nothing below 10.
        let a = Axis::covering(6.0, 95.0, true, false, false);
        assert_eq!(a.labels(), ["5", "10", "20", "50", "100"]);
        assert!(a.ticks()[0] <= 6.0 && *a.ticks().last().unwrap() >= 95.0);
        // 60 … 100: less than a decade.
        let a = Axis::covering(60.0, 100.0, true, false, false);
        assert!(
            a.labels().len() >= 3 && distinct(a.labels()),
            "{:?}",
            a.labels()
        );
        // 61 … 64: not one whole mantissa inside: linear ticks.
        let a = Axis::covering(61.0, 64.0, true, false, false);
        assert!(
            a.labels().len() >= 3 && distinct(a.labels()),
            "{:?}",
            a.labels()
        );
    }

    #[test]
    fn wide_log_ranges_get_decades() {
        let a = Axis::covering(4096.0, 8.4e6, true, false, false);
        assert_eq!(a.labels(), ["1000", "10k", "100k", "1M", "10M"]);
        let a = Axis::covering(1e-10, 1e10, true, false, false);
        assert!(
            a.labels().len() >= 3 && a.labels().len() <= 9,
            "{:?}",
            a.labels()
        );
        assert!(distinct(a.labels()));
    }

    #[test]
    fn linear_axes_have_three_distinct_labels() {
        for (lo, hi) in [
            (0.0, 1.0),
            (1.0, 1.0001),
            (410.0, 415.0),
            (-3.0, 7.0),
            (0.0, 0.0),
        ] {
            let a = Axis::covering(lo, hi, false, false, false);
            assert!(a.labels().len() >= 3, "{lo}…{hi}: {:?}", a.labels());
            assert!(distinct(a.labels()), "{lo}…{hi}: {:?}", a.labels());
            assert!(a.lo() <= lo && a.hi() >= hi);
        }
        let a = Axis::covering(1.0, 4.0, false, false, true);
        assert_eq!(a.labels(), ["1", "2", "3", "4"]);
        let a = Axis::covering(1.0, 2.0, false, false, true);
        assert_eq!(a.labels(), ["1", "2", "3"]);
    }

    #[test]
    fn significant_digits() {
        assert_eq!(sig(121.72, 4), "121.7");
        assert_eq!(sig(2.3283064365386963e-10, 3), "2.33e-10");
        assert_eq!(
            distinct_labels(&[1e-10, 1e-8, 2e-6]),
            ["1e-10", "1e-8", "2e-6"]
        );
        assert_eq!(
            distinct_labels(&[1e-5, 0.001, 0.1, 10.0]),
            ["1e-5", "1e-3", "1e-1", "10"]
        );
        assert_eq!(distinct_labels(&[0.001, 0.1, 10.0]), ["0.001", "0.1", "10"]);
        assert_eq!(sig(6236.2080000000005, 4), "6236");
        assert_eq!(sig(123456.0, 3), "123k");
        assert_eq!(sig(0.0, 3), "0");
        assert_eq!(sig(9999.7, 4), "10k");
        assert_eq!(unit_of("bandwidth (GB/s)"), Some("GB/s"));
        assert_eq!(unit_of("GFLOP/s"), None);
    }
}
