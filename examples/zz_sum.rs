use parlab::kernels::*;
use parlab::ndarray::Array1;
fn per_thread_sum(x: &[f32], threads: usize) -> f32 {
    let ranges = parlab::par::chunk_ranges(x.len(), threads);
    std::thread::scope(|s| {
        let parts: Vec<_> = ranges.into_iter().map(|r| { let part = &x[r]; s.spawn(move || part.iter().sum::<f32>()) }).collect();
        parts.into_iter().map(|h| h.join().unwrap()).sum()
    })
}
fn main() {
    let n = 1_000_000;
    let x = Array1::from_shape_fn(n, |i| (1000.0 * (i as f64).sin() + 0.01) as f32);
    let x64 = x.mapv(|v| v as f64);
    let exact = sum_compensated(x64.view());
    let naive: f32 = x.iter().sum();
    println!("exact {exact} naive {naive} sum {} comp {} ; sum|x| {}", sum(x.view()), sum_compensated(x.view()), x64.mapv(f64::abs).sum());
    for t in 1..=4 {
        let p = parlab::par::with_threads(t, || par_sum(x.view())).unwrap();
        println!("{t} par_sum {p} per-thread {}", per_thread_sum(x.as_slice().unwrap(), t));
    }
    let y = Array1::from_elem(n, 0.1f32);
    println!("0.1: naive {} sum {} comp {}", y.iter().sum::<f32>(), sum(y.view()), sum_compensated(y.view()));
}
