//! The parlab side of `./lab peers` (tools/peers.py): a long-running worker
//! that times parlab's kernels on request, so that numpy and numba can be timed
//! in the same rounds on the same machine.
//!
//! `cargo run --release --example peers` (and `--profile notebook`: the build
//! evcxr cells get), then one command per line on stdin, one JSON line back:
//!
//! - `<case> <threads> <calls>`: one warm-up call, then `calls` timed calls on
//!   a rayon pool of `threads` threads →
//!   `{"median_s": …, "best_s": …, "samples": calls}`;
//! - `check <case> <threads>`: one call, then what it computed →
//!   `{"values": [...], "checksum": …}` (see [`check`]);
//! - `info` → `{"cases": [...], "debug_assertions": bool}`;
//! - `quit`, or the end of the input, ends the worker.
//!
//! Anything else (an unknown case, 0 threads, 0 calls) answers
//! `{"error": "…"}`; the worker never panics out.
//!
//! A case's arrays are made on its first command, filled by the pool that runs
//! it (so their pages are first touched there), and kept for later rounds. The
//! inputs are small integers and `(i % 1000) / 1000` (computed in f64, then
//! rounded to the case's type), which numpy rebuilds exactly.
//!
//! With 1 thread a case calls the serial kernel (`add`, `matmul`, …); with
//! more, its `par_` twin on the pool. The limit loops
//! ([`parlab::timing::limit_add_streaming`], [`parlab::timing::limit_read`])
//! are parallel on the pool.

use ndarray::Array2;
use parlab::kernels::{self as k, Float};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hint::black_box;
use std::io::{BufRead, Write};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Add,
    Triad,
    Sum,
    Dot,
    Matmul,
    LimitAdd,
    LimitAddOrdinary,
    LimitRead,
}

/// name, what it runs, f64 (else f32), n (the arrays are n×n).
const CASES: &[(&str, Kind, bool, usize)] = &[
    ("add_f32_1024", Kind::Add, false, 1024),
    ("triad_f32_1024", Kind::Triad, false, 1024),
    ("sum_f32_1024", Kind::Sum, false, 1024),
    ("dot_f32_1024", Kind::Dot, false, 1024),
    ("add_f64_4096", Kind::Add, true, 4096),
    ("triad_f64_4096", Kind::Triad, true, 4096),
    ("sum_f64_4096", Kind::Sum, true, 4096),
    ("dot_f64_4096", Kind::Dot, true, 4096),
    ("matmul_f64_1024", Kind::Matmul, true, 1024),
    ("limit_add_f64_4096", Kind::LimitAdd, true, 4096),
    (
        "limit_add_ordinary_f64_4096",
        Kind::LimitAddOrdinary,
        true,
        4096,
    ),
    ("limit_read_f64_4096", Kind::LimitRead, true, 4096),
];

/// The triad's scalar: `a = b + TRIAD_S·c`.
const TRIAD_S: f64 = 3.0;

/// A case's arrays: the inputs `x`, `y` and the output `z`.
struct Arrays<T> {
    x: Array2<T>,
    y: Array2<T>,
    z: Array2<T>,
}

enum Data {
    F32(Arrays<f32>),
    F64(Arrays<f64>),
}

/// Fills `a` (n×n, C order) with `f(i, j)` in parallel on the current pool.
fn fill<T: Float>(a: &mut Array2<T>, f: impl Fn(usize, usize) -> f64 + Sync) {
    let n = a.ncols();
    let flat = a.as_slice_mut().expect("a new array is contiguous");
    flat.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        for (j, v) in row.iter_mut().enumerate() {
            *v = T::from_f64(f(i, j));
        }
    });
}

