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
use nas_core::ndarray::Array2;
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
        let map = explain_first(&registry, method, &params, net.as_ref(), &input, &target);
        assert_matches(&map, &format!("{label}.chelsea-224.{method}.level{level}.npy"), 1e-5);
        assert!(map.iter().all(|v| (0.0..=1.0).contains(v)), "{method}: values outside [0, 1]");
    }
}

#[test]
fn kpca_cam_refuses_levels_with_too_many_positions() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let net = random_weights(&registry, "resnet18");
    let photo = Photo::open(&common::shared().join("images/chelsea-224.png"), None).expect("photo");
    let input = normalise(&[&photo], net.info(), net.device()).expect("input");
    let params = common::params("kpca-cam", &[("level", toml::Value::Integer(1))]);
    let refused = refusal(
        registry
            .saliency("kpca-cam", &params, &ctx)
            .expect("method")
            .explain(net.as_ref(), &input, &[0]),
    );
    assert!(refused.contains("3136 positions") && refused.contains("deeper level"), "{refused}");
}

/// `eigen_smooth` and `aug-smooth` against pytorch-grad-cam's `eigen_smooth=True` and
/// `aug_smooth=True` (scripts/make_cam_smoothing_fixture.py; the library's sign-corrected
/// projection in place of LAPACK's sign, which inverts most of these maps): resnet18 with the
/// seeded weights on chelsea, and LayerCAM and element-wise Grad-CAM on vit_b_16 with `random:0`
/// weights (where the two differ), every pixel within 1e-5 of the reference.
#[test]
fn smoothing_matches_pytorch_grad_cam() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let mut cases: Vec<(&str, i64, bool, bool)> = [
        "grad-cam",
        "grad-cam-plus-plus",
        "xgrad-cam",
        "hires-cam",
        "layer-cam",
        "grad-cam-elementwise",
    ]
    .into_iter()
    .map(|method| (method, 3, true, false))
    .collect();
    cases.extend([
        ("ablation-cam", 4, true, false),
        ("score-cam", 4, true, false),
        ("grad-cam", 4, false, true),
        ("grad-cam-plus-plus", 3, true, true),
    ]);
    for (method, level, eigen, aug) in cases {
        let mut table = toml::Table::new();
        table.insert("name".into(), toml::Value::String(method.into()));
        table.insert("level".into(), toml::Value::Integer(level));
        if eigen {
            table.insert("eigen_smooth".into(), toml::Value::Boolean(true));
        }
        let (name, params) = if aug {
            ("aug-smooth", common::params("aug-smooth", &[("method", toml::Value::Table(table))]))
        } else {
            table.remove("name");
            (method, Params::new(method, table))
        };
        let map = explain_first(&registry, name, &params, net.as_ref(), &input, &target);
        let suffix = format!("{}{}", if eigen { "-eigen" } else { "" }, if aug { "-aug" } else { "" });
        assert_matches(&map, &format!("resnet18-seed0.chelsea-224.{method}{suffix}.level{level}.npy"), 1e-5);
    }
    // After a ReLU, LayerCAM's max(g, 0) a and the element-wise max(g a, 0) are one map; ViT's
    // tokens (random:0 weights, as the script draws them) tell the two rules apart.
    let vit = random_weights(&registry, "vit_b_16");
    let vit_input = input_of(vit.as_ref(), "chelsea-224");
    let vit_target = predicted_classes(&vit.forward(vit_input.clone()).logits).expect("target");
    for method in ["layer-cam", "grad-cam-elementwise"] {
        let params = common::params(method, &[("eigen_smooth", toml::Value::Boolean(true))]);
        let map = explain_first(&registry, method, &params, vit.as_ref(), &vit_input, &vit_target);
        assert_matches(&map, &format!("vit_b_16-random0.chelsea-224.{method}-eigen.level4.npy"), 1e-5);
    }
    // As ttach, aug-smooth always keeps the unscaled photo: [0.9, 1.1] is [1, 0.9, 1.1].
    let factors = |f: &[f64]| toml::Value::Array(f.iter().map(|&v| toml::Value::Float(v)).collect());
    let smoothed = |given: &[f64]| {
        explain_first(
            &registry,
            "aug-smooth",
            &common::params("aug-smooth", &[("factors", factors(given))]),
            net.as_ref(),
            &input,
            &target,
        )
    };
    let err = largest_difference(&smoothed(&[0.9, 1.1]), &smoothed(&[1.0, 0.9, 1.1]));
    assert!(err <= 1e-6, "aug-smooth without factor 1 differs by {err}");
    // EigenCAM is a projection already: it has no `eigen_smooth` to set.
    let params = common::params("eigen-cam", &[("eigen_smooth", toml::Value::Boolean(true))]);
    let refused = refusal(registry.saliency("eigen-cam", &params, &ctx));
    assert!(refused.contains("eigen_smooth"), "{refused}");
}

