//! Every serial/parallel kernel pair against a simple reference, over the
//! shared case table in `tests/cases`.
//!
//! Tolerances, per kernel:
//! - element-wise (add, triad, axpy, scale, fill): exact — one rounding per
//!   element, the same in every version;
//! - sum, dot: `2·n·ε·Σ|x|` against a reference summed in f64; parallel
//!   versions bit-identical to serial for every thread count;
//! - compensated sum and dot: `3·ε·|S| + 4·n·ε²·Σ|x|` against a compensated
//!   f64 reference (which has an error of its own of up to `ε·|S| + n·ε²·Σ|x|`);
//! - matmul: `2·k·ε·(|a|·|b|)[i, j]` per element against an f64 reference;
//! - stencils: exact against a reference summing in the same order;
//! - Monte Carlo: parallel bit-identical to serial; within 4 standard errors of
//!   π and of Black–Scholes.

mod cases;

use cases::*;
use ndarray::{Array2, ArrayView2};
use parlab::ErrorKind;
use parlab::kernels::{self as k, Float};
use parlab::par::Par;

fn on<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    Par::threads(threads).install(f).unwrap()
}

// ---------------------------------------------------------------- element-wise

fn elementwise<T: Float>() {
    for (si, &shape) in SHAPES.iter().enumerate() {
        for (li, &(la, lb, lc)) in layout_triples().iter().enumerate() {
            let what = format!("{} {shape:?} a {la:?} b {lb:?} c {lc:?}", T::NAME);
            let seed = (si * 100 + li) as u64;
            let a = Mat::<T>::random(shape, la, seed);
            let b = Mat::<T>::random(shape, lb, seed + 1000);
            let want = Array2::from_shape_fn(shape, |ij| a.view()[ij] + b.view()[ij]);

            type AddFn<T> =
                fn(ArrayView2<T>, ArrayView2<T>, ndarray::ArrayViewMut2<T>) -> parlab::Result<()>;
            let serial: [(&str, AddFn<T>); 3] = [
                ("add_loop", k::add_loop),
                ("add_zip", k::add_zip),
                ("add", k::add),
            ];
            for (name, f) in serial {
                let mut c = Mat::<T>::zeros(shape, lc);
                f(a.view(), b.view(), c.view_mut()).unwrap();
                assert_same(c.view(), want.view(), &format!("{name} {what}"));
            }
            for t in THREADS {
                let mut c = Mat::<T>::zeros(shape, lc);
                on(t, || k::par_add(a.view(), b.view(), c.view_mut())).unwrap();
                assert_same(c.view(), want.view(), &format!("par_add {t}t {what}"));
                let mut c = Mat::<T>::zeros(shape, lc);
                k::add_chunks(a.view(), b.view(), c.view_mut(), t).unwrap();
                assert_same(c.view(), want.view(), &format!("add_chunks {t} {what}"));
                let mut acc = Mat::<T>::random(shape, la, seed);
                on(t, || k::par_add_assign(acc.view_mut(), b.view())).unwrap();
                assert_same(
                    acc.view(),
                    want.view(),
                    &format!("par_add_assign {t}t {what}"),
                );
            }
            let mut acc = Mat::<T>::random(shape, la, seed);
            k::add_assign(acc.view_mut(), b.view()).unwrap();
            assert_same(acc.view(), want.view(), &format!("add_assign {what}"));
            let c = k::add_alloc(a.view(), b.view()).unwrap();
            assert_same(c.view(), want.view(), &format!("add_alloc {what}"));

            // STREAM kernels: out = b + s·c, y += α·x, scale, fill.
            let s = T::from_f64(0.375);
            let want_triad = Array2::from_shape_fn(shape, |ij| a.view()[ij] + s * b.view()[ij]);
            let want_scaled = a.view().mapv(|x| x * s);
            let mut out = Mat::<T>::zeros(shape, lc);
            k::triad(a.view(), b.view(), out.view_mut(), s).unwrap();
            assert_same(out.view(), want_triad.view(), &format!("triad {what}"));
            let mut y = Mat::<T>::random(shape, la, seed);
            k::axpy(s, b.view(), y.view_mut()).unwrap();
            assert_same(y.view(), want_triad.view(), &format!("axpy {what}"));
            let mut z = Mat::<T>::random(shape, la, seed);
            k::scale(z.view_mut(), s);
            assert_same(z.view(), want_scaled.view(), &format!("scale {what}"));
            let mut f = Mat::<T>::zeros(shape, lc);
            k::fill(f.view_mut(), s);
            assert!(f.view().iter().all(|&x| x == s), "fill {what}");
            for t in [1, 2, 9] {
                let mut out = Mat::<T>::zeros(shape, lc);
                on(t, || k::par_triad(a.view(), b.view(), out.view_mut(), s)).unwrap();
                assert_same(
                    out.view(),
                    want_triad.view(),
                    &format!("par_triad {t}t {what}"),
                );
                let mut y = Mat::<T>::random(shape, la, seed);
                on(t, || k::par_axpy(s, b.view(), y.view_mut())).unwrap();
                assert_same(
                    y.view(),
                    want_triad.view(),
                    &format!("par_axpy {t}t {what}"),
                );
                let mut z = Mat::<T>::random(shape, la, seed);
                on(t, || k::par_scale(z.view_mut(), s));
                assert_same(
                    z.view(),
                    want_scaled.view(),
                    &format!("par_scale {t}t {what}"),
                );
                let mut f = Mat::<T>::zeros(shape, lc);
                on(t, || k::par_fill(f.view_mut(), s));
                assert!(f.view().iter().all(|&x| x == s), "par_fill {t}t {what}");
            }
        }
    }
}

