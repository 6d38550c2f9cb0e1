//! Charts straight from timing results: `comparison.plot()`, `scaling.plot()`,
//! `sweep.plot(&machine)`, `result.plot_samples()`.

use super::{Bar, Ceiling, LineChart, Series, bars, scaling, strip};
use crate::display::Svg;
use crate::error::Result;
use crate::timing::{
    BenchResult, Comparison, Machine, Precision, Scaling, SizeScaling, SizeUnit, Work,
};

/// `2¹²` for 4096.
fn power_of_two(n: usize) -> String {
    const SUP: [char; 10] = ['⁰', '¹', '²', '³', '⁴', '⁵', '⁶', '⁷', '⁸', '⁹'];
    let k = n.trailing_zeros();
    let digits: String = k
        .to_string()
        .chars()
        .map(|c| SUP[c.to_digit(10).unwrap_or(0) as usize])
        .collect();
    format!("2{digits}")
}

/// Rate of one result given its work per call.
type RateFn = Box<dyn Fn(&BenchResult, Work) -> f64>;

/// A time unit that keeps medians readable: seconds, ms, µs or ns.
fn time_unit(seconds: f64) -> (f64, &'static str) {
    if seconds >= 1.0 {
        (1.0, "s")
    } else if seconds >= 1e-3 {
        (1e3, "ms")
    } else if seconds >= 1e-6 {
        (1e6, "µs")
    } else {
        (1e9, "ns")
    }
}

impl Comparison {
    /// Bars of each kernel's median time with its interquartile range as an
    /// error bar, labelled with the speedup over the baseline.
    ///
    /// # Errors
    /// As [`bars`].
    pub fn plot(&self) -> Result<Svg> {
        let slowest = self.results.iter().map(|r| r.median()).fold(0.0, f64::max);
        let (scale, unit) = time_unit(slowest);
        let speedups = self.speedups();
        let data: Vec<Bar> = self
            .results
            .iter()
            .zip(&speedups)
            .map(|(r, (_, s))| {
                Bar::new(r.name.clone(), r.median() * scale)
                    .range(r.summary.q1 * scale, r.summary.q3 * scale)
                    .note(format!("{s:.2}×"))
            })
            .collect();
        let base = &self.results[self.baseline].name;
        bars(
            &format!("median time per call (speedup over {base})"),
            &format!("time ({unit})"),
            &data,
        )
    }

    /// Every sample of every kernel, to show noise and outliers.
    ///
    /// # Errors
    /// As [`strip`].
    pub fn plot_samples(&self) -> Result<Svg> {
        samples_chart(&self.results.iter().collect::<Vec<_>>())
    }

    /// Every sample of every kernel beside their histogram (shared bins):
    /// noise, outliers and the shape of the distribution in one SVG.
    ///
    /// # Errors
    /// As [`distribution`](super::distribution).
    pub fn plot_distribution(&self) -> Result<Svg> {
        distribution_chart(&self.results.iter().collect::<Vec<_>>())
    }
}

impl BenchResult {
    /// Every sample as a point, the median as a bar.
    ///
    /// # Errors
    /// As [`strip`].
    pub fn plot_samples(&self) -> Result<Svg> {
        samples_chart(&[self])
    }

    /// Every sample beside their histogram, in one SVG.
    ///
    /// # Errors
    /// As [`distribution`](super::distribution).
    pub fn plot_distribution(&self) -> Result<Svg> {
        distribution_chart(&[self])
    }
}

fn samples_chart(results: &[&BenchResult]) -> Result<Svg> {
    let (sets, unit) = sample_sets(results);
    strip(
        "time per call, every sample",
        &format!("time ({unit})"),
        &sets,
    )
}

fn distribution_chart(results: &[&BenchResult]) -> Result<Svg> {
    let (sets, unit) = sample_sets(results);
    super::distribution("time per call", &format!("time ({unit})"), &sets)
}