/// `finer-cam` against pytorch-grad-cam's `FinerCAM` (scripts/make_finer_cam_fixture.py):
/// resnet18 with the seeded weights on two photos, Grad-CAM at level 4 with the defaults,
/// Grad-CAM++ at level 3 with alpha 0.6 and comparison ranks [1, 4], Grad-CAM at level 3 with
/// eigen_smooth; every pixel within 1e-5. With alpha 0 the target is the class's own logit
/// (times a softmax ratio), so the map is Grad-CAM's.
#[test]
fn finer_cam_matches_pytorch_grad_cam() {
    nas_plugins::link();
    let shared = common::shared();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let weights = toml::Value::String(shared.join("weights/resnet18-seed0.pth").display().to_string());
    let net = registry
        .backbone("resnet18", &common::params("resnet18", &[("weights", weights)]), &ctx)
        .expect("backbone");
    let explain = |method: &str, settings: &[(&str, toml::Value)], input: &nas_core::NasTensor<4>, target: &[usize]| {
        explain_first(&registry, method, &common::params(method, settings), net.as_ref(), input, target)
    };
    let ranks = |r: &[i64]| toml::Value::Array(r.iter().map(|&v| toml::Value::Integer(v)).collect());
    for photo in ["chelsea-224", "astronaut-224"] {
        let input = input_of(net.as_ref(), photo);
        let target = predicted_classes(&net.forward(input.clone()).logits).expect("target");
        let cases = [
            ("grad-cam-alpha1.0-1-2-3.level4", vec![("level", toml::Value::Integer(4))]),
            (
                "grad-cam-plus-plus-alpha0.6-1-4.level3",
                vec![
                    ("level", toml::Value::Integer(3)),
                    ("base", toml::Value::String("grad-cam-plus-plus".into())),
                    ("alpha", toml::Value::Float(0.6)),
                    ("comparisons", ranks(&[1, 4])),
                ],
            ),
            (
                "grad-cam-alpha1.0-1-2-3-eigen.level3",
                vec![("level", toml::Value::Integer(3)), ("eigen_smooth", toml::Value::Boolean(true))],
            ),
        ];
        for (tag, settings) in cases {
            let map = explain("finer-cam", &settings, &input, &target);
            assert_matches(&map, &format!("resnet18-seed0.{photo}.finer-cam-{tag}.npy"), 1e-5);
        }
        let level3 = ("level", toml::Value::Integer(3));
        let unopposed = explain("finer-cam", &[level3.clone(), ("alpha", toml::Value::Float(0.0))], &input, &target);
        let plain = explain("grad-cam", &[level3], &input, &target);
        let err = largest_difference(&unopposed, &plain);
        assert!(err <= 1e-5, "{photo}: finer-cam with alpha 0 is {err} from grad-cam");
    }
    let refused = refusal(
        registry
            .saliency(
                "finer-cam",
                &common::params("finer-cam", &[("comparisons", ranks(&[1, 1000]))]),
                &ctx,
            )
            .and_then(|method| method.explain(net.as_ref(), &input_of(net.as_ref(), "chelsea-224"), &[0])),
    );
    assert!(refused.contains("comparisons") && refused.contains("1000"), "{refused}");
}

/// A shared photo normalised for `net`.
fn input_of(net: &dyn nas_core::Backbone, photo: &str) -> nas_core::NasTensor<4> {
    let photo = Photo::open(&common::shared().join(format!("images/{photo}.png")), None).expect("photo");
    normalise(&[&photo], net.info(), net.device()).expect("input")
}

/// A method's parameters, as name and value pairs.
type Settings = Vec<(&'static str, toml::Value)>;

/// Several levels against pytorch-grad-cam's several target layers, and `refine-cam` against
/// its RefineCAM (scripts/make_multi_level_cam_fixture.py): resnet18 with the seeded weights on
/// chelsea, every pixel within 1e-5.
#[test]
fn multi_level_cams_match_pytorch_grad_cam() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let list = |levels: &[i64]| toml::Value::Array(levels.iter().map(|&l| toml::Value::Integer(l)).collect());
    let mut cases: Vec<(&str, Settings, String)> = ["grad-cam", "score-cam", "ablation-cam", "fem", "eigen-cam"]
        .into_iter()
        .map(|method| (method, vec![("level", list(&[3, 4]))], format!("{method}.levels34")))
        .collect();
    cases.push((
        "layer-cam",
        vec![("level", list(&[2, 4])), ("eigen_smooth", toml::Value::Boolean(true))],
        "layer-cam-eigen.levels24".into(),
    ));
    cases.push(("kpca-cam", vec![("level", list(&[2, 4]))], "kpca-cam.levels24".into()));
    cases.push(("refine-cam", vec![], "refine-cam-grad-cam-plus-plus.levels234".into()));
    cases.push((
        "refine-cam",
        vec![("method", toml::Value::String("grad-cam".into())), ("levels", list(&[3, 4]))],
        "refine-cam-grad-cam.levels34".into(),
    ));
    for (method, settings, tag) in cases {
        let map = explain_first(&registry, method, &common::params(method, &settings), net.as_ref(), &input, &target);
        assert_matches(&map, &format!("resnet18-seed0.chelsea-224.{tag}.npy"), 1e-5);
    }
    // refine-cam sets the inner method's level itself.
    let mut inner = toml::Table::new();
    inner.insert("name".into(), toml::Value::String("grad-cam".into()));
    inner.insert("level".into(), toml::Value::Integer(3));
    let refused = refusal(registry.saliency(
        "refine-cam",
        &common::params("refine-cam", &[("method", toml::Value::Table(inner))]),
        &ctx,
    ));
    assert!(refused.contains("method.level"), "{refused}");
    let not_a_cam = refusal(registry.saliency(
        "refine-cam",
        &common::params("refine-cam", &[("method", toml::Value::String("lime".into()))]),
        &ctx,
    ));
    assert!(not_a_cam.contains("CAM method"), "{not_a_cam}");
}