#[test]
fn elementwise_f32() {
    elementwise::<f32>();
}

#[test]
fn elementwise_f64() {
    elementwise::<f64>();
}

#[test]
fn add_full_1024_square_every_thread_count() {
    // The hands-on project's size, in f32, with uneven row chunks.
    for n in [1023, 1024, 1025] {
        let a = Mat::<f32>::random((n, n), Layout::C, 1);
        let b = Mat::<f32>::random((n, n), Layout::C, 2);
        let want = &a.to_owned() + &b.to_owned();
        for t in THREADS {
            let mut c = Mat::<f32>::zeros((n, n), Layout::C);
            k::add_chunks(a.view(), b.view(), c.view_mut(), t).unwrap();
            assert_same(c.view(), want.view(), &format!("add_chunks {n}² {t}"));
        }
    }
}

// ---------------------------------------------------------------- reductions

/// Neumaier in f64 over the logical order: accurate to ≈ f64 rounding.
fn reference_sum(xs: impl Iterator<Item = f64>) -> (f64, f64, usize) {
    let (mut s, mut c, mut abs, mut n) = (0.0f64, 0.0f64, 0.0f64, 0usize);
    for x in xs {
        let t = s + x;
        c += if s.abs() >= x.abs() {
            (s - t) + x
        } else {
            (x - t) + s
        };
        s = t;
        abs += x.abs();
        n += 1;
    }
    (s + c, abs, n)
}