/// Each result's samples in one readable time unit, named.
fn sample_sets(results: &[&BenchResult]) -> (Vec<(String, Vec<f64>)>, &'static str) {
    let slowest = results
        .iter()
        .flat_map(|r| r.samples.iter().copied())
        .fold(0.0, f64::max);
    let (scale, unit) = time_unit(slowest);
    let sets: Vec<(String, Vec<f64>)> = results
        .iter()
        .map(|r| {
            let name = if r.name.is_empty() {
                "samples".to_string()
            } else {
                r.name.clone()
            };
            (name, r.samples.iter().map(|s| s * scale).collect())
        })
        .collect();
    (sets, unit)
}

impl Comparison {
    /// The kernels on a roofline of `machine` ([`roofline`](crate::plot::roofline)):
    /// each at the arithmetic intensity of the comparison's [`Work`] (flops ÷
    /// bytes) and its measured GFLOP/s, under the roofs for the most threads
    /// any kernel ran on.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the
    /// work lacks bytes or flops; as [`roofline`](crate::plot::roofline).
    pub fn plot_roofline(&self, machine: &Machine, precision: Precision) -> Result<Svg> {
        let intensity = self.work.intensity().ok_or_else(|| {
            crate::Error::new(
                crate::ErrorKind::InvalidInput,
                "a roofline needs both the bytes and the flops per call: \
                 `.work(Work::new().bytes(…).flops(…))`",
            )
        })?;
        let flops = self.work.flops_per_call().unwrap_or(0.0);
        let threads = self.results.iter().map(|r| r.threads).max().unwrap_or(1);
        let points: Vec<super::RooflinePoint> = self
            .results
            .iter()
            .map(|r| super::RooflinePoint {
                name: r.name.clone(),
                intensity,
                gflops: flops / r.median() / 1e9,
            })
            .collect();
        super::roofline(
            &format!(
                "roofline, {threads} thread{}",
                if threads == 1 { "" } else { "s" }
            ),
            machine,
            threads,
            precision,
            &points,
        )
    }
}

impl Scaling {
    /// Speedup against threads with the ideal line and the Amdahl fit.
    ///
    /// # Errors
    /// As [`scaling`].
    pub fn plot(&self) -> Result<Svg> {
        let pts: Vec<(usize, f64)> = self.points.iter().map(|p| (p.threads, p.speedup)).collect();
        scaling(
            &format!("{}: speedup against threads", self.name),
            &pts,
            self.serial_fraction.map(|s| s.clamp(0.0, 1.0)),
        )
    }
}

impl SizeScaling {
    /// x ticks of a chart against size: at the sizes themselves when there
    /// are few and they lie apart on the log axis; for bytes, at powers of
    /// two in KiB and MiB; otherwise none (chosen for the data).
    fn size_ticks(&self) -> Vec<(f64, String)> {
        let mut s: Vec<usize> = self.sizes.iter().copied().filter(|&n| n > 0).collect();
        s.sort_unstable();
        s.dedup();
        let (Some(&first), Some(&last)) = (s.first(), s.last()) else {
            return Vec::new();
        };
        let label = |n: usize| match self.size_unit {
            SizeUnit::Elements if n >= 1024 && n.is_power_of_two() => power_of_two(n),
            SizeUnit::Elements if n >= 1_000_000 => super::axis::sig(n as f64, 3),
            _ => self.size_unit.format(n),
        };
        let range = (last as f64 / first as f64).ln();
        let gap = if self.size_unit == SizeUnit::Bytes {
            10.0
        } else {
            14.0
        };
        if s.len() >= 2
            && s.len() <= 8
            && s.windows(2)
                .all(|w| (w[1] as f64 / w[0] as f64).ln() >= range / gap)
        {
            return s.iter().map(|&n| (n as f64, label(n))).collect();
        }
        if self.size_unit == SizeUnit::Bytes && last > first {
            let (k0, k1) = (
                (first as f64).log2().ceil() as u32,
                (last as f64).log2().floor() as u32,
            );
            // At most eight, from end to end where a step divides the span.
            let span = k1.saturating_sub(k0);
            let fits = |e: u32| span / e < 8;
            let every = (1..=span.max(1))
                .find(|&e| fits(e) && span % e == 0)
                .or_else(|| (1..=span.max(1)).find(|&e| fits(e)))
                .unwrap_or(1) as usize;
            return (k0..=k1.min(62))
                .step_by(every)
                .map(|k| ((1u64 << k) as f64, self.size_unit.format(1usize << k)))
                .collect();
        }
        Vec::new()
    }

