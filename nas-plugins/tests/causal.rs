//! `causal` against RISE's CausalMetric (scripts/make_causal_fixture.py: the authors' procedure
//! in PyTorch) on resnet18 with the shared seeded weights, chelsea-224 and the gradient x input
//! map: the blur kernel within 1e-7, every step's probability and the area within 1e-4 of the
//! largest probability, for both games.

mod common;

use nas_core::ndarray::Ix2;
use nas_core::{npy, Registry};
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

#[test]
fn blur_kernel_is_scipys() {
    let reference = npy::read::<f32>(&fixture("causal/gkern.npy")).expect("fixture");
    let ours = nas_plugins::metrics::causal::blur_kernel();
    for (a, b) in ours.iter().zip(reference.iter()) {
        assert!((a - b).abs() <= 1e-7, "{a} vs scipy's {b}");
    }
}

#[test]
fn deletion_and_insertion_match_rise() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let map = npy::read::<f32>(&fixture("gradient/resnet18-seed0.chelsea-224.npy"))
        .expect("map")
        .into_dimensionality::<Ix2>()
        .expect("2-D");
    // The causal metric with `params`, on the gradient map.
    let causal = |params: &nas_core::Params| {
        registry
            .metric("causal", params, &ctx)
            .expect("causal")
            .score(&common::metric_input(net.as_ref(), &input, &map, target[0]))
            .expect("score")
    };
    for game in ["deletion", "insertion"] {
        let params = common::params(
            "causal",
            &[("game", toml::Value::String(game.into())), ("step", toml::Value::Integer(1792))],
        );
        let score = causal(&params);
        let reference = npy::read::<f64>(&fixture(&format!("causal/resnet18-seed0.chelsea-224.{game}.npy"))).expect("fixture");
        assert_eq!(score.curve.len(), reference.len());
        let peak = reference.iter().fold(0f64, |m, v| m.max(v.abs()));
        for (i, ((_, ours), theirs)) in score.curve.iter().zip(reference.iter()).enumerate() {
            assert!((ours - theirs).abs() <= 1e-4 * peak, "{game} step {i}: {ours} vs {theirs}");
        }
        let n = reference.len() as f64 - 1.0;
        let auc = (reference.sum() - reference[0] / 2.0 - reference[reference.len() - 1] / 2.0) / n;
        eprintln!("{game}: ours {:.6}, RISE {auc:.6}", score.value);
        assert!((score.value - auc).abs() <= 1e-4 * peak, "{game}: {} vs {auc}", score.value);
    }
    // With logits, the deletion curve starts at the target's logit of the whole photo.
    let params = common::params(
        "causal",
        &[
            ("scores", toml::Value::String("logit".into())),
            ("step", toml::Value::Integer(50176)),
        ],
    );
    let score = causal(&params);
    let logits: Vec<f32> = net.forward(input.clone()).logits.into_data().to_vec().expect("logits");
    let logit = f64::from(logits[target[0]]);
    assert_eq!(score.curve.len(), 2, "one step removes every pixel");
    assert!(
        (score.curve[0].1 - logit).abs() <= 1e-4 * logit.abs().max(1.0),
        "{} vs {logit}",
        score.curve[0].1
    );
}
