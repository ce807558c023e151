//! Test support: where the shared reference data lives, and array comparison.
#![allow(dead_code)]

use std::path::PathBuf;

/// Map `case` of the max-box-acc fixture's cases.json (19 real maps of chelsea-224): its file,
/// relative to `tests/fixtures`, with its transform (`"none"` or `"abs"`) applied.
pub fn fixture_case_map(case: &serde_json::Value) -> nas_core::ndarray::Array2<f32> {
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let map = nas_core::npy::read::<f32>(&fixtures.join(case["map"].as_str().expect("map path")))
        .expect("map")
        .into_dimensionality::<nas_core::ndarray::Ix2>()
        .expect("2-D map");
    match case["transform"].as_str() {
        Some("abs") => map.mapv(f32::abs),
        Some("none") => map,
        other => panic!("unknown transform {other:?}"),
    }
}

/// The shared folder: `$NAS_SHARED`, else `../shared` beside the repository, else `/work/shared`.
pub fn shared() -> PathBuf {
    let candidates = [
        std::env::var_os("NAS_SHARED").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared")),
        Some(PathBuf::from("/work/shared")),
    ];
    for c in candidates.into_iter().flatten() {
        if c.join("reference").is_dir() {
            return c;
        }
    }
    panic!("the shared reference folder was not found: set NAS_SHARED to the folder holding reference/, images/ and weights/");
}

/// max|a - b| / max|b|: the parity measure of DESIGN.md.
pub fn relative_error(ours: &[f32], reference: &[f32]) -> f32 {
    assert_eq!(ours.len(), reference.len(), "length mismatch");
    let max_ref = reference.iter().fold(0f32, |m, v| m.max(v.abs()));
    let max_diff = ours.iter().zip(reference).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    max_diff / max_ref.max(f32::MIN_POSITIVE)
}

/// The 99th percentile and the largest of the pixels' errors |a - b| / max|b|: for maps whose
/// few pixels near a kink may differ between frameworks.
pub fn relative_error_p99_max(ours: &[f32], reference: &[f32]) -> (f32, f32) {
    assert_eq!(ours.len(), reference.len(), "length mismatch");
    let largest = reference.iter().fold(0f32, |m, v| m.max(v.abs())).max(f32::MIN_POSITIVE);
    let mut errors: Vec<f32> = ours.iter().zip(reference).map(|(a, b)| (a - b).abs() / largest).collect();
    errors.sort_by(f32::total_cmp);
    match errors.last() {
        Some(&max) => (errors[errors.len() * 99 / 100], max),
        None => (0.0, 0.0),
    }
}

/// A context on the default device with the built-in `registry` and a temporary cache folder.
pub fn context(registry: &nas_core::Registry) -> nas_core::Context<'_> {
    nas_core::Context {
        registry,
        device: nas_core::device::default_device(),
        cache_dir: std::env::temp_dir(),
    }
}

/// Backbone `name` with the shared weight file `weights` (relative to the shared folder), the
/// shared chelsea-224 photo normalised for it, and the class it predicts.
pub fn on_chelsea(
    registry: &nas_core::Registry,
    ctx: &nas_core::Context<'_>,
    name: &str,
    weights: &str,
) -> (Box<dyn nas_core::Backbone>, nas_core::NasTensor<4>, Vec<usize>) {
    let shared = shared();
    let mut params = nas_core::Params::empty(name);
    params.set("weights", toml::Value::String(shared.join(weights).display().to_string()));
    let net = registry.backbone(name, &params, ctx).expect("backbone");
    let photo = nas_core::Photo::open(&shared.join("images/chelsea-224.png"), None).expect("photo");
    let input = nas_core::backbone::normalise(&[&photo], net.info(), net.device()).expect("input");
    let target = nas_core::backbone::predicted_classes(&net.forward(input.clone()).logits).expect("target");
    (net, input, target)
}

/// Parameters of component `name` with the given settings.
pub fn params(name: &str, settings: &[(&str, toml::Value)]) -> nas_core::Params {
    let mut params = nas_core::Params::empty(name);
    for (key, value) in settings {
        params.set(key, value.clone());
    }
    params
}

/// The weights of `arch`, or `None` (after a loud message) when they are not there.
pub fn parity_weights(arch: &str) -> Option<PathBuf> {
    let hint = "make them with `NAS_PARITY_WEIGHTS=DIR scripts/make_parity_fixtures.sh` (docs/parity.md)";
    let Some(dir) = std::env::var_os("NAS_PARITY_WEIGHTS") else {
        eprintln!("SKIPPED: set NAS_PARITY_WEIGHTS to the folder holding {arch}-seed0.pth to run the {arch} parity test; {hint}");
        return None;
    };
    let path = PathBuf::from(dir).join(format!("{arch}-seed0.pth"));
    if !path.exists() {
        eprintln!("SKIPPED: {} not found (NAS_PARITY_WEIGHTS); {hint}", path.display());
        return None;
    }
    Some(path)
}

