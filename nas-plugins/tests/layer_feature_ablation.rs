//! `layer-feature-ablation` against Captum 0.9's LayerFeatureAblation
//! (scripts/make_layer_feature_ablation_fixture.py) on corners of chelsea-224: every unit of
//! resnet18's level 4 (seeded weights) and of EfficientNet-Lite0's level 4 (ImageNet weights)
//! ablated alone, and every position of level 3 of both (all channels together, baselines 0.5
//! and 0); layer maps summed over channels, compared cell by cell through nearest resizing.
//! Also batches, the batch size, and refusals.

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::ndarray::Ix2;
use nas_core::{npy, Backbone, Registry};
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layer_feature_ablation")
        .join(name)
}

fn backbone(name: &str, weights: &str) -> Result<Box<dyn Backbone>, Box<dyn Error>> {
    nas_plugins::link();
    Ok(nas_plugins::backbones::load(
        name,
        &common::shared().join(weights),
        nas_core::device::default_device(),
    )?)
}

/// Against Captum's float64 run: each drop is a difference of two nearly equal float32 logits,
/// summed over up to 1280 channels (measured: 1.1e-5 to 6.2e-5; Captum's own float32 run is
/// 4.4e-4 and 5.3e-4 from its float64 run on the neuron cases).
const TOLERANCE: f32 = 2e-4;

/// Every case of cases.json whose name starts with `prefix`, on `net`.
fn check(net: &dyn Backbone, prefix: &str) -> TestResult {
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("cases.json"))?)?;
    for (case, settings) in cases
        .as_object()
        .ok_or("cases")?
        .iter()
        .filter(|(name, _)| name.starts_with(prefix))
    {
        let side = settings["side"].as_u64().ok_or("side")? as u32;
        let input = normalise(&[&common::cropped_photo("chelsea-224", side, side)], net.info(), net.device())?;
        let target = predicted_classes(&net.forward(input.clone()).logits)?;
        assert_eq!(settings["target"].as_u64(), Some(target[0] as u64), "{case}: the same class");
        let params = [
            ("level", toml::Value::Integer(settings["level"].as_i64().ok_or("level")?)),
            ("groups", toml::Value::String(settings["groups"].as_str().ok_or("groups")?.into())),
            ("baseline", toml::Value::Float(settings["baseline"].as_f64().ok_or("baseline")?)),
        ];
        let saliency = registry.saliency("layer-feature-ablation", &common::params("layer-feature-ablation", &params), &ctx)?;
        let ours: Vec<f32> = saliency.explain(net, &input, &target)?.remove(0).iter().copied().collect();
        let theirs = npy::read::<f32>(&fixture(&format!("{case}.npy")))?.into_dimensionality::<Ix2>()?;
        let theirs = common::repeated(&theirs, side as usize);
        let error = common::relative_error(&ours, &theirs);
        eprintln!("layer-feature-ablation ({case}): relative error {error:.2e}");
        assert!(error <= TOLERANCE, "{case}: relative error {error}");
    }
    Ok(())
}

#[test]
fn resnet18_layer_feature_ablation_matches_captum() -> TestResult {
    check(backbone("resnet18", "weights/resnet18-seed0.pth")?.as_ref(), "r18")
}

#[test]
fn efficientnet_lite0_layer_feature_ablation_matches_captum() -> TestResult {
    check(
        backbone("efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth")?.as_ref(),
        "lite",
    )
}

/// A batch explains each photo as alone, and the copies per forward pass change nothing: on
/// resnet18 (which starts at the level) and on MobileNetV3-Small (which runs whole with the level
/// replaced). Unknown groups are refused by name.
#[test]
fn batches_equal_single_photos_on_both_paths_and_bad_groups_are_refused() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let photos = [
        common::cropped_photo("chelsea-224", 64, 64),
        common::cropped_photo("coffee-224", 64, 64),
    ];
    for (name, weights) in [("resnet18", "weights/resnet18-seed0.pth"), ("mobilenet_v3_small", "random:0")] {
        let net = if weights.starts_with("random") {
            nas_plugins::backbones::load(name, std::path::Path::new(weights), nas_core::device::default_device())?
        } else {
            backbone(name, weights)?
        };
        let input = normalise(&[&photos[0], &photos[1]], net.info(), net.device())?;
        let targets = [3usize, 7];
        let method = |batch: i64| {
            let params = [
                ("level", toml::Value::Integer(3)),
                ("groups", toml::Value::String("position".into())),
                ("batch", toml::Value::Integer(batch)),
            ];
            registry.saliency("layer-feature-ablation", &common::params("layer-feature-ablation", &params), &ctx)
        };
        let together = method(5)?.explain(net.as_ref(), &input, &targets)?;
        let one_by_one = method(1)?.explain(net.as_ref(), &input, &targets)?;
        for (i, photo) in photos.iter().enumerate() {
            let alone = method(64)?
                .explain(net.as_ref(), &normalise(&[photo], net.info(), net.device())?, &targets[i..=i])?
                .remove(0);
            let alone: Vec<f32> = alone.iter().copied().collect();
            for (label, map) in [("in a batch", &together[i]), ("one copy per pass", &one_by_one[i])] {
                let error = common::relative_error(&map.iter().copied().collect::<Vec<_>>(), &alone);
                eprintln!("{name}: photo {i} {label} is {error:.1e} from its own run");
                assert!(error <= 1e-5, "{name}: photo {i} {label} is {error} from its own run");
            }
            assert!(alone.iter().any(|v| *v != 0.0), "{name}: photo {i}'s map is zero");
        }
    }
    let refused = registry
        .saliency(
            "layer-feature-ablation",
            &common::params("layer-feature-ablation", &[("groups", toml::Value::String("channel".into()))]),
            &ctx,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("groups") && refused.contains("position"), "{refused}");
    Ok(())
}
