//! `integrated-gradients` against Captum's IntegratedGradients on a real photo: EfficientNet-Lite0
//! with its ImageNet weights (fixtures made by scripts/make_integrated_gradients_fixture.py).
//! Errors are relative to the largest reference value: 99% of pixels within 1e-3 (measured:
//! 2e-4), every pixel within 3e-2 (measured: 2e-3 and 1.4e-2): the few larger errors are ReLU6
//! units within rounding of 0 or 6, whose gradient f32 rounding switches on or off along the
//! path. And completeness: the attributions sum to the target logit's rise from the baseline to
//! the photo.

mod common;

use nas_core::burn::tensor::TensorData;
use nas_core::{npy, NasTensor, Registry};
use std::path::PathBuf;

#[test]
fn integrated_gradients_match_captum() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth");
    let cases = [
        ("gausslegendre-16-zero", "gausslegendre", 16, "zero"),
        ("riemann_right-8-black", "riemann_right", 8, "black"),
    ];
    for (name, method, steps, baseline) in cases {
        let params = common::params(
            "integrated-gradients",
            &[
                ("method", toml::Value::String(method.into())),
                ("steps", toml::Value::Integer(steps)),
                ("baseline", toml::Value::String(baseline.into())),
                ("batch", toml::Value::Integer(5)),
            ],
        );
        let method = registry.saliency("integrated-gradients", &params, &ctx).expect("method");
        let map = method.explain(net.as_ref(), &input, &target).expect("explain").remove(0);
        let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
            "tests/fixtures/integrated_gradients/efficientnet-lite0.chelsea-224.{name}.npy"
        ));
        let reference = npy::read::<f32>(&fixture).expect("fixture");
        assert_eq!(map.shape(), reference.shape());
        let (ours, reference) = (map.as_slice().expect("contiguous"), reference.as_slice().expect("contiguous"));
        let (p99, max) = common::relative_error_p99_max(ours, reference);
        eprintln!("integrated gradients {name}: relative error 99th percentile {p99:.2e}, max {max:.2e}");
        assert!(p99 <= 1e-3, "{name}: 99th percentile relative error {p99}");
        assert!(max <= 3e-2, "{name}: relative error {max}");
    }
}

#[test]
fn integrated_gradients_are_complete() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    // The seeded ResNet-18 converges in few steps along a path from black (Captum's delta: 2e-3
    // with 8 steps); EfficientNet-Lite0 needs hundreds.
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let params = common::params(
        "integrated-gradients",
        &[
            ("steps", toml::Value::Integer(16)),
            ("baseline", toml::Value::String("black".into())),
        ],
    );
    let method = registry.saliency("integrated-gradients", &params, &ctx).expect("method");
    let map = method.explain(net.as_ref(), &input, &target).expect("explain").remove(0);
    let logit = |x: NasTensor<4>| -> f64 {
        let logits: Vec<f32> = net.forward(x).logits.into_data().to_vec().expect("logits");
        f64::from(logits[target[0]])
    };
    let info = net.info();
    let black: Vec<f32> = (0..3).map(|c| -info.mean[c] / info.std[c]).collect();
    let [_, _, h, w] = input.dims();
    let black = NasTensor::<4>::from_data(TensorData::new(black, [1, 3, 1, 1]), &input.device()).expand([1, 3, h, w]);
    let rise = logit(input.clone()) - logit(black);
    let total: f64 = map.iter().map(|v| f64::from(*v)).sum();
    eprintln!("attributions sum to {total:.5}, the logit rises by {rise:.5}");
    assert!((total - rise).abs() <= 1e-2 * rise.abs().max(1.0), "sum {total} vs rise {rise}");
}
