//! `pixel-flipping`, `region-perturbation`, `selectivity`, `irof`, `infidelity`,
//! `faithfulness-estimate`, `faithfulness-correlation` (NumPy's random subsets reproduced) and
//! `monotonicity-correlation` (its uniform draws too) against Quantus 0.6 itself
//! (scripts/make_faithfulness_fixture.py, make_monotonicity_fixture.py) on resnet18 with the shared
//! seeded weights, chelsea-224, the gradient x input map and a Grad-CAM map: every point of every
//! curve within 5e-6 of Quantus's (the curves peak at 0.01-0.94; the differences measured were 3e-8
//! to 1.5e-6, the rounding of two forward passes), the scores (areas, and FaithfulnessEstimate's
//! Pearson r) within 1e-4, and IROF's SLIC superpixels of the normalised photo identical to
//! scikit-image's.

mod common;

use nas_core::ndarray::{Array2, Ix2};
use nas_core::{npy, MetricInput, Registry, Score};
use serde_json::Value;
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

const CURVE_TOLERANCE: f64 = 5e-6;
const SCORE_TOLERANCE: f64 = 1e-4;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn map(name: &str) -> Result<Array2<f32>, Box<dyn Error>> {
    Ok(npy::read::<f32>(&fixture(name))?.into_dimensionality::<Ix2>()?)
}

/// Scores `metric` with `settings` on `saliency` for resnet18's class on chelsea-224, which must
/// be the class of the Quantus reference `fixture` (JSON, returned with the score).
fn score_on_chelsea(
    metric: &str,
    settings: &[(&str, toml::Value)],
    saliency: &Array2<f32>,
    fixture_json: &str,
) -> Result<(Score, Value), Box<dyn Error>> {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture(fixture_json))?)?;
    assert_eq!(
        reference["target_class"].as_u64(),
        Some(target[0] as u64),
        "the same predicted class"
    );
    let score = registry
        .metric(metric, &common::params(metric, settings), &ctx)?
        .score(&MetricInput {
            backbone: net.as_ref(),
            input: &input,
            saliency,
            segmentation: None,
            target: target[0],
            annotation: &Default::default(),
        })?;
    Ok((score, reference))
}

/// Scores `metric` with `settings` on `saliency` and compares it with Quantus's `case`.
fn check(metric: &str, settings: &[(&str, toml::Value)], saliency: &Array2<f32>, case: &str) -> TestResult {
    check_within(metric, settings, saliency, case, SCORE_TOLERANCE)
}

/// [`check`] with the score's own tolerance.
fn check_within(metric: &str, settings: &[(&str, toml::Value)], saliency: &Array2<f32>, case: &str, tolerance: f64) -> TestResult {
    let (score, reference) = score_on_chelsea(metric, settings, saliency, "faithfulness/quantus.json")?;
    let expected = &reference["cases"][case];
    // Quantus returns FaithfulnessEstimate's correlation only, the others' curves too.
    if let Some(file) = expected["curve"].as_str() {
        let curve = npy::read::<f64>(&fixture(&format!("faithfulness/{file}")))?;
        assert_eq!(score.curve.len(), curve.len(), "{case}: curve length");
        let worst = score
            .curve
            .iter()
            .zip(curve.iter())
            .map(|((_, ours), theirs)| (ours - theirs).abs())
            .fold(0f64, f64::max);
        eprintln!("{case}: worst curve difference {worst:.1e}");
        assert!(worst <= CURVE_TOLERANCE, "{case}: a point of the curve differs by {worst:e}");
    }
    let quantus_score = expected["score"].as_f64().ok_or("no score")?;
    eprintln!("{case}: score {} vs Quantus {quantus_score}", score.value);
    assert!(
        (score.value - quantus_score).abs() <= tolerance,
        "{case}: score {} vs Quantus {quantus_score}",
        score.value
    );
    Ok(())
}

