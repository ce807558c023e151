//! `random-logit` against Quantus 0.6's RandomLogit (scripts/make_randomisation_fixture.py):
//! resnet18 with the shared seeded weights, the `gradient` method, two photos and seeds. The
//! other class is Quantus's exactly; the score within 1e-5 (the maps differ from PyTorch's by
//! float rounding; measured 2e-6). Quantus's `ssim` of two fixed maps within 1e-6.

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::ndarray::Array2;
use nas_core::{npy, Metric, MetricInput, NasTensor, Photo, Registry};
use nas_plugins::metrics::random_logit::RandomLogit;
use nas_plugins::metrics::structural_similarity::quantus_ssim;
use serde_json::Value;
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

fn reference() -> Result<Value, Box<dyn Error>> {
    Ok(serde_json::from_str(&std::fs::read_to_string(fixture(
        "randomisation/quantus.json",
    ))?)?)
}

#[test]
fn ssim_matches_quantus() -> TestResult {
    let read = |method: &str| -> Result<Vec<f32>, Box<dyn Error>> {
        let map = npy::read::<f32>(&fixture(&format!("grad_cam/resnet18-seed0.chelsea-224.{method}.level4.npy")))?;
        Ok(map.iter().copied().collect())
    };
    let ours = quantus_ssim(&read("grad-cam")?, &read("grad-cam-plus-plus")?)?;
    let want = reference()?["ssim_grad_cam_vs_plus_plus"].as_f64().ok_or("ssim")?;
    assert!((ours - want).abs() <= 1e-6, "{ours} vs Quantus's {want}");
    Ok(())
}

#[test]
fn random_logit_matches_quantus() -> TestResult {
    nas_plugins::link();
    let reference = reference()?;
    let shared = common::shared();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let params = common::params(
        "resnet18",
        &[(
            "weights",
            toml::Value::String(shared.join("weights/resnet18-seed0.pth").display().to_string()),
        )],
    );
    let net = registry.backbone("resnet18", &params, &ctx)?;
    let gradient = registry.saliency("gradient", &nas_core::Params::empty("gradient"), &ctx)?;
    for photo in ["chelsea-224", "astronaut-224"] {
        let case = &reference[photo];
        let seed = case["seed"].as_i64().ok_or("seed")?;
        let image = Photo::open(&shared.join(format!("images/{photo}.png")), None)?;
        let input = normalise(&[&image], net.info(), net.device())?;
        let target = predicted_classes(&net.forward(input.clone()).logits)?[0];
        assert_eq!(Some(target as u64), case["target"].as_u64(), "{photo}: predicted class");
        let metric = RandomLogit::from_params(&common::params("random-logit", &[("seed", toml::Value::Integer(seed))]))?;
        assert_eq!(
            Some(metric.other_class(target, 1000)? as u64),
            case["off_class"].as_u64(),
            "{photo}: the other class"
        );
        let map = gradient.explain(net.as_ref(), &input, &[target])?.remove(0);
        let explain = |x: &NasTensor<4>, class: usize| -> nas_core::Result<Vec<Array2<f32>>> {
            gradient.explain(net.as_ref(), x, &vec![class; x.dims()[0]])
        };
        let annotation = nas_core::Annotation::default();
        let score = metric.score_explained(
            &MetricInput {
                backbone: net.as_ref(),
                input: &input,
                saliency: &map,
                segmentation: None,
                target,
                annotation: &annotation,
            },
            &explain,
        )?;
        let want = case["score"].as_f64().ok_or("score")?;
        eprintln!("{photo}: random-logit {} vs Quantus's {want}", score.value);
        assert!((score.value - want).abs() <= 1e-5, "{photo}: {} vs Quantus's {want}", score.value);
        let refused = metric.score(&MetricInput {
            backbone: net.as_ref(),
            input: &input,
            saliency: &map,
            segmentation: None,
            target,
            annotation: &annotation,
        });
        assert!(refused.is_err(), "scoring without a way to explain again must be refused");
    }
    Ok(())
}