fn reductions<T: Float>() {
    let eps = T::EPSILON.to_f64();
    for (si, &shape) in SHAPES.iter().enumerate() {
        for (li, &(la, lb, _)) in layout_triples().iter().enumerate() {
            let what = format!("{} {shape:?} a {la:?} b {lb:?}", T::NAME);
            let seed = (si * 100 + li) as u64;
            let a = Mat::<T>::random(shape, la, seed);
            let b = Mat::<T>::random(shape, lb, seed + 7);

            let (want, abs, n) = reference_sum(a.view().iter().map(|x| x.to_f64()));
            // Each product as p + q exactly (FMA), so the f64 reference is exact
            // to ≈ f64 rounding also for f64 inputs.
            let (want_dot, _, _) =
                reference_sum(a.view().iter().zip(b.view().iter()).flat_map(|(x, y)| {
                    let (x, y) = (x.to_f64(), y.to_f64());
                    let p = x * y;
                    [p, x.mul_add(y, -p)]
                }));
            let abs_dot: f64 = a
                .view()
                .iter()
                .zip(b.view().iter())
                .map(|(x, y)| (x.to_f64() * y.to_f64()).abs())
                .sum();
            let n = n as f64;
            let tol = 2.0 * n * eps * abs + f64::MIN_POSITIVE;
            let tol_dot = 2.0 * n * eps * abs_dot + f64::MIN_POSITIVE;
            // The f64 reference itself is off by up to ε₆₄·|S| + n·ε₆₄²·Σ|x|.
            let tol_c = 3.0 * eps * want.abs() + 4.0 * n * eps * eps * abs + f64::MIN_POSITIVE;
            let tol_cd =
                3.0 * eps * want_dot.abs() + 4.0 * n * eps * eps * abs_dot + f64::MIN_POSITIVE;

            let s = k::sum(a.view());
            let d = k::dot(a.view(), b.view()).unwrap();
            let sc = k::sum_compensated(a.view());
            let dc = k::dot_compensated(a.view(), b.view()).unwrap();
            for (name, got, want, tol) in [
                ("sum", s, want, tol),
                ("dot", d, want_dot, tol_dot),
                ("sum_compensated", sc, want, tol_c),
                ("dot_compensated", dc, want_dot, tol_cd),
            ] {
                let err = (got.to_f64() - want).abs();
                assert!(
                    err <= tol,
                    "{name} {what}: got {got}, want {want}, error {err:e} > {tol:e}"
                );
            }
            if shape.0 * shape.1 == 0 {
                assert_eq!(
                    (s, d, sc, dc),
                    (T::ZERO, T::ZERO, T::ZERO, T::ZERO),
                    "empty {what}"
                );
            }
            for t in THREADS {
                let p = on(t, || {
                    (
                        k::par_sum(a.view()),
                        k::par_dot(a.view(), b.view()).unwrap(),
                        k::par_sum_compensated(a.view()),
                        k::par_dot_compensated(a.view(), b.view()).unwrap(),
                    )
                });
                // Bit-identical, not merely close: the blocks do not depend on threads.
                let bits = |x: T| x.to_f64().to_bits();
                assert_eq!(
                    (bits(p.0), bits(p.1), bits(p.2), bits(p.3)),
                    (bits(s), bits(d), bits(sc), bits(dc)),
                    "par reductions {t}t {what}"
                );
            }
        }
    }
}

#[test]
fn reductions_f32() {
    reductions::<f32>();
}

#[test]
fn reductions_f64() {
    reductions::<f64>();
}

#[test]
fn reductions_of_a_large_vector_do_not_depend_on_threads() {
    // Many blocks (≈ 2·10⁶ / 8192) so the parallel split really differs.
    let x = ndarray::Array1::from_shape_fn(2_000_003, |i| ((i * 7919) % 1000) as f32 * 1e-3 - 0.5);
    let s = k::sum(x.view());
    let sc = k::sum_compensated(x.view());
    for t in THREADS {
        assert_eq!(on(t, || k::par_sum(x.view())).to_bits(), s.to_bits(), "{t}");
        assert_eq!(
            on(t, || k::par_sum_compensated(x.view())).to_bits(),
            sc.to_bits(),
            "{t}"
        );
    }
}

#[test]
fn reductions_accept_any_dimension() {
    let x =
        ndarray::Array3::<f64>::from_shape_fn((3, 4, 5), |(i, j, l)| (i * 20 + j * 5 + l) as f64);
    assert_eq!(k::sum(x.view()), (0..60).sum::<usize>() as f64);
    let p = ndarray::arr0(2.5f32);
    assert_eq!(k::sum(p.view()), 2.5);
    assert_eq!(k::dot(p.view(), p.view()).unwrap(), 6.25);
}

