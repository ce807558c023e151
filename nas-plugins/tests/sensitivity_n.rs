//! `sensitivity-n` against Quantus 0.6's `SensitivityN` itself (scripts/make_sensitivity_n_fixture.py):
//! EfficientNet-Lite0 with its ImageNet weights, the 96x96 corners of the six shared photos and
//! their gradient x input maps; every photo's step pairs (the removed relevance, within 1e-5 of
//! Quantus's after its normalisation, and the probability drop, within 2e-5: the photos' classes
//! are nearly certain, and two forward passes round differently) and the dataset's
//! mean correlation within 1e-4. One photo has no correlation (NaN); photos of different sizes
//! are refused by name.

mod common;

use nas_core::ndarray::{Array2, Array3, Ix3};
use nas_core::{npy, Backbone, Metric, MetricInput, Registry, Score};
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/sensitivity_n")
        .join(name)
}

/// The photos' scores, with the backbone, from the metric with `step` pixels per step.
fn scores(metric: &dyn Metric, net: &dyn Backbone, photos: &[nas_core::Photo], maps: &[Array2<f32>], targets: &[usize]) -> Vec<Score> {
    photos
        .iter()
        .zip(maps)
        .zip(targets)
        .map(|((photo, map), &target)| {
            let input = nas_core::backbone::normalise(&[photo], net.info(), net.device()).expect("input");
            metric
                .score(&MetricInput {
                    backbone: net,
                    input: &input,
                    saliency: map,
                    segmentation: None,
                    target,
                    annotation: &Default::default(),
                })
                .expect("score")
        })
        .collect()
}

#[test]
fn steps_and_correlation_match_quantus() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture("quantus.json")).expect("json")).expect("json");
    let mut params = nas_core::Params::empty("efficientnet-lite0");
    let weights = common::shared().join("weights/efficientnet-lite0-57934424.pth");
    params.set("weights", toml::Value::String(weights.display().to_string()));
    let net = registry.backbone("efficientnet-lite0", &params, &ctx).expect("backbone");
    let names: Vec<&str> = reference["photos"]
        .as_array()
        .expect("photos")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let photos: Vec<nas_core::Photo> = names.iter().map(|n| common::cropped_photo(&format!("{n}-224"), 96, 96)).collect();
    let targets: Vec<usize> = reference["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .filter_map(Value::as_u64)
        .map(|t| t as usize)
        .collect();
    for (photo, &target) in photos.iter().zip(&targets) {
        let input = nas_core::backbone::normalise(&[photo], net.info(), net.device()).expect("input");
        let predicted = nas_core::backbone::predicted_classes(&net.forward(input).logits).expect("class");
        assert_eq!(predicted, vec![target], "the reference's class");
    }
    let maps: Array3<f32> = npy::read::<f32>(&fixture("maps.npy"))
        .expect("maps")
        .into_dimensionality::<Ix3>()
        .expect("3-D");
    let maps: Vec<Array2<f32>> = maps.outer_iter().map(|m| m.to_owned()).collect();
    let relevance = npy::read::<f64>(&fixture("relevance.npy")).expect("relevance");
    let drops = npy::read::<f64>(&fixture("drops.npy")).expect("drops");
    let scale = reference["scale"].as_f64().expect("scale");
    let kept = reference["steps_kept"].as_u64().expect("kept") as usize;

    let metric = registry
        .metric(
            "sensitivity-n",
            &common::params("sensitivity-n", &[("step", toml::Value::Integer(96))]),
            &ctx,
        )
        .expect("metric");
    let ours = scores(metric.as_ref(), net.as_ref(), &photos, &maps, &targets);
    let (mut worst_relevance, mut worst_drop) = (0f64, 0f64);
    for (i, score) in ours.iter().enumerate() {
        assert!(score.value.is_nan(), "no value of its own");
        assert_eq!(score.curve.len(), kept, "the steps Quantus keeps");
        for (k, &(r, d)) in score.curve.iter().enumerate() {
            let theirs = relevance[[i, k]] * scale;
            worst_relevance = worst_relevance.max((r - theirs).abs() / theirs.abs().max(1e-3));
            worst_drop = worst_drop.max((d - drops[[i, k]]).abs());
        }
    }
    eprintln!("sensitivity-n: relevance within {worst_relevance:.1e} (relative), drops within {worst_drop:.1e}");
    assert!(worst_relevance <= 1e-5 && worst_drop <= 2e-5, "{worst_relevance} {worst_drop}");
    let refs: Vec<&Score> = ours.iter().collect();
    let stats = metric.summarise(&refs).expect("summary");
    let quantus = reference["score"].as_f64().expect("score");
    eprintln!("sensitivity-n: {} vs Quantus {quantus}", stats[0].value);
    assert_eq!(stats[0].name, "SensitivityN");
    assert!((stats[0].value - quantus).abs() <= 1e-4, "{} vs {quantus}", stats[0].value);

    assert!(
        metric.summarise(&refs[..1]).expect("one photo")[0].value.is_nan(),
        "one photo has no correlation"
    );
    let mut other = ours[0].clone();
    other.curve.pop();
    let refused = metric.summarise(&[&other, &ours[1]]).expect_err("sizes").to_string();
    assert!(refused.contains("sensitivity-n") && refused.contains("size"), "{refused}");
}
