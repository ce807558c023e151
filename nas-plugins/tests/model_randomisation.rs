//! Model randomisation (`randomise_top`, `randomise`, `nas_plugins::model_randomisation`) on
//! resnet18 with the shared weight file: the file's module order is torchvision's, randomising
//! only the classifier (by count or by name) leaves every depth level as it was, randomising
//! every module gives exactly `random:SEED`'s network, bad requests (too many or unknown
//! modules, random weights, safetensors, a randomised baseline) are refused by name, and the
//! test starts with the trained network's own maps. Spearman's correlation against SciPy's `spearmanr` on
//! two real maps (with ties) within 1e-9.

mod common;

use nas_core::backbone::normalise;
use nas_core::weights::module_order;
use nas_core::{npy, Backbone, NasTensor, Params, Photo, Registry};
use nas_plugins::metrics::correlation::spearman;
use nas_plugins::model_randomisation::{similarity, Order, Randomisation};
use std::error::Error;

type TestResult = Result<(), Box<dyn Error>>;

fn weights() -> String {
    common::shared().join("weights/resnet18-seed0.pth").display().to_string()
}

fn resnet18(registry: &Registry, weights: &str, settings: &[(&str, toml::Value)]) -> nas_core::Result<Box<dyn Backbone>> {
    let ctx = common::context(registry);
    let mut params = common::params("resnet18", settings);
    params.set("weights", toml::Value::String(weights.to_string()));
    registry.backbone("resnet18", &params, &ctx)
}

fn host(x: NasTensor<4>) -> Result<Vec<f32>, Box<dyn Error>> {
    Ok(x.into_data().to_vec::<f32>().map_err(|e| format!("{e:?}"))?)
}

#[test]
fn modules_come_in_torchvisions_order() -> TestResult {
    let modules = module_order(std::path::Path::new(&weights()))?;
    assert_eq!(modules.len(), 41, "{modules:?}");
    assert_eq!(&modules[..3], ["conv1", "bn1", "layer1.0.conv1"]);
    assert_eq!(modules.last().map(String::as_str), Some("fc"));
    assert!(modules.contains(&"layer2.0.downsample.1".to_string()));
    Ok(())
}

#[test]
fn randomising_the_head_keeps_the_levels_and_everything_is_random_seed() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let photo = Photo::open(&common::shared().join("images/chelsea-224.png"), None)?;
    let trained = resnet18(&registry, &weights(), &[])?;
    let input = normalise(&[&photo], trained.info(), trained.device())?;
    let top = |n: i64| {
        resnet18(
            &registry,
            &weights(),
            &[
                ("randomise_top", toml::Value::Integer(n)),
                ("randomise_seed", toml::Value::Integer(5)),
            ],
        )
    };
    let (before, head) = (trained.forward(input.clone()), top(1)?.forward(input.clone()));
    for (a, b) in before.levels.into_iter().zip(head.levels) {
        assert_eq!(host(a)?, host(b)?, "a level moved when only fc was randomised");
    }
    let logits = |x: nas_core::NasTensor<2>| -> Result<Vec<f32>, Box<dyn Error>> {
        Ok(x.into_data().to_vec::<f32>().map_err(|e| format!("{e:?}"))?)
    };
    assert_ne!(
        logits(before.logits)?,
        logits(head.logits.clone())?,
        "randomising fc must move the logits"
    );
    let listed = resnet18(
        &registry,
        &weights(),
        &[
            ("randomise", toml::Value::Array(vec![toml::Value::String("fc".into())])),
            ("randomise_seed", toml::Value::Integer(5)),
        ],
    )?;
    assert_eq!(
        logits(listed.forward(input.clone()).logits)?,
        logits(head.logits)?,
        "randomise = [\"fc\"] is randomise_top = 1"
    );
    let all = top(41)?.forward(input.clone()).logits;
    let random = resnet18(&registry, "random:5", &[])?.forward(input).logits;
    assert_eq!(logits(all)?, logits(random)?, "all modules randomised is random:5");
    Ok(())
}

