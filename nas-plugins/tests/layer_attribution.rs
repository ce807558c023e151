//! Captum's layer attributions at nas's depth levels (scripts/make_layer_attribution_fixture.py):
//! `layer-integrated-gradients`, `layer-conductance`, `internal-influence`,
//! `layer-gradient-shap`, `layer-gradient-x-activation`, `layer-grad-cam` and `layer-activation`
//! against Captum 0.9.0's LayerIntegratedGradients, LayerConductance, InternalInfluence,
//! LayerGradientShap (its NumPy draws), LayerGradientXActivation, LayerGradCam and
//! LayerActivation on EfficientNet-Lite0 (ImageNet
//! weights) and chelsea-224, at levels 3 (block 10) and 4 (the head), for the predicted class.
//! Each map is compared with Captum's attribution summed over channels and resized to the
//! photo: with Captum's own `F.interpolate` (nearest and bilinear) for one case each, and by
//! repeating each cell over its 16 x 16 or 32 x 32 block of the photo (what nearest does at
//! whole factors) for the others. Errors relative to the reference's largest magnitude: 1e-4
//! for the level-path and single-pass methods (1.1e-6 to 3.4e-6 measured), more for the
//! input-path ones (below).

mod common;

use common::Tolerance;
use nas_core::ndarray::{Array2, Ix2};
use nas_core::{npy, Registry};
use serde_json::Value;
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layer_attribution")
        .join(name)
}

fn read_map(name: &str) -> Result<Array2<f32>, Box<dyn Error>> {
    Ok(npy::read::<f32>(&fixture(name))?.into_dimensionality::<Ix2>()?)
}

/// nas's method for Captum's class name.
fn nas_name(captum: &str) -> &'static str {
    match captum {
        "LayerIntegratedGradients" => "layer-integrated-gradients",
        "LayerConductance" => "layer-conductance",
        "InternalInfluence" => "internal-influence",
        "LayerGradientXActivation" => "layer-gradient-x-activation",
        "LayerGradCam" => "layer-grad-cam",
        "LayerGradientShap" => "layer-gradient-shap",
        _ => "layer-activation",
    }
}

/// Runs Captum's `case` with nas and compares it with Captum's map within `tolerance`.
fn check(case: &str, tolerance: Tolerance) -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture("captum.json"))?)?;
    assert_eq!(reference["target"].as_u64(), Some(target[0] as u64), "the same class");
    let settings = &reference["cases"][case];
    let method = nas_name(settings["captum"].as_str().ok_or("captum")?);
    let mut params = vec![("level", toml::Value::Integer(settings["level"].as_i64().ok_or("level")?))];
    if let Some(steps) = settings["n_steps"].as_i64() {
        params.push(("steps", toml::Value::Integer(steps)));
        params.push(("batch", toml::Value::Integer(6)));
    }
    // LayerGradientShap draws from a set of baselines; the path methods start from one.
    let baseline_key = if method == "layer-gradient-shap" { "baselines" } else { "baseline" };
    for (theirs, ours) in [("method", "method"), ("baseline", baseline_key)] {
        if let Some(value) = settings[theirs].as_str() {
            params.push((ours, toml::Value::String(value.into())));
        }
    }
    if let Some(samples) = settings["n_samples"].as_i64() {
        params.push(("samples", toml::Value::Integer(samples)));
    }
    if let Some(relu) = settings["relu_attributions"].as_bool() {
        params.push(("relu", toml::Value::Boolean(relu)));
    }
    let resize = settings["resize"].as_str();
    if let Some(mode) = resize {
        params.push(("interpolate", toml::Value::String(mode.into())));
    }
    let saliency = registry.saliency(method, &common::params(method, &params), &ctx)?;
    let ours = saliency.explain(net.as_ref(), &input, &target)?.remove(0);
    let theirs = match resize {
        Some(mode) => read_map(&format!("{case}.{mode}-224.npy"))?.iter().copied().collect(),
        None => common::repeated(&read_map(&format!("{case}.npy"))?, 224),
    };
    common::assert_map_close(
        &format!("{method} ({case})"),
        &ours.iter().copied().collect::<Vec<_>>(),
        &theirs,
        tolerance,
    );
    Ok(())
}

const TIGHT: Tolerance = Tolerance { largest: 1e-4, share: 0.0 };

#[test]
fn layer_integrated_gradients_matches_captum() -> TestResult {
    check("layer-ig-3", TIGHT)?;
    check("layer-ig-4-black-riemann", TIGHT)
}

