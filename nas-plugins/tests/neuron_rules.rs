//! `neuron-guided-backprop`, `neuron-deconvolution`, `neuron-deep-lift`, `neuron-deep-lift-shap`,
//! `neuron-gradient-shap` and `neuron-feature-ablation` against Captum 0.9's NeuronGuidedBackprop,
//! NeuronDeconvolution, NeuronDeepLift (float64), NeuronDeepLiftShap (float64), NeuronGradientShap
//! and NeuronFeatureAblation (scripts/make_neuron_rules_fixture.py) on chelsea-224: the most active unit of resnet18's
//! level 3 and of vgg16's level 2 (before its ReLU), a channel of resnet18's level 2 summed over
//! its positions, and a unit of EfficientNet-Lite0's level 3; maps summed over colour channels.
//! Also DeepLift's summation to the unit's change, batches, and refusals.

mod common;

use nas_core::backbone::normalise;
use nas_core::upsampled_batch::to_host;
use nas_core::{npy, Backbone, Registry};
use std::error::Error;
use std::path::{Path, PathBuf};

type TestResult = Result<(), Box<dyn Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/neuron_rules")
        .join(name)
}

/// The modified backward passes: float rounding (measured: 1.3e-7 to 4.9e-7).
const ONE_PASS: common::Tolerance = common::Tolerance { largest: 1e-4, share: 0.0 };

/// DeepLift against Captum's float64 run: float32 rounding, which the secant slopes of
/// rectifiers whose input barely changes from the baseline magnify (measured: 7.5e-7 to 1.8e-5).
const RESCALED: common::Tolerance = common::Tolerance {
    largest: 1e-3,
    share: 0.001,
};

/// GradientSHAP's points between the photo and a black or a white one: a few units within
/// rounding of a kink switch in one framework only, as for `gradient-shap` (measured: 1.3e-3
/// with 0.17% of the pixels beyond 1e-4 on resnet18, 5.0e-4 with 0.39% on EfficientNet-Lite0).
const ALONG_THE_PATHS: common::Tolerance = common::Tolerance {
    largest: 1e-2,
    share: 0.01,
};

/// Feature ablation: forward passes alone (measured: 8.7e-7 and 3.5e-6).
const FORWARD_PASSES: common::Tolerance = common::Tolerance { largest: 1e-4, share: 0.0 };

/// The tolerance of a method of cases.json.
fn tolerance(method: &str) -> common::Tolerance {
    match method {
        "feature-ablation" => FORWARD_PASSES,
        "deep-lift" | "deep-lift-shap" => RESCALED,
        "gradient-shap" => ALONG_THE_PATHS,
        _ => ONE_PASS,
    }
}

/// Every case of cases.json on `net` (`case` names starting with `prefix`), each method within
/// its [`tolerance`].
fn check(registry: &Registry, net: &dyn Backbone, prefix: &str) -> TestResult {
    let ctx = common::context(registry);
    let photo = common::cropped_photo("chelsea-224", 224, 224);
    let input = normalise(&[&photo], net.info(), net.device())?;
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("cases.json"))?)?;
    let cases = cases.as_object().ok_or("cases")?;
    for (case, settings) in cases.iter().filter(|(name, _)| name.starts_with(prefix)) {
        let params = common::neuron_params(settings)?;
        for method in settings["methods"].as_array().ok_or("methods")?.iter().filter_map(|m| m.as_str()) {
            let name = format!("neuron-{method}");
            let mut params = params.clone();
            if method == "feature-ablation" {
                // scikit-image's 50 SLIC superpixels, which Captum was given (nas's `slic` gives
                // the same labels: tests/ablation.rs).
                let mut slic = toml::Table::new();
                slic.insert("name".into(), toml::Value::String("slic".into()));
                slic.insert("n_segments".into(), toml::Value::Integer(50));
                params.push(("segmentation", toml::Value::Table(slic)));
            }
            let saliency = registry.saliency(&name, &common::params(&name, &params), &ctx)?;
            let map = saliency.explain_photos(net, &input, &[0], &[&photo])?.remove(0);
            let ours: Vec<f32> = map.iter().copied().collect();
            let theirs = npy::read::<f32>(&fixture(&format!("{case}.{method}.npy")))?;
            let theirs = theirs.as_slice().ok_or("contiguous")?;
            common::assert_map_close(&format!("{name} ({case})"), &ours, theirs, tolerance(method));
        }
    }
    Ok(())
}

