//! The `dff` segmenter against pytorch-grad-cam 1.5.7's Deep Feature Factorization and
//! scikit-learn 1.9's NMF (scripts/make_dff_fixture.py) on chelsea-224: the concepts' loadings
//! on the level grid within 1e-4 of the largest for EfficientNet-Lite0 (ImageNet weights; NMF
//! converges in 85 passes; 2.5e-6 measured) and within 1e-3 for resnet18 with the shared seeded
//! weights (NMF stops at its 200-pass limit, scikit-learn's passes in float32 and nas's in
//! float64; 2.2e-5 measured), and at least 99.9% of the pixels in the same concept as
//! pytorch-grad-cam's for EfficientNet-Lite0 (all of them measured). A batch segments each photo as alone; K above the pixel count and a
//! level the backbone lacks are refused.

mod common;

use nas_core::ndarray::{Array2, Ix2, Ix3};
use nas_core::{npy, Batch, Registry};
use nas_plugins::segmenters::dff::Dff;
use nas_plugins::segmenters::nmf::Nmf;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dff").join(name)
}

const NMF: Nmf = Nmf {
    components: 5,
    max_iter: 200,
    tol: 1e-4,
    seed: 0,
};

/// The backbone `name` with the shared weight file `weights` and chelsea-224 normalised for it.
fn on_chelsea(name: &str, weights: &str) -> (Box<dyn nas_core::Backbone>, nas_core::NasTensor<4>) {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, _) = common::on_chelsea(&registry, &ctx, name, weights);
    (net, input)
}

/// The largest difference between our loadings of level 4 and the fixture's, over its largest.
fn loadings_error(name: &str, weights: &str, case: &str) -> f64 {
    let (net, input) = on_chelsea(name, weights);
    let level = net.forward(input).levels.remove(4);
    let [_, channels, gh, gw] = level.dims();
    let values = level.into_data().to_vec::<f32>().expect("values");
    let ours = Dff::new(4, NMF).concepts(&values, channels, gh * gw).expect("concepts");
    let theirs = npy::read::<f32>(&fixture(&format!("{case}.concepts.npy")))
        .expect("fixture")
        .into_dimensionality::<Ix3>()
        .expect("3-D");
    assert_eq!(theirs.dim(), (5, gh, gw));
    let largest = theirs.iter().fold(0f64, |m, &v| m.max(f64::from(v)));
    ours.iter()
        .zip(theirs.iter())
        .fold(0f64, |m, (a, &b)| m.max((a - f64::from(b)).abs()))
        / largest
}

#[test]
fn concepts_match_scikit_learn() {
    let lite = loadings_error(
        "efficientnet-lite0",
        "weights/efficientnet-lite0-57934424.pth",
        "efficientnet-lite0",
    );
    let r18 = loadings_error("resnet18", "weights/resnet18-seed0.pth", "resnet18-seed0");
    eprintln!("dff loadings: efficientnet-lite0 {lite:.1e}, resnet18 {r18:.1e} of the largest");
    assert!(lite <= 1e-4, "efficientnet-lite0: {lite}");
    assert!(r18 <= 1e-3, "resnet18: {r18}");
}

#[test]
fn pixels_take_pytorch_grad_cams_concepts() {
    let (net, input) = on_chelsea("efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let segmenter = registry.segmenter("dff", &common::params("dff", &[]), &ctx).expect("dff");
    let photo = nas_core::Photo::open(&common::shared().join("images/chelsea-224.png"), None).expect("photo");
    let batch = Batch {
        photos: vec![&photo],
        input: Some(input.clone()),
    };
    let segmentation = segmenter.segment(&batch, Some(net.as_ref())).expect("segment").remove(0);
    let clusters = segmentation.clusters();
    let theirs: Array2<i32> = npy::read::<i32>(&fixture("efficientnet-lite0.labels.npy"))
        .expect("labels")
        .into_dimensionality::<Ix2>()
        .expect("2-D");
    let same = clusters.iter().zip(theirs.iter()).filter(|(a, b)| **a as i32 == **b).count();
    let share = same as f64 / theirs.len() as f64;
    eprintln!(
        "dff: {:.4} of the pixels in pytorch-grad-cam's concept, {} superpixels",
        share,
        segmentation.count()
    );
    assert!(share >= 0.999, "{share}");
    assert!(segmentation.count() >= 5, "every concept has a region");

    // A batch of the photo and another segments each as alone.
    let other = common::cropped_photo("coffee-224", 224, 224);
    let both = nas_core::backbone::normalise(&[&photo, &other], net.info(), net.device()).expect("input");
    let batch = Batch {
        photos: vec![&photo, &other],
        input: Some(both),
    };
    let together = segmenter.segment(&batch, Some(net.as_ref())).expect("batch");
    assert_eq!(together[0].labels, segmentation.labels);

    let too_many = registry
        .segmenter("dff", &common::params("dff", &[("k", toml::Value::Integer(60000))]), &ctx)
        .expect("built")
        .segment(
            &Batch {
                photos: vec![&photo],
                input: Some(input.clone()),
            },
            Some(net.as_ref()),
        )
        .expect_err("K above the pixel count")
        .to_string();
    assert!(too_many.contains("K = 60000"), "{too_many}");
    let missing = registry
        .segmenter("dff", &common::params("dff", &[("level", toml::Value::Integer(9))]), &ctx)
        .expect("built")
        .segment(
            &Batch {
                photos: vec![&photo],
                input: Some(input),
            },
            Some(net.as_ref()),
        )
        .expect_err("no level 9")
        .to_string();
    assert!(missing.contains("level 9") && missing.contains("efficientnet-lite0"), "{missing}");
}
