//! The `quickshift` segmenter against scikit-image 0.26's `quickshift` with the LIME package's
//! settings (ratio 0.2, kernel_size 4, max_dist 200) on chelsea-224 and astronaut-224, the
//! labels nas-superpixels is tested on (nas-superpixels/scripts/make_quickshift_fixtures.py):
//! the segmenter draws its tie-breaking noise from NumPy's legacy RandomState, scikit-image 0.26
//! from a PCG64 generator, and on these photos no density ties within that noise, so the
//! superpixels are the same. Also: LIME runs over them.

mod common;

use nas_core::ndarray::Ix2;
use nas_core::{npy, Registry};
use std::error::Error;
use std::io::Read;

type TestResult = Result<(), Box<dyn Error>>;

/// scikit-image's labels of `photo` with LIME's settings.
fn scikit_image_labels(photo: &str) -> Result<nas_core::ndarray::Array2<u32>, Box<dyn Error>> {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../nas-superpixels/tests/fixtures/quickshift/{photo}__lime.npy.gz"));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&path)?).read_to_end(&mut bytes)?;
    Ok(npy::decode::<u16>(&bytes)?.into_dimensionality::<Ix2>()?.mapv(u32::from))
}

fn lime_settings() -> Vec<(&'static str, toml::Value)> {
    vec![
        ("ratio", toml::Value::Float(0.2)),
        ("kernel_size", toml::Value::Float(4.0)),
        ("max_dist", toml::Value::Float(200.0)),
    ]
}

#[test]
fn lime_settings_give_scikit_images_superpixels() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let segmenter = registry.segmenter("quickshift", &common::params("quickshift", &lime_settings()), &ctx)?;
    for photo in ["chelsea-224", "astronaut-224"] {
        let image = nas_core::Photo::open(&common::shared().join(format!("images/{photo}.png")), None)?;
        let ours = segmenter
            .segment(
                &nas_core::Batch {
                    photos: vec![&image],
                    input: None,
                },
                None,
            )?
            .remove(0);
        let theirs = scikit_image_labels(photo)?;
        // The same partition (the numbering differs: nas numbers superpixels by first appearance).
        let ari = nas_superpixels::adjusted_rand_index(ours.labels.view(), theirs.view())?;
        let segments = (ours.cluster_of.len(), theirs.iter().max().map_or(0, |m| *m as usize + 1));
        eprintln!("{photo}: ARI {ari}, segments {segments:?}");
        assert!(
            ari >= 1.0 - 1e-12 && segments.0 == segments.1,
            "{photo}: ARI {ari}, segments {segments:?}"
        );
    }
    Ok(())
}

#[test]
fn lime_explains_over_quickshift_superpixels() -> TestResult {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    let (net, input, target) = common::on_chelsea(&registry, &ctx, "resnet18", "weights/resnet18-seed0.pth");
    let mut segmentation = toml::map::Map::new();
    segmentation.insert("name".into(), toml::Value::String("quickshift".into()));
    for (key, value) in lime_settings() {
        segmentation.insert(key.into(), value);
    }
    let params = common::params(
        "lime",
        &[
            ("segmentation", toml::Value::Table(segmentation)),
            ("samples", toml::Value::Integer(40)),
        ],
    );
    let photo = nas_core::Photo::open(&common::shared().join("images/chelsea-224.png"), None)?;
    let map = registry
        .saliency("lime", &params, &ctx)?
        .explain_photos(net.as_ref(), &input, &target, &[&photo])?
        .remove(0);
    // One coefficient per superpixel: the map is constant on each of scikit-image's segments.
    let theirs = scikit_image_labels("chelsea-224")?;
    let mut value_of = std::collections::HashMap::new();
    for (label, value) in theirs.iter().zip(map.iter()) {
        let first = *value_of.entry(*label).or_insert(*value);
        assert_eq!(first, *value, "segment {label} holds two values");
    }
    assert!(map.iter().any(|&v| v != 0.0), "LIME gave no attribution");
    Ok(())
}