/// The inputs of a case (numpy rebuilds the same in tools/peers.py).
fn make<T: Float>(kind: Kind, n: usize) -> Arrays<T> {
    // PARLAB_PEERS_ARRAYS=ndarray: `Array2::zeros`, as the notebooks make
    // them (huge pages only when glibc is told to ask: GLIBC_TUNABLES, as
    // ./lab starts the kernel); otherwise parlab::mem, which asks for huge
    // pages as numpy does for every array of 4 MiB or more.
    let plain = std::env::var("PARLAB_PEERS_ARRAYS").as_deref() == Ok("ndarray");
    let new = || {
        if plain {
            Array2::zeros((n, n))
        } else {
            parlab::mem::zeros((n, n))
        }
    };
    let mut a = Arrays {
        x: new(),
        y: new(),
        z: new(),
    };
    if kind == Kind::Matmul {
        fill(&mut a.x, |i, j| ((i + 2 * j) % 7) as f64 - 3.0);
        fill(&mut a.y, |i, j| ((3 * i + j) % 5) as f64 - 2.0);
    } else {
        fill(&mut a.x, |i, j| ((i * n + j) % 1000) as f64 / 1000.0);
        fill(&mut a.y, |i, j| ((i * n + j) % 7 + 1) as f64);
    }
    fill(&mut a.z, |_, _| 0.0);
    a
}

/// One call of the case; returns the scalar it computed (0 for the others).
fn call<T: Float>(kind: Kind, a: &mut Arrays<T>, threads: usize) -> parlab::Result<f64> {
    let serial = threads == 1;
    let (x, y) = (a.x.view(), a.y.view());
    let z = a.z.view_mut();
    let s = T::from_f64(TRIAD_S);
    Ok(match kind {
        Kind::Add if serial => k::add(x, y, z).map(|_| 0.0)?,
        Kind::Add => k::par_add(x, y, z).map(|_| 0.0)?,
        // z = y + s·x
        Kind::Triad if serial => k::triad(y, x, z, s).map(|_| 0.0)?,
        Kind::Triad => k::par_triad(y, x, z, s).map(|_| 0.0)?,
        Kind::Sum if serial => k::sum(x).to_f64(),
        Kind::Sum => k::par_sum(x).to_f64(),
        Kind::Dot if serial => k::dot(x, y)?.to_f64(),
        Kind::Dot => k::par_dot(x, y)?.to_f64(),
        Kind::Matmul if serial => k::matmul(x, y, z).map(|_| 0.0)?,
        Kind::Matmul => k::par_matmul(x, y, z).map(|_| 0.0)?,
        Kind::LimitAdd | Kind::LimitAddOrdinary | Kind::LimitRead => {
            unreachable!("f64 only, see call_f64")
        }
    })
}

fn call_f64(kind: Kind, a: &mut Arrays<f64>, threads: usize) -> parlab::Result<f64> {
    match kind {
        Kind::LimitAdd => {
            let (x, y) = (a.x.as_slice().unwrap(), a.y.as_slice().unwrap());
            parlab::timing::limit_add_streaming(x, y, a.z.as_slice_mut().unwrap());
            Ok(0.0)
        }
        Kind::LimitAddOrdinary => {
            let (x, y) = (a.x.as_slice().unwrap(), a.y.as_slice().unwrap());
            parlab::timing::limit_add_ordinary(x, y, a.z.as_slice_mut().unwrap());
            Ok(0.0)
        }
        Kind::LimitRead => Ok(parlab::timing::limit_read(a.x.as_slice().unwrap())),
        _ => call(kind, a, threads),
    }
}

fn run_once(kind: Kind, data: &mut Data, threads: usize) -> parlab::Result<f64> {
    match data {
        Data::F32(a) => call(kind, a, threads),
        Data::F64(a) => call_f64(kind, a, threads),
    }
}

/// What a call computed, for tools/peers.py to compare with numpy: a
/// reduction's value, or the output at five places and its sum (in f64, in
/// index order).
fn check(kind: Kind, data: &Data, value: f64) -> Value {
    fn out<T: Float>(z: &Array2<T>) -> Value {
        let flat = z.as_slice().unwrap();
        let n = flat.len();
        let at: Vec<usize> = vec![0, 1, n / 3, n / 2, n - 1];
        let values: Vec<f64> = at.iter().map(|&i| flat[i].to_f64()).collect();
        let checksum: f64 = flat.iter().map(|v| v.to_f64()).sum();
        json!({"indices": at, "values": values, "checksum": checksum})
    }
    match kind {
        Kind::Sum | Kind::Dot | Kind::LimitRead => json!({"value": value}),
        _ => match data {
            Data::F32(a) => out(&a.z),
            Data::F64(a) => out(&a.z),
        },
    }
}

struct Worker {
    pools: HashMap<usize, rayon::ThreadPool>,
    data: HashMap<&'static str, Data>,
}

fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        0.5 * (sorted[n / 2 - 1] + sorted[n / 2])
    }
}

impl Worker {
    fn answer(&mut self, line: &str) -> Value {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["info"] => json!({
                "cases": CASES.iter().map(|c| c.0).collect::<Vec<_>>(),
                "debug_assertions": cfg!(debug_assertions),
            }),
            // What a notebook does first: probe the machine, which also tells
            // the kernels where streaming stores start and which read width
            // to use.
            ["probe"] => match parlab::timing::Machine::probe_quick() {
                Ok(m) => json!({
                    "cpu": m.cpu_model,
                    "probe_s": m.probe_seconds,
                    "memory_from_bytes": m.memory_from_bytes,
                    "plateau_found": m.plateau_found,
                    "streaming_threshold": parlab::kernels::streaming_threshold(),
                    "memory_simd": m.memory_simd,
                    "cache_simd": m.cache_simd,
                    "l3_simd": m.l3_simd,
                    "arrays": if std::env::var("PARLAB_PEERS_ARRAYS").as_deref() == Ok("ndarray") { "ndarray" } else { "parlab::mem" },
                    "simd": parlab::kernels::stores::simd_level_name(parlab::kernels::simd_level()),
                    "gemm": parlab::kernels::gemm_library(),
                    "caches": m.caches.iter().map(|c| format!("L{} {}", c.level, parlab::timing::machine::fmt_bytes(c.bytes))).collect::<Vec<_>>(),
                }),
                Err(e) => json!({"error": e.to_string()}),
            },
            ["check", case, threads] => self.command(case, threads, None),
            [case, threads, calls] => self.command(case, threads, Some(calls)),
            _ => json!({"error": format!(
                "expected `<case> <threads> <calls>`, `check <case> <threads>` or `info`, got {line:?}"
            )}),
        }
    }

    fn command(&mut self, case: &str, threads: &str, calls: Option<&str>) -> Value {
        match self.try_command(case, threads, calls) {
            Ok(v) => v,
            Err(e) => json!({"error": e}),
        }
    }

    fn try_command(
        &mut self,
        case: &str,
        threads: &str,
        calls: Option<&str>,
    ) -> Result<Value, String> {
        let &(name, kind, is_f64, n) = CASES.iter().find(|c| c.0 == case).ok_or_else(|| {
            let names: Vec<_> = CASES.iter().map(|c| c.0).collect();
            format!("unknown case {case:?}; one of {}", names.join(", "))
        })?;
        let threads: usize = threads
            .parse()
            .map_err(|_| format!("threads must be a whole number, got {threads:?}"))?;
        let calls = match calls {
            None => None,
            Some(c) => match c.parse::<usize>() {
                Ok(0) | Err(_) => return Err(format!("calls must be at least 1, got {c:?}")),
                Ok(c) => Some(c),
            },
        };
        let pool = match self.pools.entry(threads) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(parlab::par::pool(threads).map_err(|e| e.to_string())?),
        };
        let data = self.data.entry(name).or_insert_with(|| {
            pool.install(|| {
                if is_f64 {
                    Data::F64(make(kind, n))
                } else {
                    Data::F32(make(kind, n))
                }
            })
        });
        let run = || -> parlab::Result<Value> {
            let warm = black_box(run_once(kind, data, threads)?);
            let Some(calls) = calls else {
                return Ok(check(kind, data, warm));
            };
            let mut samples = Vec::with_capacity(calls);
            for _ in 0..calls {
                let t = Instant::now();
                black_box(run_once(kind, data, threads)?);
                samples.push(t.elapsed().as_secs_f64());
            }
            samples.sort_by(f64::total_cmp);
            Ok(json!({"median_s": median(&samples), "best_s": samples[0], "samples": calls}))
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| pool.install(run)));
        match result {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(e.to_string()),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".to_string());
                Err(format!("{name} panicked: {msg}"))
            }
        }
    }
}

fn main() {
    let mut worker = Worker {
        pools: HashMap::new(),
        data: HashMap::new(),
    };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if line == "quit" {
            break;
        }
        let answer = worker.answer(line);
        if writeln!(stdout, "{answer}")
            .and_then(|_| stdout.flush())
            .is_err()
        {
            break;
        }
    }
}
