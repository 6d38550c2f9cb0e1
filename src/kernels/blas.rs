//! The system's OpenBLAS, loaded at run time for [`super::matmul`].
//!
//! OpenBLAS is what numpy multiplies matrices with; its kernels are
//! hand-written assembly for each CPU family, compiled once by the
//! distribution — so a notebook, whose own code is built with debug
//! assertions, still gets their full speed. parlab does not link it: it looks
//! for `libopenblas.so.0` when the first product is computed (Debian/Ubuntu:
//! `apt-get install libopenblas0-pthread`; `./lab setup` installs it when it
//! can) and uses matrixmultiply when it is absent.
//!
//! `PARLAB_GEMM=matrixmultiply` forces matrixmultiply (for comparisons);
//! `PARLAB_OPENBLAS=/path/to/libopenblas.so` names another copy.
//!
//! OpenBLAS runs single-threaded here: parallelism comes from parlab's own
//! split over the current rayon pool ([`super::par_matmul`]), so a `matmul`
//! is serial and a `par_matmul` uses exactly the pool's threads.

use std::ffi::c_int;
use std::sync::OnceLock;

const ROW_MAJOR: c_int = 101;
const COL_MAJOR: c_int = 102;
const NO_TRANS: c_int = 111;
const TRANS: c_int = 112;

type Gemm<T> = unsafe extern "C" fn(
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    T,
    *const T,
    c_int,
    *const T,
    c_int,
    T,
    *mut T,
    c_int,
);

pub(crate) struct OpenBlas {
    pub(crate) sgemm: Gemm<f32>,
    pub(crate) dgemm: Gemm<f64>,
    pub(crate) config: String,
}

/// The loaded library, or `None` (then matrixmultiply is used).
pub(crate) fn openblas() -> Option<&'static OpenBlas> {
    static LIB: OnceLock<Option<OpenBlas>> = OnceLock::new();
    LIB.get_or_init(load).as_ref()
}

/// Which GEMM `matmul` uses: `"OpenBLAS 0.3.21 …"` (OpenBLAS's own
/// configuration string) or `"matrixmultiply"`.
///
/// ```
/// let g = parlab::kernels::gemm_library();
/// assert!(g.starts_with("OpenBLAS") || g == "matrixmultiply");
/// ```
pub fn gemm_library() -> String {
    match openblas() {
        Some(b) => b.config.clone(),
        None => "matrixmultiply".to_string(),
    }
}

