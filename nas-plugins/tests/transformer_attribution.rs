//! `transformer-attribution` against the authors' own code (scripts/make_transformer_attribution_fixture.py
//! runs the LRP of hila-chefer/Transformer-Explainability on torchvision's ViT-B/16 with nas's
//! `random:0` weights, in float64): every pixel within 1e-5 of the reference for two classes,
//! whose maps differ; a batch explains each photo as alone; a CNN is refused by name.
//!
//! The map moves by up to 0.06 when a tenth of the input values move by one unit in the last
//! place (measured on the reference), so the input here is the fixture script's to the bit:
//! NumPy's `(pixels / 255 - mean) / std`, the division by 255 in `float32` and the rest in
//! `float64`, rounded to `float32` once.

mod common;

use nas_core::burn::tensor::TensorData;
use nas_core::NasTensor;

/// chelsea-224.png normalised as the fixture script normalises it, `(1, 3, 224, 224)`.
fn reference_input(device: &nas_core::Device) -> NasTensor<4> {
    let photo = nas_core::Photo::open(&common::shared().join("images/chelsea-224.png"), None).expect("photo");
    let rgb = photo.to_rgb8();
    let (width, height) = rgb.dimensions();
    let (mean, std) = ([0.485f64, 0.456, 0.406], [0.229f64, 0.224, 0.225]);
    let mut values = Vec::with_capacity(3 * (width * height) as usize);
    for channel in 0..3 {
        for pixel in rgb.pixels() {
            let scaled = f64::from(f32::from(pixel[channel]) / 255.0);
            values.push(((scaled - mean[channel]) / std[channel]) as f32);
        }
    }
    NasTensor::from_data(TensorData::new(values, [1, 3, height as usize, width as usize]), device)
}

#[test]
fn maps_match_the_authors_code_for_two_classes() {
    let (net, _) = common::vit_b_16_on_chelsea();
    let input = reference_input(net.device());
    common::assert_class_maps_match("transformer-attribution", net.as_ref(), &input, "transformer_attribution", 1e-5);
}

#[test]
fn batches_are_explained_as_single_photos_and_cnns_are_refused() {
    common::assert_attention_method_batches_and_refuses_cnns("transformer-attribution", 1e-5);
}

/// `transformer-lrp` (the same rules carried to the pixels, the authors' `full` method) within
/// 1e-5 of the largest magnitude of the authors' float64 map, on the bit-identical input; the
/// relevance is nearly conserved (the map sums to about the one-hot's 1); CNNs are refused.
#[test]
fn pixel_relevance_matches_the_authors_full_method() {
    nas_plugins::link();
    let registry = nas_core::Registry::builtin();
    let ctx = common::context(&registry);
    let (net, _) = common::vit_b_16_on_chelsea();
    let input = reference_input(net.device());
    let method = registry
        .saliency("transformer-lrp", &common::params("transformer-lrp", &[]), &ctx)
        .expect("method");
    let ours = method.explain(net.as_ref(), &input, &[281]).expect("map").remove(0);
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/transformer_attribution/vit_b_16-random0.chelsea-224.281.full.npy");
    let theirs = nas_core::npy::read::<f32>(&path).expect("fixture");
    assert_eq!(ours.len(), theirs.len());
    let largest = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = ours.iter().zip(theirs.iter()).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / largest;
    let total: f64 = ours.iter().map(|&v| f64::from(v)).sum();
    eprintln!("transformer-lrp: worst pixel {worst:.2e} of the largest; the map sums to {total:.4}");
    assert!(worst <= 1e-5, "{worst}");
    assert!((0.5..1.5).contains(&total), "{total}");
    common::assert_attention_method_batches_and_refuses_cnns("transformer-lrp", 1e-5);

    // Sides that are not whole patches: the pixels past the last patch get no relevance.
    let photo = common::cropped_photo("coffee", 100, 90);
    let input = nas_core::backbone::normalise(&[&photo], net.info(), net.device()).expect("input");
    let map = method.explain(net.as_ref(), &input, &[417]).expect("map").remove(0);
    assert_eq!(map.dim(), (90, 100));
    assert!(map.iter().all(|v| v.is_finite()));
    assert!(map.slice(nas_core::ndarray::s![80.., ..]).iter().all(|&v| v == 0.0));
    assert!(map.slice(nas_core::ndarray::s![.., 96..]).iter().all(|&v| v == 0.0));
    assert!(map.slice(nas_core::ndarray::s![..80, ..96]).iter().any(|&v| v != 0.0));
}
