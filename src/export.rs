//! Saving results: atomic writes, versioned JSON, flat CSV rows.
//!
//! Every file parlab writes goes through [`write_atomic`] (a temporary file in
//! the same directory, then a rename), so a reader never sees half a file.
//! Every JSON document carries a `format_version`; reading a file of another
//! version, or a malformed one, is an [`ErrorKind::Format`] error naming the
//! file and what was wrong.

use crate::error::{Error, ErrorKind, Result};
use serde::{Serialize, de::DeserializeOwned};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same directory and a
/// rename, so a reader never sees a half-written file and an interrupted write
/// leaves the old file in place.
///
/// # Errors
/// [`ErrorKind::Io`] naming the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let io_err = |what: &str, e: std::io::Error| {
        Error::new(ErrorKind::Io, format!("{what} {}", path.display())).with_source(e)
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path.file_name().ok_or_else(|| {
        Error::new(
            ErrorKind::Io,
            format!("not a file path: {}", path.display()),
        )
    })?;
    // Process id and a counter: two threads of one process may write at once.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let k = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(
        ".{}.tmp-{}-{k}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(io_err("cannot write", e));
    }
    Ok(())
}

/// Writes `value` as pretty JSON, atomically. The value must carry a
/// `format_version` field, so that [`load_json`] can read it back: a value
/// without one is refused (results without their own field are saved with
/// [`save_versioned`], as `Comparison::save` does).
///
/// # Errors
/// [`ErrorKind::Io`] naming the path; [`ErrorKind::Format`] if the value cannot
/// be serialized (a map with non-string keys) or has no `format_version`.
pub fn save_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let fail = |e: serde_json::Error| {
        Error::new(
            ErrorKind::Format,
            format!("cannot serialize data for {}", path.display()),
        )
        .with_source(e)
    };
    let tree = serde_json::to_value(value).map_err(fail)?;
    if tree
        .get("format_version")
        .and_then(|v| v.as_u64())
        .is_none()
    {
        return Err(Error::new(
            ErrorKind::Format,
            format!(
                "{}: this value has no `format_version`, so it could not be loaded back; \
                 save it with its own `save` method",
                path.display()
            ),
        ));
    }
    let text = serde_json::to_string_pretty(&tree).map_err(fail)?;
    write_atomic(path, text.as_bytes())
}

/// A value saved beside its format version: `{"format_version": v, ...}`.
#[derive(Serialize, serde::Deserialize)]
struct Versioned<T> {
    format_version: u32,
    #[serde(flatten)]
    value: T,
}

/// Writes `value`, whose type has no `format_version` of its own, with
/// `version` beside its fields, atomically; [`load_versioned`] reads it back.
///
/// # Errors
/// As [`save_json`].
pub fn save_versioned<T: Serialize>(path: &Path, value: &T, version: u32) -> Result<()> {
    save_json(
        path,
        &Versioned {
            format_version: version,
            value,
        },
    )
}

/// Reads a value written by [`save_versioned`] with the same `version`.
///
/// # Errors
/// As [`load_json`].
pub fn load_versioned<T: DeserializeOwned>(path: &Path, version: u32) -> Result<T> {
    load_json::<Versioned<T>>(path, version).map(|v| v.value)
}

/// Reads JSON written by [`save_json`], checking its `format_version` first.
///
/// # Errors
/// [`ErrorKind::Io`] when the file cannot be read; [`ErrorKind::Format`] naming
/// the file when it is not JSON, has no `format_version` or another one than
/// `version`, or does not have the expected fields.
pub fn load_json<T: DeserializeOwned>(path: &Path, version: u32) -> Result<T> {
    let text = read_text(path)?;
    from_json_str(&text, version, &path.display().to_string())
}

