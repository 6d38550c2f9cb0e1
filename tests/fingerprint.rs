//! The bits of every kernel's result, as one fingerprint per kernel, for the
//! CPU matrix of `./lab test` (`tools/cpu_matrix.py`): the same test binary
//! runs under each SIMD level the CPU has, with streaming stores forced on
//! and off, and under each OpenBLAS kernel family the CPU can run; the
//! fingerprints of parlab's own kernels must be the same in every run — the
//! promise "every path gives the same bits" holds by construction, not by
//! the rounding of one CPU. The library GEMM (`matmul`, `par_matmul`) is
//! fingerprinted apart: it must not depend on the thread count, but may
//! differ between OpenBLAS families (within `Tol::for_product`, checked in
//! `tests/kernels.rs`).
//!
//! With `PARLAB_FINGERPRINT=<file>` the fingerprints are written there, one
//! `group kernel hash` line each.

use ndarray::{Array1, Array2};
use parlab::kernels::{self as k, Float};
use parlab::par::Par;
use std::collections::BTreeMap;
use std::hash::Hasher;

fn on<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    Par::threads(threads).install(f).unwrap()
}

/// FNV-1a over the values' bits, in memory order of the logical layout.
fn hash<T: Float>(values: impl IntoIterator<Item = T>) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    let mut n = 0u64;
    for v in values {
        h.write_u64(v.to_f64().to_bits());
        n += 1;
    }
    h.write_u64(n);
    format!("{:016x}", h.finish())
}

/// Random-looking values of mixed sign and magnitude, fixed by `seed`.
fn data<T: Float>(shape: (usize, usize), seed: u64) -> Array2<T> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Array2::from_shape_simple_fn(shape, || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let u = (s >> 11) as f64 / (1u64 << 53) as f64;
        T::from_f64((u - 0.4) * 10f64.powi((s % 5) as i32 - 2))
    })
}

/// One fingerprint per kernel, each checked to be the same on 1, 2 and 3
/// threads (a parallel twin is fingerprinted with its serial kernel).
fn fingerprints<T: Float>() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |group: &str, name: &str, threads: usize, h: String| {
        let key = format!("{group} {}_{name}", T::NAME);
        if let Some(prev) = out.get(&key) {
            assert_eq!(prev, &h, "{key}: other bits on {threads} threads");
        } else {
            out.insert(key, h);
        }
    };
    // Large enough for the vector loops, the parallel parts and (with
    // PARLAB_STREAMING_BYTES=0) the streaming path; an odd width so that
    // rows start unaligned in a sliced view.
    let shape = (300, 1001);
    let a = data::<T>(shape, 1);
    let b = data::<T>(shape, 2);
    let s = T::from_f64(0.375);
    let x = Array1::from_iter(data::<T>((1, 70_001), 3));
    let y = Array1::from_iter(data::<T>((1, 70_001), 4));
    for threads in [1, 2, 3] {
        let own = "own";
        let mut c = Array2::<T>::zeros(shape);
        on(threads, || k::par_add(a.view(), b.view(), c.view_mut())).unwrap();
        put(own, "add", threads, hash(c.iter().copied()));
        on(threads, || {
            k::par_triad(a.view(), b.view(), c.view_mut(), s)
        })
        .unwrap();
        put(own, "triad", threads, hash(c.iter().copied()));
        let mut z = a.clone();
        on(threads, || k::par_axpy(s, b.view(), z.view_mut())).unwrap();
        put(own, "axpy", threads, hash(z.iter().copied()));
        on(threads, || k::par_scale(z.view_mut(), s));
        put(own, "scale", threads, hash(z.iter().copied()));
        let sums = on(threads, || {
            [
                k::par_sum(x.view()),
                k::par_sum_compensated(x.view()),
                k::par_dot(x.view(), y.view()).unwrap(),
                k::par_dot_compensated(x.view(), y.view()).unwrap(),
                k::par_sum(a.slice(ndarray::s![.., 1..])),
            ]
        });
        put(own, "sums", threads, hash(sums));
        type Stencil<T> =
            fn(ndarray::ArrayView2<T>, ndarray::ArrayViewMut2<T>) -> parlab::Result<()>;
        let stencils: [(&str, Stencil<T>); 3] = [
            ("box_blur", k::par_box_blur),
            ("gaussian_blur", k::par_gaussian_blur),
            ("sobel", k::par_sobel),
        ];
        for (name, f) in stencils {
            on(threads, || f(a.view(), c.view_mut())).unwrap();
            put(own, name, threads, hash(c.iter().copied()));
        }
        let (m, kk, n) = (260, 150, 530);
        let am = data::<T>((m, kk), 5);
        let bm = data::<T>((kk, n), 6);
        let mut cm = Array2::<T>::zeros((m, n));
        on(threads, || {
            k::par_matmul_blocked(am.view(), bm.view(), cm.view_mut())
        })
        .unwrap();
        put(own, "matmul_blocked", threads, hash(cm.iter().copied()));
        on(threads, || {
            k::par_matmul(am.view(), bm.view(), cm.view_mut())
        })
        .unwrap();
        put("library", "matmul", threads, hash(cm.iter().copied()));
    }
    // The serial kernels give the parallel kernels' bits.
    let mut c = Array2::<T>::zeros(shape);
    k::add(a.view(), b.view(), c.view_mut()).unwrap();
    put("own", "add", 0, hash(c.iter().copied()));
    out
}

