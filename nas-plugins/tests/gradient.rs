//! `gradient` (gradient x input) against PyTorch's autograd on a real photo: resnet18 with seeded
//! torchvision weights (fixture made by scripts/make_gradient_fixture.py), max abs error relative
//! to the largest reference value within 1e-3 (gradients through max-pool and ReLU amplify f32
//! rounding differences a little more than forward activations do).

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::{npy, Params, Photo, Registry};
use std::path::PathBuf;

#[test]
fn gradient_x_input_matches_pytorch() {
    nas_plugins::link();
    let shared = common::shared();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let mut params = Params::empty("resnet18");
    params.set(
        "weights",
        toml::Value::String(shared.join("weights/resnet18-seed0.pth").display().to_string()),
    );
    let net = registry.backbone("resnet18", &params, &ctx).unwrap();
    let photo = Photo::open(&shared.join("images/chelsea-224.png"), None).unwrap();
    let input = normalise(&[&photo], net.info(), net.device()).unwrap();
    let target = predicted_classes(&net.forward(input.clone()).logits).unwrap();
    let method = registry.saliency("gradient", &Params::empty("gradient"), &ctx).unwrap();
    let map = method.explain(net.as_ref(), &input, &target).unwrap().remove(0);
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gradient/resnet18-seed0.chelsea-224.npy");
    let reference = npy::read::<f32>(&fixture).unwrap();
    assert_eq!(map.shape(), reference.shape());
    let err = common::relative_error(map.as_slice().unwrap(), reference.as_slice().unwrap());
    eprintln!("gradient x input: relative error {err:.2e}");
    assert!(err <= 1e-3, "relative error {err}");
}

/// `vanilla-gradient` against Captum's `Saliency` (the gradient's absolute value) reduced by the
/// largest colour channel, on the same photo and network; same tolerance.
#[test]
fn vanilla_gradient_matches_captums_saliency() -> Result<(), Box<dyn std::error::Error>> {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let method = registry.saliency("vanilla-gradient", &Params::empty("vanilla-gradient"), &ctx)?;
    let map = method.explain(net.as_ref(), &input, &target)?.remove(0);
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gradient/resnet18-seed0.chelsea-224.vanilla-gradient.npy");
    let reference = npy::read::<f32>(&fixture)?;
    assert_eq!(map.shape(), reference.shape());
    let ours: Vec<f32> = map.iter().copied().collect();
    let theirs: Vec<f32> = reference.iter().copied().collect();
    let err = common::relative_error(&ours, &theirs);
    eprintln!("vanilla gradient: relative error {err:.2e}");
    assert!(err <= 1e-3, "relative error {err}");
    assert!(ours.iter().all(|v| *v >= 0.0), "a magnitude map holds negative values");
    Ok(())
}
