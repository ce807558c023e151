//! `rise` against the RISE authors' algorithm on a real photo, with the same 48 masks
//! (fixtures made by scripts/make_rise_fixture.py): EfficientNet-Lite0 with its ImageNet
//! weights. The first mask within 1e-6 of scikit-image's resize; the map within 1e-4 of the
//! largest reference value.

mod common;

use nas_core::backbone::normalise;
use nas_core::{npy, Params, Photo, Registry, Saliency};
use nas_plugins::saliency::rise::masks::{MaskGrid, MaskSpec};
use nas_plugins::saliency::rise::{Rise, RiseScore};
use std::path::PathBuf;

#[test]
fn rise_matches_the_authors_algorithm() {
    nas_plugins::link();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rise");
    let cells = npy::read::<i32>(&fixtures.join("cells.npy")).expect("cells");
    let shifts = npy::read::<i32>(&fixtures.join("shifts.npy")).expect("shifts");
    let specs: Vec<MaskSpec> = cells
        .as_slice()
        .expect("contiguous")
        .chunks(64)
        .zip(shifts.as_slice().expect("contiguous").chunks(2))
        .map(|(kept, shift)| MaskSpec {
            kept: kept.iter().map(|k| *k != 0).collect(),
            shift: (shift[0] as usize, shift[1] as usize),
        })
        .collect();
    assert_eq!(specs.len(), 48);

    let grid = MaskGrid {
        cells: 8,
        size: [224, 224],
    };
    let mask0 = npy::read::<f32>(&fixtures.join("mask0.npy")).expect("mask0");
    let ours = grid.mask(&specs[0]);
    let err = ours.iter().zip(mask0.iter()).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(err <= 1e-6, "mask 0: max abs error {err}");

    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let rise = Rise::with_masks(specs, 8, 0.1, RiseScore::Probability, 16);
    let map = rise.explain(net.as_ref(), &input, &target).expect("explain").remove(0);
    let reference = npy::read::<f32>(&fixtures.join("efficientnet-lite0.chelsea-224.npy")).expect("map");
    assert_eq!(map.shape(), reference.shape());
    let err = common::relative_error(map.as_slice().expect("contiguous"), reference.as_slice().expect("contiguous"));
    eprintln!("rise: map relative error {err:.2e}");
    assert!(err <= 1e-4, "map: relative error {err}");
}

#[test]
fn rise_is_seeded() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let mut params = Params::empty("resnet18");
    params.set("weights", toml::Value::String("random:0".into()));
    let net = registry.backbone("resnet18", &params, &ctx).expect("backbone");
    let photo = Photo::open(&common::shared().join("images/coffee-224.png"), None).expect("photo");
    let input = normalise(&[&photo], net.info(), net.device()).expect("input");
    let explain = |seed: i64, batch: i64| {
        let mut params = Params::empty("rise");
        params.set("masks", toml::Value::Integer(12));
        params.set("seed", toml::Value::Integer(seed));
        params.set("batch", toml::Value::Integer(batch));
        params.set("score", toml::Value::String("logit".into()));
        let rise = registry.saliency("rise", &params, &ctx).expect("rise");
        rise.explain(net.as_ref(), &input, &[3]).expect("explain").remove(0)
    };
    let (a, b, c) = (explain(1, 5), explain(1, 12), explain(2, 5));
    let diff = |x: &nas_core::ndarray::Array2<f32>, y: &nas_core::ndarray::Array2<f32>| {
        x.iter().zip(y.iter()).fold(0f32, |m, (p, q)| m.max((p - q).abs()))
    };
    // The masks do not depend on the batch they are drawn in; another seed draws others.
    assert!(
        diff(&a, &b) <= 1e-5 * a.iter().fold(0f32, |m, v| m.max(v.abs())),
        "batch changed the map"
    );
    assert!(
        diff(&a, &c) > 1e-3 * a.iter().fold(0f32, |m, v| m.max(v.abs())),
        "seed did not change the map"
    );
}
