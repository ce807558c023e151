//! Connected components (superpixels) on a handcrafted map and on real k-means label maps.

mod common;

use nas_cluster::{connected_components, connected_components_with, Connectivity};
use ndarray::{array, Array2};

#[test]
fn handcrafted_map() {
    // Cluster 1 forms a ring broken on a diagonal, cluster 2 two diagonal-touching pixels.
    let labels = array![[1u32, 1, 1, 0, 2], [1, 0, 1, 2, 0], [1, 1, 0, 0, 0], [0, 0, 1, 3, 3],];
    let (ids, clusters) = connected_components(labels.view());
    let expected = array![[0u32, 0, 0, 1, 2], [0, 3, 0, 4, 5], [0, 0, 5, 5, 5], [6, 6, 7, 8, 8],];
    assert_eq!(ids, expected);
    assert_eq!(clusters, vec![1, 0, 2, 0, 2, 0, 0, 1, 3]);

    let (ids8, clusters8) = connected_components_with(labels.view(), Connectivity::Eight);
    let expected8 = array![[0u32, 0, 0, 1, 2], [0, 1, 0, 2, 1], [0, 0, 1, 1, 1], [1, 1, 0, 3, 3],];
    assert_eq!(ids8, expected8);
    assert_eq!(clusters8, vec![1, 0, 2, 3]);
}

#[test]
fn degenerate_maps() {
    let (ids, clusters) = connected_components(Array2::<u32>::zeros((0, 7)).view());
    assert_eq!(ids.dim(), (0, 7));
    assert!(clusters.is_empty());
    let (ids, clusters) = connected_components(Array2::<u32>::from_elem((3, 4), 9).view());
    assert_eq!(ids, Array2::<u32>::zeros((3, 4)));
    assert_eq!(clusters, vec![9]);
    let stripes = Array2::from_shape_fn((1, 6), |(_, x)| (x % 2) as u32);
    let (ids, clusters) = connected_components(stripes.view());
    assert_eq!(ids.row(0).to_vec(), vec![0, 1, 2, 3, 4, 5]);
    assert_eq!(clusters, vec![0, 1, 0, 1, 0, 1]);
}

#[test]
fn real_label_maps_match_scipy() {
    let manifest = common::manifest();
    let entries = manifest["components"].as_array().expect("components entries");
    assert!(!entries.is_empty());
    for e in entries {
        let shape: Vec<usize> = e["shape"]
            .as_array()
            .expect("shape")
            .iter()
            .map(|v| v.as_u64().expect("dim") as usize)
            .collect();
        let labels = common::load_labels(e["labels"].as_str().expect("labels"));
        let map = Array2::from_shape_vec((shape[0], shape[1]), labels).expect("shape");
        let conn = match e["connectivity"].as_u64() {
            Some(8) => Connectivity::Eight,
            _ => Connectivity::Four,
        };
        let (ids, clusters) = connected_components_with(map.view(), conn);
        let expected = common::load_map_u16(e["components"].as_str().expect("components"));
        let expected_clusters: Vec<u32> = e["clusters"]
            .as_array()
            .expect("clusters")
            .iter()
            .map(|v| v.as_u64().expect("c") as u32)
            .collect();
        println!("{} {:?}: {} superpixels", e["labels"], conn, clusters.len());
        assert_eq!(ids, expected, "{} {conn:?}", e["labels"]);
        assert_eq!(clusters, expected_clusters);
        // Every pixel's cluster is its superpixel's cluster.
        for (id, l) in ids.iter().zip(map.iter()) {
            assert_eq!(clusters[*id as usize], *l);
        }
    }
}
