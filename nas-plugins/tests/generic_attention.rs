//! `generic-attention` against a reference written from Chefer et al.'s definition and the ViT
//! example of their repository (scripts/make_generic_attention_fixture.py: torchvision's
//! ViT-B/16 with nas's `random:0` weights, its attention probabilities and their gradients from
//! PyTorch's autograd, the accumulation in float64): every pixel within 1e-5 of the reference for
//! two classes, whose maps differ; a batch explains each photo as alone; a CNN is refused by name.

mod common;

use nas_core::backbone::normalise;
use nas_core::{npy, Registry};
use std::path::{Path, PathBuf};

fn fixture(target: usize) -> Vec<f32> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "tests/fixtures/generic_attention/vit_b_16-random0.chelsea-224.{target}.npy"
    ));
    npy::read::<f32>(&path).expect("fixture").iter().copied().collect()
}

#[test]
fn maps_match_the_reference_for_two_classes() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input) = common::vit_b_16_on_chelsea();
    let method = registry
        .saliency("generic-attention", &common::params("generic-attention", &[]), &ctx)
        .expect("method");
    let mut maps = Vec::new();
    for target in [281, 417] {
        let map = method.explain(net.as_ref(), &input, &[target]).expect("map").remove(0);
        assert_eq!(map.dim(), (224, 224));
        let ours: Vec<f32> = map.iter().copied().collect();
        let reference = fixture(target);
        let worst = ours.iter().zip(&reference).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        eprintln!("generic-attention (class {target}): worst pixel {worst:.2e} from the reference");
        assert!(worst <= 1e-5, "class {target}: {worst}");
        maps.push(ours);
    }
    let apart = maps[0].iter().zip(&maps[1]).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(apart > 0.1, "the map depends on the class ({apart})");
}

#[test]
fn batches_are_explained_as_single_photos_and_cnns_are_refused() {
    common::assert_attention_method_batches_and_refuses_cnns("generic-attention", 1e-5);
}

#[test]
fn other_input_sizes_give_maps_of_their_size() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = nas_plugins::backbones::load("vit_b_16", Path::new("random:0"), nas_core::device::default_device()).expect("vit");
    // A 10x6 patch grid, its position embeddings resized from the native 14x14.
    let photo = common::cropped_photo("coffee", 160, 96);
    let input = normalise(&[&photo], net.info(), net.device()).expect("input");
    let method = registry
        .saliency("generic-attention", &common::params("generic-attention", &[]), &ctx)
        .expect("method");
    let map = method.explain(net.as_ref(), &input, &[417]).expect("map").remove(0);
    assert_eq!(map.dim(), (96, 160));
    let low = map.iter().copied().fold(f32::INFINITY, f32::min);
    let high = map.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    assert!(map.iter().all(|v| v.is_finite()));
    assert_eq!((low, high), (0.0, 1.0), "scaled by its minimum and maximum");
}