// ---------------------------------------------------------------- matmul

fn matmul_cases<T: Float>() {
    let eps = T::EPSILON.to_f64();
    let layouts = [
        Layout::C,
        Layout::F,
        Layout::Strided,
        Layout::Transposed,
        Layout::Reversed,
    ];
    for (ci, &(m, kk, n)) in MATMUL_SHAPES.iter().enumerate() {
        for (li, &la) in layouts.iter().enumerate() {
            let lb = layouts[(li + 1) % layouts.len()];
            let lc = layouts[(li + 3) % layouts.len()];
            let what = format!("{} {m}×{kk}·{kk}×{n} a {la:?} b {lb:?} c {lc:?}", T::NAME);
            let a = Mat::<T>::random((m, kk), la, ci as u64);
            let b = Mat::<T>::random((kk, n), lb, ci as u64 + 50);
            let (av, bv) = (a.view(), b.view());
            let want = Array2::from_shape_fn((m, n), |(i, j)| {
                (0..kk)
                    .map(|p| av[[i, p]].to_f64() * bv[[p, j]].to_f64())
                    .sum::<f64>()
            });
            let tol = Array2::from_shape_fn((m, n), |(i, j)| {
                let abs: f64 = (0..kk)
                    .map(|p| (av[[i, p]].to_f64() * bv[[p, j]].to_f64()).abs())
                    .sum();
                2.0 * (kk as f64 + 1.0) * eps * abs
            });
            type MmFn<T> =
                fn(ArrayView2<T>, ArrayView2<T>, ndarray::ArrayViewMut2<T>) -> parlab::Result<()>;
            let serial: [(&str, MmFn<T>); 4] = [
                ("matmul_ijk", k::matmul_ijk),
                ("matmul_ikj", k::matmul_ikj),
                ("matmul_blocked", k::matmul_blocked),
                ("matmul", k::matmul),
            ];
            let mut results = Vec::new();
            for (name, f) in serial {
                // Start from garbage: every kernel must overwrite c.
                let mut c = Mat::<T>::random((m, n), lc, 99);
                f(av, bv, c.view_mut()).unwrap();
                assert_close(c.view(), &want, &tol, &format!("{name} {what}"));
                results.push(c.to_owned());
            }
            for t in THREADS {
                let mut c = Mat::<T>::random((m, n), lc, 99);
                on(t, || k::par_matmul_blocked(av, bv, c.view_mut())).unwrap();
                assert_same(
                    c.view(),
                    results[2].view(),
                    &format!("par_matmul_blocked {t}t {what}"),
                );
                let mut c = Mat::<T>::random((m, n), lc, 99);
                on(t, || k::par_matmul(av, bv, c.view_mut())).unwrap();
                assert_close(c.view(), &want, &tol, &format!("par_matmul {t}t {what}"));
                // The same GEMM calls as matmul: the same bits, whatever
                // the CPU's library kernels.
                assert_same(
                    c.view(),
                    results[3].view(),
                    &format!("par_matmul {t}t against matmul, {what}"),
                );
            }
        }
    }
}

#[test]
fn matmul_f32() {
    matmul_cases::<f32>();
}

#[test]
fn matmul_f64() {
    matmul_cases::<f64>();
}

