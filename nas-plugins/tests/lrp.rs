//! `lrp` against zennit 0.5.1's EpsilonPlusFlat, EpsilonAlpha2Beta1Flat and EpsilonGammaBox
//! composites with their canonizers on a real photo
//! (fixtures made by scripts/make_lrp_fixture.py): resnet18 with the shared seeded weights, and
//! resnet50 and vgg16 with nas's `random:0` weights (the script draws the same tensors in
//! Python); EfficientNet-Lite0 with its ImageNet weights (scripts/make_lrp_efficientnet_fixture.py:
//! BatchNorm merged, residual sums canonized as zennit's ResNet blocks). Every pixel within 1e-3
//! of the largest reference value (measured: resnet18 2.4e-5 to 8.0e-5, resnet50 2.2e-4 to
//! 3.2e-4, efficientnet-lite0 1.7e-6 to 2.0e-5), but for vgg16 with random weights: within 5e-3
//! with at most 0.1% of the pixels beyond 1e-4 (measured 1.8e-3 to 2.4e-3 and 0.07%).

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::{npy, Photo, Registry};
use std::path::{Path, PathBuf};

/// Trained or seeded weights: every pixel within 1e-3.
const CLOSE: common::Tolerance = common::Tolerance { largest: 1e-3, share: 1.0 };

/// VGG-16 with random weights, whose max-pool windows hold more near-ties that rounding settles
/// the other way (measured: at most 0.07% of the pixels beyond 1e-4, 2.4e-3 at most).
const NEAR_TIES: common::Tolerance = common::Tolerance {
    largest: 5e-3,
    share: 1e-3,
};

/// Every composite on `arch`, against the fixtures named `{stem}.chelsea-224{suffix}.npy`.
fn check(arch: &str, weights: &Path, stem: &str, tolerance: common::Tolerance) {
    for (composite, suffix) in [
        ("epsilon-plus-flat", ""),
        ("epsilon-alpha2-beta1-flat", "-alpha2beta1"),
        ("epsilon-gamma-box", "-gammabox"),
    ] {
        check_composite(arch, weights, stem, composite, suffix, tolerance);
    }
}

fn check_composite(arch: &str, weights: &Path, stem: &str, composite: &str, suffix: &str, tolerance: common::Tolerance) {
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
    let (ours, theirs) = (map.as_slice().expect("contiguous"), reference.as_slice().expect("contiguous"));
    let total: f32 = map.iter().sum();
    common::assert_map_close(
        &format!("lrp {arch} {composite} (relevance sums to {total:.4})"),
        ours,
        theirs,
        tolerance,
    );
}

#[test]
fn lrp_matches_zennit_on_resnet18() {
    check(
        "resnet18",
        &common::shared().join("weights/resnet18-seed0.pth"),
        "resnet18-seed0",
        CLOSE,
    );
}

/// EpsilonPlus and EpsilonAlpha2Beta1 differ from their `-flat` forms in the first
/// convolution only, where the photo's negative (normalised) values meet the AlphaBeta rule;
/// ExcitationBackprop also takes ZPlus in the dense layers (VGG's three): with a BatchNorm
/// canonizer (resnet18) and without (vgg16).
#[test]
fn lrp_matches_zennit_with_the_first_layer_as_the_others() {
    let resnet18 = common::shared().join("weights/resnet18-seed0.pth");
    for (composite, suffix) in [
        ("epsilon-plus", "-epsilonplus"),
        ("epsilon-alpha2-beta1", "-epsilonalpha2beta1"),
        ("excitation-backprop", "-excitation"),
    ] {
        check_composite("resnet18", &resnet18, "resnet18-seed0", composite, suffix, CLOSE);
        check_composite("vgg16", Path::new("random:0"), "vgg16-random0", composite, suffix, NEAR_TIES);
    }
    // A setting the composite does not use is refused, naming the key and why.
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    for (composite, key, value) in [
        ("excitation-backprop", "epsilon", toml::Value::Float(0.01)),
        ("epsilon-plus", "gamma", toml::Value::Float(0.5)),
    ] {
        let params = common::params("lrp", &[("composite", toml::Value::String(composite.into())), (key, value)]);
        let error = registry
            .saliency("lrp", &params, &ctx)
            .err()
            .expect("an unused setting")
            .to_string();
        assert!(error.contains(key) && error.contains("composite"), "{error}");
    }
}

