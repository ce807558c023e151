//! `road` against pytorch-grad-cam 1.5.7's ROAD (scripts/make_road_fixture.py) on resnet18 with
//! the shared seeded weights, chelsea-224 and a Grad-CAM map: the photo imputed for MoRF at the
//! 50th percentile within 1e-5 (normalised input units; measured 2.4e-7) of SciPy's direct
//! solve; with the noise off, every percentile's score change within 2e-5 (logit; measured
//! 2.2e-6) and 2e-7 (probability; measured 2.3e-8) of pytorch-grad-cam's, for MoRF, LeRF and
//! their combination; with the default noise (our generator, not torch's), the combined score
//! within 0.005 of pytorch-grad-cam's own `ROADCombined` (the noise moves it by 0.002 there;
//! measured 1.6e-4).

mod common;

use nas_core::ndarray::{Array2, Ix2};
use nas_core::{npy, Registry, Score};
use nas_plugins::metrics::linear_imputation::impute;
use nas_plugins::metrics::road::{kept_below, percentile};
use serde_json::Value;
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn grad_cam() -> Result<Array2<f32>, Box<dyn Error>> {
    Ok(npy::read::<f32>(&fixture("grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy"))?.into_dimensionality::<Ix2>()?)
}

fn reference() -> Result<Value, Box<dyn Error>> {
    Ok(serde_json::from_str(&std::fs::read_to_string(fixture("road/road.json"))?)?)
}

fn numbers(value: &Value) -> Result<Vec<f64>, Box<dyn Error>> {
    value
        .as_array()
        .ok_or("not a list")?
        .iter()
        .map(|v| v.as_f64().ok_or_else(|| "not a number".into()))
        .collect()
}

/// `road` with `settings` on the Grad-CAM map of chelsea-224 for resnet18's predicted class.
fn road(settings: &[(&str, toml::Value)]) -> Result<Score, Box<dyn Error>> {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    assert_eq!(
        reference()?["target_class"].as_u64(),
        Some(target[0] as u64),
        "the same predicted class"
    );
    let map = grad_cam()?;
    Ok(registry
        .metric("road", &common::params("road", settings), &ctx)?
        .score(&common::metric_input(net.as_ref(), &input, &map, target[0]))?)
}

#[test]
fn imputation_matches_scipy() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (_, input, _) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let photo: Vec<f32> = input.into_data().to_vec().map_err(|e| format!("{e:?}"))?;
    let map: Vec<f32> = grad_cam()?.iter().copied().collect();
    let keep = kept_below(&map, 50.0);
    let ours = impute(&photo, [224, 224], &keep, None)?.ok_or("half the pixels are kept")?;
    let theirs = npy::read::<f32>(&fixture("road/chelsea-224.morf50.imputed.npy"))?;
    assert_eq!(ours.len(), theirs.len());
    let worst = ours.iter().zip(theirs.iter()).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    eprintln!("imputed photo: max abs error {worst:.2e}");
    assert!(worst <= 1e-5, "imputed photo: max abs error {worst}");
    Ok(())
}

#[test]
fn score_changes_match_pytorch_grad_cam_without_noise() -> TestResult {
    let reference = reference()?;
    let off = toml::Value::Float(0.0);
    for (scores, tolerance) in [("logit", 2e-5), ("probability", 2e-7)] {
        let (morf, lerf) = (
            numbers(&reference[format!("morf_{scores}")])?,
            numbers(&reference[format!("lerf_{scores}")])?,
        );
        let combined: Vec<f64> = lerf.iter().zip(&morf).map(|(l, m)| (l - m) / 2.0).collect();
        for (order, expected) in [("morf", &morf), ("lerf", &lerf), ("combined", &combined)] {
            let score = road(&[
                ("order", toml::Value::String(order.into())),
                ("scores", toml::Value::String(scores.into())),
                ("noise", off.clone()),
            ])?;
            assert_eq!(score.curve.len(), expected.len(), "{order} {scores}: one point per percentile");
            let worst = score
                .curve
                .iter()
                .zip(expected.iter())
                .fold(0f64, |m, ((_, a), b)| m.max((a - b).abs()));
            eprintln!("{order} {scores}: max abs error {worst:.2e}");
            assert!(worst <= tolerance, "{order} {scores}: max abs error {worst}");
            let mean = expected.iter().sum::<f64>() / expected.len() as f64;
            assert!(
                (score.value - mean).abs() <= tolerance,
                "{order} {scores}: {} vs {mean}",
                score.value
            );
        }
    }
    Ok(())
}

#[test]
fn default_noise_stays_close_and_is_seeded() -> TestResult {
    let reference = reference()?;
    let theirs = reference["combined_logit_default_noise"].as_f64().ok_or("combined score")?;
    let first = road(&[])?;
    let again = road(&[])?;
    let other_seed = road(&[("seed", toml::Value::Integer(1))])?;
    let quiet = road(&[("noise", toml::Value::Float(0.0))])?;
    eprintln!(
        "combined: ours {} (seed 1: {}, no noise: {}), pytorch-grad-cam {theirs}",
        first.value, other_seed.value, quiet.value
    );
    assert!((first.value - theirs).abs() <= 0.005, "{} vs {theirs}", first.value);
    assert_eq!(first.value, again.value, "the same seed gives the same score");
    assert_ne!(first.value, other_seed.value, "another seed draws other noise");
    assert_ne!(first.value, quiet.value, "the noise is added");
    Ok(())
}

#[test]
fn percentiles_outside_0_to_100_are_refused_by_name() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    for bad in [120.0, 0.0] {
        let list = toml::Value::Array(vec![toml::Value::Float(45.0), toml::Value::Float(bad)]);
        let err = match registry.metric("road", &common::params("road", &[("percentiles", list)]), &ctx) {
            Ok(_) => return Err(format!("a percentile of {bad} was accepted").into()),
            Err(e) => e.to_string(),
        };
        assert!(err.contains("percentiles") && err.contains(&format!("{bad:?}")), "{err}");
    }
    Ok(())
}

#[test]
fn maps_with_many_equal_lowest_values_still_score() -> TestResult {
    // The Grad-CAM map with its lowest 30% set to 0: at the 10th and 20th percentiles the cut is
    // 0 and nothing lies below it, where pytorch-grad-cam would be left with nothing to impute
    // from. The first zeros by index are kept instead, as many as the percentile's rank.
    let map = grad_cam()?;
    let values: Vec<f32> = map.iter().copied().collect();
    let (cut, _) = percentile(&values, 30.0);
    let floored = map.mapv(|v| if v < cut { 0.0 } else { v });
    let flat: Vec<f32> = floored.iter().copied().collect();
    for p in [10.0, 20.0] {
        let kept = kept_below(&flat, p).iter().filter(|&&k| k).count();
        let (_, rank) = percentile(&flat, p);
        assert_eq!(kept, rank, "percentile {p}: the rank's count of zeros kept");
    }
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let settings = [("order", toml::Value::String("morf".into())), ("noise", toml::Value::Float(0.0))];
    let score = registry
        .metric("road", &common::params("road", &settings), &ctx)?
        .score(&common::metric_input(net.as_ref(), &input, &floored, target[0]))?;
    assert!(
        score.value.is_finite() && score.curve.iter().all(|(_, y)| y.is_finite()),
        "{score:?}"
    );
    Ok(())
}