#[test]
fn par_matmul_of_a_large_product_matches_serial() {
    // Several GEMM bands with a tail, split by rows (m ≥ n) and by columns,
    // from every layout: the bits must not depend on the thread count.
    for (m, kk, n, la, lb) in [
        (300, 200, 250, Layout::C, Layout::F),
        (250, 130, 600, Layout::Transposed, Layout::C),
        (513, 64, 300, Layout::Strided, Layout::Reversed),
    ] {
        let what = format!("{m}×{kk}·{kk}×{n} a {la:?} b {lb:?}");
        let a = Mat::<f64>::random((m, kk), la, 3);
        let b = Mat::<f64>::random((kk, n), lb, 4);
        let mut want = Array2::zeros((m, n));
        k::matmul(a.view(), b.view(), want.view_mut()).unwrap();
        let reference = a.view().dot(&b.view());
        // Between libraries and CPUs only the error bound holds.
        let tol = parlab::verify::Tol::for_product(a.view(), b.view()).unwrap();
        parlab::verify::check(&reference, &want, tol).unwrap();
        for t in THREADS {
            let mut c = Array2::zeros((m, n));
            on(t, || k::par_matmul(a.view(), b.view(), c.view_mut())).unwrap();
            assert_same(c.view(), want.view(), &format!("par_matmul {t}t {what}"));
            // And the transposed product, split the other way.
            let mut w = Array2::zeros((n, m));
            let mut w1 = Array2::zeros((n, m));
            k::matmul(b.view().t(), a.view().t(), w1.view_mut()).unwrap();
            on(t, || {
                k::par_matmul(b.view().t(), a.view().t(), w.view_mut())
            })
            .unwrap();
            assert_same(
                w.view(),
                w1.view(),
                &format!("par_matmul transposed {t}t {what}"),
            );
        }
    }
}

// ---------------------------------------------------------------- stencils

/// The stencil by definition: clamped indices, weights summed in row-major
/// order (the kernels use the same order, so results are equal exactly).
fn reference_stencil<T: Float>(src: ArrayView2<'_, T>, op: &dyn Fn([[T; 3]; 3]) -> T) -> Array2<T> {
    let (r, c) = src.dim();
    Array2::from_shape_fn((r, c), |(i, j)| {
        let at = |di: isize, dj: isize| {
            let ii = (i as isize + di).clamp(0, r as isize - 1) as usize;
            let jj = (j as isize + dj).clamp(0, c as isize - 1) as usize;
            src[[ii, jj]]
        };
        let mut nb = [[T::ZERO; 3]; 3];
        for (di, row) in nb.iter_mut().enumerate() {
            for (dj, v) in row.iter_mut().enumerate() {
                *v = at(di as isize - 1, dj as isize - 1);
            }
        }
        op(nb)
    })
}

fn conv_ref<T: Float>(w: [[T; 3]; 3]) -> impl Fn([[T; 3]; 3]) -> T {
    move |nb| {
        let mut acc = T::ZERO;
        for r in 0..3 {
            for c in 0..3 {
                acc += w[r][c] * nb[r][c];
            }
        }
        acc
    }
}

fn sobel_ref<T: Float>(nb: [[T; 3]; 3]) -> T {
    let two = T::ONE + T::ONE;
    let [u, m, d] = nb;
    let gx = (u[2] - u[0]) + two * (m[2] - m[0]) + (d[2] - d[0]);
    let gy = (d[0] + two * d[1] + d[2]) - (u[0] + two * u[1] + u[2]);
    (gx * gx + gy * gy).sqrt()
}

