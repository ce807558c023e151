//! `sparseness`, `complexity` and `effective-complexity` against Quantus 0.6
//! (scripts/make_complexity_fixture.py) on every 224 x 224 saliency map fixture: the first two
//! within 1e-9, the pixel counts of the third exactly (eps 1e-5, its default, and 1e-2), and
//! `discrete_entropy` (100 bins, EfficientMPRT's complexity) within 1e-9.

use nas_core::ndarray::Ix2;
use nas_core::npy;
use nas_plugins::metrics::complexity::{complexity, discrete_entropy, effective_complexity, sparseness};
use std::path::Path;

#[test]
fn sparseness_and_complexity_match_quantus() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures.join("complexity/quantus.json")).expect("json")).expect("json");
    let maps = reference.as_object().expect("maps");
    assert!(maps.len() >= 70);
    for (path, want) in maps {
        let map = npy::read::<f32>(&fixtures.join(path))
            .expect("map")
            .into_dimensionality::<Ix2>()
            .expect("2-D");
        let (s, c) = (sparseness(&map), complexity(&map));
        let (ws, wc) = (
            want["sparseness"].as_f64().expect("number"),
            want["complexity"].as_f64().expect("number"),
        );
        assert!((s - ws).abs() <= 1e-9, "{path}: sparseness {s} vs Quantus {ws}");
        assert!((c - wc).abs() <= 1e-9, "{path}: complexity {c} vs Quantus {wc}");
        for (eps, key) in [(1e-5, "effective-complexity"), (1e-2, "effective-complexity-1e-2")] {
            let (ours, theirs) = (effective_complexity(&map, eps), want[key].as_f64().expect("count"));
            assert_eq!(ours, theirs, "{path}: effective complexity (eps {eps})");
        }
        let (entropy, theirs) = (discrete_entropy(&map, 100), want["discrete-entropy"].as_f64().expect("number"));
        assert!(
            (entropy - theirs).abs() <= 1e-9,
            "{path}: discrete entropy {entropy} vs Quantus {theirs}"
        );
    }
}