/// How close a map must be to its reference: the largest error relative to the reference's
/// largest magnitude, and the share of pixels allowed beyond 1e-4 of it.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    /// Largest relative error.
    pub largest: f32,
    /// Share of pixels allowed beyond 1e-4.
    pub share: f64,
}

/// Asserts that `ours` is within `tolerance` of `theirs`, printing both measures under `label`.
pub fn assert_map_close(label: &str, ours: &[f32], theirs: &[f32], tolerance: Tolerance) {
    let error = relative_error(ours, theirs);
    let largest = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
    let off = ours.iter().zip(theirs).filter(|(a, b)| (*a - *b).abs() > 1e-4 * largest).count() as f64 / theirs.len().max(1) as f64;
    eprintln!("{label}: relative error {error:.2e}, {:.3}% of pixels beyond 1e-4", 100.0 * off);
    assert!(error <= tolerance.largest, "{label}: relative error {error}");
    assert!(off <= tolerance.share, "{label}: {off} of the pixels beyond 1e-4");
}

/// No true class and no boxes: the annotation of a photo outside an annotated dataset.
pub static NO_ANNOTATION: nas_core::Annotation = nas_core::Annotation {
    label: None,
    boxes: Vec::new(),
    boxes_cropped_away: 0,
    mask: None,
};

/// A metric's input for one photo `(1, 3, h, w)`, its map and target, without annotation.
pub fn metric_input<'a>(
    backbone: &'a dyn nas_core::Backbone,
    input: &'a nas_core::NasTensor<4>,
    saliency: &'a nas_core::ndarray::Array2<f32>,
    target: usize,
) -> nas_core::MetricInput<'a> {
    nas_core::MetricInput {
        backbone,
        input,
        saliency,
        segmentation: None,
        target,
        annotation: &NO_ANNOTATION,
    }
}

/// What a pipeline hands robustness metrics: `method`'s maps for variants of a photo and a class.
pub fn remaking<'a>(
    method: &'a dyn nas_core::Saliency,
    backbone: &'a dyn nas_core::Backbone,
) -> impl Fn(&nas_core::NasTensor<4>, usize) -> nas_core::Result<Vec<nas_core::ndarray::Array2<f32>>> + 'a {
    move |variants, class| method.explain(backbone, variants, &vec![class; variants.dims()[0]])
}

/// The error `method` (default parameters) gives on `vit_b_16` with `random:0` weights, a
/// backbone without its own backward pass; empty when it does not refuse.
pub fn refusal_on_vit(registry: &nas_core::Registry, method: &str) -> String {
    let ctx = context(registry);
    let net = registry
        .backbone(
            "vit_b_16",
            &params("vit_b_16", &[("weights", toml::Value::String("random:0".into()))]),
            &ctx,
        )
        .expect("vit_b_16");
    let photo = nas_core::Photo::open(&shared().join("images/chelsea-224.png"), None).expect("photo");
    let input = nas_core::backbone::normalise(&[&photo], net.info(), net.device()).expect("input");
    registry
        .saliency(method, &nas_core::Params::empty(method), &ctx)
        .expect("method")
        .explain(net.as_ref(), &input, &[0])
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default()
}

/// The top-left `width x height` corner of the shared photo `name` (e.g. "chelsea-224").
pub fn cropped_photo(name: &str, width: u32, height: u32) -> nas_core::Photo {
    let path = shared().join(format!("images/{name}.png"));
    let photo = nas_core::Photo::open(&path, None).expect("photo");
    let corner = image::imageops::crop_imm(&photo.to_rgb8(), 0, 0, width, height).to_image();
    nas_core::Photo::from_rgb8(&path, &corner)
}

/// A layer map repeated over the photo's `size x size` pixels, cell by cell: what nearest
/// resizing gives at whole factors.
pub fn repeated(layer: &nas_core::ndarray::Array2<f32>, size: usize) -> Vec<f32> {
    let (h, w) = layer.dim();
    (0..size)
        .flat_map(|y| (0..size).map(move |x| layer[[y * h / size, x * w / size]]))
        .collect()
}

/// Asserts that `method` (default parameters) explains a batch of `photos` as it explains each
/// photo alone, on `net`, each photo for its own predicted class; `tolerance` relative to the
/// largest value of each map.
pub fn assert_batch_equals_singles(
    registry: &nas_core::Registry,
    net: &dyn nas_core::Backbone,
    method: &str,
    photos: &[&nas_core::Photo],
    tolerance: f32,
) {
    let ctx = context(registry);
    let saliency = registry.saliency(method, &nas_core::Params::empty(method), &ctx).expect("method");
    let input = nas_core::backbone::normalise(photos, net.info(), net.device()).expect("input");
    let targets = nas_core::backbone::predicted_classes(&net.forward(input.clone()).logits).expect("targets");
    let together = saliency.explain(net, &input, &targets).expect("batch");
    for (i, photo) in photos.iter().enumerate() {
        let alone_input = nas_core::backbone::normalise(&[*photo], net.info(), net.device()).expect("input");
        let alone = saliency.explain(net, &alone_input, &targets[i..i + 1]).expect("single").remove(0);
        let ours: Vec<f32> = together[i].iter().copied().collect();
        let single: Vec<f32> = alone.iter().copied().collect();
        let error = relative_error(&ours, &single);
        eprintln!(
            "{method} on {}: photo {i} of the batch is {error:.1e} from its own run",
            net.info().name
        );
        assert!(error <= tolerance, "{method}: photo {i} of the batch is {error} from its own run");
    }
}

