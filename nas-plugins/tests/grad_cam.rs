//! The CAM methods against pytorch-grad-cam 1.5.7 (GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM,
//! LayerCAM, GradCAMElementWise, ScoreCAM, AblationCAM, FEM, KPCA_CAM, and EigenCAM and EigenGradCAM with the
//! library's sign-corrected projection) on a real photo (fixtures made by
//! scripts/make_grad_cam_fixture.py): resnet18 with seeded torchvision weights at levels 4 and 3,
//! EfficientNet-Lite0 with its ImageNet weights at level 4, and vit_b_16 with `random:0` weights
//! (drawn by the script as nas draws them) at level 4, the output of encoder block 10, as
//! pytorch-grad-cam's ViT `reshape_transform` lays out its patch tokens. Maps are in [0, 1]; every pixel within
//! 1e-5 of the reference (measured: 5.1e-6 at most, Ablation-CAM and ViT Grad-CAM; the others
//! 1.6e-6 or less).

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::{npy, Params, Photo, Registry};
use std::path::PathBuf;

#[test]
fn grad_cam_matches_pytorch_grad_cam() {
    nas_plugins::link();
    let shared = common::shared();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let photo = Photo::open(&shared.join("images/chelsea-224.png"), None).expect("photo");
    let resnet18 = |method, level| ("resnet18", "resnet18-seed0", "weights/resnet18-seed0.pth", method, level);
    let mut cases: Vec<_> = [
        "grad-cam",
        "grad-cam-plus-plus",
        "xgrad-cam",
        "hires-cam",
        "layer-cam",
        "grad-cam-elementwise",
        "score-cam",
        "ablation-cam",
        "eigen-cam",
        "eigen-grad-cam",
        "fem",
        "kpca-cam",
    ]
    .into_iter()
    .map(|method| resnet18(method, 4))
    .chain(
        [
            "grad-cam",
            "xgrad-cam",
            "hires-cam",
            "layer-cam",
            "grad-cam-elementwise",
            "ablation-cam",
            "eigen-cam",
            "eigen-grad-cam",
            "fem",
            "kpca-cam",
        ]
        .into_iter()
        .map(|method| resnet18(method, 3)),
    )
    .collect();
    for method in ["grad-cam-plus-plus", "eigen-cam", "fem", "kpca-cam"] {
        cases.push((
            "efficientnet-lite0",
            "efficientnet-lite0",
            "weights/efficientnet-lite0-57934424.pth",
            method,
            4,
        ));
    }
    for method in ["grad-cam", "layer-cam", "eigen-cam", "fem", "kpca-cam"] {
        cases.push(("vit_b_16", "vit_b_16-random0", "random:0", method, 4));
    }
    for (backbone, label, weights, method, level) in cases {
        let mut params = Params::empty(backbone);
        let weights = match weights.strip_prefix("random:") {
            Some(_) => weights.to_string(),
            None => shared.join(weights).display().to_string(),
        };
        params.set("weights", toml::Value::String(weights));
        let net = registry.backbone(backbone, &params, &ctx).expect("backbone");
        let input = normalise(&[&photo], net.info(), net.device()).expect("input");
        let target = predicted_classes(&net.forward(input.clone()).logits).expect("target");
        let mut params = Params::empty(method);
        params.set("level", toml::Value::Integer(level));
        let map = registry
            .saliency(method, &params, &ctx)
            .expect("method")
            .explain(net.as_ref(), &input, &target)
            .expect("explain")
            .remove(0);
        let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/grad_cam/{label}.chelsea-224.{method}.level{level}.npy"));
        let reference = npy::read::<f32>(&fixture).expect("fixture");
        assert_eq!(map.shape(), reference.shape());
        let err = map.iter().zip(reference.iter()).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        eprintln!("{label} {method} level {level}: max abs error {err:.2e}");
        assert!(err <= 1e-5, "{label} {method} level {level}: max abs error {err}");
        assert!(map.iter().all(|v| (0.0..=1.0).contains(v)), "{method}: values outside [0, 1]");
    }
}

#[test]
fn kpca_cam_refuses_levels_with_too_many_positions() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = registry
        .backbone(
            "resnet18",
            &common::params("resnet18", &[("weights", toml::Value::String("random:0".into()))]),
            &ctx,
        )
        .expect("backbone");
    let photo = Photo::open(&common::shared().join("images/chelsea-224.png"), None).expect("photo");
    let input = normalise(&[&photo], net.info(), net.device()).expect("input");
    let params = common::params("kpca-cam", &[("level", toml::Value::Integer(1))]);
    let refused = registry
        .saliency("kpca-cam", &params, &ctx)
        .expect("method")
        .explain(net.as_ref(), &input, &[0])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(refused.contains("3136 positions") && refused.contains("deeper level"), "{refused}");
}
