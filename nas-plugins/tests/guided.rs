//! `guided-backprop`, `deconvolution` and `guided-grad-cam` against Captum 0.9's GuidedBackprop,
//! Deconvolution and GuidedGradCam (scripts/make_guided_fixture.py) on chelsea-224, maps summed
//! over colour channels: resnet18 with the shared seeded weights, vgg16 with `random:0` weights
//! (the script draws them as nas does; its classifier's ReLUs are differentiated by hand here),
//! EfficientNet-Lite0 with its ImageNet weights (the rule on its ReLU6s). Max abs error relative
//! to the largest reference value within 5e-3 and at most 2% of the pixels beyond 1e-4: guided
//! backpropagation keeps a gradient by its sign at every rectifier, so the gradients that f32
//! rounding moves across zero (and max-pool near-ties) change a few pixels more than in the plain
//! gradient (measured below, with --nocapture; deconvolution, which ignores the forward pass,
//! agrees to 3e-7). Backbones without their own backward pass refuse the methods by name.

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::{npy, Params, Photo, Registry};
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

fn check(registry: &Registry, backbone: &str, weights: &str, method: &str, fixture: &str) -> TestResult {
    let ctx = common::context(registry);
    let net = registry.backbone(
        backbone,
        &common::params(backbone, &[("weights", toml::Value::String(weights.into()))]),
        &ctx,
    )?;
    let photo = Photo::open(&common::shared().join("images/chelsea-224.png"), None)?;
    let input = normalise(&[&photo], net.info(), net.device())?;
    let target = predicted_classes(&net.forward(input.clone()).logits)?;
    let map = registry
        .saliency(method, &Params::empty(method), &ctx)?
        .explain(net.as_ref(), &input, &target)?
        .remove(0);
    let reference = npy::read::<f32>(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/guided/{fixture}.npy")))?;
    assert_eq!(map.shape(), reference.shape());
    let ours: Vec<f32> = map.iter().copied().collect();
    let theirs: Vec<f32> = reference.iter().copied().collect();
    let error = common::relative_error(&ours, &theirs);
    let largest = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
    let off = ours.iter().zip(&theirs).filter(|(a, b)| (*a - *b).abs() > 1e-4 * largest).count() as f64 / theirs.len() as f64;
    eprintln!("{fixture}: relative error {error:.2e}, {:.3}% of pixels beyond 1e-4", 100.0 * off);
    assert!(error <= 5e-3, "{fixture}: relative error {error}");
    assert!(off <= 0.02, "{fixture}: {off} of the pixels beyond 1e-4");
    Ok(())
}

#[test]
fn modified_gradients_match_captum() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let shared = common::shared();
    let resnet18 = shared.join("weights/resnet18-seed0.pth").display().to_string();
    for method in ["guided-backprop", "deconvolution"] {
        check(
            &registry,
            "resnet18",
            &resnet18,
            method,
            &format!("resnet18-seed0.chelsea-224.{method}"),
        )?;
        check(
            &registry,
            "vgg16",
            "random:0",
            method,
            &format!("vgg16-random0.chelsea-224.{method}"),
        )?;
    }
    check(
        &registry,
        "resnet18",
        &resnet18,
        "guided-grad-cam",
        "resnet18-seed0.chelsea-224.guided-grad-cam.level4",
    )?;
    let lite = shared.join("weights/efficientnet-lite0-57934424.pth").display().to_string();
    check(
        &registry,
        "efficientnet-lite0",
        &lite,
        "guided-backprop",
        "efficientnet-lite0.chelsea-224.guided-backprop",
    )
}

#[test]
fn backbones_without_their_own_backward_pass_refuse_modified_rules() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = registry.backbone(
        "vit_b_16",
        &common::params("vit_b_16", &[("weights", toml::Value::String("random:0".into()))]),
        &ctx,
    )?;
    let photo = Photo::open(&common::shared().join("images/chelsea-224.png"), None)?;
    let input = normalise(&[&photo], net.info(), net.device())?;
    let refused = registry
        .saliency("guided-backprop", &Params::empty("guided-backprop"), &ctx)?
        .explain(net.as_ref(), &input, &[0])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("vit_b_16") && refused.contains("Guided"), "{refused}");
    Ok(())
}