fn stencils<T: Float>() {
    let f = T::from_f64;
    let gauss = [
        [f(1.0 / 16.0), f(2.0 / 16.0), f(1.0 / 16.0)],
        [f(2.0 / 16.0), f(4.0 / 16.0), f(2.0 / 16.0)],
        [f(1.0 / 16.0), f(2.0 / 16.0), f(1.0 / 16.0)],
    ];
    let boxw = [[f(1.0 / 9.0); 3]; 3];
    let odd = [
        [f(0.5), f(-1.0), f(0.25)],
        [f(2.0), f(-3.0), f(0.0)],
        [f(1.5), f(0.125), f(-0.75)],
    ];
    let shapes = [
        (0, 0),
        (0, 4),
        (4, 0),
        (1, 1),
        (1, 7),
        (7, 1),
        (2, 2),
        (7, 7),
        (33, 1025),
        (1025, 3),
        (130, 129),
    ];
    type StFn<T> = fn(ArrayView2<T>, ndarray::ArrayViewMut2<T>) -> parlab::Result<()>;
    for (si, &shape) in shapes.iter().enumerate() {
        for (li, &(ls, _, ld)) in layout_triples().iter().enumerate() {
            let what = format!("{} {shape:?} src {ls:?} dst {ld:?}", T::NAME);
            let src = Mat::<T>::random(shape, ls, (si * 10 + li) as u64);
            let sv = src.view();
            type Case<'a, T> = (&'a str, StFn<T>, StFn<T>, Array2<T>);
            let kernels: [Case<T>; 3] = [
                (
                    "box_blur",
                    k::box_blur,
                    k::par_box_blur,
                    reference_stencil(sv, &conv_ref(boxw)),
                ),
                (
                    "gaussian_blur",
                    k::gaussian_blur,
                    k::par_gaussian_blur,
                    reference_stencil(sv, &conv_ref(gauss)),
                ),
                (
                    "sobel",
                    k::sobel,
                    k::par_sobel,
                    reference_stencil(sv, &sobel_ref),
                ),
            ];
            for (name, serial, par, want) in kernels {
                let mut d = Mat::<T>::random(shape, ld, 5);
                serial(sv, d.view_mut()).unwrap();
                assert_same(d.view(), want.view(), &format!("{name} {what}"));
                for t in THREADS {
                    let mut d = Mat::<T>::random(shape, ld, 5);
                    on(t, || par(sv, d.view_mut())).unwrap();
                    assert_same(d.view(), want.view(), &format!("par_{name} {t}t {what}"));
                }
            }
            let want = reference_stencil(sv, &conv_ref(odd));
            let mut d = Mat::<T>::zeros(shape, ld);
            k::convolve3x3(sv, d.view_mut(), odd).unwrap();
            assert_same(d.view(), want.view(), &format!("convolve3x3 {what}"));
            for t in [2, 9] {
                let mut d = Mat::<T>::zeros(shape, ld);
                on(t, || k::par_convolve3x3(sv, d.view_mut(), odd)).unwrap();
                assert_same(
                    d.view(),
                    want.view(),
                    &format!("par_convolve3x3 {t}t {what}"),
                );
            }
        }
    }
}

#[test]
fn stencils_f32() {
    stencils::<f32>();
}

#[test]
fn stencils_f64() {
    stencils::<f64>();
}

// ---------------------------------------------------------------- Monte Carlo

#[test]
fn monte_carlo_is_bit_identical_for_every_thread_count() {
    let opt = k::CallOption {
        spot: 100.0,
        strike: 95.0,
        rate: 0.05,
        volatility: 0.25,
        maturity: 0.75,
    };
    for samples in [1, 2, 3, k::MC_CHUNK - 1, k::MC_CHUNK, 3 * k::MC_CHUNK + 5] {
        let pi = k::pi(samples, 11).unwrap();
        let call = k::european_call(&opt, samples, 11).unwrap();
        assert_eq!(pi.samples, samples);
        for t in THREADS {
            assert_eq!(
                on(t, || k::par_pi(samples, 11)).unwrap(),
                pi,
                "pi {samples} {t}t"
            );
            assert_eq!(
                on(t, || k::par_european_call(&opt, samples, 11)).unwrap(),
                call,
                "call {samples} {t}t"
            );
        }
    }
}

