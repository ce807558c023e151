//! Adjusted Rand index against scikit-learn's `adjusted_rand_score` values.

mod common;

use nas_cluster::{adjusted_rand_index, mean_pairwise_ari};
use serde_json::Value;

fn labels(v: &Value) -> Vec<u32> {
    match v {
        Value::String(file) => common::load_labels(file),
        Value::Array(a) => a.iter().map(|x| x.as_u64().expect("label") as u32).collect(),
        other => panic!("unexpected label entry {other}"),
    }
}

#[test]
fn equals_scikit_learn() {
    let manifest = common::manifest();
    let entries = manifest["ari"].as_array().expect("ari entries");
    assert!(entries.len() > 20);
    for e in entries {
        let (a, b) = (labels(&e["a"]), labels(&e["b"]));
        let expected = e["value"].as_f64().expect("value");
        let ours = adjusted_rand_index(&a, &b).expect("ari");
        assert!((ours - expected).abs() <= 1e-12, "{} vs {}: {ours} != {expected}", e["a"], e["b"]);
        // Symmetric.
        assert!((adjusted_rand_index(&b, &a).expect("ari") - ours).abs() <= 1e-12);
    }
}

#[test]
fn mean_pairwise_is_the_average_of_pairs() {
    let runs = vec![vec![0, 0, 1, 1, 2], vec![1, 1, 0, 0, 2], vec![0, 1, 0, 1, 0]];
    let pairs = [
        adjusted_rand_index(&runs[0], &runs[1]).expect("ari"),
        adjusted_rand_index(&runs[0], &runs[2]).expect("ari"),
        adjusted_rand_index(&runs[1], &runs[2]).expect("ari"),
    ];
    let mean = mean_pairwise_ari(&runs).expect("mean");
    assert!((mean - pairs.iter().sum::<f64>() / 3.0).abs() < 1e-15);
    assert_eq!(pairs[0], 1.0);
}