/// The file as text: an unreadable file is an I/O error, one that is not
/// UTF-8 a format error (it is not a file parlab wrote).
fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| {
        Error::new(ErrorKind::Io, format!("cannot read {}", path.display())).with_source(e)
    })?;
    String::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorKind::Format,
            format!(
                "{}: not UTF-8 text (byte {} is invalid): not a file parlab wrote",
                path.display(),
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// As [`load_json`] on text already read; `origin` names it in errors.
///
/// # Errors
/// As [`load_json`].
pub fn from_json_str<T: DeserializeOwned>(text: &str, version: u32, origin: &str) -> Result<T> {
    let format = |what: String| Error::new(ErrorKind::Format, format!("{origin}: {what}"));
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format("not valid JSON".into()).with_source(e))?;
    match value.get("format_version").map(|v| v.as_u64()) {
        None => {
            return Err(format(
                "no `format_version` field: not a parlab file".into(),
            ));
        }
        Some(None) => return Err(format("`format_version` is not a number".into())),
        Some(Some(v)) if v != u64::from(version) => {
            return Err(format(format!(
                "format version {v}, this parlab reads version {version}"
            )));
        }
        Some(Some(_)) => {}
    }
    serde_json::from_value(value)
        .map_err(|e| format("fields do not match the expected format".into()).with_source(e))
}

/// One measured figure in long ("tidy") form: what was measured, and one
/// statistic with its unit. Tables of these go to CSV or a data-frame library.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// Kernel or benchmark name.
    pub name: String,
    /// Problem size (0 when not applicable).
    pub size: usize,
    /// Threads the measurement ran on.
    pub threads: usize,
    /// Which statistic: `median`, `min`, `iqr`, `sample`, `speedup`, …
    pub stat: String,
    /// Its value.
    pub value: f64,
    /// Its unit: `s`, `GB/s`, `GFLOP/s`, `x` (ratio), `1`.
    pub unit: String,
}

impl Row {
    /// A row.
    pub fn new(name: &str, size: usize, threads: usize, stat: &str, value: f64, unit: &str) -> Row {
        Row {
            name: name.to_string(),
            size,
            threads,
            stat: stat.to_string(),
            value,
            unit: unit.to_string(),
        }
    }
}

