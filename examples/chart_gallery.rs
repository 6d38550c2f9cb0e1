//! One chart of every kind parlab draws, in two HTML pages made of the same
//! HTML that parlab hands to evcxr: `light.html` (no theme variables, as in
//! a saved file or nbconvert's light export) and `dark.html` (JupyterLab's
//! dark theme variables on `:root`). `tools/test_render.py` screenshots both
//! in headless chromium and checks every chart; people can open them too.
//!
//!     cargo run --example chart_gallery [--features flamegraph] [-- OUT_DIR]
//!
//! OUT_DIR defaults to `target/gallery`. Each chart sits in a fixed box
//! (`manifest.json` lists their kinds, positions and series colours) and
//! its SVG is saved beside the pages (`NN-kind.svg`) for geometry checks.
use parlab::display::{Html, Svg, html_table};
use parlab::exercise::{Check, Status};
use parlab::ndarray::Array2;
use parlab::plot::{self, Bar, Ceiling, ColorMap, LineChart, RooflinePoint, Series};
use parlab::timing::machine::{Ceiling as Roof, PeakPoint, ProbeConfig, StreamPoint};
use parlab::timing::{BenchResult, Machine, Precision};
use parlab::{Error, ErrorKind, Result};

/// Width and height of each chart's box on the pages, in CSS pixels.
const BOX: (u32, u32) = (760, 470);
/// Space between boxes.
const GAP: u32 = 20;

/// The series colours of `plot::PALETTE`, in order, as `#rrggbb`.
const SERIES: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];

struct Entry {
    kind: &'static str,
    html: Html,
    svg: Option<Svg>,
    /// The colours the chart's data are drawn in (`#rrggbb`), for the
    /// "drawn" check; empty for HTML panels and images.
    colours: Vec<&'static str>,
}

fn chart(kind: &'static str, svg: Svg, colours: &[&'static str]) -> Entry {
    Entry {
        kind,
        html: svg.to_html(),
        svg: Some(svg),
        colours: colours.to_vec(),
    }
}

fn machine() -> Result<Machine> {
    let mut m = Machine::probe_with(&ProbeConfig::tiny())?;
    let roof = |level: &str, read| Roof {
        level: level.into(),
        cache_bytes: None,
        working_set: 0,
        read,
    };
    m.stream = vec![StreamPoint {
        threads: 2,
        read: 20.0,
        add: 18.0,
        ceilings: vec![roof("L1", 300.0), roof("L2", 150.0), roof("memory", 20.0)],
        ..Default::default()
    }];
    m.peak = vec![PeakPoint {
        threads: 2,
        f32: 128.0,
        f64: 64.0,
    }];
    Ok(m)
}

// One push per chart reads as a list, and some need values drawn in between.
#[allow(clippy::vec_init_then_push)]
fn entries() -> Result<Vec<Entry>> {
    let mut out = Vec::new();
    out.push(chart(
        "bars",
        plot::bars(
            "c = a + b, 1024² f32",
            "median time (µs)",
            &[
                Bar::new("index loop", 410.0)
                    .range(380.0, 440.0)
                    .note("1.00×"),
                Bar::new("Zip", 120.0).range(110.0, 131.0).note("3.42×"),
                Bar::new("par_add, 2 threads", 66.0)
                    .range(60.0, 75.0)
                    .note("6.21×"),
            ],
        )?,
        &SERIES[..1],
    ));
    out.push(chart(
        "strip",
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
        )?,
        &SERIES[..2],
    ));
    out.push(chart(
        "line",
        LineChart {
            title: "Monte Carlo error against samples".into(),
            x_label: "samples (millions)".into(),
            y_label: "|error|".into(),
            series: vec![
                Series::new(
                    "pi",
                    (1..=10)
                        .map(|i| (i as f64, 0.02 / (i as f64).sqrt()))
                        .collect(),
                ),
                Series::new(
                    "par_pi",
                    (1..=10)
                        .map(|i| (i as f64, 0.018 / (i as f64).sqrt()))
                        .collect(),
                ),
            ],
            ..Default::default()
        }
        .draw()?,
        &SERIES[..2],
    ));
    out.push(chart(
        "line-log",
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
        .draw()?,
        &SERIES[..2],
    ));
    out.push(chart(
        "scaling",
        plot::scaling(
            "par_sum, 2²⁴ f64",
            &[(1, 1.0), (2, 1.85), (3, 1.9), (4, 1.95)],
            Some(0.06),
        )?,
        &SERIES[..1],
    ));
    let m = machine()?;
    out.push(chart(
        "roofline",
        plot::roofline(
            "kernels against the roofline",
            &m,
            2,
            Precision::F64,
            &[
                RooflinePoint {
                    name: "add".into(),
                    intensity: 1.0 / 24.0,
                    gflops: 0.7,
                },
                RooflinePoint {
                    name: "matmul".into(),
                    intensity: 20.0,
                    gflops: 40.0,
                },
            ],
        )?,
        &SERIES[..2],
    ));
    let ((), timeline) = parlab::timing::timeline::record(|| {
        parlab::rayon::join(
            || {
                parlab::timing::timeline::span("rows 0..512", || {
                    std::thread::sleep(std::time::Duration::from_millis(30))
                })
            },
            || {
                parlab::timing::timeline::span("rows 512..1024", || {
                    std::thread::sleep(std::time::Duration::from_millis(20))
                })
            },
        );
    });
    out.push(chart("gantt", timeline.plot()?, &SERIES[..1]));
    let prof = parlab::profile::Profiler::new();
    prof.time("build", || {
        prof.time("sort", || {
            let mut v: Vec<u32> = (0..200_000).rev().collect();
            v.sort_unstable();
            v
        })
    });
    out.push(chart("profile", prof.report().plot()?, &SERIES[..1]));
    let img = Array2::from_shape_fn((120, 180), |(i, j)| {
        ((i as f64 / 12.0).sin() * (j as f64 / 18.0).cos()) as f32
    });
    let edges = img.mapv(|x| x.abs());
    out.push(Entry {
        kind: "image",
        html: plot::panels(
            ColorMap::Viridis,
            &[("input", img.view()), ("|input|", edges.view())],
        )?,
        svg: None,
        colours: Vec::new(),
    });
    if let Some(fg) = flame()? {
        out.push(chart("flame", fg, &[]));
    }
    let bench = {
        let mut r = BenchResult::from_samples("noisy", vec![1.0e-3, 1.1e-3, 3.0e-3], 10)?;
        r.contention = Some("the machine is busy: load average 5.2 on 2 CPUs".into());
        r
    };
    let checks = [
        (Status::Passed, "7 hidden cases"),
        (Status::Failed, "case 3: `c[0]` is 1, expected 2"),
        (Status::NotDone, "the function still says `todo!()`"),
    ]
    .map(|(status, message)| {
        Html(
            Check {
                exercise: "1.1 chunk_bounds".into(),
                status,
                message: message.into(),
            }
            .to_html(),
        )
    });
    out.push(Entry {
        kind: "html",
        html: Html::join(
            checks
                .into_iter()
                .chain([bench.to_html(), html_table(&["a", "b"], &[vec!["1", "2"]])]),
        ),
        svg: None,
        colours: Vec::new(),
    });
    Ok(out)
}