#[test]
fn monte_carlo_agrees_with_the_exact_values() {
    let pi = on(2, || k::par_pi(2_000_000, 3)).unwrap();
    assert!(
        (pi.value - std::f64::consts::PI).abs() < 4.0 * pi.std_error,
        "{pi:?}"
    );
    assert!(pi.std_error < 2e-3);
    for opt in [
        k::CallOption {
            spot: 100.0,
            strike: 100.0,
            rate: 0.05,
            volatility: 0.2,
            maturity: 1.0,
        },
        k::CallOption {
            spot: 80.0,
            strike: 100.0,
            rate: 0.0,
            volatility: 0.4,
            maturity: 2.0,
        },
        k::CallOption {
            spot: 120.0,
            strike: 100.0,
            rate: 0.02,
            volatility: 0.1,
            maturity: 0.25,
        },
    ] {
        let mc = on(2, || k::par_european_call(&opt, 400_000, 5)).unwrap();
        let bs = k::black_scholes_call(&opt).unwrap();
        assert!(
            (mc.value - bs).abs() < 4.0 * mc.std_error,
            "{opt:?}: {mc:?} vs {bs}"
        );
    }
    // The textbook value at the money: S = K = 100, r = 5 %, σ = 20 %, T = 1.
    let atm = k::CallOption {
        spot: 100.0,
        strike: 100.0,
        rate: 0.05,
        volatility: 0.2,
        maturity: 1.0,
    };
    assert!((k::black_scholes_call(&atm).unwrap() - 10.450_583_572_185_565).abs() < 1e-12);
    // No volatility: the discounted intrinsic value.
    let flat = k::CallOption {
        volatility: 0.0,
        ..atm
    };
    assert!(
        (k::black_scholes_call(&flat).unwrap() - (100.0 - 100.0 * (-0.05f64).exp())).abs() < 1e-12
    );
    let e = k::european_call(&flat, 10, 1).unwrap();
    assert!((e.value - (100.0 - 100.0 * (-0.05f64).exp())).abs() < 1e-12);
    assert!(e.std_error < 1e-6, "{e:?}");
}

#[test]
fn different_seeds_give_different_streams() {
    assert_ne!(
        k::pi(10_000, 1).unwrap().value,
        k::pi(10_000, 2).unwrap().value
    );
}

// ---------------------------------------------------------------- bad input

#[test]
fn shape_mismatch_names_both_shapes() {
    let a = Array2::<f64>::zeros((4, 3));
    let b = Array2::<f64>::zeros((4, 2));
    let mut c = Array2::<f64>::zeros((4, 3));
    let msg = "shapes differ: a is 4×3, b is 4×2";
    let errs = [
        k::add_loop(a.view(), b.view(), c.view_mut()).unwrap_err(),
        k::add_zip(a.view(), b.view(), c.view_mut()).unwrap_err(),
        k::add(a.view(), b.view(), c.view_mut()).unwrap_err(),
        k::par_add(a.view(), b.view(), c.view_mut()).unwrap_err(),
        k::add_chunks(a.view(), b.view(), c.view_mut(), 2).unwrap_err(),
        k::add_alloc(a.view(), b.view()).unwrap_err(),
        k::dot(a.view(), b.view()).unwrap_err(),
        k::par_dot(a.view(), b.view()).unwrap_err(),
        k::dot_compensated(a.view(), b.view()).unwrap_err(),
        k::par_dot_compensated(a.view(), b.view()).unwrap_err(),
    ];
    for e in errs {
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        assert_eq!(e.to_string(), msg);
    }
    let mut a2 = a.clone();
    assert_eq!(
        k::add_assign(a2.view_mut(), b.view())
            .unwrap_err()
            .to_string(),
        msg
    );
    assert_eq!(
        k::par_add_assign(a2.view_mut(), b.view())
            .unwrap_err()
            .to_string(),
        msg
    );
    // The output is checked too.
    let mut small = Array2::<f64>::zeros((2, 3));
    assert_eq!(
        k::add(a.view(), a.view(), small.view_mut())
            .unwrap_err()
            .to_string(),
        "shapes differ: c is 2×3, a is 4×3"
    );
    assert_eq!(
        k::triad(a.view(), a.view(), small.view_mut(), 1.0)
            .unwrap_err()
            .to_string(),
        "shapes differ: a is 2×3, b is 4×3"
    );
    assert_eq!(
        k::par_triad(a.view(), b.view(), c.view_mut(), 1.0)
            .unwrap_err()
            .to_string(),
        "shapes differ: b is 4×3, c is 4×2"
    );
    assert_eq!(
        k::axpy(1.0, b.view(), c.view_mut())
            .unwrap_err()
            .to_string(),
        "shapes differ: x is 4×2, y is 4×3"
    );
    assert!(k::par_axpy(1.0, b.view(), c.view_mut()).is_err());
    assert_eq!(
        k::sobel(a.view(), small.view_mut())
            .unwrap_err()
            .to_string(),
        "shapes differ: src is 4×3, dst is 2×3"
    );
    for e in [
        k::box_blur(a.view(), small.view_mut()).unwrap_err(),
        k::par_box_blur(a.view(), small.view_mut()).unwrap_err(),
        k::gaussian_blur(a.view(), small.view_mut()).unwrap_err(),
        k::par_gaussian_blur(a.view(), small.view_mut()).unwrap_err(),
        k::par_sobel(a.view(), small.view_mut()).unwrap_err(),
        k::convolve3x3(a.view(), small.view_mut(), [[1.0; 3]; 3]).unwrap_err(),
        k::par_convolve3x3(a.view(), small.view_mut(), [[1.0; 3]; 3]).unwrap_err(),
    ] {
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
    }
}

