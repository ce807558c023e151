//! `occlusion`, `feature-ablation`, `shapley`, `shapley-sampling` and `kernel-shap` against
//! Captum 0.9's Occlusion, FeatureAblation, ShapleyValues, ShapleyValueSampling
//! (scripts/make_ablation_fixture.py) and KernelShap (scripts/make_kernel_shap_fixture.py),
//! `lime` against the lime package (scripts/make_lime_fixture.py): resnet18 with the shared
//! seeded weights, the predicted class's logit, two photos. The superpixel methods use scikit-image's SLIC, whose
//! labels (saved by the script) our `slic` segmenter must reproduce. Maps are logit drops; every
//! pixel within a bound of Captum's relative to the map's largest magnitude (the two networks'
//! logits differ by float rounding): occlusion 1e-4 (measured 5e-5), feature ablation 5e-5
//! (2e-5), Shapley values 5e-6 (4e-7), sampled Shapley values 5e-5 (5.7e-6), Kernel SHAP 2e-5
//! (2.1e-6). Also: exact, sampled and Kernel SHAP values on NAS clusters (the default) add up to
//! the score of the photo minus that of the baseline, and bad settings are refused by name.

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::ndarray::Array2;
use nas_core::{npy, Backbone, NasTensor, Params, Photo, Registry};
use nas_plugins::saliency::ablation::superpixel_features::FeatureMask;
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

/// A backbone, a photo normalised for it, the class it predicts and the photo.
type Explained = (Box<dyn Backbone>, NasTensor<4>, Vec<usize>, Photo);

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ablation").join(name)
}

/// resnet18 with the shared seeded weights, a shared photo normalised for it, and the class it
/// predicts.
fn resnet18_on(registry: &Registry, photo: &str) -> Result<Explained, Box<dyn Error>> {
    let shared = common::shared();
    let ctx = common::context(registry);
    let params = common::params(
        "resnet18",
        &[(
            "weights",
            toml::Value::String(shared.join("weights/resnet18-seed0.pth").display().to_string()),
        )],
    );
    let net = registry.backbone("resnet18", &params, &ctx)?;
    let photo = Photo::open(&shared.join(format!("images/{photo}.png")), None)?;
    let input = normalise(&[&photo], net.info(), net.device())?;
    let target = predicted_classes(&net.forward(input.clone()).logits)?;
    Ok((net, input, target, photo))
}

fn explain(registry: &Registry, method: &str, settings: &[(&str, toml::Value)], photo: &str) -> Result<Array2<f32>, Box<dyn Error>> {
    let ctx = common::context(registry);
    let (net, input, target, photo) = resnet18_on(registry, photo)?;
    let saliency = registry.saliency(method, &common::params(method, settings), &ctx)?;
    Ok(saliency.explain_photos(net.as_ref(), &input, &target, &[&photo])?.remove(0))
}

fn assert_close(ours: &Array2<f32>, name: &str, tolerance: f32) -> TestResult {
    let reference = npy::read::<f32>(&fixture(name))?;
    assert_eq!(ours.shape(), reference.shape(), "{name}");
    let ours: Vec<f32> = ours.iter().copied().collect();
    let reference: Vec<f32> = reference.iter().copied().collect();
    let error = common::relative_error(&ours, &reference);
    eprintln!("{name}: relative error {error:.2e}");
    assert!(error <= tolerance, "{name}: relative error {error}");
    Ok(())
}

fn slic(segments: i64) -> toml::Value {
    let mut table = toml::Table::new();
    table.insert("name".into(), toml::Value::String("slic".into()));
    table.insert("n_segments".into(), toml::Value::Integer(segments));
    toml::Value::Table(table)
}

#[test]
fn occlusion_matches_captum() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let map = explain(&registry, "occlusion", &[], "chelsea-224")?;
    assert_close(&map, "resnet18-seed0.chelsea-224.occlusion-15-8.npy", 1e-4)?;
    let settings = [
        ("window", toml::Value::Integer(32)),
        ("stride", toml::Value::Integer(16)),
        ("baseline", toml::Value::Float(-1.0)),
    ];
    let map = explain(&registry, "occlusion", &settings, "astronaut-224")?;
    assert_close(&map, "resnet18-seed0.astronaut-224.occlusion-32-16-minus1.npy", 1e-4)
}