fn load() -> Option<OpenBlas> {
    if std::env::var("PARLAB_GEMM").as_deref() == Ok("matrixmultiply") {
        return None;
    }
    let names: Vec<String> = match std::env::var("PARLAB_OPENBLAS") {
        Ok(p) => vec![p],
        Err(_) => ["libopenblas.so.0", "libopenblas.so", "libopenblas.dylib"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    for name in names {
        // SAFETY: loading OpenBLAS runs its initialisers, which only set up
        // its thread pool and read its environment variables.
        let Ok(lib) = (unsafe { libloading::Library::new(&name) }) else {
            continue;
        };
        // SAFETY: the symbols are OpenBLAS's documented C interface with
        // these signatures (cblas.h).
        let found = unsafe {
            (|| {
                let sgemm = *lib.get::<Gemm<f32>>(b"cblas_sgemm\0").ok()?;
                let dgemm = *lib.get::<Gemm<f64>>(b"cblas_dgemm\0").ok()?;
                let set_threads = *lib
                    .get::<unsafe extern "C" fn(c_int)>(b"openblas_set_num_threads\0")
                    .ok()?;
                let get_config = *lib
                    .get::<unsafe extern "C" fn() -> *const std::ffi::c_char>(
                        b"openblas_get_config\0",
                    )
                    .ok()?;
                set_threads(1);
                let config = std::ffi::CStr::from_ptr(get_config())
                    .to_string_lossy()
                    .trim()
                    .to_string();
                Some(OpenBlas {
                    sgemm,
                    dgemm,
                    config: format!("OpenBLAS ({config})"),
                })
            })()
        };
        if let Some(b) = found {
            // The functions must outlive every caller: keep the library
            // loaded for the life of the process.
            std::mem::forget(lib);
            return Some(b);
        }
    }
    None
}

/// How one operand is passed: transposed or not, and its leading dimension.
fn operand(
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    row_major: bool,
) -> Option<(c_int, c_int)> {
    // In row-major terms; column-major is the same with the roles swapped.
    let (rows, cols, rs, cs) = if row_major {
        (rows, cols, rs, cs)
    } else {
        (cols, rows, cs, rs)
    };
    let fits = |x: usize| c_int::try_from(x).ok();
    // Stored row by row: unit column stride, rows at least `cols` apart.
    if (cs == 1 || cols <= 1) && (rows <= 1 || rs >= cols.max(1) as isize) {
        let ld = if rows <= 1 { cols.max(1) } else { rs as usize };
        return Some((NO_TRANS, fits(ld)?));
    }
    // Stored column by column: the transpose of a row-major matrix.
    if (rs == 1 || rows <= 1) && (cols <= 1 || cs >= rows.max(1) as isize) {
        let ld = if cols <= 1 { rows.max(1) } else { cs as usize };
        return Some((TRANS, fits(ld)?));
    }
    None
}

/// `C ← A·B` through cblas when the layouts allow it (every matrix with one
/// unit stride); returns false, having done nothing, otherwise.
///
/// # Safety
/// Pointers and strides describe valid `m×k`, `k×n`, `m×n` matrices; `c`
/// overlaps neither `a` nor `b`; m, n, k ≥ 1.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe fn try_gemm<T: 'static + Copy>(
    gemm: Gemm<T>,
    one: T,
    zero: T,
    (m, k, n): (usize, usize, usize),
    a: (*const T, isize, isize),
    b: (*const T, isize, isize),
    c: (*mut T, isize, isize),
) -> bool {
    let dims = (c_int::try_from(m), c_int::try_from(n), c_int::try_from(k));
    let (Ok(mi), Ok(ni), Ok(ki)) = dims else {
        return false;
    };
    for row_major in [true, false] {
        // C must be stored in the chosen order as it is.
        let Some((NO_TRANS, ldc)) = operand(m, n, c.1, c.2, row_major) else {
            continue;
        };
        let (Some((ta, lda)), Some((tb, ldb))) = (
            operand(m, k, a.1, a.2, row_major),
            operand(k, n, b.1, b.2, row_major),
        ) else {
            continue;
        };
        let order = if row_major { ROW_MAJOR } else { COL_MAJOR };
        // SAFETY: forwarded from the caller; the layout was checked above.
        unsafe {
            gemm(
                order, ta, tb, mi, ni, ki, one, a.0, lda, b.0, ldb, zero, c.0, ldc,
            )
        };
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operands_map_to_cblas() {
        // 3×4 row-major, leading dimension 4.
        assert_eq!(operand(3, 4, 4, 1, true), Some((NO_TRANS, 4)));
        // Its transpose view (4×3 with strides 1, 4): passed transposed.
        assert_eq!(operand(4, 3, 1, 4, true), Some((TRANS, 4)));
        // A column-major 3×4 in column-major order: not transposed, ld 3.
        assert_eq!(operand(3, 4, 1, 3, false), Some((NO_TRANS, 3)));
        // Every-other-column view: no unit stride, not expressible.
        assert_eq!(operand(3, 4, 8, 2, true), None);
        // A single row with an odd row stride is still fine.
        assert_eq!(operand(1, 5, 0, 1, true), Some((NO_TRANS, 5)));
        // Negative strides are refused.
        assert_eq!(operand(3, 4, -4, 1, true), None);
    }
}
