//! The ViTs in timm's layout against timm 1.0.31 itself (scripts/make_timm_vit_fixture.py):
//! `deit_tiny_patch16_224` (ImageNet normalisation, 3 heads of 64) and `vit_base_patch16_224`
//! (normalised with 0.5, 0.5) with nas's `random:0` weights, given to timm renamed into its
//! layout, on chelsea-224: every logit within 1e-4 of timm's largest, every level's channel
//! means and first 8 channels within 1e-4 of their largest magnitude. And a file in timm's
//! layout (those weights under timm's names, as DeiT's and timm's files name them) loads to the
//! very same network.

mod common;

use nas_core::ndarray::{Array1, Array2, Array3, Ix1, Ix2, Ix4};
use nas_core::upsampled_batch::to_host;
use nas_core::{npy, Registry};
use serde_json::Value;
use std::error::Error;
use std::path::PathBuf;

type TestResult = Result<(), Box<dyn Error>>;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/timm_vit").join(name)
}

/// The largest difference relative to the reference's largest magnitude.
fn relative(ours: &[f32], theirs: &[f32]) -> f32 {
    let largest = theirs.iter().fold(0f32, |m, v| m.max(v.abs()));
    ours.iter().zip(theirs).fold(0f32, |m, (a, b)| m.max((a - b).abs())) / largest
}

/// A network's logits and depth levels `(channels, h, w)` for one photo.
type Outputs = (Vec<f32>, Vec<Array3<f32>>);

/// `name` with `weights`, run on chelsea-224: its logits and levels.
fn run(name: &str, weights: &str) -> Result<Outputs, Box<dyn Error>> {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let mut params = nas_core::Params::empty(name);
    params.set("weights", toml::Value::String(weights.into()));
    let net = registry.backbone(name, &params, &ctx)?;
    let photo = nas_core::Photo::open(&common::shared().join("images/chelsea-224.png"), None)?;
    let input = nas_core::backbone::normalise(&[&photo], net.info(), net.device())?;
    let forward = net.forward(input);
    let levels = forward
        .levels
        .into_iter()
        .map(|level| {
            let [_, c, h, w] = level.dims();
            Ok(Array3::from_shape_vec((c, h, w), to_host(level)?)?)
        })
        .collect::<Result<Vec<_>, Box<dyn Error>>>()?;
    Ok((to_host(forward.logits)?, levels))
}

fn check_against_timm(name: &str) -> TestResult {
    let (logits, levels) = run(name, "random:0")?;
    let theirs = npy::read::<f32>(&fixture(&format!("{name}.logits.npy")))?.into_dimensionality::<Ix1>()?;
    let logit_error = relative(&logits, theirs.as_slice().ok_or("logits")?);
    let means: Array2<f32> = npy::read::<f32>(&fixture(&format!("{name}.level-means.npy")))?.into_dimensionality::<Ix2>()?;
    let first8 = npy::read::<f32>(&fixture(&format!("{name}.level-first8.npy")))?.into_dimensionality::<Ix4>()?;
    let mut level_error = 0f32;
    for (l, level) in levels.iter().enumerate() {
        let (c, h, w) = level.dim();
        let our_means: Array1<f32> = level.to_shape((c, h * w))?.mean_axis(nas_core::ndarray::Axis(1)).ok_or("mean")?;
        level_error = level_error.max(relative(&our_means.to_vec(), &means.row(l).to_vec()));
        let ours8: Vec<f32> = level.slice(nas_core::ndarray::s![..8, .., ..]).iter().copied().collect();
        let theirs8: Vec<f32> = first8.index_axis(nas_core::ndarray::Axis(0), l).iter().copied().collect();
        level_error = level_error.max(relative(&ours8, &theirs8));
    }
    eprintln!("{name} vs timm: logits {logit_error:.1e}, levels {level_error:.1e}");
    assert!(logit_error <= 1e-4 && level_error <= 1e-4, "{name}: {logit_error} {level_error}");
    Ok(())
}

#[test]
fn deit_tiny_matches_timm() -> TestResult {
    check_against_timm("deit_tiny_patch16_224")
}

#[test]
fn timm_vit_base_matches_timm_with_its_normalisation() -> TestResult {
    check_against_timm("vit_base_patch16_224")
}

#[test]
fn a_file_in_timms_layout_loads_the_same_network() -> TestResult {
    let layout: Value = serde_json::from_str(&std::fs::read_to_string(fixture("deit_tiny-timm-layout.json"))?)?;
    let mut tensors: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (timm, entry) in layout.as_object().ok_or("layout")? {
        let torchvision = entry["torchvision"].as_str().ok_or("name")?;
        let shape: Vec<usize> = entry["shape"]
            .as_array()
            .ok_or("shape")?
            .iter()
            .filter_map(Value::as_u64)
            .map(|d| d as usize)
            .collect();
        let values = nas_core::random_weights::values(0, torchvision, &shape);
        tensors.push((timm.clone(), shape, values.iter().flat_map(|v| v.to_le_bytes()).collect()));
    }
    assert!(tensors.iter().any(|(k, _, _)| k == "blocks.11.attn.qkv.weight"), "timm's names");
    let views = tensors
        .iter()
        .map(|(k, shape, bytes)| {
            Ok((
                k.as_str(),
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)?,
            ))
        })
        .collect::<Result<Vec<_>, Box<dyn Error>>>()?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("deit_tiny_patch16_224-timm.safetensors");
    std::fs::write(&path, safetensors::tensor::serialize(views, None)?)?;
    let (from_file, _) = run("deit_tiny_patch16_224", &path.display().to_string())?;
    let (drawn, _) = run("deit_tiny_patch16_224", "random:0")?;
    assert_eq!(from_file, drawn, "the same logits");
    Ok(())
}