fn backbone(name: &str, weights: &Path) -> Result<Box<dyn Backbone>, Box<dyn Error>> {
    nas_plugins::link();
    Ok(nas_plugins::backbones::load(name, weights, nas_core::device::default_device())?)
}

#[test]
fn resnet18_neuron_rules_match_captum() -> TestResult {
    let net = backbone("resnet18", &common::shared().join("weights/resnet18-seed0.pth"))?;
    check(&Registry::builtin(), net.as_ref(), "r18")
}

#[test]
fn efficientnet_lite0_neuron_rules_match_captum() -> TestResult {
    let net = backbone(
        "efficientnet-lite0",
        &common::shared().join("weights/efficientnet-lite0-57934424.pth"),
    )?;
    check(&Registry::builtin(), net.as_ref(), "lite")
}

#[test]
fn vgg16_neuron_rules_match_captum() -> TestResult {
    let net = backbone("vgg16", Path::new("random:0"))?;
    check(&Registry::builtin(), net.as_ref(), "vgg")
}

/// Where every nonlinearity takes the Rescale rule (EfficientNet-Lite0 has no max pool), a
/// unit's DeepLift adds up to its change from the baseline to the photo.
#[test]
fn a_neurons_deep_lift_adds_up_to_its_change() -> TestResult {
    let net = backbone(
        "efficientnet-lite0",
        &common::shared().join("weights/efficientnet-lite0-57934424.pth"),
    )?;
    let registry = Registry::builtin();
    let photo = common::cropped_photo("coffee-224", 160, 128);
    let input = normalise(&[&photo], net.info(), net.device())?;
    let (level, channel) = (2usize, 7usize);
    let params = common::params(
        "neuron-deep-lift",
        &[
            ("level", toml::Value::Integer(level as i64)),
            ("channel", toml::Value::Integer(channel as i64)),
        ],
    );
    let map = registry
        .saliency("neuron-deep-lift", &params, &common::context(&registry))?
        .explain(net.as_ref(), &input, &[0])?
        .remove(0);
    let total: f64 = map.iter().map(|v| f64::from(*v)).sum();
    let channel_sum = |x: nas_core::NasTensor<4>| -> Result<f64, Box<dyn Error>> {
        let activation = net.forward(x).levels.swap_remove(level);
        let [_, _, h, w] = activation.dims();
        Ok(to_host(activation)?[channel * h * w..][..h * w].iter().map(|v| f64::from(*v)).sum())
    };
    let change = channel_sum(input.clone())? - channel_sum(input.zeros_like())?;
    eprintln!("DeepLift adds up to {total}, the channel changes by {change}");
    assert!((total - change).abs() <= 1e-4 * change.abs().max(1.0), "{total} vs {change}");
    Ok(())
}

/// Networks without their own backward pass are refused by name, for the rules burn's automatic
/// differentiation cannot take.
#[test]
fn backbones_without_their_own_backward_pass_are_refused() -> TestResult {
    let net = backbone("vit_b_16", Path::new("random:0"))?;
    let registry = Registry::builtin();
    let input = normalise(&[&common::cropped_photo("chelsea-224", 224, 224)], net.info(), net.device())?;
    for method in [
        "neuron-guided-backprop",
        "neuron-deconvolution",
        "neuron-deep-lift",
        "neuron-deep-lift-shap",
    ] {
        let params = common::params(method, &[("channel", toml::Value::Integer(3))]);
        let refused = registry
            .saliency(method, &params, &common::context(&registry))?
            .explain(net.as_ref(), &input, &[0])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            refused.contains("vit_b_16") && refused.contains("own backward pass"),
            "{method}: {refused}"
        );
    }
    Ok(())
}
