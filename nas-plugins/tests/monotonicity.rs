//! `monotonicity` and `non-sensitivity` against Quantus 0.6's `Monotonicity` and
//! `NonSensitivity` (scripts/make_monotonicity_non_sensitivity_fixture.py) on EfficientNet-Lite0
//! with its ImageNet weights and photo corners explained by gradient x input.
//!
//! Monotonicity: six 48x48 corners, 3 steps of 768 pixels; every point of the insertion curves
//! within 1e-7 of Quantus's (3e-8 measured; Quantus run with a perturbation that gives values
//! back, which its default does not) and the verdicts equal (two monotonic, four not; the
//! smallest step change is 3e-5).
//!
//! NonSensitivity: two 32x32 corners, every colour value alone (Quantus's only working step);
//! every score change within 1e-7 (3e-8 measured), the counts equal up to the values whose
//! change lies that close to `eps` (two forward passes may round them to opposite sides).

mod common;

use nas_core::ndarray::{Array2, Array3, Ix3};
use nas_core::{npy, Backbone, MetricInput, Registry, Score};
use serde_json::Value;
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

const CHANGE_TOLERANCE: f64 = 1e-7;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/monotonicity")
        .join(name)
}

fn maps(name: &str) -> Result<Vec<Array2<f32>>, Box<dyn Error>> {
    let maps: Array3<f32> = npy::read::<f32>(&fixture(name))?.into_dimensionality::<Ix3>()?;
    Ok(maps.outer_iter().map(|m| m.to_owned()).collect())
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn classes(value: &Value) -> Vec<usize> {
    value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .map(|t| t as usize)
        .collect()
}

/// EfficientNet-Lite0 with its ImageNet weights.
fn lite0(registry: &Registry, ctx: &nas_core::Context<'_>) -> Result<Box<dyn Backbone>, Box<dyn Error>> {
    let mut params = nas_core::Params::empty("efficientnet-lite0");
    let weights = common::shared().join("weights/efficientnet-lite0-57934424.pth");
    params.set("weights", toml::Value::String(weights.display().to_string()));
    Ok(registry.backbone("efficientnet-lite0", &params, ctx)?)
}

/// `metric` with `settings` on the `size` x `size` corners of `photos`, each with its map and
/// target, which must be the backbone's class.
fn scores(
    metric: &str,
    settings: &[(&str, toml::Value)],
    photos: &[String],
    size: u32,
    maps: &[Array2<f32>],
    targets: &[usize],
) -> Result<Vec<Score>, Box<dyn Error>> {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = lite0(&registry, &ctx)?;
    let metric = registry.metric(metric, &common::params(metric, settings), &ctx)?;
    let mut scores = Vec::new();
    for ((name, map), &target) in photos.iter().zip(maps).zip(targets) {
        let photo = common::cropped_photo(&format!("{name}-224"), size, size);
        let input = nas_core::backbone::normalise(&[&photo], net.info(), net.device())?;
        let predicted = nas_core::backbone::predicted_classes(&net.forward(input.clone()).logits)?;
        assert_eq!(predicted, vec![target], "{name}: the reference's class");
        scores.push(metric.score(&MetricInput {
            backbone: net.as_ref(),
            input: &input,
            saliency: map,
            segmentation: None,
            target,
            annotation: &Default::default(),
        })?);
    }
    Ok(scores)
}

#[test]
fn monotonicity_matches_quantus_giving_values_back() -> TestResult {
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture("quantus.json"))?)?;
    let case = &reference["monotonicity"];
    let step = case["step"].as_i64().ok_or("step")?;
    let size = case["size"].as_u64().ok_or("size")? as u32;
    let verdicts: Vec<bool> = case["scores"]
        .as_array()
        .ok_or("scores")?
        .iter()
        .filter_map(Value::as_bool)
        .collect();
    assert!(
        verdicts.contains(&true) && verdicts.contains(&false),
        "the fixture has both verdicts"
    );
    let curves = npy::read::<f64>(&fixture("monotonicity-curves.npy"))?;
    let ours = scores(
        "monotonicity",
        &[("step", toml::Value::Integer(step))],
        &strings(&case["photos"]),
        size,
        &maps("monotonicity-maps.npy")?,
        &classes(&case["targets"]),
    )?;
    let mut worst = 0f64;
    for (i, (score, &verdict)) in ours.iter().zip(&verdicts).enumerate() {
        assert_eq!(score.curve.len(), curves.shape()[1], "photo {i}: the steps");
        for (k, &(_, p)) in score.curve.iter().enumerate() {
            worst = worst.max((p - curves[[i, k]]).abs());
        }
        assert_eq!(score.value, if verdict { 1.0 } else { 0.0 }, "photo {i}: Quantus says {verdict}");
    }
    eprintln!("monotonicity: curves within {worst:.1e}");
    assert!(worst <= CHANGE_TOLERANCE, "{worst}");
    Ok(())
}

