//! `layer-deep-lift`, `layer-deep-lift-shap` and `layer-lrp` at nas's depth levels
//! (scripts/make_layer_lrp_deep_lift_fixture.py), each for chelsea-224's predicted class:
//! Captum 0.9's LayerDeepLift and LayerDeepLiftShap (float64) on resnet18 (shared seeded
//! weights; levels 0, 2, 3), vgg16 (`random:0`; level 1) and EfficientNet-Lite0 (ImageNet
//! weights; levels 3 and 4); the relevance that zennit 0.5.1's EpsilonPlusFlat and
//! EpsilonGammaBox bring to resnet18's levels 0, 2 and 4 and vgg16's level 3; lxt 2.1's CP-LRP
//! relevance at vit_b_16's levels 0 and 3 (`random:0`). Each reference is the layer-shaped
//! attribution summed over channels; nas's map (resized by nearest) is compared with it
//! repeated over each cell's block of the photo. Also DeepLift's summation to delta at a level,
//! batches against single photos, and refusals.

mod common;

use common::Tolerance;
use nas_core::backbone::{normalise, predicted_classes};
use nas_core::ndarray::{Array2, Ix2};
use nas_core::{npy, Backbone, NasTensor, Registry};
use serde_json::Value;
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layer_lrp_deep_lift")
        .join(name)
}

/// Backbone `name` with `weights` (relative to the shared folder, or `random:SEED`).
fn backbone(registry: &Registry, name: &str, weights: &str) -> Result<Box<dyn Backbone>, Box<dyn Error>> {
    let ctx = common::context(registry);
    let weights = if weights.starts_with("random:") {
        weights.to_string()
    } else {
        common::shared().join(weights).display().to_string()
    };
    Ok(registry.backbone(name, &common::params(name, &[("weights", toml::Value::String(weights))]), &ctx)?)
}

/// Runs `method` with `settings` on chelsea-224 and compares its map with the reference `case`.
fn check(registry: &Registry, net: &dyn Backbone, case: &str, method: &str, settings: &[(&str, &str)], tolerance: Tolerance) -> TestResult {
    let ctx = common::context(registry);
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(fixture("cases.json"))?)?;
    let reference = &cases[case];
    let photo = nas_core::Photo::open(&common::shared().join("images/chelsea-224.png"), None)?;
    let input = normalise(&[&photo], net.info(), net.device())?;
    let target = predicted_classes(&net.forward(input.clone()).logits)?;
    assert_eq!(reference["target"].as_u64(), Some(target[0] as u64), "{case}: the same class");
    let level = reference["level"].as_i64().ok_or("level")?;
    let mut params = vec![("level", toml::Value::Integer(level))];
    params.extend(settings.iter().map(|(k, v)| (*k, toml::Value::String((*v).into()))));
    let saliency = registry.saliency(method, &common::params(method, &params), &ctx)?;
    let ours: Vec<f32> = saliency.explain(net, &input, &target)?.remove(0).iter().copied().collect();
    let layer: Array2<f32> = npy::read::<f32>(&fixture(&format!("{case}.npy")))?.into_dimensionality::<Ix2>()?;
    common::assert_map_close(&format!("{method} ({case})"), &ours, &common::repeated(&layer, 224), tolerance);
    Ok(())
}

/// Within float rounding of the float64 references, as `deep-lift`: a pre-activation within
/// rounding of a rectifier's kink can take the other slope in float32.
const KINKS: Tolerance = Tolerance {
    largest: 1e-2,
    share: 0.005,
};

/// Every cell within 1e-3 of the largest reference value, as `lrp`.
const CLOSE: Tolerance = Tolerance { largest: 1e-3, share: 1.0 };

#[test]
fn layer_deep_lift_matches_captum() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let resnet18 = backbone(&registry, "resnet18", "weights/resnet18-seed0.pth")?;
    check(&registry, resnet18.as_ref(), "deep-lift.resnet18.0", "layer-deep-lift", &[], KINKS)?;
    check(&registry, resnet18.as_ref(), "deep-lift.resnet18.2", "layer-deep-lift", &[], KINKS)?;
    check(
        &registry,
        resnet18.as_ref(),
        "deep-lift-shap.resnet18.3",
        "layer-deep-lift-shap",
        &[],
        KINKS,
    )?;
    let vgg16 = backbone(&registry, "vgg16", "random:0")?;
    check(&registry, vgg16.as_ref(), "deep-lift.vgg16.1", "layer-deep-lift", &[], KINKS)?;
    let lite = backbone(&registry, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth")?;
    check(&registry, lite.as_ref(), "deep-lift.lite.3", "layer-deep-lift", &[], KINKS)?;
    check(&registry, lite.as_ref(), "deep-lift.lite.4", "layer-deep-lift", &[], KINKS)
}

