//! Parity with PyTorch: every depth level and the logits of each backbone, on real photos,
//! within 1e-4 (max abs error / max abs reference), against ../shared/reference.

mod common;

use nas_core::backbone::normalise;
use nas_core::{npy, Photo};
use std::path::Path;

fn check(backbone: &str, weights: &Path, reference: &str, images: &[&str]) {
    let shared = common::shared();
    let net = nas_plugins::backbones::load(backbone, weights, nas_core::device::default_device()).expect("backbone loads");
    for image in images {
        let photo = Photo::open(&shared.join("images").join(format!("{image}.png")), None).unwrap();
        let input = normalise(&[&photo], net.info(), net.device()).unwrap();
        let out = net.forward(input);
        let dir = shared.join("reference").join(reference);
        let logits_ref = npy::read::<f32>(&dir.join(format!("{image}.logits.npy"))).unwrap();
        let logits: Vec<f32> = out.logits.into_data().to_vec().unwrap();
        for (l, level) in out.levels.into_iter().enumerate() {
            let reference = npy::read::<f32>(&dir.join(format!("{image}.level{l}.npy"))).unwrap();
            let dims = level.dims();
            assert_eq!(&dims[1..], reference.shape(), "{backbone} {image} level {l} shape");
            let values: Vec<f32> = level.into_data().to_vec().unwrap();
            let err = common::relative_error(&values, reference.as_slice().unwrap());
            eprintln!("{backbone} {image} level {l}: relative error {err:.2e}");
            assert!(err <= 1e-4, "{backbone} {image} level {l}: relative error {err:e}");
        }
        let top1 = |v: &[f32]| (0..v.len()).max_by(|&a, &b| v[a].total_cmp(&v[b])).unwrap();
        assert_eq!(
            top1(&logits),
            top1(logits_ref.as_slice().unwrap()),
            "{backbone} {image}: top-1 class differs from PyTorch"
        );
        let err = common::relative_error(&logits, logits_ref.as_slice().unwrap());
        assert!(err <= 1e-4, "{backbone} {image} logits: relative error {err:e}");
    }
}

#[test]
fn resnet18_matches_pytorch() {
    let shared = common::shared();
    check(
        "resnet18",
        &shared.join("weights/resnet18-seed0.pth"),
        "resnet18-seed0",
        &["chelsea-224", "coffee-224"],
    );
}

#[test]
fn efficientnet_lite0_matches_pytorch() {
    let shared = common::shared();
    check(
        "efficientnet-lite0",
        &shared.join("weights/efficientnet-lite0-57934424.pth"),
        "efficientnet-lite0",
        &["chelsea-224", "coffee-224", "rocket-224"],
    );
}
