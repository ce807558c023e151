//! `focus` against Quantus 0.6's Focus (scripts/make_focus_fixture.py, tests/fixtures/focus):
//! two real maps taken as 2 x 2 mosaics with the target class in opposite quadrants, within
//! 1e-6 (Quantus computes in float32); and its refusal of photos without quadrants.

mod common;

use nas_core::ndarray::Ix2;
use nas_core::{npy, BoundingBox, Registry};
use nas_plugins::metrics::focus::focus_share;
use std::error::Error;
use std::path::Path;

/// The boxes (corners inclusive) of the chosen quadrants of an `h x w`-quadrant mosaic,
/// top-left, top-right, bottom-left, bottom-right.
fn quadrant_boxes(chosen: impl Fn(usize) -> bool, h: usize, w: usize) -> Vec<BoundingBox> {
    (0..4)
        .filter(|&q| chosen(q))
        .map(|q| {
            let (y0, x0) = ((q / 2 * h) as f64, (q % 2 * w) as f64);
            BoundingBox {
                x0,
                y0,
                x1: x0 + w as f64 - 1.0,
                y1: y0 + h as f64 - 1.0,
            }
        })
        .collect()
}

#[test]
fn focus_matches_quantus() -> Result<(), Box<dyn Error>> {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(workspace.join("tests/fixtures/focus/focus.json"))?)?;
    for case in reference.as_array().ok_or("a list")? {
        let map = npy::read::<f32>(&workspace.join(case["map"].as_str().ok_or("map")?))?.into_dimensionality::<Ix2>()?;
        let (h, w) = (map.nrows() / 2, map.ncols() / 2);
        let quadrants: Vec<u64> = serde_json::from_value(case["p_batch"].clone())?;
        let boxes = quadrant_boxes(|q| quadrants[q] == 1, h, w);
        let (ours, theirs) = (focus_share(&map, &boxes), case["score"].as_f64().ok_or("score")?);
        eprintln!("focus {:?}: ours {ours} vs Quantus {theirs}", quadrants);
        assert!((ours - theirs).abs() <= 1e-6, "{}: {ours} vs {theirs}", case["map"]);
        // The other two quadrants hold the rest of the positive relevance.
        let rest = quadrant_boxes(|q| quadrants[q] == 0, h, w);
        assert!((ours + focus_share(&map, &rest) - 1.0).abs() < 1e-6);
    }
    Ok(())
}

#[test]
fn focus_refuses_photos_without_quadrants() -> Result<(), Box<dyn Error>> {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let map = nas_core::ndarray::Array2::<f32>::ones((224, 224));
    let focus = registry.metric("focus", &common::params("focus", &[]), &ctx)?;
    let refused = focus.score(&common::metric_input(net.as_ref(), &input, &map, target[0]));
    let message = refused.err().ok_or("a photo without boxes was scored")?.to_string();
    assert!(message.contains("mosaics_per_class"), "{message}");
    Ok(())
}
