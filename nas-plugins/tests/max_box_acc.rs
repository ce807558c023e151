//! `max-box-acc` against wsolevaluation's BoxEvaluator run with OpenCV on 19 real saliency maps
//! of the chelsea photo with hand-drawn boxes (scripts/make_max_box_acc_fixture.py): the best IoU
//! at each of the 100 thresholds, the number of contour boxes, and MaxBoxAcc at IoU 30/50/70 and
//! MaxBoxAccV2 over the set, exact up to float rounding (1e-12 on IoUs, 1e-9 on accuracies); and
//! the same for `contours = "largest"`
//! (`multi_contour_eval = False`), with the one box kept at each threshold.

mod common;

use nas_core::ndarray::{self, Array2};
use nas_core::{npy, Metric, Registry, Score};
use nas_plugins::metrics::max_box_acc::{contour_boxes, largest_contour_box, Contours, MaxBoxAcc, PixelBox};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

struct Case {
    map: Array2<f32>,
    truth: Vec<PixelBox>,
}

fn cases() -> Vec<Case> {
    let text = std::fs::read_to_string(fixtures().join("max_box_acc/cases.json")).expect("cases.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("json");
    json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|c| {
            let map = common::fixture_case_map(c);
            let truth = c["gt_boxes"]
                .as_array()
                .expect("boxes")
                .iter()
                .map(|b| {
                    let v: Vec<i64> = serde_json::from_value(b.clone()).expect("box");
                    PixelBox {
                        x0: v[0],
                        y0: v[1],
                        x1: v[2],
                        y1: v[3],
                    }
                })
                .collect();
            Case { map, truth }
        })
        .collect()
}

fn results() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(fixtures().join("max_box_acc/results.json")).expect("json")).expect("json")
}

/// For every case, the thresholded images wsolevaluation finds contours in, one per threshold:
/// the map quantised to 8 bits (all maps reach 255) above each of results.json's cuts.
fn thresholded(case: &Case) -> Vec<Vec<bool>> {
    let cuts: Vec<u8> = serde_json::from_value(results()["uint8_cut_per_threshold"].clone()).expect("cuts");
    let low = case.map.iter().copied().fold(f32::INFINITY, f32::min);
    let high = case.map.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let range = f64::from(high) - f64::from(low);
    let quantised: Vec<u8> = case
        .map
        .iter()
        .map(|&v| ((f64::from(v) - f64::from(low)) / range * 255.0) as u8)
        .collect();
    cuts.iter().map(|&cut| quantised.iter().map(|&v| v > cut).collect()).collect()
}

fn assert_best_ious_match(metric: &MaxBoxAcc, fixture: &str) {
    let expected = npy::read::<f64>(&fixtures().join("max_box_acc").join(fixture)).expect("fixture");
    let cases = cases();
    assert_eq!(expected.shape(), [cases.len(), 100]);
    for (i, case) in cases.iter().enumerate() {
        let ours = metric.best_ious(&case.map, &case.truth);
        assert_eq!(ours.len(), 100);
        for (t, (a, b)) in ours.iter().zip(expected.slice(ndarray::s![i, ..])).enumerate() {
            assert!((a - b).abs() <= 1e-12, "case {i} threshold {t}: {a} vs wsolevaluation's {b}");
        }
    }
}

#[test]
fn best_ious_match_wsolevaluation_at_every_threshold() {
    assert_best_ious_match(&MaxBoxAcc::new(0.01, vec![30, 50, 70]), "best_iou.multi_contour.npy");
}

#[test]
fn best_ious_of_the_largest_contour_match_wsolevaluation_at_every_threshold() {
    let metric = MaxBoxAcc::new(0.01, vec![30, 50, 70]).with_contours(Contours::Largest);
    assert_best_ious_match(&metric, "best_iou.largest_contour.npy");
}

#[test]
fn contour_boxes_are_as_many_as_opencv_finds() {
    let expected = npy::read::<i64>(&fixtures().join("max_box_acc/num_boxes.multi_contour.npy")).expect("fixture");
    for (i, case) in cases().iter().enumerate() {
        for (t, foreground) in thresholded(case).iter().enumerate() {
            let count = contour_boxes(foreground, 224, 224).len() as i64;
            assert_eq!(count, expected[[i, t]], "case {i} threshold {t}");
        }
    }
}

