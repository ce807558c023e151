//! The class-wise clustering against scikit-learn (scripts/make_classwise_fixture.py) on real
//! NAS features (ResNet18 level 4 of real photos, written by `nas classwise`): Ward's partition
//! equals AgglomerativeClustering(linkage="ward"), and the 5-neighbour vote equals
//! KNeighborsClassifier on every query pixel.

use nas_core::ndarray::Ix2;
use nas_core::npy;
use nas_plugins::classwise::ClassClustering;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/classwise").join(name)
}

fn model() -> ClassClustering {
    ClassClustering::load(&fixture("model.safetensors")).expect("fixture")
}

#[test]
fn ward_partition_equals_scikit_learn() {
    let model = model();
    assert_eq!((model.points.nrows(), model.clusters), (48, 4));
    let refit = ClassClustering::fit(model.points.clone(), 4, String::new()).expect("fit");
    assert_eq!(refit.labels, model.labels, "the fit is deterministic");
    let sklearn: Vec<u32> = npy::read::<i64>(&fixture("sklearn_ward.npy"))
        .expect("fixture")
        .iter()
        .map(|&l| l as u32)
        .collect();
    let ari = nas_cluster::adjusted_rand_index(&refit.labels, &sklearn).expect("ari");
    assert!((ari - 1.0).abs() < 1e-12, "ARI with scikit-learn's Ward: {ari}");
}

#[test]
fn neighbour_vote_equals_scikit_learn() {
    let model = model();
    let queries = npy::read::<f32>(&fixture("queries.npy"))
        .expect("fixture")
        .into_dimensionality::<Ix2>()
        .expect("2-D");
    let expected: Vec<u32> = npy::read::<i64>(&fixture("sklearn_knn.npy"))
        .expect("fixture")
        .iter()
        .map(|&l| l as u32)
        .collect();
    assert_eq!(model.assign(queries.view(), 5).expect("assign"), expected);
    assert_eq!(
        model.assign(model.points.view(), 1).expect("assign"),
        model.labels,
        "each point is its own nearest"
    );
    let narrow = queries.slice(nas_core::ndarray::s![.., ..10]);
    let err = model.assign(narrow, 5).expect_err("dimension mismatch").to_string();
    assert!(err.contains("10 features") && err.contains("512"), "{err}");
}
