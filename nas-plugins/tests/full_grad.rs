//! `full-grad` against pytorch-grad-cam 1.5.7's FullGrad (scripts/make_full_grad_fixture.py) on
//! chelsea-224 for each network's predicted class: resnet18 with the shared seeded weights (its
//! 20 batch norms), vgg16 with `random:0` weights (its 13 biased convolutions), EfficientNet-Lite0
//! with its ImageNet weights (49 batch norms). Backbones without their own backward pass refuse
//! it by name.

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::{npy, Params, Photo, Registry};
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

/// Maps in [0, 1] summing thousands of channel maps, each scaled to [0, 1] on its own: a channel
/// whose gradient is zero but at one position (a rectifier's input within rounding of zero) is
/// one there or not at all, which moves a blob of the sum by about one part in the channel count
/// (measured: 3.8e-4 on 0.13% of the pixels for resnet18, 5.4e-4 on 0.16% for vgg16, 3.9e-5
/// for EfficientNet-Lite0; pytorch-grad-cam's own float32 and float64 runs of vgg16 differ by
/// 3.8e-4 the same way).
const ROUNDING: common::Tolerance = common::Tolerance {
    largest: 1e-3,
    share: 0.005,
};

#[test]
fn full_grad_matches_pytorch_grad_cam() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let shared = common::shared();
    let resnet18 = shared.join("weights/resnet18-seed0.pth").display().to_string();
    let lite = shared.join("weights/efficientnet-lite0-57934424.pth").display().to_string();
    for (backbone, weights, fixture) in [
        ("resnet18", resnet18.as_str(), "resnet18-seed0"),
        ("vgg16", "random:0", "vgg16-random0"),
        ("efficientnet-lite0", &lite, "efficientnet-lite0"),
    ] {
        let net = registry.backbone(
            backbone,
            &common::params(backbone, &[("weights", toml::Value::String(weights.into()))]),
            &ctx,
        )?;
        let photo = Photo::open(&shared.join("images/chelsea-224.png"), None)?;
        let input = normalise(&[&photo], net.info(), net.device())?;
        let target = predicted_classes(&net.forward(input.clone()).logits)?;
        let map = registry
            .saliency("full-grad", &Params::empty("full-grad"), &ctx)?
            .explain(net.as_ref(), &input, &target)?
            .remove(0);
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/full_grad/{fixture}.chelsea-224.full-grad.npy"));
        let reference = npy::read::<f32>(&path)?;
        assert_eq!(map.shape(), reference.shape(), "{fixture}");
        let ours: Vec<f32> = map.iter().copied().collect();
        let theirs: Vec<f32> = reference.iter().copied().collect();
        common::assert_map_close(fixture, &ours, &theirs, ROUNDING);
    }
    Ok(())
}

/// A batch gives each photo the map it has alone (every channel is scaled per photo), square or
/// rectangular.
#[test]
fn a_batch_explains_each_photo_as_alone() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let weights = common::shared().join("weights/resnet18-seed0.pth").display().to_string();
    let net = registry.backbone(
        "resnet18",
        &common::params("resnet18", &[("weights", toml::Value::String(weights))]),
        &ctx,
    )?;
    for (width, height) in [(224, 224), (200, 150)] {
        let photos = [
            common::cropped_photo("chelsea-224", width, height),
            common::cropped_photo("coffee-224", width, height),
        ];
        common::assert_batch_equals_singles(&registry, net.as_ref(), "full-grad", &[&photos[0], &photos[1]], 1e-5);
    }
    Ok(())
}

#[test]
fn backbones_without_their_own_backward_pass_refuse_full_grad() {
    nas_plugins::link();
    let refused = common::refusal_on_vit(&Registry::builtin(), "full-grad");
    assert!(refused.contains("vit_b_16") && refused.contains("FullGrad"), "{refused}");
}