#[cfg(all(feature = "flamegraph", target_os = "linux"))]
fn flame() -> Result<Option<Svg>> {
    fn busy(ms: u128) -> u64 {
        let mut x = 0u64;
        let t = std::time::Instant::now();
        while t.elapsed().as_millis() < ms {
            for _ in 0..1 << 16 {
                x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
            }
        }
        x
    }
    let (_, fg) = parlab::profile::flame_graph(997, || busy(250) ^ busy(150))?;
    Ok(Some(fg.svg))
}

#[cfg(not(all(feature = "flamegraph", target_os = "linux")))]
fn flame() -> Result<Option<Svg>> {
    Ok(None)
}

/// JupyterLab 4's dark theme, the variables parlab's output reads.
const DARK_VARS: &str = ":root{--jp-layout-color0:#111111;--jp-layout-color1:#212121;\
    --jp-ui-font-color0:#ffffff;--jp-ui-font-color1:rgba(255,255,255,0.87);\
    --jp-ui-font-color2:rgba(255,255,255,0.54);--jp-content-font-color1:#ffffff;\
    --jp-border-color1:#616161;--jp-border-color2:#424242}";

fn page(entries: &[Entry], dark: bool) -> String {
    let mut s = String::from("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<style>\n");
    if dark {
        s.push_str(DARK_VARS);
        s.push('\n');
    }
    s.push_str(&format!(
        "html,body{{margin:0;background:var(--jp-layout-color0,#ffffff);\
         color:var(--jp-content-font-color1,#000000);font-family:sans-serif}}\n\
         section{{position:absolute;left:0;width:{}px;height:{}px;overflow:hidden}}\n",
        BOX.0, BOX.1
    ));
    s.push_str("</style></head>\n<body");
    if dark {
        s.push_str(" data-jp-theme-light=\"false\"");
    }
    s.push_str(">\n");
    for (i, e) in entries.iter().enumerate() {
        s.push_str(&format!(
            "<section id=\"chart-{i}\" data-kind=\"{}\" style=\"top:{}px\">\n{}\n</section>\n",
            e.kind,
            i as u32 * (BOX.1 + GAP),
            e.html.as_str()
        ));
    }
    s.push_str("</body></html>\n");
    s
}

fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |e| Error::new(ErrorKind::Io, format!("cannot write {}", path.display())).with_source(e)
}

fn main() -> Result<()> {
    let dir = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "target/gallery".into()),
    );
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let entries = entries()?;
    let mut manifest = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let svg_file = match &e.svg {
            Some(svg) => {
                let name = format!("{i:02}-{}.svg", e.kind);
                svg.save(dir.join(&name))?;
                format!("\"{name}\"")
            }
            None => "null".into(),
        };
        manifest.push(format!(
            "  {{\"id\": \"chart-{i}\", \"kind\": \"{}\", \"top\": {}, \"width\": {}, \
             \"height\": {}, \"svg\": {svg_file}, \"colours\": [{}]}}",
            e.kind,
            i as u32 * (BOX.1 + GAP),
            BOX.0,
            BOX.1,
            e.colours
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let files = [
        ("light.html", page(&entries, false)),
        ("dark.html", page(&entries, true)),
        ("manifest.json", format!("[\n{}\n]\n", manifest.join(",\n"))),
    ];
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(io(&path))?;
    }
    println!(
        "{} charts in {}/light.html and dark.html",
        entries.len(),
        dir.display()
    );
    Ok(())
}
