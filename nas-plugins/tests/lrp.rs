//! `lrp` against zennit 0.5.1's EpsilonPlusFlat, EpsilonAlpha2Beta1Flat and EpsilonGammaBox
//! composites with their canonizers on a real photo
//! (fixtures made by scripts/make_lrp_fixture.py): resnet18 with the shared seeded weights, and
//! resnet50 and vgg16 with the seeded weights of `NAS_PARITY_WEIGHTS` (skipped loudly without
//! them); EfficientNet-Lite0 with its ImageNet weights (scripts/make_lrp_efficientnet_fixture.py:
//! BatchNorm merged, residual sums canonized as zennit's ResNet blocks). Every pixel within 1e-3
//! of the largest reference value (measured: resnet18 8.0e-5, resnet50 1.5e-4, vgg16 3.1e-4,
//! efficientnet-lite0 1.7e-6 to 2.0e-5).

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::{npy, Photo, Registry};
use std::path::{Path, PathBuf};

/// Every composite on `arch`, against the fixtures named `{stem}.chelsea-224{suffix}.npy`.
fn check(arch: &str, weights: &Path, stem: &str) {
    for (composite, suffix) in [
        ("epsilon-plus-flat", ""),
        ("epsilon-alpha2-beta1-flat", "-alpha2beta1"),
        ("epsilon-gamma-box", "-gammabox"),
    ] {
        check_composite(arch, weights, stem, composite, suffix);
    }
}

fn check_composite(arch: &str, weights: &Path, stem: &str, composite: &str, suffix: &str) {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = nas_plugins::backbones::load(arch, weights, nas_core::device::default_device()).expect("backbone");
    let photo = Photo::open(&common::shared().join("images/chelsea-224.png"), None).expect("photo");
    let input = normalise(&[&photo], net.info(), net.device()).expect("input");
    let target = predicted_classes(&net.forward(input.clone()).logits).expect("target");
    let params = common::params("lrp", &[("composite", toml::Value::String(composite.into()))]);
    let lrp = registry.saliency("lrp", &params, &ctx).expect("lrp");
    let map = lrp.explain(net.as_ref(), &input, &target).expect("explain").remove(0);
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/lrp/{stem}.chelsea-224{suffix}.npy"));
    let reference = npy::read::<f32>(&fixture).expect("fixture");
    assert_eq!(map.shape(), reference.shape());
    let err = common::relative_error(map.as_slice().expect("contiguous"), reference.as_slice().expect("contiguous"));
    let total: f32 = map.iter().sum();
    eprintln!("lrp {arch} {composite}: relative error {err:.2e}, relevance sums to {total:.4}");
    assert!(err <= 1e-3, "{arch} {composite}: relative error {err}");
}

#[test]
fn lrp_matches_zennit_on_resnet18() {
    check("resnet18", &common::shared().join("weights/resnet18-seed0.pth"), "resnet18-seed0");
}

#[test]
fn lrp_matches_zennit_on_resnet50_and_vgg16() {
    for arch in ["resnet50", "vgg16"] {
        if let Some(weights) = common::parity_weights(arch) {
            check(arch, &weights, &format!("{arch}-seed0"));
        }
    }
}

#[test]
fn lrp_matches_zennit_on_efficientnet_lite0() {
    let weights = common::shared().join("weights/efficientnet-lite0-57934424.pth");
    check("efficientnet-lite0", &weights, "efficientnet-lite0");
}