    /// One series per kernel: `(size, y(result, work))` at each size.
    fn series_by(&self, y: impl Fn(&BenchResult, Work) -> f64) -> Vec<Series> {
        self.names
            .iter()
            .zip(&self.results)
            .map(|(n, rs)| {
                let points = self.sizes.iter().zip(rs).zip(&self.work);
                Series::new(
                    n.clone(),
                    points.map(|((&s, r), &w)| (s as f64, y(r, w))).collect(),
                )
            })
            .collect()
    }

    /// Time per call against size, log-log, one line per kernel.
    ///
    /// # Errors
    /// As [`LineChart::draw`].
    pub fn plot(&self) -> Result<Svg> {
        let slowest = self
            .results
            .iter()
            .flatten()
            .map(|r| r.median())
            .fold(0.0, f64::max);
        let (scale, unit) = time_unit(slowest);
        LineChart {
            title: "time per call against size".into(),
            x_label: self.size_unit.axis_label(),
            x_ticks: self.size_ticks(),
            y_label: format!("median time ({unit})"),
            log_x: true,
            log_y: true,
            series: self.series_by(|r, _| r.median() * scale),
            ..Default::default()
        }
        .draw()
    }

    /// Throughput against size with the machine's limits as ceilings — GB/s
    /// against the physical limit of an add from memory when the sweep was
    /// given bytes per call, otherwise GFLOP/s against the f64 peak. (Not a
    /// roofline, whose x axis is arithmetic intensity: see
    /// [`Comparison::plot_roofline`].)
    ///
    /// # Errors
    /// As [`LineChart::draw`]; [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput)
    /// when the sweep has no work per call (`SizeSweep::work`).
    pub fn plot_throughput(&self, machine: &Machine) -> Result<Svg> {
        let by_bytes = self.work.iter().any(|w| w.bytes_per_call().is_some());
        let by_flops = self.work.iter().any(|w| w.flops_per_call().is_some());
        if !by_bytes && !by_flops {
            return Err(crate::Error::new(
                crate::ErrorKind::InvalidInput,
                "a roofline needs the work per call: give the sweep `.work(|n| Work::new().bytes(…))`",
            ));
        }
        let threads = self
            .results
            .iter()
            .flatten()
            .map(|r| r.threads)
            .max()
            .unwrap_or(1);
        let mut ceilings = Vec::new();
        let (y_label, rate): (&str, RateFn) = if by_bytes {
            for p in &machine.stream {
                if p.threads == 1 || p.threads == threads {
                    ceilings.push(Ceiling::new(
                        format!(
                            "add from memory, {} thread{}",
                            p.threads,
                            if p.threads == 1 { "" } else { "s" }
                        ),
                        p.add_limit(),
                    ));
                }
            }
            (
                "bandwidth (GB/s)",
                Box::new(|r, w| w.bytes_per_call().unwrap_or(f64::NAN) / r.median() / 1e9),
            )
        } else {
            for t in [1, threads] {
                if let Ok(g) = machine.peak_gflops(t, Precision::F64) {
                    ceilings.push(Ceiling::new(
                        format!("f64 peak, {t} thread{}", if t == 1 { "" } else { "s" }),
                        g,
                    ));
                }
            }
            ceilings.dedup();
            (
                "rate (GFLOP/s)",
                Box::new(|r, w| w.flops_per_call().unwrap_or(f64::NAN) / r.median() / 1e9),
            )
        };
        LineChart {
            title: format!(
                "throughput against size, {threads} thread{}",
                if threads == 1 { "" } else { "s" }
            ),
            x_label: self.size_unit.axis_label(),
            x_ticks: self.size_ticks(),
            y_label: y_label.into(),
            log_x: true,
            log_y: true,
            series: self.series_by(|r, w| rate(r, w)),
            ceilings,
            ..Default::default()
        }
        .draw()
    }
}

