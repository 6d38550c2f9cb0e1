//! Saved results to compare a new run against (criterion's and
//! pytest-benchmark's baselines): improved, regressed or no change.
//!
//! ```
//! use parlab::timing::{Baseline, BenchResult, Verdict};
//! let old = Baseline::new([BenchResult::from_samples("add", vec![1.00, 1.01, 0.99, 1.00, 1.02], 1).unwrap()]);
//! let new = [BenchResult::from_samples("add", vec![1.50, 1.51, 1.49, 1.50, 1.52], 1).unwrap()];
//! let changes = old.compare(&new, 0.05);
//! assert_eq!(changes.items[0].verdict, Verdict::Regressed);
//! assert!(changes.any_regressed());
//! assert!((changes.items[0].ratio - 1.5).abs() < 1e-12);
//! ```

use super::bench::BenchResult;
use crate::error::Result;
use serde::{Deserialize, Serialize};

/// Version of the saved [`Baseline`] format.
pub const BASELINE_FORMAT_VERSION: u32 = 1;

/// A set of named results saved for later comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Format version ([`BASELINE_FORMAT_VERSION`]).
    pub format_version: u32,
    /// When it was made, seconds since the Unix epoch.
    pub created_unix: u64,
    /// The results, looked up by [`BenchResult::name`] and thread count.
    pub results: Vec<BenchResult>,
}

/// The outcome of [`Baseline::compare`]: one [`Change`] per new result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Changes {
    /// The threshold used (0.05 = 5 %).
    pub threshold: f64,
    /// One entry per new result, in order.
    pub items: Vec<Change>,
}

impl Changes {
    /// Whether any benchmark regressed.
    pub fn any_regressed(&self) -> bool {
        self.items.iter().any(|c| c.verdict == Verdict::Regressed)
    }
}

/// What happened to one benchmark since the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Faster beyond the threshold and the noise.
    Improved,
    /// Slower beyond the threshold and the noise.
    Regressed,
    /// Within the threshold, or the confidence intervals overlap.
    NoChange,
    /// Not in the baseline.
    New,
}

/// One benchmark compared with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    /// Benchmark name.
    pub name: String,
    /// Threads.
    pub threads: usize,
    /// Baseline median, seconds (NaN when new).
    pub old: f64,
    /// New median, seconds.
    pub new: f64,
    /// `new / old`: above 1 is slower.
    pub ratio: f64,
    /// The verdict.
    pub verdict: Verdict,
}

impl Baseline {
    /// A baseline from results (for example `comparison.results`).
    pub fn new(results: impl IntoIterator<Item = BenchResult>) -> Baseline {
        Baseline {
            format_version: BASELINE_FORMAT_VERSION,
            created_unix: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
            results: results.into_iter().collect(),
        }
    }

    /// Saves as JSON, atomically.
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) naming the path.
    pub fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        crate::export::save_json(path.as_ref(), self)
    }

    /// Loads a baseline saved by [`save`](Baseline::save).
    ///
    /// # Errors
    /// [`ErrorKind::Io`](crate::ErrorKind::Io) when unreadable;
    /// [`ErrorKind::Format`](crate::ErrorKind::Format) naming the file when
    /// malformed or of another format version.
    pub fn load(path: impl AsRef<std::path::Path>) -> Result<Baseline> {
        crate::export::load_json(path.as_ref(), BASELINE_FORMAT_VERSION)
    }

    /// Compares new results with the baseline's of the same name and thread count.
    ///
    /// A change counts only when the medians differ by more than `threshold`
    /// (0.05 = 5 %) **and** the bootstrap confidence intervals of the two
    /// medians do not overlap; otherwise it is noise.
    pub fn compare(&self, new: &[BenchResult], threshold: f64) -> Changes {
        let items = new
            .iter()
            .map(|n| {
                let old = self
                    .results
                    .iter()
                    .find(|o| o.name == n.name && o.threads == n.threads);
                match old {
                    None => Change {
                        name: n.name.clone(),
                        threads: n.threads,
                        old: f64::NAN,
                        new: n.median(),
                        ratio: f64::NAN,
                        verdict: Verdict::New,
                    },
                    Some(o) => {
                        let ratio = n.median() / o.median();
                        let (olo, ohi) = o.median_ci();
                        let (nlo, nhi) = n.median_ci();
                        let verdict = if ratio > 1.0 + threshold && nlo > ohi {
                            Verdict::Regressed
                        } else if ratio < 1.0 - threshold && nhi < olo {
                            Verdict::Improved
                        } else {
                            Verdict::NoChange
                        };
                        Change {
                            name: n.name.clone(),
                            threads: n.threads,
                            old: o.median(),
                            new: n.median(),
                            ratio,
                            verdict,
                        }
                    }
                }
            })
            .collect();
        Changes { threshold, items }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn r(name: &str, xs: &[f64]) -> BenchResult {
        BenchResult::from_samples(name, xs.to_vec(), 1).unwrap()
    }

    #[test]
    fn verdicts() {
        let old = Baseline::new([
            r("a", &[1.0, 1.01, 0.99, 1.0, 1.0]),
            r("b", &[1.0, 1.01, 0.99, 1.0, 1.0]),
            r("c", &[1.0, 1.3, 0.7, 1.0, 1.0]),
        ]);
        let new = [
            r("a", &[0.5, 0.51, 0.49, 0.5, 0.5]),
            r("b", &[1.02, 1.0, 1.01, 1.0, 1.0]),
            r("c", &[1.2, 1.5, 0.9, 1.2, 1.2]), // 20 % slower but overlapping: noise
            r("d", &[1.0]),
        ];
        let v: Vec<Verdict> = old
            .compare(&new, 0.05)
            .items
            .iter()
            .map(|c| c.verdict)
            .collect();
        assert_eq!(
            v,
            [
                Verdict::Improved,
                Verdict::NoChange,
                Verdict::NoChange,
                Verdict::New
            ]
        );
    }

    #[test]
    fn save_load_and_version_errors() {
        let dir = std::env::temp_dir().join(format!("parlab-baseline-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("base.json");
        let b = Baseline::new([r("a", &[1.0, 2.0])]);
        b.save(&p).unwrap();
        assert_eq!(Baseline::load(&p).unwrap(), b);
        let text = std::fs::read_to_string(&p)
            .unwrap()
            .replace("\"format_version\": 1", "\"format_version\": 99");
        std::fs::write(&p, text).unwrap();
        let e = Baseline::load(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        assert!(
            e.to_string().contains("base.json: format version 99"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