fn int(v: i64) -> toml::Value {
    toml::Value::Integer(v)
}

fn text(v: &str) -> toml::Value {
    toml::Value::String(v.into())
}

#[test]
fn pixel_flipping_matches_quantus() -> TestResult {
    let gradient = map("gradient/resnet18-seed0.chelsea-224.npy")?;
    check("pixel-flipping", &[("step", int(1792))], &gradient, "pixel-flipping")?;
    check(
        "pixel-flipping",
        &[("step", int(1792)), ("abs", toml::Value::Boolean(true))],
        &gradient,
        "pixel-flipping-abs",
    )
}

#[test]
fn region_perturbation_matches_quantus() -> TestResult {
    let gradient = map("gradient/resnet18-seed0.chelsea-224.npy")?;
    check("region-perturbation", &[], &gradient, "region-perturbation")?;
    let grad_cam = map("grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy")?;
    check("region-perturbation", &[], &grad_cam, "region-perturbation-b")?;
    // 224 is not a multiple of 30: Quantus's grid starts 8 pixels before the image.
    check(
        "region-perturbation",
        &[("patch", int(30)), ("regions", int(20)), ("order", text("lerf"))],
        &gradient,
        "region-perturbation-lerf-30",
    )
}

#[test]
fn selectivity_matches_quantus() -> TestResult {
    let gradient = map("gradient/resnet18-seed0.chelsea-224.npy")?;
    check("selectivity", &[("patch", int(16))], &gradient, "selectivity")
}

#[test]
fn irof_matches_quantus() -> TestResult {
    let gradient = map("gradient/resnet18-seed0.chelsea-224.npy")?;
    check("irof", &[], &gradient, "irof")
}

#[test]
fn faithfulness_estimate_matches_quantus() -> TestResult {
    let gradient = map("gradient/resnet18-seed0.chelsea-224.npy")?;
    check("faithfulness-estimate", &[("step", int(1792))], &gradient, "faithfulness-estimate")?;
    check(
        "faithfulness-estimate",
        &[
            ("step", int(3136)),
            ("abs", toml::Value::Boolean(true)),
            ("scores", text("probability")),
        ],
        &gradient,
        "faithfulness-estimate-abs",
    )
}

#[test]
fn faithfulness_correlation_draws_quantus_subsets() -> TestResult {
    let gradient = map("gradient/resnet18-seed0.chelsea-224.npy")?;
    check(
        "faithfulness-correlation",
        &[("runs", int(20)), ("subset", int(224)), ("seed", int(5))],
        &gradient,
        "faithfulness-correlation",
    )?;
    // A numeric baseline: Quantus's lookup then draws nothing between the subsets (other draws
    // would give unrelated subsets and an unrelated r). Setting values to 0 rather than the
    // photo's minimum moves the logit far less, so the rounding of the two forward passes weighs
    // more in r: measured 1.6e-4.
    check_within(
        "faithfulness-correlation",
        &[
            ("runs", int(20)),
            ("subset", int(224)),
            ("seed", int(5)),
            ("baseline", toml::Value::Float(0.0)),
        ],
        &gradient,
        "faithfulness-correlation-zero",
        1e-3,
    )?;
    // The same subsets as NumPy's (their saliency sums, up to Quantus's division by the map's
    // largest magnitude) and the same logit drops.
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let settings = [("runs", int(20)), ("subset", int(224)), ("seed", int(5))];
    let score = registry
        .metric(
            "faithfulness-correlation",
            &common::params("faithfulness-correlation", &settings),
            &ctx,
        )?
        .score(&common::metric_input(net.as_ref(), &input, &gradient, target[0]))?;
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture("faithfulness/quantus.json"))?)?;
    let case = &reference["cases"]["faithfulness-correlation"];
    let largest = gradient.iter().fold(0f64, |m, v| m.max(f64::from(v.abs())));
    let sums = case["sums"].as_array().ok_or("sums")?;
    let drops = case["drops"].as_array().ok_or("drops")?;
    assert_eq!(score.curve.len(), 20);
    for ((sum, drop), (want_sum, want_drop)) in score.curve.iter().zip(sums.iter().zip(drops)) {
        let (want_sum, want_drop) = (want_sum.as_f64().ok_or("sum")?, want_drop.as_f64().ok_or("drop")?);
        assert!(
            (sum / largest - want_sum).abs() <= 1e-5 * want_sum.abs().max(1.0),
            "{sum} vs {want_sum}"
        );
        assert!((drop - want_drop).abs() <= 1e-4, "{drop} vs {want_drop}");
    }
    Ok(())
}