#[test]
fn matmul_shape_errors() {
    let a = Array2::<f32>::zeros((3, 4));
    let b = Array2::<f32>::zeros((5, 2));
    let mut c = Array2::<f32>::zeros((3, 2));
    type MmFn =
        fn(ArrayView2<f32>, ArrayView2<f32>, ndarray::ArrayViewMut2<f32>) -> parlab::Result<()>;
    let all: [MmFn; 6] = [
        k::matmul_ijk,
        k::matmul_ikj,
        k::matmul_blocked,
        k::par_matmul_blocked,
        k::matmul,
        k::par_matmul,
    ];
    for f in all {
        let e = f(a.view(), b.view(), c.view_mut()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::ShapeMismatch);
        assert_eq!(e.to_string(), "inner dimensions differ: a is 3×4, b is 5×2");
        let e = f(a.view(), a.t(), c.view_mut()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "output shape differs from a·b: c is 3×2, a·b is 3×3"
        );
    }
}

#[test]
fn zero_threads_and_bad_monte_carlo_input_are_typed_errors() {
    let a = Array2::<f32>::zeros((4, 4));
    let mut c = Array2::<f32>::zeros((4, 4));
    let e = k::add_chunks(a.view(), a.view(), c.view_mut(), 0).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Threads);
    assert!(e.to_string().contains("got 0"), "{e}");
    assert_eq!(k::pi(0, 1).unwrap_err().kind(), ErrorKind::InvalidInput);
    assert_eq!(k::par_pi(0, 1).unwrap_err().kind(), ErrorKind::InvalidInput);
    let ok = k::CallOption {
        spot: 1.0,
        strike: 1.0,
        rate: 0.0,
        volatility: 0.1,
        maturity: 1.0,
    };
    assert_eq!(
        k::european_call(&ok, 0, 1).unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    for bad in [
        k::CallOption { spot: 0.0, ..ok },
        k::CallOption { strike: -1.0, ..ok },
        k::CallOption {
            volatility: -0.1,
            ..ok
        },
        k::CallOption {
            maturity: f64::NAN,
            ..ok
        },
        k::CallOption {
            rate: f64::INFINITY,
            ..ok
        },
    ] {
        assert_eq!(
            k::black_scholes_call(&bad).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            k::european_call(&bad, 10, 1).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            k::par_european_call(&bad, 10, 1).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