#[test]
fn superpixel_attributions_match_captum() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    for photo in ["chelsea-224", "astronaut-224"] {
        for (method, segments, tolerance) in [("feature-ablation", 50, 5e-5), ("shapley", 8, 5e-6)] {
            // Our SLIC must give scikit-image's superpixels, which Captum was given.
            let (_, _, _, image) = resnet18_on(&registry, photo)?;
            let ours = registry
                .segmenter(
                    "slic",
                    &common::params("slic", &[("n_segments", toml::Value::Integer(segments))]),
                    &ctx,
                )?
                .segment(
                    &nas_core::Batch {
                        photos: vec![&image],
                        input: None,
                    },
                    None,
                )?
                .remove(0);
            let theirs = npy::read::<i32>(&fixture(&format!("{photo}.slic-{segments}.npy")))?;
            let theirs = theirs.into_dimensionality::<nas_core::ndarray::Ix2>()?.mapv(|v| v as u32);
            assert_eq!(
                FeatureMask::from_labels(&ours.labels),
                FeatureMask::from_labels(&theirs),
                "{photo} slic {segments}"
            );

            let map = explain(&registry, method, &[("segmentation", slic(segments))], photo)?;
            assert_close(&map, &format!("resnet18-seed0.{photo}.{method}-slic-{segments}.npy"), tolerance)?;
        }
    }
    Ok(())
}

/// Captum's orders are torch.randperm's after torch.manual_seed: the same seed gives the same
/// orders, hence Captum's values; the batch size changes nothing.
#[test]
fn sampled_shapley_values_match_captum() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    for (photo, seed) in [("chelsea-224", 0), ("astronaut-224", 5)] {
        let settings = |batch: i64| {
            [
                ("segmentation", slic(50)),
                ("samples", toml::Value::Integer(3)),
                ("seed", toml::Value::Integer(seed)),
                ("batch", toml::Value::Integer(batch)),
            ]
        };
        let map = explain(&registry, "shapley-sampling", &settings(16), photo)?;
        assert_close(
            &map,
            &format!("resnet18-seed0.{photo}.shapley-sampling-slic-50-seed{seed}.npy"),
            5e-5,
        )?;
        if seed == 0 {
            let unbatched = explain(&registry, "shapley-sampling", &settings(1), photo)?;
            assert_eq!(map, unbatched, "{photo}: batch 1 differs from batch 16");
        }
    }
    Ok(())
}

/// Captum draws KernelShap's coalitions from torch's generator: the same seed gives the same
/// coalitions, hence Captum's fit (refitted in float64 by the script: Captum's float32 fit is
/// 5.2e-4 from it on the 37 features and 80 samples). More samples than features, and fewer
/// (the minimum-norm fit).
#[test]
fn kernel_shap_matches_captum() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    for (photo, segments, samples, seed) in [
        ("chelsea-224", 8, 25, 0),
        ("chelsea-224", 50, 80, 0),
        ("astronaut-224", 8, 25, 0),
        ("astronaut-224", 50, 25, 2),
    ] {
        let settings = [
            ("segmentation", slic(segments)),
            ("samples", toml::Value::Integer(samples)),
            ("seed", toml::Value::Integer(seed)),
        ];
        let map = explain(&registry, "kernel-shap", &settings, photo)?;
        let name = format!("resnet18-seed0.{photo}.kernel-shap-slic-{segments}-n{samples}-seed{seed}.npy");
        assert_close(&map, &name, 2e-5)?;
    }
    Ok(())
}

/// Whatever the orders, each one's credits add up to the score of the photo minus that of the
/// baseline; so do exact Shapley values.
#[test]
fn shapley_values_of_nas_clusters_add_up_to_the_score_difference() -> TestResult {
    for method in ["shapley", "shapley-sampling", "kernel-shap"] {
        shapley_values_add_up(method)?;
    }
    Ok(())
}

