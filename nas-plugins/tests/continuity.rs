//! `continuity` against Quantus 0.6's Continuity (scripts/make_continuity_fixture.py): resnet18
//! with the shared seeded weights, chelsea-224, the `gradient` method, Quantus's 28 shifts. Each
//! shift's ratio within 1e-4 (relative) of the script's re-run of Quantus's procedure but for at
//! most three, which must stay within 5e-3 (a shifted photo can hold an activation within
//! rounding of zero that one ReLU passes and the other blocks: measured 7.5e-4 and 1.6e-3 for two
//! shifts, 8e-5 or less for the others); the score, the largest ratio, within 1e-4 of Quantus's
//! own (measured 4e-8). The metric refuses to score without a way to remake the map.

mod common;

use nas_core::ndarray::Ix2;
use nas_core::{npy, Registry};
use serde_json::Value;
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

#[test]
fn continuity_matches_quantus() -> TestResult {
    nas_plugins::link();
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixtures.join("continuity/quantus.json"))?)?;
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    assert_eq!(reference["target"].as_u64(), Some(target[0] as u64));
    let map = npy::read::<f32>(&fixtures.join("gradient/resnet18-seed0.chelsea-224.npy"))?.into_dimensionality::<Ix2>()?;
    let gradient = registry.saliency("gradient", &common::params("gradient", &[]), &ctx)?;
    let explain = common::remaking(gradient.as_ref(), net.as_ref());
    let metric_input = common::metric_input(net.as_ref(), &input, &map, target[0]);
    let metric = registry.metric(
        "continuity",
        &common::params("continuity", &[("batch", toml::Value::Integer(5))]),
        &ctx,
    )?;
    let score = metric.score_explained(&metric_input, &explain)?;
    let shifts: Vec<f64> = reference["translations"]
        .as_array()
        .ok_or("shifts")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let ratios: Vec<f64> = reference["ratios"]
        .as_array()
        .ok_or("ratios")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(score.curve.len(), ratios.len(), "one ratio per shift");
    let mut errors = Vec::with_capacity(ratios.len());
    for ((shift, ours), (want_shift, theirs)) in score.curve.iter().zip(shifts.iter().zip(&ratios)) {
        assert_eq!(shift, want_shift);
        errors.push(if *theirs == 0.0 {
            ours.abs()
        } else {
            (ours - theirs).abs() / theirs
        });
    }
    eprintln!("per shift: {:?}", errors.iter().map(|e| format!("{e:.1e}")).collect::<Vec<_>>());
    assert!(errors.iter().filter(|e| **e > 1e-4).count() <= 3, "{errors:?}");
    assert!(errors.iter().all(|e| *e <= 5e-3), "{errors:?}");
    let want = reference["score"].as_f64().ok_or("score")?;
    eprintln!("continuity: {} vs Quantus {want}", score.value);
    assert!((score.value - want).abs() <= 1e-4 * want, "{} vs Quantus {want}", score.value);
    let refused = metric.score(&metric_input).err().ok_or("scored without remaking the map")?;
    assert!(refused.to_string().contains("score it in a pipeline"), "{refused}");
    Ok(())
}

/// With `nan_when_prediction_changes`, exactly the shifts after which the network predicts
/// another class score NaN, and then the score is NaN, as Quantus's `np.max` gives.
#[test]
fn shifts_that_change_the_prediction_score_nan_when_asked() -> TestResult {
    use nas_plugins::metrics::continuity::{shifted, shifts};
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    // ImageNet weights: sliding the cat out of the photo changes what the network sees.
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let gradient = registry.saliency("gradient", &common::params("gradient", &[]), &ctx)?;
    let map = gradient.explain(net.as_ref(), &input, &target)?.remove(0);
    let explain = common::remaking(gradient.as_ref(), net.as_ref());
    let settings = [
        ("steps", toml::Value::Integer(6)),
        ("nan_when_prediction_changes", toml::Value::Boolean(true)),
    ];
    let metric = registry.metric("continuity", &common::params("continuity", &settings), &ctx)?;
    let score = metric.score_explained(&common::metric_input(net.as_ref(), &input, &map, target[0]), &explain)?;
    let photo: Vec<f32> = input.clone().into_data().into_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    let fill = photo.iter().copied().fold(f32::INFINITY, f32::min);
    let mut changed = Vec::new();
    for shift in shifts(224, 6)? {
        let moved = nas_core::NasTensor::<4>::from_data(
            nas_core::burn::tensor::TensorData::new(shifted(&photo, 224, shift, fill), [1, 3, 224, 224]),
            net.device(),
        );
        changed.push(nas_core::backbone::predicted_classes(&net.forward(moved).logits)?[0] != target[0]);
    }
    eprintln!("prediction changed after shifts: {changed:?}; score {}", score.value);
    assert!(
        changed.iter().any(|c| *c),
        "no shift changed the prediction: the test would test nothing"
    );
    let nan: Vec<bool> = score.curve.iter().map(|(_, r)| r.is_nan()).collect();
    assert_eq!(nan, changed);
    assert!(score.value.is_nan());
    Ok(())
}
