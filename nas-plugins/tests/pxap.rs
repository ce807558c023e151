//! `pxap` against wsolevaluation's MaskEvaluator (PxAP) run on 19 real saliency maps of the
//! chelsea photo with hand-drawn masks, ignored pixels included (scripts/make_pxap_fixture.py):
//! the true and false positive counts at every threshold exactly, each photo's PxAP and the
//! PxAP of all 19 photos accumulated within 1e-9, at intervals 0.01 and 0.001; and the errors
//! for photos without masks or with masks of another size.

mod common;

use nas_core::ndarray::Array2;
use nas_core::{Annotation, Metric, MetricInput, NasTensor, PixelMask, PixelTruth, Registry, Score};
use nas_plugins::metrics::pixel_average_precision::{average_precision, PixelAveragePrecision};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture")).expect("json")
}

/// A mask PNG of the fixture: 0 background, 1 foreground, 255 ignored.
fn mask(name: &str) -> PixelMask {
    let grey = image::open(fixtures().join(format!("pxap/masks/{name}.png")))
        .expect("mask")
        .to_luma8();
    let (width, height) = (grey.width() as usize, grey.height() as usize);
    let pixels = grey.into_raw().into_iter().map(PixelTruth::from_wsol_code).collect();
    PixelMask { width, height, pixels }
}

/// The fixture's (map, mask) pairs.
fn cases() -> Vec<(Array2<f32>, PixelMask)> {
    json(&fixtures().join("pxap/cases.json"))["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| (common::fixture_case_map(c), mask(c["mask"].as_str().expect("mask name"))))
        .collect()
}

fn annotated(mask: PixelMask) -> Annotation {
    Annotation {
        mask: Some(mask),
        ..Annotation::default()
    }
}

#[test]
fn counts_and_pxap_match_wsolevaluation() {
    let results = json(&fixtures().join("pxap/results.json"));
    let cases = cases();
    assert_eq!(cases.len(), 19);
    for interval in ["0.01", "0.001"] {
        let metric = PixelAveragePrecision::new(interval.parse().expect("interval"));
        let expected = &results[interval];
        let mut scores = Vec::new();
        for (i, (map, truth)) in cases.iter().enumerate() {
            let counts = metric.counts(map, truth).expect("counts");
            let reference = &expected["cases"][i];
            let column = |name: &str| -> Vec<f64> { serde_json::from_value(reference[name].clone()).expect("counts") };
            assert_eq!(
                counts.iter().map(|c| c.0).collect::<Vec<_>>(),
                column("tp"),
                "case {i} at {interval}"
            );
            assert_eq!(
                counts.iter().map(|c| c.1).collect::<Vec<_>>(),
                column("fp"),
                "case {i} at {interval}"
            );
            let pxap = average_precision(&counts).expect("defined");
            let theirs = reference["pxap"].as_f64().expect("pxap");
            assert!((pxap - theirs).abs() <= 1e-9, "case {i} at {interval}: {pxap} against {theirs}");
            scores.push(Score {
                value: pxap,
                curve: counts,
            });
        }
        let refs: Vec<&Score> = scores.iter().collect();
        let summary = metric.summarise(&refs).expect("summary");
        let all = expected["pxap_all"].as_f64().expect("pxap_all");
        assert_eq!(summary[0].name, "PxAP");
        assert!(
            (summary[0].value - all).abs() <= 1e-9,
            "{} against {all} at {interval}",
            summary[0].value
        );
        // Pooling is not averaging: the dataset's PxAP is not the photos' mean, reported beside it.
        let mean = scores.iter().map(|s| s.value).sum::<f64>() / scores.len() as f64;
        assert_eq!(summary[1].name, "mean");
        assert!((summary[1].value - mean).abs() <= 1e-9 && (mean - all).abs() > 0.1, "{summary:?}");
    }
}

#[test]
fn scores_read_the_annotation_and_refuse_photos_without_masks() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let metric = registry
        .metric("pxap", &common::params("pxap", &[("interval", toml::Value::Float(0.001))]), &ctx)
        .expect("pxap");
    let net = nas_plugins::backbones::load("resnet18", Path::new("random:0"), nas_core::device::default_device()).expect("backbone");
    let input = NasTensor::<4>::zeros([1, 3, 224, 224], net.device());
    let (map, truth) = cases().remove(0);
    let results = json(&fixtures().join("pxap/results.json"));
    let input_for = |annotation| MetricInput {
        annotation,
        ..common::metric_input(net.as_ref(), &input, &map, 0)
    };
    let with_mask = annotated(truth.clone());
    let score = metric.score(&input_for(&with_mask)).expect("score");
    let theirs = results["0.001"]["cases"][0]["pxap"].as_f64().expect("pxap");
    assert!((score.value - theirs).abs() <= 1e-9, "{} against {theirs}", score.value);

    let refused = metric
        .score(&common::metric_input(net.as_ref(), &input, &map, 0))
        .expect_err("no mask");
    assert!(refused.to_string().contains("masks"), "{refused}");
    let small = annotated(PixelMask {
        width: 112,
        height: 224,
        pixels: vec![PixelTruth::Foreground; 112 * 224],
    });
    let mismatch = metric.score(&input_for(&small)).expect_err("another size");
    assert!(mismatch.to_string().contains("112x224"), "{mismatch}");
    let empty = annotated(PixelMask {
        width: 224,
        height: 224,
        pixels: vec![PixelTruth::Background; 224 * 224],
    });
    assert!(
        metric.score(&input_for(&empty)).expect("score").value.is_nan(),
        "no foreground: undefined"
    );
}