fn shapley_values_add_up(method: &str) -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target, photo) = resnet18_on(&registry, "chelsea-224")?;
    let map = explain(&registry, method, &[], "chelsea-224")?;
    let clusters = registry
        .segmenter("nas", &Params::empty("nas"), &ctx)?
        .segment(
            &nas_core::Batch {
                photos: vec![&photo],
                input: Some(input.clone()),
            },
            Some(net.as_ref()),
        )?
        .remove(0)
        .clusters();
    let mask = FeatureMask::from_labels(&clusters);
    assert!(mask.count > 1, "NAS gave {} clusters", mask.count);
    // Each cluster's value, read at its first pixel; the map is constant over a cluster.
    let mut values = vec![None; mask.count];
    for (&feature, &value) in mask.pixels.iter().zip(map.iter()) {
        let first = *values[feature].get_or_insert(value);
        assert_eq!(first, value, "the map varies within cluster {feature}");
    }
    let total: f64 = values.iter().flatten().map(|&v| f64::from(v)).sum();
    let logit = |x: NasTensor<4>| -> Result<f64, Box<dyn Error>> {
        let logits = net.forward(x).logits.into_data().to_vec::<f32>().map_err(|e| format!("{e:?}"))?;
        Ok(f64::from(logits[target[0]]))
    };
    let difference = logit(input.clone())? - logit(input.zeros_like())?;
    eprintln!("{method}: sum of Shapley values {total}, score difference {difference}");
    assert!(
        (total - difference).abs() <= 1e-4 * difference.abs().max(1.0),
        "{method}: {total} vs {difference}"
    );
    Ok(())
}

#[test]
fn bad_settings_are_refused_by_name() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target, photo) = resnet18_on(&registry, "chelsea-224")?;
    let error = |method: &str, settings: &[(&str, toml::Value)]| -> String {
        registry
            .saliency(method, &common::params(method, settings), &ctx)
            .and_then(|s| s.explain_photos(net.as_ref(), &input, &target, &[&photo]))
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    };
    let too_many = error("shapley", &[("segmentation", slic(100))]);
    assert!(too_many.contains("max_features"), "{too_many}");
    let too_few = error("kernel-shap", &[("segmentation", slic(1))]);
    assert!(too_few.contains("at least 2"), "{too_few}");
    let stride = error(
        "occlusion",
        &[("window", toml::Value::Integer(8)), ("stride", toml::Value::Integer(9))],
    );
    assert!(stride.contains("stride"), "{stride}");
    let window = error("occlusion", &[("window", toml::Value::Integer(300))]);
    assert!(window.contains("larger than the photo"), "{window}");
    let baseline = error("feature-ablation", &[("baseline", toml::Value::String("grey".into()))]);
    assert!(baseline.contains("baseline"), "{baseline}");
    let no_superpixels = error("occlusion", &[("baseline", toml::Value::String("superpixel-mean".into()))]);
    assert!(no_superpixels.contains("baseline"), "{no_superpixels}");
    Ok(())
}

/// `lime` against the `lime` package's LimeImageExplainer (scripts/make_lime_fixture.py): the same
/// SLIC superpixels, 200 patterns drawn from the same NumPy seed, each superpixel's ridge
/// coefficient within 1e-4 of the package's, relative to the largest (measured 4.5e-6).
#[test]
fn lime_matches_the_lime_package() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    for (photo, seed) in [("chelsea-224", 0), ("astronaut-224", 7)] {
        let settings = [
            ("segmentation", slic(50)),
            ("samples", toml::Value::Integer(200)),
            ("seed", toml::Value::Integer(seed)),
        ];
        let map = explain(&registry, "lime", &settings, photo)?;
        assert_close(&map, &format!("resnet18-seed0.{photo}.lime-slic-50-seed{seed}.npy"), 1e-4)?;
    }
    Ok(())
}