/// ViT-B/16 with nas's `random:0` weights and the shared chelsea-224 photo normalised for it:
/// what the attention methods' references were made from.
pub fn vit_b_16_on_chelsea() -> (Box<dyn nas_core::Backbone>, nas_core::NasTensor<4>) {
    nas_plugins::link();
    let net = nas_plugins::backbones::load("vit_b_16", std::path::Path::new("random:0"), nas_core::device::default_device()).expect("vit");
    let photo = nas_core::Photo::open(&shared().join("images/chelsea-224.png"), None).expect("photo");
    let input = nas_core::backbone::normalise(&[&photo], net.info(), net.device()).expect("input");
    (net, input)
}

/// `method`'s maps of `input` on `net` for classes 281 and 417 are each within `tolerance` of
/// every pixel of `tests/fixtures/{folder}/vit_b_16-random0.chelsea-224.{class}.npy`, and differ
/// from each other: the class-specific attention methods' reference check.
pub fn assert_class_maps_match(method: &str, net: &dyn nas_core::Backbone, input: &nas_core::NasTensor<4>, folder: &str, tolerance: f32) {
    let registry = nas_core::Registry::builtin();
    let ctx = context(&registry);
    let saliency = registry.saliency(method, &params(method, &[]), &ctx).expect("method");
    let mut maps = Vec::new();
    for target in [281, 417] {
        let map = saliency.explain(net, input, &[target]).expect("map").remove(0);
        assert_eq!(map.dim(), (224, 224));
        let ours: Vec<f32> = map.iter().copied().collect();
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("tests/fixtures/{folder}/vit_b_16-random0.chelsea-224.{target}.npy"));
        let reference = nas_core::npy::read::<f32>(&path).expect("fixture");
        let worst = ours.iter().zip(reference.iter()).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        eprintln!("{method} (class {target}): worst pixel {worst:.2e} from the reference");
        assert!(worst <= tolerance, "{method}, class {target}: {worst}");
        maps.push(ours);
    }
    let apart = maps[0].iter().zip(&maps[1]).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
    assert!(apart > 0.1, "{method}: the map depends on the class ({apart})");
}

/// A method that reads a ViT's attention explains a batch of two photos as each alone (on
/// ViT-B/32, within `tolerance`) and refuses a CNN with an error naming it.
pub fn assert_attention_method_batches_and_refuses_cnns(method: &str, tolerance: f32) {
    nas_plugins::link();
    let registry = nas_core::Registry::builtin();
    let device = nas_core::device::default_device();
    let net = nas_plugins::backbones::load("vit_b_32", std::path::Path::new("random:0"), device.clone()).expect("vit");
    let photos = [cropped_photo("chelsea", 224, 224), cropped_photo("coffee", 224, 224)];
    assert_batch_equals_singles(&registry, net.as_ref(), method, &[&photos[0], &photos[1]], tolerance);
    let ctx = context(&registry);
    let saliency = registry.saliency(method, &params(method, &[]), &ctx).expect("method");
    let cnn = nas_plugins::backbones::load("resnet18", std::path::Path::new("random:0"), device).expect("cnn");
    let input = nas_core::backbone::normalise(&[&photos[0]], cnn.info(), cnn.device()).expect("input");
    let refused = saliency.explain(cnn.as_ref(), &input, &[0]).expect_err("a CNN").to_string();
    assert!(refused.contains("resnet18") && refused.contains("vision transformer"), "{refused}");
}

/// The `level` and `neuron` (or `channel`) parameters of a neuron method from a fixture case of
/// the neuron scripts (`level`, and `neuron` as `[channel, y, x]` or null with `channel`).
pub fn neuron_params(case: &serde_json::Value) -> Result<Vec<(&'static str, toml::Value)>, String> {
    let level = case["level"].as_i64().ok_or("the case has no level")?;
    let unit = match case["neuron"].as_array() {
        Some(unit) => (
            "neuron",
            toml::Value::Array(unit.iter().filter_map(|v| v.as_i64()).map(toml::Value::Integer).collect()),
        ),
        None => (
            "channel",
            toml::Value::Integer(case["channel"].as_i64().ok_or("the case has neither neuron nor channel")?),
        ),
    };
    Ok(vec![("level", toml::Value::Integer(level)), unit])
}