/// `random-cam` and `seg-eigen-cam` against pytorch-grad-cam's RandomCAM (the same NumPy seed)
/// and SegEigenCAM (scripts/make_random_seg_eigen_cam_fixture.py): resnet18 with the seeded
/// weights on chelsea, every pixel within 1e-5; Random-CAM within 3e-5, its random signs
/// cancelling most of each position's sum, which magnifies the two networks' rounding of the
/// activations (1e-6 of them; measured 1.1e-5 at level 3, where float64 sums change nothing).
#[test]
fn random_and_seg_eigen_cams_match_pytorch_grad_cam() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let levels = |l: &[i64]| toml::Value::Array(l.iter().map(|&v| toml::Value::Integer(v)).collect());
    let cases: Vec<(&str, Settings, &str)> = vec![
        ("random-cam", vec![("seed", toml::Value::Integer(0))], "random-cam-seed0.levels4"),
        (
            "random-cam",
            vec![("seed", toml::Value::Integer(3)), ("level", levels(&[3, 4]))],
            "random-cam-seed3.levels34",
        ),
        ("seg-eigen-cam", vec![("level", toml::Value::Integer(3))], "seg-eigen-cam.level3"),
        ("seg-eigen-cam", vec![], "seg-eigen-cam.level4"),
    ];
    for (method, settings, tag) in cases {
        let map = explain_first(&registry, method, &common::params(method, &settings), net.as_ref(), &input, &target);
        let tolerance = if method == "random-cam" { 3e-5 } else { 1e-5 };
        assert_matches(&map, &format!("resnet18-seed0.chelsea-224.{tag}.npy"), tolerance);
    }
}

/// The largest difference between two maps of one shape; NaN if either holds one.
fn largest_difference(a: &Array2<f32>, b: &Array2<f32>) -> f32 {
    assert_eq!(a.shape(), b.shape());
    a.iter()
        .zip(b.iter())
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, |m, d| if m.is_nan() || d.is_nan() { f32::NAN } else { m.max(d) })
}

/// Every pixel of `map` within `tolerance` of the fixture `name` (tests/fixtures/grad_cam); a NaN
/// anywhere fails.
fn assert_matches(map: &Array2<f32>, name: &str, tolerance: f32) {
    let fixture = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/grad_cam").join(name);
    let reference = npy::read::<f32>(&fixture)
        .expect("fixture")
        .into_dimensionality::<nas_core::ndarray::Ix2>()
        .expect("a 2-D fixture");
    let err = largest_difference(map, &reference);
    eprintln!("{name}: max abs error {err:.2e}");
    assert!(err <= tolerance, "{name}: max abs error {err}");
}

/// The error a call gave, as text; empty when it succeeded.
fn refusal<T>(result: nas_core::Result<T>) -> String {
    result.err().map(|e| e.to_string()).unwrap_or_default()
}

/// Backbone `name` with `random:0` weights.
fn random_weights(registry: &Registry, name: &str) -> Box<dyn nas_core::Backbone> {
    let params = common::params(name, &[("weights", toml::Value::String("random:0".into()))]);
    registry.backbone(name, &params, &common::context(registry)).expect("backbone")
}

/// The map `method` (with `params`) makes of the first photo of `input` on `net`.
fn explain_first(
    registry: &Registry,
    method: &str,
    params: &Params,
    net: &dyn nas_core::Backbone,
    input: &nas_core::NasTensor<4>,
    target: &[usize],
) -> Array2<f32> {
    registry
        .saliency(method, params, &common::context(registry))
        .expect("method")
        .explain(net, input, target)
        .expect("explain")
        .remove(0)
}
