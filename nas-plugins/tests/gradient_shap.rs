//! `gradient-shap` against Captum 0.9's GradientShap (scripts/make_gradient_shap_fixture.py) on
//! chelsea-224: NumPy's draws of baselines and path fractions reproduced, so the maps agree draw
//! for draw. resnet18 (shared seeded weights) with the zero and the black baseline, EfficientNet-
//! Lite0 (ImageNet weights) drawing from black and white (5 draws, seed 0; 20 draws, seed 3).
//! Errors relative to the largest value: 99% of pixels within 5e-3, every pixel within 5e-2
//! (measured: resnet18 zero 3e-7 and 1e-6, black 1.7e-5 and 2.8e-2; EfficientNet-Lite0 2.7e-3
//! and 1.3e-2). The few large errors are units within rounding of a kink (ReLU6's 0 or 6, a
//! max-pool's near-tie) that switch between implementations at some draw's point, as for
//! `integrated-gradients`; with five draws they do not average out. Near white they are common
//! on resnet18 (a point three quarters of the way to a white photo: 0.4% of its gradient's
//! pixels off by up to 14%), hence white baselines on EfficientNet-Lite0. The draws themselves
//! are checked number for number against NumPy's in the unit test `draws_are_numpys`.

mod common;

use nas_core::{npy, Registry};
use std::error::Error;
use std::path::PathBuf;

#[test]
fn gradient_shap_matches_captum() -> Result<(), Box<dyn Error>> {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let cases = [
        ("resnet18", "weights/resnet18-seed0.pth", "zero", 8, 0),
        ("resnet18", "weights/resnet18-seed0.pth", "black", 5, 0),
        ("efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth", "black-white", 5, 0),
        (
            "efficientnet-lite0",
            "weights/efficientnet-lite0-57934424.pth",
            "black-white",
            20,
            3,
        ),
    ];
    for (arch, weights, baselines, samples, seed) in cases {
        let (net, input, target) = common::on_chelsea(&registry, &ctx, arch, weights);
        let params = common::params(
            "gradient-shap",
            &[
                ("baselines", toml::Value::String(baselines.into())),
                ("samples", toml::Value::Integer(samples)),
                ("seed", toml::Value::Integer(seed)),
                ("batch", toml::Value::Integer(6)),
            ],
        );
        let map = registry
            .saliency("gradient-shap", &params, &ctx)?
            .explain(net.as_ref(), &input, &target)?
            .remove(0);
        let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
            "tests/fixtures/gradient_shap/{arch}.chelsea-224.{baselines}.samples{samples}.seed{seed}.npy"
        ));
        let reference = npy::read::<f32>(&fixture)?;
        assert_eq!(map.shape(), reference.shape());
        let (ours, theirs) = (map.as_slice().ok_or("contiguous")?, reference.as_slice().ok_or("contiguous")?);
        let (p99, max) = common::relative_error_p99_max(ours, theirs);
        eprintln!("gradient-shap {arch} {baselines} {samples} draws seed {seed}: relative error 99th percentile {p99:.2e}, max {max:.2e}");
        assert!(p99 <= 5e-3, "{arch} {baselines}: 99th percentile relative error {p99}");
        assert!(max <= 5e-2, "{arch} {baselines}: relative error {max}");
    }
    Ok(())
}