#[test]
fn layer_lrp_matches_zennit_and_lxt() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let resnet18 = backbone(&registry, "resnet18", "weights/resnet18-seed0.pth")?;
    check(&registry, resnet18.as_ref(), "lrp.resnet18.0", "layer-lrp", &[], CLOSE)?;
    check(&registry, resnet18.as_ref(), "lrp.resnet18.2", "layer-lrp", &[], CLOSE)?;
    let gamma_box = [("composite", "epsilon-gamma-box")];
    check(
        &registry,
        resnet18.as_ref(),
        "lrp-gammabox.resnet18.4",
        "layer-lrp",
        &gamma_box,
        CLOSE,
    )?;
    let vgg16 = backbone(&registry, "vgg16", "random:0")?;
    check(&registry, vgg16.as_ref(), "lrp.vgg16.3", "layer-lrp", &[], CLOSE)?;
    let vit = backbone(&registry, "vit_b_16", "random:0")?;
    check(&registry, vit.as_ref(), "lrp.vit_b_16.0", "layer-lrp", &[], CLOSE)?;
    check(&registry, vit.as_ref(), "lrp.vit_b_16.3", "layer-lrp", &[], CLOSE)
}

/// Every nonlinearity after these levels takes the Rescale rule (ReLUs, ReLU6s; the max pool
/// of ResNet comes before level 0), so the level's attributions add up to the change of the
/// target logit from the baseline image to the photo.
#[test]
fn layer_deep_lift_sums_to_the_change_of_the_logit() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    for (name, weights, level) in [
        ("resnet18", "weights/resnet18-seed0.pth", 0),
        ("efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth", 2),
    ] {
        let net = backbone(&registry, name, weights)?;
        let input = normalise(&[&common::cropped_photo("coffee-224", 200, 150)], net.info(), net.device())?;
        let target = predicted_classes(&net.forward(input.clone()).logits)?;
        let params = common::params(
            "layer-deep-lift",
            &[
                ("level", toml::Value::Integer(level)),
                ("baselines", toml::Value::String("black".into())),
            ],
        );
        // Nearest resizing repeats cells unevenly at 200 x 150: attribute at the level itself.
        let black = NasTensor::<4>::from_data(
            nas_core::burn::tensor::TensorData::new(net.info().normalised_colour(0.0).to_vec(), [1, 3, 1, 1]),
            net.device(),
        )
        .expand(input.dims());
        let map = registry
            .saliency("layer-deep-lift", &params, &ctx)?
            .explain(net.as_ref(), &input, &target)?;
        assert_eq!(map[0].dim(), (150, 200));
        let multipliers = net.deep_lift_multipliers(input.clone(), black.clone(), Some(level as usize), &target)?;
        let total: f64 = (multipliers.value * multipliers.grad)
            .into_data()
            .into_vec::<f32>()
            .map_err(|e| format!("{e:?}"))?
            .iter()
            .map(|v| f64::from(*v))
            .sum();
        let logit = |x: NasTensor<4>| -> Result<f64, Box<dyn Error>> {
            let logits = net.forward(x).logits.into_data().into_vec::<f32>().map_err(|e| format!("{e:?}"))?;
            Ok(f64::from(logits[target[0]]))
        };
        let change = logit(input.clone())? - logit(black)?;
        eprintln!("{name} level {level}: attributions add up to {total}, the logit changes by {change}");
        assert!(
            (total - change).abs() <= 1e-4 * change.abs().max(1.0),
            "{name}: {total} vs {change}"
        );
    }
    Ok(())
}

#[test]
fn layer_deep_lift_and_lrp_explain_a_batch_as_each_photo_alone() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let oblong = [
        common::cropped_photo("chelsea-224", 96, 80),
        common::cropped_photo("coffee-224", 96, 80),
    ];
    // VGG's DeepLift pass takes the classifier by hand, on its 7 x 7 grid: whole photos.
    let square = [
        common::cropped_photo("chelsea-224", 224, 224),
        common::cropped_photo("coffee-224", 224, 224),
    ];
    for (name, weights) in [
        ("resnet18", "weights/resnet18-seed0.pth"),
        ("efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth"),
        ("vgg16", "random:0"),
    ] {
        let net = backbone(&registry, name, weights)?;
        let photos = if name == "vgg16" { &square } else { &oblong };
        for method in ["layer-deep-lift", "layer-deep-lift-shap", "layer-lrp"] {
            common::assert_batch_equals_singles(&registry, net.as_ref(), method, &[&photos[0], &photos[1]], 1e-5);
        }
    }
    Ok(())
}

#[test]
fn backbones_without_their_own_backward_pass_refuse_layer_deep_lift() {
    nas_plugins::link();
    let refused = common::refusal_on_vit(&Registry::builtin(), "layer-deep-lift");
    assert!(refused.contains("vit_b_16") && refused.contains("DeepLift"), "{refused}");
}

#[test]
fn layer_lrp_refuses_a_backbone_it_cannot_walk_and_cnn_rules_on_a_vit() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let photo = common::cropped_photo("chelsea-224", 224, 224);
    let densenet = backbone(&registry, "densenet121", "random:0")?;
    let input = normalise(&[&photo], densenet.info(), densenet.device())?;
    let refused = registry
        .saliency("layer-lrp", &common::params("layer-lrp", &[]), &ctx)?
        .explain(densenet.as_ref(), &input, &[0])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        refused.contains("densenet121") && refused.contains("no relevance walk"),
        "{refused}"
    );
    let vit = backbone(&registry, "vit_b_16", "random:0")?;
    let input = normalise(&[&photo], vit.info(), vit.device())?;
    let params = common::params("layer-lrp", &[("composite", toml::Value::String("epsilon-plus".into()))]);
    let refused = registry
        .saliency("layer-lrp", &params, &ctx)?
        .explain(vit.as_ref(), &input, &[0])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("CP-LRP") && refused.contains("composite"), "{refused}");
    Ok(())
}
