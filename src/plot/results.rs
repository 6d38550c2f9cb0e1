//! Charts straight from timing results: `comparison.plot()`, `scaling.plot()`,
//! `sweep.plot(&machine)`, `result.plot_samples()`.

use super::{Bar, Ceiling, LineChart, Series, bars, scaling, strip};
use crate::display::Svg;
use crate::error::Result;
use crate::timing::{BenchResult, Comparison, Machine, Precision, Scaling, SizeScaling, Work};

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
            x_label: "size (elements)".into(),
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
                "GFLOP/s",
                Box::new(|r, w| w.flops_per_call().unwrap_or(f64::NAN) / r.median() / 1e9),
            )
        };
        LineChart {
            title: format!(
                "throughput against size, {threads} thread{}",
                if threads == 1 { "" } else { "s" }
            ),
            x_label: "size (elements)".into(),
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
        };
        let texts = svg_texts(sweep.plot().unwrap().as_str());
        assert!(texts.iter().any(|t| t == "median time (µs)"), "{texts:?}");
        let mut m = Machine::probe_with(&crate::timing::machine::ProbeConfig {
            max_bytes: 1 << 16,
            stream_reps: 1,
            peak_seconds: 1e-5,
            threads: vec![1],
            apply: false,
        })
        .unwrap();
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
        let texts = svg_texts(sweep.plot_throughput(&m).unwrap().as_str());
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
    fn samples_plot_uses_a_readable_unit() {
        let r = result("k", 1, vec![1.2e-6, 1.3e-6, 5e-6]);
        let svg = r.plot_samples().unwrap();
        assert!(svg_texts(svg.as_str()).iter().any(|t| t == "time (µs)"));
        assert_eq!(svg.as_str().matches("<circle").count(), 3);
        let both = r.plot_distribution().unwrap();
        let texts = svg_texts(both.as_str());
        assert!(texts.iter().any(|t| t == "time per call: every sample"), "{texts:?}");
        assert!(texts.iter().any(|t| t == "time per call: distribution"), "{texts:?}");
        assert!(texts.iter().filter(|t| *t == "time (µs)").count() == 2, "{texts:?}");
    }
}