#[test]
fn lrp_matches_zennit_on_resnet50_and_vgg16() {
    check("resnet50", Path::new("random:0"), "resnet50-random0", CLOSE);
    check("vgg16", Path::new("random:0"), "vgg16-random0", NEAR_TIES);
}

/// ResNeXt's grouped 3x3 convolutions under every rule, as zennit sees them.
#[test]
fn lrp_matches_zennit_on_resnext50() {
    check("resnext50_32x4d", Path::new("random:0"), "resnext50_32x4d-random0", CLOSE);
}

/// RegNetX walks ResNet's relevance path without the stem's max pooling; zennit has no RegNet
/// canonizer, so the fixture script splits each block's sum as zennit's ResNet canonizer does.
#[test]
fn lrp_matches_zennit_on_regnet_x() {
    check("regnet_x_400mf", Path::new("random:0"), "regnet_x_400mf-random0", CLOSE);
}

/// AlexNet through VGG's walk: its 11x11 stride-4 first layer under the Flat and ZBox rules,
/// its overlapping 3x3 pools.
#[test]
fn lrp_matches_zennit_on_alexnet() {
    check("alexnet", Path::new("random:0"), "alexnet-random0", CLOSE);
}

/// MNASNet walks EfficientNet-Lite0's relevance path with ReLU for ReLU6 and an unexpanded first
/// block; the fixture script splits its residual sums as zennit's ResNet canonizer does.
#[test]
fn lrp_matches_zennit_on_mnasnet() {
    check("mnasnet0_5", Path::new("random:0"), "mnasnet0_5-random0", CLOSE);
}

#[test]
fn lrp_matches_zennit_on_efficientnet_lite0() {
    let weights = common::shared().join("weights/efficientnet-lite0-57934424.pth");
    check("efficientnet-lite0", &weights, "efficientnet-lite0", CLOSE);
}

/// CP-LRP on vit_b_16 with `random:0` weights against lxt 2.1's patches of torchvision's ViT
/// (scripts/make_lrp_vit_fixture.py): every pixel within 1e-3 of the largest reference value;
/// the map is not the plain gradient x input (lxt's fixture of that correlates 0.57 with it),
/// and the CNN composites are refused.
#[test]
fn lrp_matches_lxt_cp_lrp_on_vit_b_16() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = nas_plugins::backbones::load("vit_b_16", Path::new("random:0"), nas_core::device::default_device()).expect("backbone");
    let photo = Photo::open(&common::shared().join("images/chelsea-224.png"), None).expect("photo");
    let input = normalise(&[&photo], net.info(), net.device()).expect("input");
    let target = predicted_classes(&net.forward(input.clone()).logits).expect("target");
    let lrp = registry.saliency("lrp", &common::params("lrp", &[]), &ctx).expect("lrp");
    let map = lrp.explain(net.as_ref(), &input, &target).expect("explain").remove(0);
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/lrp");
    let reference = npy::read::<f32>(&fixtures.join("vit_b_16-random0.chelsea-224.cp-lrp.npy")).expect("fixture");
    let gradient = npy::read::<f32>(&fixtures.join("vit_b_16-random0.chelsea-224.gradient.npy")).expect("fixture");
    let ours = map.as_slice().expect("contiguous");
    common::assert_map_close("lrp vit_b_16 cp-lrp", ours, reference.as_slice().expect("contiguous"), CLOSE);
    let plain = gradient.as_slice().expect("contiguous");
    let largest = plain.iter().fold(0f32, |m, v| m.max(v.abs()));
    let apart = ours.iter().zip(plain).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / largest;
    assert!(apart > 0.1, "CP-LRP is gradient x input here: {apart}");
    let gamma = common::params("lrp", &[("composite", toml::Value::String("epsilon-gamma-box".into()))]);
    let refused = registry
        .saliency("lrp", &gamma, &ctx)
        .expect("lrp")
        .explain(net.as_ref(), &input, &target)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("CP-LRP"), "{refused}");
}
