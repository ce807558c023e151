//! pytorch-grad-cam 1.5.7's metrics (scripts/make_confidence_fixture.py) on chelsea-224.
//! `confidence-change` against its CamMultImageConfidenceChange, DropInConfidence and
//! IncreaseInConfidence:
//! resnet18 (shared seeded weights) with its Grad-CAM map, whose product with the photo lowers the
//! score, and EfficientNet-Lite0 (ImageNet weights) with its Grad-CAM++ map, which raises it;
//! logits and softmax probabilities. Changes within 1e-4 (logit) and 1e-6 (probability), the
//! rise indicator exactly. `coherency` against its Coherency with the same CAM as base method.

mod common;

use nas_core::ndarray::Ix2;
use nas_core::{npy, MetricInput, Registry};
use serde_json::Value;
use std::error::Error;
use std::path::PathBuf;

#[test]
fn confidence_changes_match_pytorch_grad_cam() -> Result<(), Box<dyn Error>> {
    nas_plugins::link();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixtures.join("confidence/pytorch_grad_cam.json"))?)?;
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    for (arch, weights) in [
        ("resnet18", "weights/resnet18-seed0.pth"),
        ("efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth"),
    ] {
        let expected = &reference[arch];
        let (net, input, target) = common::on_chelsea(&registry, &ctx, arch, weights);
        assert_eq!(
            expected["target"].as_u64(),
            Some(target[0] as u64),
            "{arch}: the same predicted class"
        );
        let map_file = expected["map"].as_str().ok_or("map")?;
        let map = npy::read::<f32>(&fixtures.join("grad_cam").join(map_file))?.into_dimensionality::<Ix2>()?;
        let metric_input = common::metric_input(net.as_ref(), &input, &map, target[0]);
        for (scores, tolerance) in [("logit", 1e-4), ("probability", 1e-6)] {
            for figure in ["change", "drop", "increase"] {
                let settings = [
                    ("figure", toml::Value::String(figure.into())),
                    ("scores", toml::Value::String(scores.into())),
                ];
                let ours = registry
                    .metric("confidence-change", &common::params("confidence-change", &settings), &ctx)?
                    .score(&metric_input)?
                    .value;
                let theirs = expected[format!("{figure}-{scores}")].as_f64().ok_or("number")?;
                eprintln!("{arch} {figure} {scores}: ours {ours} vs {theirs}");
                assert!((ours - theirs).abs() <= tolerance, "{arch} {figure} {scores}: {ours} vs {theirs}");
            }
        }
    }
    Ok(())
}

#[test]
fn coherency_matches_pytorch_grad_cam() -> Result<(), Box<dyn Error>> {
    // pytorch-grad-cam's Coherency with the same CAM as the base method, on resnet18 at levels 4
    // and 3: within 1e-6 (measured 3e-8, the remade map's rounding).
    nas_plugins::link();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixtures.join("confidence/pytorch_grad_cam.json"))?)?;
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let metric = registry.metric("coherency", &common::params("coherency", &[]), &ctx)?;
    for (method, level) in [("grad-cam", 4), ("grad-cam", 3), ("layer-cam", 4)] {
        let cam = registry.saliency(method, &common::params(method, &[("level", toml::Value::Integer(level))]), &ctx)?;
        let explain = common::remaking(cam.as_ref(), net.as_ref());
        let map = npy::read::<f32>(&fixtures.join(format!("grad_cam/resnet18-seed0.chelsea-224.{method}.level{level}.npy")))?
            .into_dimensionality::<Ix2>()?;
        let metric_input = common::metric_input(net.as_ref(), &input, &map, target[0]);
        let ours = metric.score_explained(&metric_input, &explain)?.value;
        let theirs = reference["coherency"][format!("{method}.level{level}")].as_f64().ok_or("number")?;
        eprintln!("coherency {method} level {level}: ours {ours} vs {theirs}");
        assert!(
            (ours - theirs).abs() <= 1e-6,
            "coherency {method} level {level}: {ours} vs {theirs}"
        );
    }
    assert!(metric
        .score(&MetricInput {
            backbone: net.as_ref(),
            input: &input,
            saliency: &npy::read::<f32>(&fixtures.join("grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy"))?
                .into_dimensionality::<Ix2>()?,
            segmentation: None,
            target: target[0],
            annotation: &Default::default(),
        })
        .is_err());
    Ok(())
}

#[test]
fn arcc_matches_pytorch_grad_cam() -> Result<(), Box<dyn Error>> {
    // pytorch-grad-cam's ARCC with Grad-CAM and LayerCAM (level 4) as base methods: with its
    // ROAD imputer's noise set to 0, within 1e-6 (measured 3e-8); with the default noise
    // (torch's draws there, nas's own here), within 2e-3, the noise's own effect there (1e-3;
    // measured 5e-5).
    nas_plugins::link();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixtures.join("confidence/pytorch_grad_cam.json"))?)?;
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    for method in ["grad-cam", "layer-cam"] {
        let cam = registry.saliency(method, &common::params(method, &[]), &ctx)?;
        let explain = common::remaking(cam.as_ref(), net.as_ref());
        let map = npy::read::<f32>(&fixtures.join(format!("grad_cam/resnet18-seed0.chelsea-224.{method}.level4.npy")))?
            .into_dimensionality::<Ix2>()?;
        let metric_input = common::metric_input(net.as_ref(), &input, &map, target[0]);
        for (noise, tolerance) in [(0.0, 1e-6), (0.01, 2e-3)] {
            let metric = registry.metric("arcc", &common::params("arcc", &[("noise", toml::Value::Float(noise))]), &ctx)?;
            let ours = metric.score_explained(&metric_input, &explain)?.value;
            let theirs = reference["arcc"][format!("{method}.level4.noise{noise:?}")]
                .as_f64()
                .ok_or("number")?;
            eprintln!("arcc {method} noise {noise}: ours {ours} vs {theirs}");
            assert!(
                (ours - theirs).abs() <= tolerance,
                "arcc {method} noise {noise}: {ours} vs {theirs}"
            );
        }
    }
    let refused = registry.metric(
        "arcc",
        &common::params("arcc", &[("order", toml::Value::String("morf".into()))]),
        &ctx,
    );
    assert!(refused.is_err(), "arcc takes no `order`");
    Ok(())
}