#[test]
fn bad_randomisations_are_refused_by_name() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let error = |weights: &str, top: i64| -> String {
        resnet18(&registry, weights, &[("randomise_top", toml::Value::Integer(top))])
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let too_many = error(&weights(), 42);
    assert!(too_many.contains("randomise_top") && too_many.contains("41"), "{too_many}");
    let unknown = resnet18(
        &registry,
        &weights(),
        &[("randomise", toml::Value::Array(vec![toml::Value::String("layer9".into())]))],
    )
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(unknown.contains("randomise") && unknown.contains("layer9"), "{unknown}");
    let random = error("random:1", 3);
    assert!(random.contains("randomise_top"), "{random}");
    let safetensors = std::env::temp_dir().join(format!("nas-randomise-{}.safetensors", std::process::id()));
    // One float32 tensor: the header's length, the header, the values.
    let header = br#"{"fc.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#;
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header);
    file.extend_from_slice(&1f32.to_le_bytes());
    std::fs::write(&safetensors, file)?;
    let refused = module_order(&safetensors).err().map(|e| e.to_string()).unwrap_or_default();
    std::fs::remove_file(&safetensors)?;
    assert!(refused.contains("order"), "{refused}");
    let random = module_order(std::path::Path::new("random:1"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(random.contains("trained .pth"), "{random}");
    Ok(())
}

#[test]
fn randomisation_starts_from_the_trained_maps() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let photo = Photo::open(&common::shared().join("images/chelsea-224.png"), None)?;
    let mut params = Params::empty("resnet18");
    params.set("weights", toml::Value::String(weights()));
    let gradient = registry.saliency("gradient", &Params::empty("gradient"), &ctx)?;
    let randomisation = Randomisation {
        backbone: "resnet18",
        params: &params,
        seed: 0,
        every: 20,
        order: Order::TopDown,
        batch: 1,
    };
    let mut seen = Vec::new();
    let modules = randomisation.modules(&ctx)?;
    let steps = randomisation.run(&ctx, &modules, gradient.as_ref(), &[&photo], None, &mut |step| {
        seen.push(step.randomised);
        Ok(())
    })?;
    assert_eq!(seen, [0, 20, 40, 41]);
    let trained = resnet18(&registry, &weights(), &[])?;
    let input = normalise(&[&photo], trained.info(), trained.device())?;
    let target = nas_core::backbone::predicted_classes(&trained.forward(input.clone()).logits)?;
    let own = gradient.explain(trained.as_ref(), &input, &target)?.remove(0);
    assert_eq!(steps[0].maps[0], own, "step 0 is the trained network's map");
    let first = similarity(&steps[0].maps[0], &steps[0].maps[0])?;
    assert!((first.spearman - 1.0).abs() < 1e-12 && (first.ssim - 1.0).abs() < 1e-6, "{first:?}");
    let last = similarity(&steps[0].maps[0], &steps[3].maps[0])?;
    assert!(last.spearman < 0.9, "a fully random network's gradient still matches: {last:?}");
    params.set("randomise_top", toml::Value::Integer(3));
    let preset = Randomisation {
        backbone: "resnet18",
        params: &params,
        seed: 0,
        every: 20,
        order: Order::TopDown,
        batch: 1,
    }
    .modules(&ctx)
    .err()
    .map(|e| e.to_string())
    .unwrap_or_default();
    assert!(preset.contains("randomise_top"), "a randomised baseline must be refused: {preset}");
    Ok(())
}

#[test]
fn spearman_matches_scipy() -> TestResult {
    let read = |method: &str| -> Result<Vec<f64>, Box<dyn Error>> {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("tests/fixtures/grad_cam/resnet18-seed0.chelsea-224.{method}.level4.npy"));
        Ok(npy::read::<f32>(&path)?.iter().map(|&v| f64::from(v)).collect())
    };
    let reference: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/randomisation/quantus.json"),
    )?)?;
    let want = reference["spearman_grad_cam_vs_plus_plus"].as_f64().ok_or("spearman")?;
    let ours = spearman(&read("grad-cam")?, &read("grad-cam-plus-plus")?);
    assert!((ours - want).abs() <= 1e-9, "{ours} vs SciPy's {want}");
    Ok(())
}

/// Photos explained one at a time or two per pass give the same maps at every step.
#[test]
fn batches_do_not_change_the_maps() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let photos = [
        Photo::open(&common::shared().join("images/chelsea-224.png"), None)?,
        Photo::open(&common::shared().join("images/astronaut-224.png"), None)?,
    ];
    let refs: Vec<&Photo> = photos.iter().collect();
    let mut params = Params::empty("resnet18");
    params.set("weights", toml::Value::String(weights()));
    let gradient = registry.saliency("gradient", &Params::empty("gradient"), &ctx)?;
    let run = |batch: usize| -> Result<Vec<Vec<nas_core::ndarray::Array2<f32>>>, Box<dyn Error>> {
        let randomisation = Randomisation {
            backbone: "resnet18",
            params: &params,
            seed: 1,
            every: 41,
            order: Order::TopDown,
            batch,
        };
        let modules = randomisation.modules(&ctx)?;
        let steps = randomisation.run(&ctx, &modules, gradient.as_ref(), &refs, None, &mut |_| Ok(()))?;
        Ok(steps.into_iter().map(|s| s.maps).collect())
    };
    let (one, two) = (run(1)?, run(2)?);
    for (a, b) in one.iter().flatten().zip(two.iter().flatten()) {
        let (a, b): (Vec<f32>, Vec<f32>) = (a.iter().copied().collect(), b.iter().copied().collect());
        let error = common::relative_error(&a, &b);
        assert!(error <= 1e-5, "batch 2 against batch 1: {error}");
    }
    assert_eq!(one.iter().flatten().count(), 4);
    Ok(())
}

/// While weight files are kept parsed, a second open of the same file gives every tensor again
/// (the first open's takes do not consume the kept copy), and a file changed on disk is read
/// afresh.
#[test]
fn kept_parsed_files_give_the_same_tensors_and_notice_changes() -> TestResult {
    let device = nas_core::device::default_device();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("weights.pth");
    std::fs::copy(weights(), &path)?;
    let _kept = nas_core::weights::keep_parsed();
    let mut first = nas_core::weights::StateDict::open(&path, &device)?;
    let mut second = nas_core::weights::StateDict::open(&path, &device)?;
    let bias = first.take_values("fc.bias", &[1000])?;
    assert_eq!(bias, second.take_values("fc.bias", &[1000])?);
    assert_eq!(first.modules()?, second.modules()?);
    let conv = first.take_values("conv1.weight", &[64, 3, 7, 7])?;
    assert_eq!(conv, second.take_values("conv1.weight", &[64, 3, 7, 7])?);
    // Another network's file in its place: its keys, not the kept ones.
    std::fs::copy(common::shared().join("weights/efficientnet-lite0-57934424.pth"), &path)?;
    let mut changed = nas_core::weights::StateDict::open(&path, &device)?;
    assert!(
        changed.take_values("fc.bias", &[1000]).is_err(),
        "the kept resnet18 file was served again"
    );
    Ok(())
}