fn monte_carlo() -> BTreeMap<String, String> {
    let opt = k::CallOption {
        spot: 100.0,
        strike: 105.0,
        rate: 0.03,
        volatility: 0.25,
        maturity: 1.0,
    };
    let mut out = BTreeMap::new();
    for threads in [1, 2, 3] {
        let (p, e) = on(threads, || {
            (
                k::par_pi(300_001, 7).unwrap(),
                k::par_european_call(&opt, 100_003, 7).unwrap(),
            )
        });
        let h = hash([p.value, p.std_error, e.value, e.std_error]);
        let prev = out
            .entry("own monte_carlo".to_string())
            .or_insert(h.clone());
        assert_eq!(prev, &h, "monte carlo: other bits on {threads} threads");
    }
    out
}

#[test]
fn every_kernel_has_one_fingerprint() {
    let mut all = fingerprints::<f32>();
    all.extend(fingerprints::<f64>());
    all.extend(monte_carlo());
    // Computed again in the same process: the same bits (no state carried
    // between calls, such as a cached tuning decision changing mid-run).
    let mut again = fingerprints::<f32>();
    again.extend(fingerprints::<f64>());
    again.extend(monte_carlo());
    assert_eq!(all, again);
    assert!(all.len() >= 20, "{all:?}");
    if let Ok(path) = std::env::var("PARLAB_FINGERPRINT") {
        let mut text = format!(
            "# simd {} memory-simd {} streaming-threshold {} gemm {}\n",
            k::simd_level(),
            k::memory_simd_level(),
            k::streaming_threshold(),
            k::gemm_library()
        );
        for (key, h) in &all {
            text += &format!("{key} {h}\n");
        }
        std::fs::write(&path, text).unwrap();
    }
}

/// The matrix asks for an OpenBLAS kernel family with `OPENBLAS_CORETYPE`;
/// OpenBLAS ignores a name it does not know (and runs the CPU's own), so the
/// run says which one it got: `PARLAB_EXPECT_GEMM` must be in
/// [`k::gemm_library`].
#[test]
fn the_gemm_library_is_the_one_asked_for() {
    let got = k::gemm_library();
    match std::env::var("PARLAB_EXPECT_GEMM") {
        Ok(want) => assert!(got.contains(&want), "asked for {want}, running {got}"),
        Err(_) => assert!(
            got.starts_with("OpenBLAS") || got == "matrixmultiply",
            "{got}"
        ),
    }
}
