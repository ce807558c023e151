//! `sess` against pytorch-grad-cam 1.5.7's SESS (scripts/make_sess_fixture.py): Grad-CAM
//! windows on resnet18 (shared seeded weights) over chelsea-224 at three scales with SESS's
//! defaults, and over a 200 x 150 corner of coffee-224 with a 120-pixel window (the smallest
//! scale shrinks the photo, with torchvision's antialiasing), a 100-pixel step, a pre-filter and
//! max fusion without smoothing; Grad-CAM++ windows on EfficientNet-Lite0 at given scales with
//! `theta` and logit scores. Also batches against single photos, and refusals.

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::{npy, Backbone, Photo, Registry};
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sess").join(name)
}

fn backbone(registry: &Registry, name: &str, weights: &str) -> Result<Box<dyn Backbone>, Box<dyn Error>> {
    let ctx = common::context(registry);
    let weights = common::shared().join(weights).display().to_string();
    Ok(registry.backbone(name, &common::params(name, &[("weights", toml::Value::String(weights))]), &ctx)?)
}

/// nas's `sess` with `settings` on `photo` against the reference map `case`: every pixel within
/// `tolerance` (maps in [0, 1]; measured 5.4e-7 to 1.6e-6).
fn check(
    registry: &Registry,
    net: &dyn Backbone,
    photo: &Photo,
    case: &str,
    settings: &[(&str, toml::Value)],
    tolerance: f32,
) -> TestResult {
    let ctx = common::context(registry);
    let input = normalise(&[photo], net.info(), net.device())?;
    let target = predicted_classes(&net.forward(input.clone()).logits)?;
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("cases.json"))?)?;
    assert_eq!(cases[case]["target"].as_u64(), Some(target[0] as u64), "{case}: the same class");
    let map = registry
        .saliency("sess", &common::params("sess", settings), &ctx)?
        .explain(net, &input, &target)?
        .remove(0);
    let reference = npy::read::<f32>(&fixture(&format!("{case}.npy")))?;
    assert_eq!(map.shape(), reference.shape());
    let worst = map.iter().zip(reference.iter()).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    eprintln!("sess {case}: worst pixel {worst:.2e} from pytorch-grad-cam");
    assert!(worst <= tolerance, "{case}: {worst}");
    Ok(())
}

fn int(v: i64) -> toml::Value {
    toml::Value::Integer(v)
}

#[test]
fn sess_matches_pytorch_grad_cam() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let resnet18 = backbone(&registry, "resnet18", "weights/resnet18-seed0.pth")?;
    let chelsea = common::cropped_photo("chelsea-224", 224, 224);
    check(
        &registry,
        resnet18.as_ref(),
        &chelsea,
        "resnet18-chelsea",
        &[("num_scales", int(3))],
        1e-5,
    )?;
    let oblong = common::cropped_photo("coffee-224", 200, 150);
    let settings = [
        ("window", int(120)),
        ("step", int(100)),
        ("num_scales", int(2)),
        ("pre_filter", toml::Value::Float(0.25)),
        ("pool", toml::Value::String("max".into())),
        ("smooth", toml::Value::Boolean(false)),
    ];
    check(&registry, resnet18.as_ref(), &oblong, "resnet18-oblong", &settings, 1e-5)?;
    let lite = backbone(&registry, "efficientnet-lite0", "weights/efficientnet-lite0-57934424.pth")?;
    let settings = [
        ("method", toml::Value::String("grad-cam-plus-plus".into())),
        ("scales", toml::Value::Array(vec![int(224), int(320)])),
        ("theta", toml::Value::Float(0.2)),
        ("softmax_scores", toml::Value::Boolean(false)),
    ];
    check(&registry, lite.as_ref(), &chelsea, "lite-chelsea", &settings, 1e-5)
}

#[test]
fn sess_explains_a_batch_as_each_photo_alone() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let resnet18 = backbone(&registry, "resnet18", "weights/resnet18-seed0.pth")?;
    let photos = [
        common::cropped_photo("chelsea-224", 120, 96),
        common::cropped_photo("coffee-224", 120, 96),
    ];
    common::assert_batch_equals_singles(&registry, resnet18.as_ref(), "sess", &[&photos[0], &photos[1]], 1e-6);
    Ok(())
}

#[test]
fn sess_refuses_scales_below_the_window_and_windows_beyond_the_photo() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let resnet18 = backbone(&registry, "resnet18", "weights/resnet18-seed0.pth")?;
    let photo = common::cropped_photo("chelsea-224", 160, 128);
    let input = normalise(&[&photo], resnet18.info(), resnet18.device())?;
    let refusal = |settings: &[(&str, toml::Value)]| -> Result<String, Box<dyn Error>> {
        let sess = registry.saliency("sess", &common::params("sess", settings), &ctx)?;
        Ok(sess
            .explain(resnet18.as_ref(), &input, &[0])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default())
    };
    let small = refusal(&[("scales", toml::Value::Array(vec![int(100)]))])?;
    assert!(small.contains("scale 100") && small.contains("128-pixel window"), "{small}");
    let wide = refusal(&[("window", int(150))])?;
    assert!(wide.contains("`window` = 150") && wide.contains("128x160"), "{wide}");
    let huge = refusal(&[("scales", toml::Value::Array(vec![int(128), int(8000)]))])?;
    assert!(huge.contains("scale 8000") && huge.contains("8000x10000"), "{huge}");
    let everything = registry
        .saliency("sess", &common::params("sess", &[("pre_filter", toml::Value::Float(1.0))]), &ctx)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(everything.contains("pre_filter"), "{everything}");
    Ok(())
}
