//! Times `slic` (n_segments 20 and 100) and `felzenszwalb` (default
//! parameters) on the shared photos, full size and 224x224, and `quickshift`
//! (its defaults and the LIME package's settings) on the 224x224 photos of its
//! fixtures, and prints the median next to scikit-image's median from the
//! fixture manifests.
//!
//! Run: `cargo run --release -p nas-superpixels --example superpixels_bench [-- REPEATS]` (default 11).
//! The photos are found like the tests find them (`NAS_SHARED`, ...).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use nas_superpixels::{felzenszwalb, quickshift, slic, FelzenszwalbParams, QuickshiftParams, SlicParams};
use ndarray::Array3;

/// One timed segmenter call.
enum Call {
    Slic(SlicParams),
    Felzenszwalb(FelzenszwalbParams),
}

impl Call {
    fn run(&self, image: &Array3<f32>) {
        let labels = match self {
            Call::Slic(params) => slic(image.view(), params),
            Call::Felzenszwalb(params) => felzenszwalb(image.view(), params),
        };
        if let Err(e) = std::hint::black_box(labels) {
            panic!("segmentation failed: {e}");
        }
    }
}

/// Median and minimum wall time of `repeats` calls after one warm-up call, in ms.
fn time_ms(repeats: usize, mut f: impl FnMut()) -> (f64, f64) {
    f();
    let mut times: Vec<f64> = (0..repeats.max(1))
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times[0])
}

/// A speedup row for the summary: 224x224 or not, call, median and min ratio.
struct Ratio {
    small: bool,
    call: &'static str,
    median: f64,
    min: f64,
}

fn geometric_mean(values: impl Iterator<Item = f64>) -> f64 {
    let logs: Vec<f64> = values.map(f64::ln).collect();
    (logs.iter().sum::<f64>() / logs.len().max(1) as f64).exp()
}

fn main() {
    let repeats: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(11);
    let manifest = support::manifest();
    let images_dir = support::shared_dir().join("images");
    let mut images: Vec<String> = manifest.iter().map(|f| f.image.clone()).collect();
    images.sort();
    images.dedup();
    // 224x224 crops first, then full size.
    images.sort_by_key(|name| !name.contains("-224"));

    println!(
        "rayon threads: {}, repeats: {repeats}; times in ms, median (min); \
         scikit-image's from tests/fixtures/manifest.json",
        rayon::current_num_threads()
    );
    println!(
        "{:<19} {:>7} {:<13} {:>15} {:>15} {:>8} {:>8}",
        "image", "size", "call", "ours", "scikit-image", "speedup", "(min)"
    );
    let mut ratios: Vec<Ratio> = Vec::new();
    for name in &images {
        let image: Array3<f32> = support::load_rgb(&images_dir.join(name));
        let (h, w, _) = image.dim();
        let small = name.contains("-224");
        let calls = [
            (
                "slic n=20",
                "slic_n20",
                Call::Slic(SlicParams {
                    n_segments: 20,
                    ..Default::default()
                }),
            ),
            ("slic n=100", "slic_n100", Call::Slic(SlicParams::default())),
            ("felzenszwalb", "felz_default", Call::Felzenszwalb(FelzenszwalbParams::default())),
        ];
        for (call_name, setting, call) in calls {
            let (median, min) = time_ms(repeats, || call.run(&image));
            let ours = format!("{median:.2} ({min:.2})");
            let theirs = manifest.iter().find(|f| &f.image == name && f.setting == setting);
            let (theirs_text, ratio_text, min_ratio_text) = match theirs {
                Some(f) => {
                    let ratio = Ratio {
                        small,
                        call: call_name,
                        median: f.skimage_ms / median,
                        min: f.skimage_min_ms / min,
                    };
                    let texts = (
                        format!("{:.1} ({:.1})", f.skimage_ms, f.skimage_min_ms),
                        format!("{:.1}x", ratio.median),
                        format!("{:.1}x", ratio.min),
                    );
                    ratios.push(ratio);
                    texts
                }
                None => ("-".to_owned(), "-".to_owned(), "-".to_owned()),
            };
            println!(
                "{name:<19} {:>7} {call_name:<13} {ours:>15} {theirs_text:>15} {ratio_text:>8} {min_ratio_text:>8}",
                format!("{h}x{w}")
            );
        }
    }
    quickshift_rows(repeats, &images_dir);
    println!("geometric mean speedup over the photos, median (min):");
    for small in [true, false] {
        for call in ["slic n=20", "slic n=100", "felzenszwalb"] {
            let rows: Vec<&Ratio> = ratios.iter().filter(|r| r.small == small && r.call == call).collect();
            if !rows.is_empty() {
                let median = geometric_mean(rows.iter().map(|r| r.median));
                let min = geometric_mean(rows.iter().map(|r| r.min));
                let size = if small { "224x224" } else { "full size" };
                println!("  {call:<13} {size:<10} {median:.1}x ({min:.1}x)");
            }
        }
    }
}

/// Times `quickshift` on the photos and settings of its fixtures against scikit-image's median
/// there (tests/fixtures/quickshift/manifest.json).
fn quickshift_rows(repeats: usize, images_dir: &std::path::Path) {
    let path = support::fixtures_dir().join("quickshift/manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let manifest: serde_json::Value = serde_json::from_str(&text).expect("quickshift manifest is JSON");
    for fixture in manifest["fixtures"].as_array().into_iter().flatten() {
        let (name, setting) = (fixture["image"].as_str().unwrap_or(""), fixture["setting"].as_str().unwrap_or(""));
        if setting == "sigma1" {
            continue;
        }
        let p = &fixture["params"];
        let d = QuickshiftParams::default();
        let params = QuickshiftParams {
            ratio: p["ratio"].as_f64().unwrap_or(d.ratio),
            kernel_size: p["kernel_size"].as_f64().unwrap_or(d.kernel_size),
            max_dist: p["max_dist"].as_f64().unwrap_or(d.max_dist),
            ..d
        };
        let image = support::load_rgb(&images_dir.join(format!("{name}.png")));
        let (median, min) = time_ms(repeats, || {
            if let Err(e) = std::hint::black_box(quickshift(image.view(), &params, None)) {
                panic!("quickshift failed: {e}");
            }
        });
        let theirs = fixture["skimage_ms"].as_f64().unwrap_or(f64::NAN);
        println!(
            "{name:<19} {:>7} {:<13} {:>15} {:>15} {:>8}",
            "224x224",
            format!("quickshift {setting}"),
            format!("{median:.2} ({min:.2})"),
            format!("{theirs:.1}"),
            format!("{:.1}x", theirs / median)
        );
    }
}