#[test]
fn the_largest_contour_box_is_the_one_opencv_keeps() {
    let expected = npy::read::<i64>(&fixtures().join("max_box_acc/boxes.largest_contour.npy")).expect("fixture");
    let cases = cases();
    assert_eq!(expected.shape(), [cases.len(), 100, 4]);
    for (i, case) in cases.iter().enumerate() {
        for (t, foreground) in thresholded(case).iter().enumerate() {
            let b = largest_contour_box(foreground, 224, 224);
            let want = PixelBox {
                x0: expected[[i, t, 0]],
                y0: expected[[i, t, 1]],
                x1: expected[[i, t, 2]],
                y1: expected[[i, t, 3]],
            };
            assert_eq!(b, want, "case {i} threshold {t}");
        }
    }
}

/// Per-photo scores as `Metric::score` gives them, from `metric`'s best IoUs.
fn scores(metric: &MaxBoxAcc) -> Vec<Score> {
    cases()
        .iter()
        .map(|c| {
            let ious = metric.best_ious(&c.map, &c.truth);
            Score {
                value: ious.iter().copied().fold(0.0, f64::max),
                curve: (0..100).map(|t| f64::from(t) * 0.01).zip(ious).collect(),
            }
        })
        .collect()
}

/// `summarise` over `scores` gives results.json's figures under `key`, the mean named `mean`.
fn assert_summary_matches(metric: &dyn Metric, scores: &[Score], key: &str, mean: &str) {
    let refs: Vec<&Score> = scores.iter().collect();
    let stats = metric.summarise(&refs).expect("summary");
    let results = results();
    let figures = &results[key];
    let want = [
        (mean, figures["mean_over_iou_thresholds"].as_f64()),
        ("IoU@30", figures["max_box_acc"]["30"].as_f64()),
        ("IoU@50", figures["max_box_acc"]["50"].as_f64()),
        ("IoU@70", figures["max_box_acc"]["70"].as_f64()),
    ];
    assert_eq!(stats.len(), want.len());
    for (stat, (name, value)) in stats.iter().zip(want) {
        assert_eq!(stat.name, name);
        let value = value.expect("reference value");
        assert!(
            (stat.value - value).abs() < 1e-9,
            "{name}: {} vs wsolevaluation's {value}",
            stat.value
        );
    }
}

#[test]
fn dataset_scores_match_max_box_acc_v2() {
    let metric = MaxBoxAcc::new(0.01, vec![30, 50, 70]);
    assert_summary_matches(&metric, &scores(&metric), "multi_contour", "MaxBoxAccV2");
}

#[test]
fn dataset_scores_match_max_box_acc_with_the_largest_contour() {
    let metric = MaxBoxAcc::new(0.01, vec![30, 50, 70]).with_contours(Contours::Largest);
    let scores = scores(&metric);
    assert_summary_matches(&metric, &scores, "largest_contour", "MaxBoxAcc-mean");
    // The same through the registry, with the parameter read by `build`.
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let params = common::params("max-box-acc", &[("contours", toml::Value::String("largest".into()))]);
    let built = registry.metric("max-box-acc", &params, &ctx).expect("metric");
    assert_summary_matches(built.as_ref(), &scores, "largest_contour", "MaxBoxAcc-mean");
    let params = common::params("max-box-acc", &[("contours", toml::Value::String("biggest".into()))]);
    let error = registry
        .metric("max-box-acc", &params, &ctx)
        .err()
        .expect("an unknown choice is refused");
    assert!(error.to_string().contains("all, largest"), "{error}");
}

#[test]
fn a_finer_interval_keeps_every_shared_threshold() {
    // interval 0.001 visits the 0.01 thresholds too (i * 0.01 == 10 i * 0.001 up to rounding of
    // the cut, which the 8-bit level absorbs): the coarse curve is a subsequence of the fine one.
    let coarse = MaxBoxAcc::new(0.01, vec![30, 50, 70]);
    let fine = MaxBoxAcc::new(0.001, vec![30, 50, 70]);
    for case in cases().iter().take(4) {
        let (a, b) = (coarse.best_ious(&case.map, &case.truth), fine.best_ious(&case.map, &case.truth));
        assert_eq!(b.len(), 1000);
        for (i, v) in a.iter().enumerate() {
            assert_eq!(*v, b[i * 10], "threshold {i}");
        }
    }
}

