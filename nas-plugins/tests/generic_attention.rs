//! `generic-attention` against a reference written from Chefer et al.'s definition and the ViT
//! example of their repository (scripts/make_generic_attention_fixture.py: torchvision's
//! ViT-B/16 with nas's `random:0` weights, its attention probabilities and their gradients from
//! PyTorch's autograd, the accumulation in float64): every pixel within 1e-5 of the reference for
//! two classes, whose maps differ; a batch explains each photo as alone; a CNN is refused by name.

mod common;

use nas_core::backbone::normalise;
use nas_core::Registry;
use std::path::Path;

#[test]
fn maps_match_the_reference_for_two_classes() {
    let (net, input) = common::vit_b_16_on_chelsea();
    common::assert_class_maps_match("generic-attention", net.as_ref(), &input, "generic_attention", 1e-5);
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