#[cfg(test)]
mod tests {
    use crate::plot::legend::check;
    use crate::plot::svg_texts;
    use crate::timing::{BenchResult, Scaling, Work};

    fn result(name: &str, threads: usize, samples: Vec<f64>) -> BenchResult {
        let mut r = BenchResult::from_samples(name, samples, 10).unwrap();
        r.threads = threads;
        r
    }

    #[test]
    fn scaling_plot_from_results() {
        let s = Scaling::from_results(
            "par_add".into(),
            vec![
                result("1", 1, vec![2e-3, 2.1e-3, 2.05e-3]),
                result("2", 2, vec![1.1e-3, 1.05e-3, 1.08e-3]),
            ],
        );
        let svg = s.plot().unwrap();
        let texts = svg_texts(svg.as_str());
        assert!(
            texts
                .iter()
                .any(|t| t == "par_add: speedup against threads"),
            "{texts:?}"
        );
        assert!(texts.iter().any(|t| t.starts_with("Amdahl")), "{texts:?}");
    }

    #[test]
    fn size_sweep_and_roofline_plots() {
        use crate::timing::machine::{PeakPoint, StreamPoint};
        use crate::timing::{Machine, SizeScaling};
        let sizes = vec![1000, 10_000, 100_000];
        let kernel = |name: &str| {
            sizes
                .iter()
                .map(|&n| result(name, 2, vec![n as f64 * 1e-9, n as f64 * 1.1e-9]))
                .collect()
        };
        let sweep = SizeScaling {
            sizes: sizes.clone(),
            names: vec!["add".into(), "par_add".into()],
            results: vec![kernel("add"), kernel("par_add")],
            work: sizes
                .iter()
                .map(|&n| Work::new().bytes(24.0 * n as f64).flops(n as f64))
                .collect(),
            size_unit: Default::default(),
        };
        let texts = svg_texts(sweep.plot().unwrap().as_str());
        assert!(texts.iter().any(|t| t == "median time (µs)"), "{texts:?}");
        let mut m = Machine::probe_with(&crate::timing::machine::ProbeConfig::tiny()).unwrap();
        m.stream = vec![
            StreamPoint {
                threads: 1,
                copy: 30.0,
                add: 40.0,
                triad: 38.0,
                ..Default::default()
            },
            StreamPoint {
                threads: 2,
                copy: 50.0,
                add: 60.0,
                triad: 55.0,
                ..Default::default()
            },
        ];
        m.peak = vec![PeakPoint {
            threads: 1,
            f32: 116.0,
            f64: 58.0,
        }];
        let svg = sweep.plot_throughput(&m).unwrap();
        check::keep("throughput", svg.as_str());
        check::assert_axes(svg.as_str(), 3);
        check::assert_legend_clear(svg.as_str());
        let (x, _) = check::tick_labels(svg.as_str());
        assert_eq!(x, ["1000", "10000", "100000"]);
        let texts = svg_texts(svg.as_str());
        assert!(texts.iter().any(|t| t == "n (elements)"), "{texts:?}");
        for t in [
            "bandwidth (GB/s)",
            "add from memory, 1 thread: 40 GB/s",
            "add from memory, 2 threads: 60 GB/s",
            "add",
            "par_add",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing from {texts:?}");
        }
        let no_work = SizeScaling {
            work: vec![Work::new(); 3],
            ..sweep
        };
        assert!(
            no_work
                .plot_throughput(&m)
                .unwrap_err()
                .to_string()
                .contains("work per call")
        );
    }