/// The classes of `logits` (one image) from the highest score down.
fn ranked_classes(logits: &[f32]) -> Vec<usize> {
    let mut classes: Vec<usize> = (0..logits.len()).collect();
    classes.sort_by(|&a, &b| logits[b].total_cmp(&logits[a]));
    classes
}

#[test]
fn top_k_localisation_counts_a_photo_only_when_its_class_is_ranked_high_enough() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    // EfficientNet-Lite0 with its ImageNet weights on chelsea, a real photo it classifies.
    let (net, input, _) = common::on_chelsea(&registry, &ctx, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let logits: Vec<f32> = net.forward(input.clone()).logits.into_data().to_vec().expect("logits");
    let ranked = ranked_classes(&logits);
    let case = cases().into_iter().find(|c| c.map.dim() == (224, 224)).expect("a 224x224 case");
    let boxes: Vec<nas_core::BoundingBox> = case
        .truth
        .iter()
        .map(|b| nas_core::BoundingBox {
            x0: b.x0 as f64,
            y0: b.y0 as f64,
            x1: b.x1 as f64,
            y1: b.y1 as f64,
        })
        .collect();
    let gt_known = MaxBoxAcc::new(0.01, vec![30, 50, 70]).best_ious(&case.map, &case.truth);
    assert!(gt_known.iter().any(|&iou| iou >= 0.5), "the map localises the box somewhere");
    let misses = vec![0.0; gt_known.len()];
    // The network's first class, its third (in the top five only) and its tenth (in neither).
    for (rank, top_1, top_5) in [(0, true, true), (2, false, true), (9, false, false)] {
        let annotation = nas_core::Annotation {
            label: Some(ranked[rank]),
            boxes: boxes.clone(),
            boxes_cropped_away: 0,
            mask: None,
        };
        let metric_input = nas_core::MetricInput {
            annotation: &annotation,
            ..common::metric_input(net.as_ref(), &input, &case.map, ranked[rank])
        };
        for (classification, counted) in [("gt-known", true), ("top-1", top_1), ("top-5", top_5)] {
            let params = common::params("max-box-acc", &[("classification", toml::Value::String(classification.into()))]);
            let metric = registry.metric("max-box-acc", &params, &ctx).expect("metric");
            let score = metric.score(&metric_input).expect("score");
            let ious: Vec<f64> = score.curve.iter().map(|&(_, iou)| iou).collect();
            let expected = if counted { &gt_known } else { &misses };
            assert_eq!(&ious, expected, "class ranked {rank}, {classification}");
            let summary = metric.summarise(&[&score]).expect("summary");
            let prefix = match classification {
                "top-1" => "Top-1 ",
                "top-5" => "Top-5 ",
                _ => "",
            };
            assert_eq!(summary[0].name, format!("{prefix}MaxBoxAccV2"));
            assert_eq!(summary[2].name, format!("{prefix}IoU@50"));
            assert_eq!(
                summary[2].value,
                if counted { 100.0 } else { 0.0 },
                "class ranked {rank}, {classification}"
            );
        }
    }
    // Without a true class Top-1 Loc cannot be scored: the error says why and what to do.
    let unlabelled = nas_core::Annotation {
        label: None,
        boxes,
        boxes_cropped_away: 0,
        mask: None,
    };
    let metric_input = nas_core::MetricInput {
        annotation: &unlabelled,
        ..common::metric_input(net.as_ref(), &input, &case.map, ranked[0])
    };
    let params = common::params("max-box-acc", &[("classification", toml::Value::String("top-1".into()))]);
    let error = registry
        .metric("max-box-acc", &params, &ctx)
        .expect("metric")
        .score(&metric_input)
        .expect_err("no label");
    assert!(
        error.to_string().contains("true class") && error.to_string().contains("gt-known"),
        "{error}"
    );
    let params = common::params("max-box-acc", &[("classification", toml::Value::String("top-3".into()))]);
    let error = registry.metric("max-box-acc", &params, &ctx).err().expect("an unknown choice");
    assert!(error.to_string().contains("gt-known, top-1, top-5"), "{error}");
}