/// The input-path methods walk through images near the zero baseline, where a ReLU6 unit of the
/// head lies within rounding of a bound at one path point (alpha 0.06): its gradient switches
/// in one implementation and not in the other, 10% of one channel's gradient at one position
/// (measured). Conductance multiplies such gradients by activation steps that largely cancel
/// (per-step terms up to five times their sum): 8.7e-3 at the worst of 196 cells, 2% of the
/// pixels beyond 1e-4. Internal influence: 1.2e-3, which is also how far Captum's own float32
/// run lies from its float64 run. GradientSHAP's points lie between the photo and a black or
/// white image: 3.2e-4.
const INPUT_PATH: Tolerance = Tolerance {
    largest: 1.5e-2,
    share: 0.25,
};

#[test]
fn layer_conductance_matches_captum() -> TestResult {
    check("conductance-3", INPUT_PATH)
}

#[test]
fn internal_influence_matches_captum() -> TestResult {
    check("influence-3", INPUT_PATH)
}

#[test]
fn layer_gradient_x_activation_and_activation_match_captum() -> TestResult {
    check("grad-x-act-4", TIGHT)?;
    check("activation-3", TIGHT)
}

#[test]
fn layer_grad_cam_matches_captum() -> TestResult {
    check("grad-cam-3", TIGHT)?;
    check("grad-cam-3-relu", TIGHT)
}

#[test]
fn layer_gradient_shap_matches_captum_with_its_draws() -> TestResult {
    check("gradient-shap-3", INPUT_PATH)
}

#[test]
fn layer_methods_explain_a_batch_as_each_photo_alone() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let mut params = nas_core::Params::empty("efficientnet-lite0");
    let weights = common::shared().join("weights/efficientnet-lite0-57934424.pth");
    params.set("weights", toml::Value::String(weights.display().to_string()));
    let net = registry.backbone("efficientnet-lite0", &params, &ctx).expect("backbone");
    let photos = [
        common::cropped_photo("chelsea-224", 64, 64),
        common::cropped_photo("coffee-224", 64, 64),
    ];
    for method in [
        "layer-integrated-gradients",
        "layer-conductance",
        "internal-influence",
        "layer-gradient-shap",
        "layer-gradient-x-activation",
        "layer-grad-cam",
        "layer-activation",
    ] {
        common::assert_batch_equals_singles(&registry, net.as_ref(), method, &[&photos[0], &photos[1]], 1e-5);
    }
}

/// Integrated Gradients' completeness in the level's space: the layer attributions add up to
/// the target logit's rise from the baseline image to the photo, up to the quadrature's error,
/// which the ReLU6 kinks along the path keep large: Captum's own convergence delta with 50
/// steps is -0.27 of a rise of 9.25 at level 2 (2.9%; nas's total is 8.987, Captum's 8.985) and
/// -0.025 at level 3.
#[test]
fn layer_integrated_gradients_add_up_to_the_logits_rise() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let logit = |x: nas_core::NasTensor<4>| -> Result<f64, Box<dyn Error>> {
        let logits = nas_core::upsampled_batch::to_host(net.forward(x).logits)?;
        Ok(f64::from(logits[target[0]]))
    };
    let rise = logit(input.clone())? - logit(input.zeros_like())?;
    for level in [2, 3] {
        let method = registry.saliency(
            "layer-integrated-gradients",
            &common::params("layer-integrated-gradients", &[("level", toml::Value::Integer(level))]),
            &ctx,
        )?;
        let map = method.explain(net.as_ref(), &input, &target)?.remove(0);
        // Nearest resizing repeats each cell over (224 / side)^2 pixels.
        let side = net.forward(input.clone()).levels[level as usize].dims()[3];
        let total = map.iter().map(|&v| f64::from(v)).sum::<f64>() / ((224 / side) * (224 / side)) as f64;
        eprintln!("layer-integrated-gradients level {level}: total {total} vs rise {rise}");
        assert!((total - rise).abs() <= 0.05 * rise.abs(), "level {level}: {total} vs {rise}");
    }
    Ok(())
}

#[test]
fn a_replacement_of_the_wrong_shape_is_refused() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let wrong = nas_core::NasTensor::<4>::zeros([1, 3, 5, 5], &input.device());
    let refused =
        nas_core::backbone::level_gradient_replaced(net.as_ref(), input.clone(), 3, wrong.clone(), nas_core::Objective::Targets(&target))
            .err()
            .ok_or("a 1x3x5x5 replacement of level 3 was accepted")?
            .to_string();
    assert!(refused.contains("level 3") && refused.contains("[1, 3, 5, 5]"), "{refused}");
    let refused = nas_core::backbone::logits_with_level(net.as_ref(), input, 3, wrong)
        .err()
        .ok_or("a 1x3x5x5 replacement of level 3 was accepted for the logits")?
        .to_string();
    assert!(refused.contains("level 3") && refused.contains("[1, 3, 5, 5]"), "{refused}");
    Ok(())
}