    #[test]
    fn size_sweeps_read_as_matrix_sides_or_bytes() {
        use crate::timing::machine::PeakPoint;
        use crate::timing::{Machine, SizeScaling, SizeUnit};
        let sizes = vec![256, 512, 1024, 1536, 2048];
        let kernel = |name: &str, speed: f64| {
            sizes
                .iter()
                .map(|&n| {
                    let t = 2.0 * (128 * n * n) as f64 / (speed * 1e9 * (1.0 + 256.0 / n as f64));
                    result(name, 1, vec![t, t * 1.02])
                })
                .collect()
        };
        let sweep = SizeScaling {
            sizes: sizes.clone(),
            names: vec!["ikj".into(), "blocked".into(), "matmul (library)".into()],
            results: vec![
                kernel("ikj", 3.0),
                kernel("blocked", 8.0),
                kernel("matmul (library)", 40.0),
            ],
            work: sizes
                .iter()
                .map(|&n| Work::new().flops(2.0 * (128 * n * n) as f64))
                .collect(),
            size_unit: SizeUnit::Square,
        };
        let mut m = Machine::probe_with(&crate::timing::machine::ProbeConfig::tiny()).unwrap();
        m.peak = vec![PeakPoint {
            threads: 1,
            f32: 243.44,
            f64: 121.72,
        }];
        let svg = sweep.plot_throughput(&m).unwrap();
        let s = svg.as_str();
        check::keep("throughput_square", s);
        check::assert_axes(s, 3);
        check::assert_legend_clear(s);
        let (x, _) = check::tick_labels(s);
        assert_eq!(x, ["256", "512", "1024", "1536", "2048"]);
        let texts = svg_texts(s);
        for t in [
            "n (n×n matrix)",
            "rate (GFLOP/s)",
            "f64 peak, 1 thread: 121.7 GFLOP/s",
        ] {
            assert!(texts.iter().any(|x| x == t), "{t:?} missing from {texts:?}");
        }
        let time = sweep.plot().unwrap();
        check::keep("time_square", time.as_str());
        check::assert_axes(time.as_str(), 3);
        check::assert_legend_clear(time.as_str());
        // Bytes: powers of two in KiB and MiB.
        let bytes: Vec<usize> = (10..=24).map(|k| 1usize << k).collect();
        let sweep = SizeScaling {
            sizes: bytes.clone(),
            names: vec!["read".into()],
            results: vec![
                bytes
                    .iter()
                    .map(|&b| result("read", 1, vec![b as f64 * 1e-10]))
                    .collect(),
            ],
            work: bytes.iter().map(|&b| Work::new().bytes(b as f64)).collect(),
            size_unit: SizeUnit::Bytes,
        };
        let svg = sweep.plot().unwrap();
        check::keep("time_bytes", svg.as_str());
        check::assert_axes(svg.as_str(), 3);
        let (x, _) = check::tick_labels(svg.as_str());
        assert!(
            x.contains(&"1 KiB".to_string()) && x.contains(&"16 MiB".to_string()),
            "{x:?}"
        );
        assert!(
            svg_texts(svg.as_str())
                .iter()
                .any(|t| t == "working set (bytes)")
        );
        // Elements, powers of two: 2¹² … 2²³.
        let n: Vec<usize> = [12, 15, 18, 21, 23].iter().map(|k| 1usize << k).collect();
        let sweep = SizeScaling {
            sizes: n.clone(),
            names: vec!["sum".into()],
            results: vec![
                n.iter()
                    .map(|&b| result("sum", 1, vec![b as f64 * 1e-10]))
                    .collect(),
            ],
            work: n
                .iter()
                .map(|&b| Work::new().bytes(8.0 * b as f64))
                .collect(),
            size_unit: SizeUnit::Elements,
        };
        let (x, _) = check::tick_labels(sweep.plot().unwrap().as_str());
        assert_eq!(x, ["2¹²", "2¹⁵", "2¹⁸", "2²¹", "2²³"]);
    }

    #[test]
    fn samples_plot_uses_a_readable_unit() {
        let r = result("k", 1, vec![1.2e-6, 1.3e-6, 5e-6]);
        let svg = r.plot_samples().unwrap();
        assert!(svg_texts(svg.as_str()).iter().any(|t| t == "time (µs)"));
        assert_eq!(svg.as_str().matches("<circle").count(), 3);
        let both = r.plot_distribution().unwrap();
        let texts = svg_texts(both.as_str());
        assert!(
            texts.iter().any(|t| t == "time per call: every sample"),
            "{texts:?}"
        );
        assert!(
            texts.iter().any(|t| t == "time per call: distribution"),
            "{texts:?}"
        );
        assert!(
            texts.iter().filter(|t| *t == "time (µs)").count() == 2,
            "{texts:?}"
        );
    }
}
