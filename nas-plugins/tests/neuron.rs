//! `neuron-gradient`, `neuron-integrated-gradients` and `neuron-conductance` against Captum 0.9's
//! NeuronGradient, NeuronIntegratedGradients and NeuronConductance
//! (scripts/make_neuron_fixture.py) on chelsea-224: one unit of EfficientNet-Lite0's level 3
//! (ImageNet weights), and a channel of resnet18's level 2 summed over its positions (shared
//! seeded weights); maps summed over colour channels, conductance for the predicted class. Also
//! the completeness of the neuron's Integrated Gradients, batches, and refusals.

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::upsampled_batch::to_host;
use nas_core::{npy, Backbone, Registry};
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/neuron").join(name)
}

fn backbone(registry: &Registry, name: &str, weights: &str) -> Result<Box<dyn Backbone>, Box<dyn Error>> {
    let ctx = common::context(registry);
    let weights = common::shared().join(weights).display().to_string();
    Ok(registry.backbone(name, &common::params(name, &[("weights", toml::Value::String(weights))]), &ctx)?)
}

/// Which method's path settings a case takes.
#[derive(Clone, Copy, PartialEq)]
enum Path {
    /// None (a gradient).
    Without,
    /// Integrated Gradients': the case's steps and rule.
    Integrated,
    /// Conductance's: 16 steps, its default rule.
    Conductance,
}

/// The settings of Captum's case `case` as nas parameters.
fn settings(case: &str, path: Path) -> Result<Vec<(&'static str, toml::Value)>, Box<dyn Error>> {
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("cases.json"))?)?;
    let case = &cases[case];
    let mut settings = common::neuron_params(case)?;
    match path {
        Path::Without => {}
        Path::Integrated => {
            settings.push(("steps", toml::Value::Integer(case["n_steps"].as_i64().ok_or("n_steps")?)));
            settings.push(("method", toml::Value::String(case["method"].as_str().ok_or("method")?.into())));
        }
        Path::Conductance => settings.push(("steps", toml::Value::Integer(16))),
    }
    Ok(settings)
}

/// One backward pass: float rounding (measured 5.5e-7).
const ONE_PASS: common::Tolerance = common::Tolerance { largest: 1e-4, share: 0.0 };

/// The path's images near the baseline put a few ReLU6 units within rounding of a bound, where
/// one framework switches their gradient and the other does not, as for `integrated-gradients`
/// (its bound: every pixel within 3e-2). Measured on EfficientNet-Lite0: 1.7e-2 with 0.38% of
/// the pixels beyond 1e-4 by the host kernels' backward pass (burn's automatic differentiation,
/// whose unfolded batch norms round as PyTorch's do: 5.2e-4).
const ALONG_THE_PATH: common::Tolerance = common::Tolerance {
    largest: 3e-2,
    share: 0.01,
};

/// Conductance by Captum's trapezoid rule, whose first node is the baseline image itself: its
/// flat activations put one ReLU6 input within 1e-5 of zero at 54 positions (PyTorch's forward
/// of the zero image), which one rounding or another sends to the other side (measured: 7.5e-4
/// with 0.26% of the pixels beyond 1e-4 by the host kernels' pass; burn's automatic
/// differentiation took the other side, 1.6e-2 with 0.84%, in one 15 x 15 patch; Captum's own
/// float32 run is 7.5e-4 from its float64 run).
const FROM_THE_BASELINE: common::Tolerance = common::Tolerance {
    largest: 3e-2,
    share: 0.02,
};

/// A whole channel of resnet18 (seeded random weights) reaches back through rectifiers whose
/// inputs lie within 3e-7 of zero (PyTorch's own float32 run is 5e-7 from its float64 run, but
/// nas's convolutions round differently): one that takes the other side changes the gradient
/// over its receptive field (measured: 8.4e-3 with 4.0% of the pixels beyond 1e-4, in one
/// 22 x 22 patch; Integrated Gradients 3.7e-4 with 0.1%, conductance 1.5e-3 with 0.9%).
const KINKS: common::Tolerance = common::Tolerance {
    largest: 2e-2,
    share: 0.06,
};

fn check(registry: &Registry, net: &dyn Backbone, case: &str, [gradient, integrated, conducted]: [common::Tolerance; 3]) -> TestResult {
    let ctx = common::context(registry);
    let photo = common::cropped_photo("chelsea-224", 224, 224);
    let input = normalise(&[&photo], net.info(), net.device())?;
    let target = predicted_classes(&net.forward(input.clone()).logits)?;
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("cases.json"))?)?;
    assert_eq!(cases[case]["target"].as_u64(), Some(target[0] as u64), "{case}: the same class");
    for (method, suffix, path, tolerance) in [
        ("neuron-gradient", "gradient", Path::Without, gradient),
        ("neuron-integrated-gradients", "integrated-gradients", Path::Integrated, integrated),
        ("neuron-conductance", "conductance", Path::Conductance, conducted),
    ] {
        let saliency = registry.saliency(method, &common::params(method, &settings(case, path)?), &ctx)?;
        let ours: Vec<f32> = saliency.explain(net, &input, &target)?.remove(0).iter().copied().collect();
        let theirs = npy::read::<f32>(&fixture(&format!("{case}.{suffix}.npy")))?;
        let theirs = theirs.as_slice().ok_or("contiguous")?;
        common::assert_map_close(&format!("{method} ({case})"), &ours, theirs, tolerance);
    }
    Ok(())
}

