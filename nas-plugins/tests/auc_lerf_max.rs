//! `auc-lerf-max` on a real photo and network (EfficientNet-Lite0, chelsea-224) with a 3 x 3 grid
//! of superpixels: the greedy curve is the deletion curve of its own order, every step removes a
//! superpixel that leaves the score at least as high as any other would (checked by scoring every
//! alternative again), the metric is that curve's scaled area, and it refuses raw maps.

mod common;

use nas_core::deletion::{deletion_curve, masked_scores, scaled_area};
use nas_core::ndarray::Array2;
use nas_core::{MetricInput, Registry, Segmentation};
use nas_plugins::metrics::auc_lerf_max::{greedy_removal, without};

#[test]
fn greedy_removal_is_greedy_and_scored_like_auc_lerf() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let grid = Array2::from_shape_fn((224, 224), |(y, x)| (y * 3 / 224 * 3 + x * 3 / 224) as u32);
    let segmentation = Segmentation::from_labels(grid);
    let saliency = Array2::<f32>::zeros((224, 224));
    let with_segmentation = MetricInput {
        backbone: net.as_ref(),
        input: &input,
        saliency: &saliency,
        segmentation: Some(&segmentation),
        target: target[0],
        annotation: &Default::default(),
    };
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); 9];
    for (p, s) in segmentation.labels.iter().enumerate() {
        groups[*s as usize].push(p);
    }
    let greedy = greedy_removal(&with_segmentation, &groups, 8).expect("greedy removal");
    let mut sorted = greedy.order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (0..9).collect::<Vec<_>>(), "every superpixel removed once");

    // The curve is the deletion curve of that order.
    let ordered: Vec<Vec<usize>> = greedy.order.iter().map(|g| groups[*g].clone()).collect();
    let replay = deletion_curve(&with_segmentation, &ordered, 8, &|l| l).expect("deletion curve");
    let scale = replay.iter().fold(0f64, |m, p| m.max(p.1.abs()));
    for (a, b) in greedy.curve.iter().zip(&replay) {
        assert!((a.0 - b.0).abs() < 1e-12 && (a.1 - b.1).abs() <= 1e-5 * scale, "{a:?} vs {b:?}");
    }

    // Each step's choice leaves the score at least as high as every alternative.
    let mut keep = vec![1f32; 224 * 224];
    for (step, &chosen) in greedy.order.iter().enumerate() {
        let alternatives: Vec<usize> = (0..9).filter(|g| !greedy.order[..step].contains(g)).collect();
        let masks: Vec<Vec<f32>> = alternatives.iter().map(|&g| without(&keep, &groups[g])).collect();
        let scores = masked_scores(&with_segmentation, &masks, 8, &|l| l).expect("scores");
        let chosen_score = scores[alternatives.iter().position(|g| *g == chosen).expect("chosen is an alternative")];
        let best = scores.iter().fold(f64::NEG_INFINITY, |m, s| m.max(*s));
        assert!(
            chosen_score >= best - 1e-5 * scale,
            "step {step}: chose {chosen_score}, best {best}"
        );
        keep = without(&keep, &groups[chosen]);
    }

    // The metric is the scaled area of that curve, on superpixelified maps only.
    let metric = registry
        .metric("auc-lerf-max", &common::params("auc-lerf-max", &[]), &ctx)
        .expect("metric");
    assert!(metric.needs_segmentation());
    let score = metric.score(&with_segmentation).expect("score");
    let expected = scaled_area(&greedy.curve).value;
    eprintln!("auc-lerf-max over a 3 x 3 grid: {:.4} (order {:?})", score.value, greedy.order);
    assert!((score.value - expected).abs() <= 1e-5, "{} vs {expected}", score.value);
    // Another map over the same superpixels gets the same (remembered) score; other superpixels
    // do not.
    let other_map = Array2::from_shape_fn((224, 224), |(y, x)| (x + y) as f32);
    let again = metric
        .score(&MetricInput {
            saliency: &other_map,
            ..with_segmentation
        })
        .expect("score");
    assert_eq!(again, score);
    // The remembered score is the photo's and the target's: another target or photo is scored
    // afresh.
    let other_target = metric
        .score(&MetricInput {
            target: (target[0] + 1) % 1000,
            ..with_segmentation
        })
        .expect("score");
    assert_ne!(other_target.curve, score.curve);
    let mirrored = input.clone().flip([3]);
    let other_photo = metric
        .score(&MetricInput {
            input: &mirrored,
            ..with_segmentation
        })
        .expect("score");
    assert_ne!(other_photo.curve, score.curve);
    let halves = Segmentation::from_labels(Array2::from_shape_fn((224, 224), |(_, x)| u32::from(x >= 112)));
    let split = metric
        .score(&MetricInput {
            segmentation: Some(&halves),
            ..with_segmentation
        })
        .expect("score");
    assert_ne!(split.curve, score.curve);
    assert_eq!(split.curve.len(), 3, "two halves: nothing, one half and both removed");
    let raw = MetricInput {
        segmentation: None,
        ..with_segmentation
    };
    assert!(metric.score(&raw).is_err(), "a raw map has no superpixels to remove");
}
