//! Times `slic` (n_segments 20 and 100) and `felzenszwalb` (default
//! parameters) on the shared photos, full size and 224x224, and prints the
//! median next to scikit-image's median from the fixture manifest.
//!
//! Run: `cargo run --release --example bench [-- REPEATS]` (default 11).
//! The photos are found like the tests find them (`NAS_SHARED`, ...).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use nas_superpixels::{felzenszwalb, slic, FelzenszwalbParams, SlicParams};
use ndarray::Array3;

/// Median wall time of `repeats` calls after one warm-up call, in ms.
fn median_ms(repeats: usize, mut f: impl FnMut()) -> f64 {
    f();
    let mut times: Vec<f64> = (0..repeats)
        .map(|_| {
            let t0 = Instant::now();
            f();
            t0.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn main() {
    let repeats: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(11);
    let manifest = support::manifest();
    let images_dir = support::shared_dir().join("images");
    let mut images: Vec<String> = manifest.iter().map(|f| f.image.clone()).collect();
    images.sort();
    images.dedup();
    // 224x224 crops first, then full size.
    images.sort_by_key(|name| !name.contains("-224"));

    println!(
        "rayon threads: {}, repeats: {repeats} (median)",
        rayon::current_num_threads()
    );
    println!(
        "{:<20} {:>9} {:<14} {:>9} {:>11} {:>8}",
        "image", "size", "call", "ours ms", "skimage ms", "speedup"
    );
    let mut ratios: Vec<(bool, String, f64)> = Vec::new();
    for name in &images {
        let image: Array3<f32> = support::load_rgb(&images_dir.join(name));
        let (h, w, _) = image.dim();
        let small = name.contains("-224");
        let calls: [(&str, &str, Box<dyn Fn()>); 3] = [
            ("slic n=20", "slic_n20", {
                let params = SlicParams {
                    n_segments: 20,
                    ..Default::default()
                };
                let image = image.clone();
                Box::new(move || {
                    let _ = std::hint::black_box(slic(image.view(), &params));
                })
            }),
            ("slic n=100", "slic_n100", {
                let params = SlicParams::default();
                let image = image.clone();
                Box::new(move || {
                    let _ = std::hint::black_box(slic(image.view(), &params));
                })
            }),
            ("felzenszwalb", "felz_default", {
                let params = FelzenszwalbParams::default();
                let image = image.clone();
                Box::new(move || {
                    let _ = std::hint::black_box(felzenszwalb(image.view(), &params));
                })
            }),
        ];
        for (label, setting, call) in calls {
            let ours = median_ms(repeats, call);
            let theirs = manifest
                .iter()
                .find(|f| &f.image == name && f.setting == setting)
                .map(|f| f.skimage_ms);
            let (theirs_text, ratio_text) = match theirs {
                Some(t) => {
                    ratios.push((small, label.to_owned(), t / ours));
                    (format!("{t:.1}"), format!("{:.1}x", t / ours))
                }
                None => ("-".to_owned(), "-".to_owned()),
            };
            println!(
                "{name:<20} {:>9} {label:<14} {ours:>9.2} {theirs_text:>11} {ratio_text:>8}",
                format!("{h}x{w}")
            );
        }
    }
    println!("geometric mean speedup over the photos:");
    for small in [true, false] {
        for label in ["slic n=20", "slic n=100", "felzenszwalb"] {
            let logs: Vec<f64> = ratios
                .iter()
                .filter(|(s, l, _)| *s == small && l == label)
                .map(|(_, _, r)| r.ln())
                .collect();
            if !logs.is_empty() {
                let mean = (logs.iter().sum::<f64>() / logs.len() as f64).exp();
                let size = if small { "224x224" } else { "full size" };
                println!("  {label:<14} {size:<10} {mean:.1}x");
            }
        }
    }
}