#[test]
fn irof_cuts_the_normalised_photo_as_scikit_image() -> TestResult {
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, _) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let [_, channels, h, w] = input.dims();
    let values = input.into_data().into_vec::<f32>().map_err(|e| format!("{e:?}"))?;
    let image = nas_core::ndarray::Array3::from_shape_vec((channels, h, w), values)?.permuted_axes([1, 2, 0]);
    let params = nas_superpixels::SlicParams {
        start_label: 0,
        ..Default::default()
    };
    let ours = nas_superpixels::slic(image.as_standard_layout().view(), &params)?;
    let theirs = npy::read::<i32>(&fixture("faithfulness/irof-segments.npy"))?.into_dimensionality::<Ix2>()?;
    let differing = ours
        .iter()
        .zip(theirs.iter())
        .filter(|(a, b)| i64::from(**a) != i64::from(**b))
        .count();
    assert_eq!(differing, 0, "{differing} pixels labelled differently from scikit-image");
    assert_eq!(net.info().name, "resnet18", "normalised as resnet18 expects");
    Ok(())
}

/// Quantus's Infidelity (scripts/make_infidelity_fixture.py), computed there in float32: its
/// scores (98 for the gradient map, 4.8e9 for Grad-CAM's, whose map is not on the scale of the
/// logits) within 1e-4 relative. Ten repeats of Quantus's deterministic loop give its single
/// run's value to float32 rounding, which nas's one run is compared with.
#[test]
fn infidelity_matches_quantus() -> TestResult {
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture("infidelity/quantus.json"))?)?;
    let maps = [
        ("A", map("gradient/resnet18-seed0.chelsea-224.npy")?),
        ("B", map("grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy")?),
    ];
    for (case, expected) in reference["cases"].as_object().ok_or("no cases")? {
        let saliency = &maps.iter().find(|(name, _)| expected["map"] == *name).ok_or("unknown map")?.1;
        let sizes: Vec<i64> = expected["perturb_patch_sizes"]
            .as_array()
            .ok_or("no patch sizes")?
            .iter()
            .filter_map(Value::as_i64)
            .collect();
        let settings = [("patch_sizes", toml::Value::Array(sizes.iter().map(|s| int(*s)).collect()))];
        let (score, _) = score_on_chelsea("infidelity", &settings, saliency, "infidelity/quantus.json")?;
        let theirs = expected["score"].as_f64().ok_or("no score")?;
        let error = (score.value - theirs).abs() / theirs.abs();
        eprintln!("{case}: {} vs Quantus {theirs} (relative {error:.1e})", score.value);
        assert!(error <= 1e-4, "{case}: {} vs Quantus {theirs}", score.value);
        // The curve pairs each block of the first patch size's predicted drop with the model's.
        let first = *sizes.first().ok_or("no patch size")? as usize;
        assert_eq!(score.curve.len(), (224 / first).pow(2), "{case}");
    }
    Ok(())
}

