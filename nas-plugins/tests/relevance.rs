//! `relevance-mass` and `relevance-rank` against Quantus 0.6 (scripts/make_relevance_fixture.py)
//! on the 19 maps and hand-drawn boxes of the max-box-acc fixture: within 1e-9 (rank: the 15
//! maps whose value at the mask's size is not tied).

use nas_core::ndarray::Ix2;
use nas_core::{npy, BoundingBox};
use nas_plugins::metrics::relevance::{box_mask, mass_share, rank_share};
use std::path::Path;

#[test]
fn relevance_shares_match_quantus() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(fixtures.join(name)).expect("json")).expect("json")
    };
    let cases = read("max_box_acc/cases.json");
    let reference = read("relevance/quantus.json");
    let mut ranked = 0;
    for want in reference.as_array().expect("list") {
        let case = &cases["cases"][want["case"].as_u64().expect("index") as usize];
        let map = npy::read::<f32>(&fixtures.join(case["map"].as_str().expect("path")))
            .expect("map")
            .into_dimensionality::<Ix2>()
            .expect("2-D");
        let map = if case["transform"] == "abs" { map.mapv(f32::abs) } else { map };
        let boxes: Vec<BoundingBox> = case["gt_boxes"]
            .as_array()
            .expect("boxes")
            .iter()
            .map(|b| {
                let v: Vec<f64> = serde_json::from_value(b.clone()).expect("box");
                BoundingBox {
                    x0: v[0],
                    y0: v[1],
                    x1: v[2],
                    y1: v[3],
                }
            })
            .collect();
        let mask = box_mask(&boxes, 224, 224);
        let values: Vec<f32> = map.iter().copied().collect();
        let mass = want["mass"].as_f64().expect("mass");
        assert!(
            (mass_share(&values, &mask) - mass).abs() <= 1e-9,
            "case {}: mass {} vs {mass}",
            want["case"],
            mass_share(&values, &mask)
        );
        if let Some(rank) = want["rank"].as_f64() {
            assert!((rank_share(&values, &mask) - rank).abs() <= 1e-9, "case {}: rank", want["case"]);
            ranked += 1;
        }
    }
    assert!(ranked >= 10);
}
