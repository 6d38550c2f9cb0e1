//! The hands-on project: add two N×N float32 matrices with THREADS workers,
//! each adding one block of rows — and check every element.
//!
//! The Python original hands each worker process a pickled copy of `c`, so the
//! parent's `c` stays zeros, and its check `c[0,0] == a[0,0] + b[0,0]` passes
//! anyway when the matrices happen to start with zeros. Here the workers are
//! threads that borrow disjoint row blocks of the one `c`, and the check
//! compares all N² elements with a serial sum.
//!
//! Run: `cargo run --release --example matrix_add`
//! (or `--profile notebook` for the speed a notebook cell gets).

use ndarray::Array2;
use parlab::kernels::{add, add_chunks};
use std::time::Instant;

const N: usize = 1024;
const THREADS: usize = 4;

fn main() -> parlab::Result<()> {
    // Seeded pseudo-random inputs in [0, 1), like np.random.rand.
    let mut state = 42u64;
    let mut rand = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let a = Array2::from_shape_simple_fn((N, N), &mut rand);
    let b = Array2::from_shape_simple_fn((N, N), &mut rand);
    let mut c = Array2::<f32>::zeros((N, N));

    let start = Instant::now();
    add_chunks(a.view(), b.view(), c.view_mut(), THREADS)?;
    let elapsed = start.elapsed();

    println!(
        "a[0,0] = {}, b[0,0] = {}, c[0,0] = {}",
        a[[0, 0]],
        b[[0, 0]],
        c[[0, 0]]
    );
    println!(
        "a[N-1,N-1] = {}, b[N-1,N-1] = {}, c[N-1,N-1] = {}",
        a[[N - 1, N - 1]],
        b[[N - 1, N - 1]],
        c[[N - 1, N - 1]]
    );
    println!(
        "Time for {N}x{N} float32 add with {THREADS} threads: {:.3} ms",
        elapsed.as_secs_f64() * 1e3
    );

    // Verify EVERY element against the serial result.
    let mut want = Array2::<f32>::zeros((N, N));
    add(a.view(), b.view(), want.view_mut())?;
    let wrong: Vec<_> = c
        .indexed_iter()
        .zip(want.iter())
        .filter(|((_, got), want)| got != want)
        .map(|((ij, got), want)| (ij, *got, *want))
        .collect();
    if wrong.is_empty() {
        println!("OK: all {} elements equal the serial sum", N * N);
        Ok(())
    } else {
        for ((i, j), got, want) in wrong.iter().take(10) {
            println!("c[{i},{j}] = {got}, expected {want}");
        }
        println!("FAILED: {} of {} elements differ", wrong.len(), N * N);
        std::process::exit(1);
    }
}
