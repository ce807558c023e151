//! `quickshift` against scikit-image 0.26's `quickshift` (scripts/make_quickshift_fixtures.py) on
//! chelsea-224 and astronaut-224 with its defaults, the LIME package's settings and a smoothed
//! setting: given scikit-image's own tie-breaking draws (its PCG64 noise, saved), every label
//! equal; without them, the labels still agree but for pixels whose densities tie within the
//! noise (adjusted Rand index >= 0.99).

mod support;

use nas_superpixels::{adjusted_rand_index, quickshift, QuickshiftParams};
use ndarray::Array2;
use serde_json::Value;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    support::fixtures_dir().join("quickshift")
}

fn params(setting: &Value) -> QuickshiftParams {
    let d = QuickshiftParams::default();
    QuickshiftParams {
        ratio: setting["ratio"].as_f64().unwrap_or(d.ratio),
        kernel_size: setting["kernel_size"].as_f64().unwrap_or(d.kernel_size),
        max_dist: setting["max_dist"].as_f64().unwrap_or(d.max_dist),
        sigma: setting["sigma"].as_f64().unwrap_or(d.sigma),
        ..d
    }
}

fn noise() -> Vec<f64> {
    let (descr, shape, data) = support::read_npy_gz(&fixtures().join("noise-224.npy.gz"));
    assert_eq!((descr.as_str(), shape.as_slice()), ("<f8", [224, 224].as_slice()));
    data.chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect()
}

fn cases() -> Vec<(String, String, QuickshiftParams, Array2<u32>)> {
    let text = std::fs::read_to_string(fixtures().join("manifest.json")).expect("manifest");
    let manifest: Value = serde_json::from_str(&text).expect("json");
    manifest["fixtures"]
        .as_array()
        .expect("fixtures")
        .iter()
        .map(|f| {
            let (image, setting) = (f["image"].as_str().expect("image"), f["setting"].as_str().expect("setting"));
            let labels = support::read_labels(&fixtures().join(format!("{image}__{setting}.npy.gz")));
            (image.to_string(), setting.to_string(), params(&f["params"]), labels)
        })
        .collect()
}

#[test]
fn labels_equal_scikit_images_with_its_tie_breaking_draws() {
    let noise = noise();
    let cases = cases();
    assert_eq!(cases.len(), 6);
    for (image, setting, params, theirs) in cases {
        let photo = support::load_rgb(&support::shared_dir().join(format!("images/{image}.png")));
        let ours = quickshift(photo.view(), &params, Some(&noise)).expect("quickshift");
        let differing = ours.iter().zip(theirs.iter()).filter(|(a, b)| a != b).count();
        eprintln!(
            "{image} {setting}: {} segments, {differing} pixels differ",
            theirs.iter().max().map_or(0, |m| m + 1)
        );
        assert_eq!(differing, 0, "{image} {setting}");
    }
}

#[test]
fn without_the_draws_only_ties_move() {
    for (image, setting, params, theirs) in cases().into_iter().filter(|c| c.1 == "lime") {
        let photo = support::load_rgb(&support::shared_dir().join(format!("images/{image}.png")));
        let ours = quickshift(photo.view(), &params, None).expect("quickshift");
        let ari = adjusted_rand_index(ours.view(), theirs.view()).expect("ari");
        eprintln!("{image} {setting} without noise: ARI {ari:.6}");
        assert!(ari >= 0.99, "{image} {setting}: {ari}");
    }
}

#[test]
fn bad_parameters_and_noise_are_named() {
    let photo = ndarray::Array3::<f32>::from_elem((8, 8, 3), 0.5);
    let refuse =
        |params: QuickshiftParams, noise: Option<&[f64]>| quickshift(photo.view(), &params, noise).expect_err("refused").to_string();
    assert!(refuse(
        QuickshiftParams {
            kernel_size: 0.5,
            ..Default::default()
        },
        None
    )
    .contains("kernel_size"));
    assert!(refuse(
        QuickshiftParams {
            ratio: 0.0,
            ..Default::default()
        },
        None
    )
    .contains("ratio"));
    assert!(refuse(
        QuickshiftParams {
            max_dist: f64::NAN,
            ..Default::default()
        },
        None
    )
    .contains("max_dist"));
    assert!(refuse(QuickshiftParams::default(), Some(&[0.0; 3])).contains("tie_noise"));
    // On a flat image the density peaks at the four middle pixels, which tie exactly: without
    // noise they are two roots here; any tie-breaking noise makes one segment, as scikit-image's.
    let untied = quickshift(photo.view(), &QuickshiftParams::default(), None).expect("flat");
    assert!(untied.iter().any(|&l| l > 0), "{untied:?}");
    let noise: Vec<f64> = (0..64).map(|i| f64::from(i % 7) * 1e-9).collect();
    let tied = quickshift(photo.view(), &QuickshiftParams::default(), Some(&noise)).expect("flat");
    assert!(tied.iter().all(|&l| l == 0), "{tied:?}");
}
