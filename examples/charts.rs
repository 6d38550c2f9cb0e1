//! Draws one chart of each kind from made-up numbers and saves them to
//! `target/charts/`: a quick way to look at the charts outside a notebook.
//!
//!     cargo run --example charts
use parlab::ndarray::Array2;
use parlab::plot::{self, Bar, Ceiling, ColorMap, LineChart, Series};

fn main() -> parlab::Result<()> {
    let dir = std::path::Path::new("target/charts");
    std::fs::create_dir_all(dir)
        .map_err(|e| parlab::Error::new(parlab::ErrorKind::Io, "target/charts").with_source(e))?;
    plot::bars(
        "c = a + b, 1024² f32",
        "median time (µs)",
        &[
            Bar::new("index loop", 410.0)
                .range(400.0, 425.0)
                .note("1.00×"),
            Bar::new("Zip", 120.0).range(118.0, 124.0).note("3.42×"),
            Bar::new("par_add, 2 threads", 66.0)
                .range(64.0, 70.0)
                .note("6.21×"),
        ],
    )?
    .save(dir.join("bars.svg"))?;
    plot::scaling(
        "par_sum, 2²⁴ f64",
        &[(1, 1.0), (2, 1.85), (3, 1.9), (4, 1.95)],
        Some(0.06),
    )?
    .save(dir.join("scaling.svg"))?;
    LineChart {
        title: "add, f64: bandwidth against size".into(),
        x_label: "matrix elements".into(),
        y_label: "bandwidth (GB/s)".into(),
        log_x: true,
        log_y: true,
        series: vec![
            Series::new(
                "add",
                vec![
                    (1e3, 8.0),
                    (1e4, 40.0),
                    (1e5, 70.0),
                    (1e6, 60.0),
                    (1e7, 30.0),
                    (1e8, 28.0),
                ],
            ),
            Series::new(
                "par_add",
                vec![
                    (1e3, 1.0),
                    (1e4, 12.0),
                    (1e5, 90.0),
                    (1e6, 200.0),
                    (1e7, 45.0),
                    (1e8, 44.0),
                ],
            ),
        ],
        ceilings: vec![
            Ceiling::new("STREAM add, 2 threads", 47.0),
            Ceiling::new("STREAM add, 1 thread", 40.0),
        ],
        ..Default::default()
    }
    .draw()?
    .save(dir.join("sweep.svg"))?;
    plot::strip(
        "timing samples",
        "time (µs)",
        &[
            (
                "serial",
                vec![410.0, 402.0, 415.0, 640.0, 405.0, 409.0, 411.0],
            ),
            ("par_add", vec![66.0, 64.0, 70.0, 66.5, 65.0, 90.0, 66.0]),
        ],
    )?
    .save(dir.join("strip.svg"))?;
    let img = Array2::from_shape_fn((200, 300), |(i, j)| {
        ((i as f64 / 20.0).sin() * (j as f64 / 30.0).cos()) as f32
    });
    plot::image(img.view(), ColorMap::Viridis)?.save(dir.join("image.png"))?;
    println!("charts written to {}", dir.display());
    Ok(())
}