#[test]
fn monotonicity_refuses_a_single_step() -> TestResult {
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture("quantus.json"))?)?;
    let case = &reference["monotonicity"];
    let photos = strings(&case["photos"]);
    let refused = scores(
        "monotonicity",
        &[("step", toml::Value::Integer(48 * 48))],
        &photos[..1],
        48,
        &maps("monotonicity-maps.npy")?[..1],
        &classes(&case["targets"])[..1],
    )
    .err()
    .ok_or("one step of 2304 pixels was accepted")?
    .to_string();
    assert!(refused.contains("monotonicity") && refused.contains("`step` = 2304"), "{refused}");
    Ok(())
}

#[test]
fn non_sensitivity_matches_quantus_value_by_value() -> TestResult {
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture("quantus.json"))?)?;
    let case = &reference["non_sensitivity"];
    let eps = case["eps"].as_f64().ok_or("eps")?;
    let counts: Vec<f64> = case["counts"]
        .as_array()
        .ok_or("counts")?
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    let changes = npy::read::<f64>(&fixture("non-sensitivity-changes.npy"))?;
    let ours = scores(
        "non-sensitivity",
        &[("step", toml::Value::Integer(1)), ("batch", toml::Value::Integer(64))],
        &strings(&case["photos"]),
        case["size"].as_u64().ok_or("size")? as u32,
        &maps("non-sensitivity-maps.npy")?,
        &classes(&case["targets"]),
    )?;
    for (i, score) in ours.iter().enumerate() {
        assert_eq!(score.curve.len(), changes.shape()[1], "photo {i}: one group per value");
        let mut worst = 0f64;
        let mut undecided = 0usize;
        for (k, &(_, change)) in score.curve.iter().enumerate() {
            let theirs = changes[[i, k]];
            worst = worst.max((change - theirs).abs());
            if (theirs - eps).abs() <= CHANGE_TOLERANCE {
                undecided += 1;
            } else {
                assert_eq!(change < eps, theirs < eps, "photo {i}, value {k}: {change} vs {theirs}");
            }
        }
        eprintln!(
            "non-sensitivity photo {i}: {} vs Quantus {}, changes within {worst:.1e}, {undecided} near eps",
            score.value, counts[i]
        );
        assert!(worst <= CHANGE_TOLERANCE, "{worst}");
        assert!(
            (score.value - counts[i]).abs() <= undecided as f64,
            "{} vs {}",
            score.value,
            counts[i]
        );
    }
    Ok(())
}

#[test]
fn non_sensitivity_counts_insensitive_features_and_sensitive_non_features() -> TestResult {
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture("quantus.json"))?)?;
    let case = &reference["non_sensitivity"];
    let photos = strings(&case["photos"]);
    let targets = classes(&case["targets"]);
    let settings = [("step", toml::Value::Integer(16))];
    // A map of zeros makes every group a non-feature: it is wrong where the model is sensitive;
    // a map of ones makes every group a feature: wrong where the model is not.
    let nothing = scores(
        "non-sensitivity",
        &settings,
        &photos[..1],
        32,
        &[Array2::zeros((32, 32))],
        &targets[..1],
    )?;
    let everything = scores(
        "non-sensitivity",
        &settings,
        &photos[..1],
        32,
        &[Array2::ones((32, 32))],
        &targets[..1],
    )?;
    let groups = nothing[0].curve.len();
    assert_eq!(groups, 3 * 32 * 32 / 16);
    let sensitive = nothing[0].curve.iter().filter(|(_, change)| *change >= 1e-5).count();
    assert!(sensitive > 0 && sensitive < groups, "{sensitive} of {groups} groups move the score");
    assert_eq!(nothing[0].value, sensitive as f64);
    assert_eq!(everything[0].value, (groups - sensitive) as f64);
    assert!(everything[0].curve.iter().all(|&(largest, _)| largest == 1.0));
    Ok(())
}
