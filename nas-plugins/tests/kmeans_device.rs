//! k-means on the tensor device (the batched path GPUs take) finds the same clusters as the host
//! version, image by image, on real ResNet-18 activations of two photos batched together. Run
//! here on the CPU backend; `scripts/gpu-check.sh` repeats the comparison on a GPU.

mod common;

use nas_core::burn::tensor::TensorData;
use nas_core::upsampled::{ImplicitScaling, UpsampledFeatures};
use nas_core::upsampled_batch::UpsampledBatch;
use nas_core::{npy, NasTensor};
use nas_plugins::clusterers::kmeans_batch;

const IMAGES: [&str; 2] = ["chelsea-224", "coffee-224"];

/// One image's levels as the host version takes them.
type HostLevels = Vec<(usize, usize, usize, Vec<f32>)>;

/// Levels 2..4 of both photos: per image for the host, stacked into `(2, C, h, w)` for the device.
fn levels() -> (Vec<HostLevels>, Vec<NasTensor<4>>) {
    let dir = common::shared().join("reference/resnet18-seed0");
    let mut per_image = vec![Vec::new(); IMAGES.len()];
    let mut stacked = Vec::new();
    for l in 2..5 {
        let mut all = Vec::new();
        let mut shape = [0; 3];
        for (image, levels) in IMAGES.iter().zip(&mut per_image) {
            let a = npy::read::<f32>(&dir.join(format!("{image}.level{l}.npy"))).unwrap();
            let s = a.shape().to_vec();
            shape = [s[0], s[1], s[2]];
            let v: Vec<f32> = a.iter().copied().collect();
            all.extend_from_slice(&v);
            levels.push((s[0], s[1], s[2], v));
        }
        let [c, h, w] = shape;
        stacked.push(NasTensor::<4>::from_data(
            TensorData::new(all, [IMAGES.len(), c, h, w]),
            &nas_core::device::default_device(),
        ));
    }
    (per_image, stacked)
}

#[test]
fn device_kmeans_equals_host_kmeans_image_by_image() {
    let grid = [112, 112];
    let (per_image, stacked) = levels();
    let weights: Vec<f32> = per_image[0].iter().map(|(c, ..)| 1.0 / (*c as f32).sqrt()).collect();
    let batch = UpsampledBatch::new(stacked, grid, ImplicitScaling::Standardize, &weights).unwrap();
    let host: Vec<UpsampledFeatures> = per_image
        .into_iter()
        .map(|levels| UpsampledFeatures::new(levels, grid, ImplicitScaling::Standardize, &weights))
        .collect();
    for (k, n_init) in [(3, 1), (5, 1), (8, 2)] {
        let device = kmeans_batch::cluster_batch(&batch, k, 7, n_init, 300, 1e-4).unwrap();
        let mut params = nas_core::Params::empty("kmeans");
        params.set_from_str("n_init", &n_init.to_string());
        params.set_from_str("seed", "7");
        for (image, (features, labels)) in host.iter().zip(&device).enumerate() {
            let expected = nas_plugins::clusterers::kmeans::KMeans::from_params(&params)
                .unwrap()
                .cluster_upsampled(features, k);
            let ari = nas_cluster::adjusted_rand_index(labels, &expected).unwrap();
            assert!(
                ari > 0.999,
                "k = {k}, n_init = {n_init}, image {image}: ARI {ari} between device and host k-means"
            );
            assert!(labels.iter().all(|l| (*l as usize) < k));
        }
    }
}

#[test]
fn device_kmeans_refuses_k_above_the_pixel_count() {
    let (_, stacked) = levels();
    let batch = UpsampledBatch::new(stacked, [4, 4], ImplicitScaling::Standardize, &[1.0, 1.0, 1.0]).unwrap();
    let err = kmeans_batch::cluster_batch(&batch, 17, 0, 1, 10, 1e-4).unwrap_err().to_string();
    assert!(err.contains("17") && err.contains("16"), "{err}");
}

#[test]
fn device_kmeans_handles_empty_clusters_as_the_host_does() {
    // Blank photos: every pixel has the same features, so k-means++ picks one centre k times and
    // all but one cluster start empty; both versions re-seed them the same way.
    let (c, h, w) = (4, 3, 3);
    let levels = vec![(c, h, w, vec![0.5f32; c * h * w])];
    let stacked = vec![NasTensor::<4>::from_data(
        TensorData::new(vec![0.5f32; 2 * c * h * w], [2, c, h, w]),
        &nas_core::device::default_device(),
    )];
    let grid = [6, 6];
    let batch = UpsampledBatch::new(stacked, grid, ImplicitScaling::Standardize, &[1.0]).unwrap();
    let host = UpsampledFeatures::new(levels, grid, ImplicitScaling::Standardize, &[1.0]);
    let mut params = nas_core::Params::empty("kmeans");
    params.set_from_str("seed", "3");
    let expected = nas_plugins::clusterers::kmeans::KMeans::from_params(&params)
        .unwrap()
        .cluster_upsampled(&host, 3);
    for labels in kmeans_batch::cluster_batch(&batch, 3, 3, 1, 300, 1e-4).unwrap() {
        assert_eq!(labels, expected);
    }
}