#[test]
fn neuron_methods_match_captum() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let lite = backbone(&registry, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth")?;
    check(&registry, lite.as_ref(), "lite-unit", [ONE_PASS, ALONG_THE_PATH, FROM_THE_BASELINE])?;
    let resnet18 = backbone(&registry, "resnet18", "weights/resnet18-seed0.pth")?;
    check(&registry, resnet18.as_ref(), "resnet18-channel", [KINKS, KINKS, KINKS])
}

/// Integrated Gradients of a unit add up to the unit's change from the baseline image to the
/// photo, up to the quadrature's error (100 Gauss-Legendre steps).
#[test]
fn a_neurons_integrated_gradients_add_up_to_its_change() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = backbone(&registry, "resnet18", "weights/resnet18-seed0.pth")?;
    let photo = common::cropped_photo("coffee-224", 160, 128);
    let input = normalise(&[&photo], net.info(), net.device())?;
    let (channel, y, x) = (40usize, 3usize, 5usize);
    let params = common::params(
        "neuron-integrated-gradients",
        &[
            ("level", toml::Value::Integer(3)),
            (
                "neuron",
                toml::Value::Array(vec![toml::Value::Integer(40), toml::Value::Integer(3), toml::Value::Integer(5)]),
            ),
            ("steps", toml::Value::Integer(100)),
        ],
    );
    let map = registry
        .saliency("neuron-integrated-gradients", &params, &ctx)?
        .explain(net.as_ref(), &input, &[0])?
        .remove(0);
    let total: f64 = map.iter().map(|v| f64::from(*v)).sum();
    let unit = |x_in: nas_core::NasTensor<4>| -> Result<f64, Box<dyn Error>> {
        let level = net.forward(x_in).levels.swap_remove(3);
        let [_, _, h, w] = level.dims();
        Ok(f64::from(to_host(level)?[(channel * h + y) * w + x]))
    };
    let change = unit(input.clone())? - unit(input.zeros_like())?;
    eprintln!("attributions add up to {total}, the unit changes by {change}");
    assert!((total - change).abs() <= 0.02 * change.abs().max(1.0), "{total} vs {change}");
    Ok(())
}

#[test]
fn neuron_methods_explain_a_batch_as_each_photo_alone_and_refuse_bad_neurons() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = backbone(&registry, "resnet18", "weights/resnet18-seed0.pth")?;
    let photos = [
        common::cropped_photo("chelsea-224", 96, 96),
        common::cropped_photo("coffee-224", 96, 96),
    ];
    let input = normalise(&[&photos[0], &photos[1]], net.info(), net.device())?;
    for method in [
        "neuron-gradient",
        "neuron-integrated-gradients",
        "neuron-conductance",
        "neuron-gradient-shap",
        "neuron-deep-lift",
        "neuron-deep-lift-shap",
        "neuron-guided-backprop",
        "neuron-deconvolution",
        "neuron-feature-ablation",
    ] {
        let params = match method {
            "neuron-integrated-gradients" | "neuron-conductance" => {
                common::params(method, &[("channel", toml::Value::Integer(9)), ("steps", toml::Value::Integer(4))])
            }
            _ => common::params(method, &[("channel", toml::Value::Integer(9))]),
        };
        let saliency = registry.saliency(method, &params, &ctx)?;
        let together = saliency.explain(net.as_ref(), &input, &[0, 0])?;
        for (i, photo) in photos.iter().enumerate() {
            let alone = saliency
                .explain(net.as_ref(), &normalise(&[photo], net.info(), net.device())?, &[0])?
                .remove(0);
            let error = common::relative_error(
                &together[i].iter().copied().collect::<Vec<_>>(),
                &alone.iter().copied().collect::<Vec<_>>(),
            );
            assert!(error <= 1e-5, "{method}: photo {i} is {error} from its own run");
        }
        let outside = common::params(
            method,
            &[(
                "neuron",
                toml::Value::Array(vec![toml::Value::Integer(0), toml::Value::Integer(50), toml::Value::Integer(0)]),
            )],
        );
        let refused = registry
            .saliency(method, &outside, &ctx)?
            .explain(net.as_ref(), &input, &[0, 0])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            refused.contains("outside level 4") && refused.contains("512 channels of 3x3"),
            "{method}: {refused}"
        );
        let neither = registry
            .saliency(method, &common::params(method, &[]), &ctx)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(neither.contains("neither") && neither.contains("channel"), "{method}: {neither}");
    }
    Ok(())
}
