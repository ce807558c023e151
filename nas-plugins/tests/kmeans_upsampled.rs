//! k-means on NAS's implicitly upsampled features finds clusterings as good as k-means on the
//! dense matrix (nas-cluster, itself checked against scikit-learn), on real ResNet-18 activations.

mod common;

use nas_core::ndarray::Array2;
use nas_core::upsampled::{BoundedAssignment, ClusterSums, ImplicitScaling, UpsampledFeatures};
use nas_core::{npy, Features, Params, Registry};

fn features(image: &str, grid: usize) -> UpsampledFeatures {
    let dir = common::shared().join("reference/resnet18-seed0");
    let levels: Vec<_> = (2..5)
        .map(|l| {
            let a = npy::read::<f32>(&dir.join(format!("{image}.level{l}.npy"))).unwrap();
            let s = a.shape().to_vec();
            (s[0], s[1], s[2], a.iter().copied().collect::<Vec<f32>>())
        })
        .collect();
    let weights: Vec<f32> = levels.iter().map(|(c, ..)| 1.0 / (*c as f32).sqrt()).collect();
    UpsampledFeatures::new(levels, [grid, grid], ImplicitScaling::Standardize, &weights)
}

fn inertia(dense: &Array2<f32>, labels: &[u32], k: usize) -> f64 {
    let d = dense.ncols();
    let mut sums = vec![vec![0f64; d]; k];
    let mut counts = vec![0usize; k];
    for (row, &l) in dense.rows().into_iter().zip(labels) {
        counts[l as usize] += 1;
        for (s, v) in sums[l as usize].iter_mut().zip(row) {
            *s += f64::from(*v);
        }
    }
    dense
        .rows()
        .into_iter()
        .zip(labels)
        .map(|(row, &l)| {
            row.iter()
                .zip(&sums[l as usize])
                .map(|(v, s)| (f64::from(*v) - s / counts[l as usize] as f64).powi(2))
                .sum::<f64>()
        })
        .sum()
}

#[test]
fn implicit_kmeans_matches_dense_kmeans() {
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = common::context(&registry);
    for image in ["chelsea-224", "coffee-224"] {
        let f = features(image, 64);
        let dense = f.dense();
        for k in [3, 5, 8] {
            let mut params = Params::empty("kmeans");
            params.set_from_str("n_init", "3");
            let kmeans = registry.clusterer("kmeans", &params, &ctx).unwrap();
            let implicit = kmeans.cluster(&Features::Upsampled(&f), k).unwrap();
            let again = kmeans.cluster(&Features::Upsampled(&f), k).unwrap();
            assert_eq!(implicit, again, "same seed, same labels");
            let explicit = kmeans.cluster(&Features::Dense(dense.view()), k).unwrap();
            let (a, b) = (inertia(&dense, &implicit, k), inertia(&dense, &explicit, k));
            eprintln!("{image} K={k}: implicit inertia {a:.1}, dense {b:.1}");
            assert!(a <= b * 1.02, "{image} K={k}: implicit k-means inertia {a} is worse than dense {b}");
            assert_eq!(implicit.iter().copied().max(), Some(k as u32 - 1));
        }
    }
}

/// Lloyd iterations that reassign only the pixels whose bounds no longer separate, and move only
/// their features between the cluster sums, give the labels and sums of full recomputation at
/// every step, and skip most pixels once the centres settle.
#[test]
fn bounded_lloyd_steps_equal_full_steps() {
    for (image, k) in [("chelsea-224", 5), ("coffee-224", 8)] {
        let f = features(image, 224);
        let norms = f.squared_norms();
        let pixels = f.pixels();
        let start: Vec<Vec<f32>> = (0..k).map(|i| f.pixel((i * 7919 + 4099) % pixels)).collect();
        let mut assignment = BoundedAssignment::new(&f, start, &norms);
        let mut sums = ClusterSums::new(&f, assignment.labels(), k);
        let (mut iterations, mut late_recomputed) = (0, 0);
        loop {
            let centres: Vec<Vec<f32>> = sums
                .sums()
                .iter()
                .zip(sums.sizes())
                .zip(assignment.centres())
                .map(|((sum, &size), old)| match size {
                    0 => old.clone(),
                    _ => sum.iter().map(|v| (v / size as f64) as f32).collect(),
                })
                .collect();
            let changes = assignment.update(&f, centres, &norms);
            sums.apply(&f, &changes);
            iterations += 1;
            let (full, _) = f.nearest(assignment.centres(), &norms);
            assert_eq!(
                full,
                assignment.labels(),
                "{image}: labels differ from a full assignment at step {iterations}"
            );
            let fresh = ClusterSums::new(&f, assignment.labels(), k);
            assert_eq!(fresh.sizes(), sums.sizes());
            for (a, b) in fresh.sums().iter().flatten().zip(sums.sums().iter().flatten()) {
                assert!(
                    (a - b).abs() <= 1e-9 * a.abs().max(1.0),
                    "{image}: updated sum {b} vs recomputed {a}"
                );
            }
            if changes.len() < 50 {
                late_recomputed = late_recomputed.max(assignment.recomputed());
            }
            if changes.is_empty() || iterations == 300 {
                break;
            }
        }
        eprintln!("{image} K={k}: {iterations} steps, at most {late_recomputed} of {pixels} pixels recomputed in late steps");
        assert!(iterations > 10, "{image}: a real clustering takes more than a few steps");
        assert!(
            late_recomputed < pixels / 4,
            "{image}: late steps recomputed {late_recomputed} of {pixels} pixels"
        );
    }
}
