//! Ward linkage on real activation matrices against scikit-learn's fixtures.

mod common;

use nas_cluster::{adjusted_rand_index, is_nested, ward, ClusterError, WARD_DEFAULT_MAX_SAMPLES};
use ndarray::Array2;
use std::collections::BTreeMap;

#[test]
fn equals_scikit_learn_up_to_permutation() {
    let manifest = common::manifest();
    // Group the fixture cuts by dataset: one tree per dataset, cut at all its K.
    let mut by_dataset: BTreeMap<String, Vec<(usize, String)>> = BTreeMap::new();
    for e in manifest["ward"].as_array().expect("ward entries") {
        by_dataset
            .entry(e["dataset"].as_str().expect("dataset").to_string())
            .or_default()
            .push((
                e["k"].as_u64().expect("k") as usize,
                e["labels"].as_str().expect("labels").to_string(),
            ));
    }
    for (name, cuts) in &by_dataset {
        let x = common::dataset(name);
        let ks: Vec<usize> = cuts.iter().map(|c| c.0).collect();
        let ours = ward(x.view(), &ks, WARD_DEFAULT_MAX_SAMPLES).expect("ward");
        for ((k, file), labels) in cuts.iter().zip(&ours) {
            let sk = common::load_labels(file);
            let ari = adjusted_rand_index(labels, &sk).expect("ari");
            println!("{name} k={k}: ARI {ari}");
            assert_eq!(ari, 1.0, "{name} k={k}");
            assert_eq!(labels.iter().max().map(|&m| m as usize + 1), Some(*k));
        }
        // Cuts of one tree are nested, coarse to fine.
        let mut order: Vec<usize> = (0..ks.len()).collect();
        order.sort_by_key(|&i| ks[i]);
        for w in order.windows(2) {
            assert!(is_nested(&ours[w[0]], &ours[w[1]]), "{name}: K={} inside K={}", ks[w[1]], ks[w[0]]);
        }
    }
}

#[test]
fn deterministic_and_order_of_ks_free() {
    let x = common::dataset("r18-chelsea-l2");
    let a = ward(x.view(), &[12, 2, 5], 1000).expect("ward");
    let b = ward(x.view(), &[5, 12, 2], 1000).expect("ward");
    assert_eq!(a[0], b[1]);
    assert_eq!(a[1], b[2]);
    assert_eq!(a[2], b[0]);
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
    let c = pool.install(|| ward(x.view(), &[12, 2, 5], 1000)).expect("ward");
    assert_eq!(a, c);
}

#[test]
fn nestedness_check_rejects_crossing_partitions() {
    assert!(is_nested(&[0, 0, 1, 1], &[0, 1, 2, 3]));
    assert!(is_nested(&[0, 0, 1, 1], &[5, 5, 7, 7]));
    assert!(!is_nested(&[0, 0, 1, 1], &[0, 1, 1, 2]));
    assert!(!is_nested(&[0, 0], &[0, 0, 0]));
}

#[test]
fn refuses_too_many_pixels_and_bad_k() {
    let x = Array2::<f32>::zeros((50176, 2));
    let err = ward(x.view(), &[5], WARD_DEFAULT_MAX_SAMPLES).unwrap_err();
    let msg = err.to_string();
    assert!(matches!(
        err,
        ClusterError::TooManySamples {
            n: 50176,
            max_samples: 16384,
            ..
        }
    ));
    assert!(
        msg.contains("max_samples = 16384") && msg.contains("GiB") && msg.contains("smaller output grid"),
        "{msg}"
    );
    assert!(msg.contains("9.38 GiB"), "{msg}");
    let small = Array2::<f32>::zeros((10, 2));
    assert_eq!(ward(small.view(), &[0], 100).unwrap_err(), ClusterError::ZeroClusters);
    assert!(matches!(
        ward(small.view(), &[11], 100),
        Err(ClusterError::TooManyClusters { k: 11, n: 10 })
    ));
    let mut nan = Array2::<f32>::zeros((10, 2));
    nan[[4, 1]] = f32::INFINITY;
    assert!(matches!(
        ward(nan.view(), &[2], 100),
        Err(ClusterError::NonFinite { row: 4, col: 1, .. })
    ));
    assert!(ward(Array2::<f32>::zeros((0, 2)).view(), &[1], 100).is_err());
    assert_eq!(ward(small.view(), &[], 100).expect("no cut"), Vec::<Vec<u32>>::new());
}
