//! The box localisation metrics against Quantus 0.6 (scripts/make_relevance_fixture.py) on the 19
//! maps and hand-drawn boxes of the max-box-acc fixture, within 1e-9: `relevance-mass`,
//! `relevance-rank` (the 15 maps whose value at the mask's size is not tied),
//! `top-k-intersection` (the 16 whose 1000th value is not tied; with and without concept
//! influence), `attribution-localisation` (absolute values, and positive signed ones) and
//! `localisation-auc` (NaN where the boxes cover the whole map, as Quantus).

mod common;

use nas_core::BoundingBox;
use nas_plugins::metrics::localisation::{attribution_share, roc_area, top_k_share};
use nas_plugins::metrics::relevance::{box_mask, mass_share, rank_share};
use std::path::Path;

#[test]
fn relevance_shares_match_quantus() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |name: &str| -> serde_json::Value {
        // Python's json writes NaN, which JSON has no word for.
        let text = std::fs::read_to_string(fixtures.join(name)).expect("json").replace("NaN", "null");
        serde_json::from_str(&text).expect("json")
    };
    let cases = read("max_box_acc/cases.json");
    let reference = read("relevance/quantus.json");
    let (mut ranked, mut top_k, mut areas) = (0, 0, 0);
    for want in reference.as_array().expect("list") {
        let case = &cases["cases"][want["case"].as_u64().expect("index") as usize];
        let map = common::fixture_case_map(case);
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
        let inside = mask.iter().filter(|&&m| m).count() as f64;
        let close = |ours: f64, key: &str| match want[key].as_f64() {
            Some(theirs) => (ours - theirs).abs() <= 1e-9,
            None => ours.is_nan(),
        };
        if want["top_k"].is_number() {
            let share = top_k_share(&values, &mask, 1000);
            assert!(close(share, "top_k"), "case {}: top-k {share}", want["case"]);
            let concept = share * values.len() as f64 / inside;
            assert!(close(concept, "top_k_concept"), "case {}: concept influence", want["case"]);
            top_k += 1;
        }
        let located = attribution_share(&values, &mask, true, false);
        assert!(close(located, "attribution_localisation"), "case {}: {located}", want["case"]);
        let positive = attribution_share(&values, &mask, false, true);
        assert!(
            close(positive, "attribution_localisation_positive"),
            "case {}: {positive}",
            want["case"]
        );
        let auc = roc_area(&values, &mask);
        assert!(close(auc, "auc"), "case {}: auc {auc} vs {}", want["case"], want["auc"]);
        areas += usize::from(!auc.is_nan());
    }
    assert!(
        ranked >= 10 && top_k >= 10 && areas >= 10,
        "{ranked} ranked, {top_k} top-k, {areas} areas"
    );
}