#[test]
fn monotonicity_correlation_matches_quantus() -> TestResult {
    // Quantus's uniform draws (np.random.seed) and a fixed black baseline with logits: every
    // group's mean squared score change within 1e-3 (relative; they are compared at 1e-9 to 1e2
    // scales), the saliency totals proportional (Quantus normalises the map by its largest
    // magnitude first), and Spearman's r equal (the changes' ranks; their closest pair differs
    // by 0.3%).
    let gradient = map("gradient/resnet18-seed0.chelsea-224.npy")?;
    let reference: Value = serde_json::from_str(&std::fs::read_to_string(fixture("faithfulness/monotonicity.json"))?)?;
    for case in ["uniform", "black-logit"] {
        let expected = &reference["cases"][case];
        let floats = |key: &str| -> Result<Vec<f64>, Box<dyn Error>> {
            Ok(expected[key]
                .as_array()
                .ok_or(key.to_string())?
                .iter()
                .map(|v| v.as_f64().ok_or("not a number"))
                .collect::<Result<_, _>>()?)
        };
        let settings = [
            ("step", int(reference["step"].as_i64().ok_or("step")?)),
            ("seed", int(reference["seed"].as_i64().ok_or("seed")?)),
            ("samples", int(expected["samples"].as_i64().ok_or("samples")?)),
            ("abs", toml::Value::Boolean(expected["abs"].as_bool().ok_or("abs")?)),
            ("scores", text(expected["scores"].as_str().ok_or("scores")?)),
            ("baseline", text(expected["baseline"].as_str().ok_or("baseline")?)),
        ];
        let (score, _) = score_on_chelsea("monotonicity-correlation", &settings, &gradient, "faithfulness/monotonicity.json")?;
        let (totals, changes) = (floats("totals")?, floats("changes")?);
        assert_eq!(score.curve.len(), totals.len(), "{case}: one point per group");
        let scale = score.curve[0].0 / totals[0];
        let mut worst = 0f64;
        for (i, ((total, change), (their_total, their_change))) in score.curve.iter().zip(totals.iter().zip(&changes)).enumerate() {
            assert!(
                (total / their_total / scale - 1.0).abs() < 1e-5,
                "{case}: group {i} total {total} vs {their_total}"
            );
            assert!(
                (change - their_change).abs() <= 1e-3 * their_change.abs(),
                "{case}: group {i} change {change} vs {their_change}"
            );
            worst = worst.max((change - their_change).abs() / their_change.abs());
        }
        let theirs = expected["score"].as_f64().ok_or("score")?;
        eprintln!(
            "monotonicity-correlation {case}: ours {} vs Quantus {theirs}; worst change {worst:.1e} (relative)",
            score.value
        );
        assert!((score.value - theirs).abs() < 1e-9, "{case}: {} vs {theirs}", score.value);
    }
    Ok(())
}

#[test]
fn monotonicity_correlation_refuses_a_single_group() -> TestResult {
    // A 32 x 32 photo is one group of the default 1792 pixels: no correlation to rank.
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = nas_plugins::backbones::load("resnet18", std::path::Path::new("random:0"), nas_core::device::default_device())?;
    let photo = common::cropped_photo("chelsea-224", 32, 32);
    let input = nas_core::backbone::normalise(&[&photo], net.info(), net.device())?;
    let map = Array2::<f32>::from_shape_fn((32, 32), |(y, x)| (y * 32 + x) as f32);
    let metric = registry.metric("monotonicity-correlation", &common::params("monotonicity-correlation", &[]), &ctx)?;
    let refused = metric.score(&common::metric_input(net.as_ref(), &input, &map, 0));
    let message = refused.err().ok_or("one group was scored")?.to_string();
    assert!(message.contains("`step` = 1792") && message.contains("1024 pixels"), "{message}");
    let finer = [("step", int(256)), ("samples", int(1))];
    let score = registry
        .metric(
            "monotonicity-correlation",
            &common::params("monotonicity-correlation", &finer),
            &ctx,
        )?
        .score(&common::metric_input(net.as_ref(), &input, &map, 0))?;
    assert_eq!(score.curve.len(), 4, "four groups of 256 pixels");
    Ok(())
}