/// Rows as CSV text with the header `name,size,threads,stat,value,unit`.
///
/// ```
/// use parlab::export::{Row, to_csv};
/// let csv = to_csv(&[Row::new("add", 1024, 2, "median", 1.5e-3, "s")]).unwrap();
/// assert_eq!(csv, "name,size,threads,stat,value,unit\nadd,1024,2,median,0.0015,s\n");
/// ```
///
/// # Errors
/// [`ErrorKind::Format`] if a row cannot be written (does not happen for
/// ordinary values).
pub fn to_csv(rows: &[Row]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)
            .map_err(|e| Error::new(ErrorKind::Format, "cannot write a CSV row").with_source(e))?;
    }
    if rows.is_empty() {
        w.write_record(["name", "size", "threads", "stat", "value", "unit"])
            .map_err(|e| Error::new(ErrorKind::Format, "cannot write a CSV row").with_source(e))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::new(ErrorKind::Format, format!("cannot finish CSV: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|e| Error::new(ErrorKind::Format, "CSV is not UTF-8").with_source(e))
}

/// Writes rows as CSV, atomically.
///
/// # Errors
/// [`ErrorKind::Io`] naming the path.
pub fn save_csv(path: impl AsRef<Path>, rows: &[Row]) -> Result<()> {
    write_atomic(path.as_ref(), to_csv(rows)?.as_bytes())
}

/// Reads rows written by [`save_csv`].
///
/// # Errors
/// [`ErrorKind::Io`] when unreadable; [`ErrorKind::Format`] naming the file and
/// the line of the first malformed row.
pub fn load_csv(path: impl AsRef<Path>) -> Result<Vec<Row>> {
    let path = path.as_ref();
    let text = read_text(path)?;
    let mut r = csv::Reader::from_reader(text.as_bytes());
    r.deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|e| {
                Error::new(
                    ErrorKind::Format,
                    format!(
                        "{}: row {} is not name,size,threads,stat,value,unit",
                        path.display(),
                        i + 1
                    ),
                )
                .with_source(e)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn saved_floats_load_back_bit_for_bit() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct V {
            format_version: u32,
            x: Vec<f64>,
        }
        // The first six came back an ulp off without serde_json's
        // float_roundtrip (found by a random search over timing-like values).
        let odd = vec![
            0.00018597941207808166,
            0.0014805878740494919,
            1.6047802727761427,
            0.00018502574670373678,
            0.00018658799244302278,
            0.000011823352145355241,
            0.005091657186,
            0.1 + 0.2,
            1.0 / 3.0,
            2.3283064365386963e-10,
            6236.2080000000005,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            -0.0,
            std::f64::consts::PI * 1e300,
        ];
        let dir = std::env::temp_dir().join(format!("parlab-floats-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("v.json");
        save_json(
            &p,
            &V {
                format_version: 1,
                x: odd.clone(),
            },
        )
        .unwrap();
        let back: V = load_json(&p, 1).unwrap();
        for (a, b) in odd.iter().zip(&back.x) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a:e} came back as {b:e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    use super::*;

    fn tmpdir(tag: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("parlab-export-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary() {
        let dir = tmpdir("atomic");
        let p = dir.join("x.svg");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        let e = write_atomic(&dir.join("missing-dir/x.svg"), b"x").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io);
        assert!(e.to_string().contains("missing-dir"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Doc {
        format_version: u32,
        x: f64,
    }

    #[test]
    fn json_round_trip_and_clear_errors() {
        let dir = tmpdir("json");
        let p = dir.join("d.json");
        let d = Doc {
            format_version: 3,
            x: 1.5,
        };
        save_json(&p, &d).unwrap();
        assert_eq!(load_json::<Doc>(&p, 3).unwrap(), d);
        let e = load_json::<Doc>(&p, 4).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        assert!(
            e.to_string()
                .contains("d.json: format version 3, this parlab reads version 4"),
            "{e}"
        );
        std::fs::write(&p, "{\"x\": 1").unwrap();
        let e = load_json::<Doc>(&p, 3).unwrap_err();
        assert!(e.to_string().contains("d.json: not valid JSON"), "{e}");
        std::fs::write(&p, "{\"x\": 1}").unwrap();
        let e = load_json::<Doc>(&p, 3).unwrap_err();
        assert!(e.to_string().contains("no `format_version`"), "{e}");
        std::fs::write(&p, "{\"format_version\": 3, \"y\": 1}").unwrap();
        let e = load_json::<Doc>(&p, 3).unwrap_err();
        assert!(e.to_string().contains("fields do not match"), "{e}");
        let e = load_json::<Doc>(&dir.join("nope.json"), 3).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Io);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn csv_round_trip() {
        let dir = tmpdir("csv");
        let p = dir.join("r.csv");
        let rows = vec![
            Row::new("a,b", 10, 1, "median", 1e-3, "s"),
            Row::new("c", 0, 2, "speedup", 1.9, "x"),
        ];
        save_csv(&p, &rows).unwrap();
        assert_eq!(load_csv(&p).unwrap(), rows);
        std::fs::write(
            &p,
            "name,size,threads,stat,value,unit\nx,notanumber,1,m,1,s\n",
        )
        .unwrap();
        let e = load_csv(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        assert!(e.to_string().contains("r.csv: row 1"), "{e}");
        assert_eq!(to_csv(&[]).unwrap(), "name,size,threads,stat,value,unit\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn unversioned_values_are_refused_and_non_utf8_is_a_format_error() {
        let dir = std::env::temp_dir().join(format!("parlab-export-v-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("plain.json");
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Plain {
            x: f64,
        }
        let e = save_json(&p, &Plain { x: 0.1 }).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        assert!(e.to_string().contains("no `format_version`"), "{e}");
        assert!(!p.exists(), "nothing half-written");
        save_versioned(&p, &Plain { x: 0.1 + 0.2 }, 7).unwrap();
        assert_eq!(
            load_versioned::<Plain>(&p, 7).unwrap(),
            Plain { x: 0.1 + 0.2 }
        );
        assert_eq!(
            load_versioned::<Plain>(&p, 8).unwrap_err().kind(),
            ErrorKind::Format
        );
        std::fs::write(&p, b"{\"format_version\": 7, \xff}").unwrap();
        let e = load_versioned::<Plain>(&p, 7).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        assert!(e.to_string().contains("not UTF-8"), "{e}");
        let e = load_csv(&p).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Format);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
