//! Co-association consensus of real k-means runs.

mod common;

use nas_cluster::{adjusted_rand_index, consensus, kmeans, mean_pairwise_ari, ConsensusParams, KMeansParams, Linkage};

fn runs(name: &str, k: usize, seeds: u64) -> Vec<Vec<u32>> {
    let x = common::dataset(name);
    (0..seeds)
        .map(|seed| {
            kmeans(
                x.view(),
                &KMeansParams {
                    seed,
                    ..KMeansParams::new(k)
                },
            )
            .expect("kmeans")
            .labels
        })
        .collect()
}

#[test]
fn consensus_of_real_runs_agrees_with_them() {
    for name in ["r18-chelsea-nas56", "eff-chelsea-l3"] {
        let runs = runs(name, 5, 8);
        let stability = mean_pairwise_ari(&runs).expect("stability");
        for linkage in [Linkage::Average, Linkage::Ward] {
            let params = ConsensusParams {
                linkage,
                ..ConsensusParams::default()
            };
            let c = consensus(&runs, 5, &params).expect("consensus");
            assert_eq!(c.len(), runs[0].len());
            assert_eq!(c.iter().max(), Some(&4), "{name}: K clusters");
            let to_runs: Vec<f64> = runs.iter().map(|r| adjusted_rand_index(&c, r).expect("ari")).collect();
            let mean = to_runs.iter().sum::<f64>() / to_runs.len() as f64;
            println!("{name} {linkage:?}: stability {stability:.3}, consensus vs runs {mean:.3}");
            // The consensus is at least as close to the runs as they are to each other.
            assert!(mean >= stability - 0.02, "{name} {linkage:?}: {mean} vs {stability}");
            // Deterministic.
            assert_eq!(c, consensus(&runs, 5, &params).expect("consensus"));
        }
    }
}

#[test]
fn scales_to_a_224_grid_without_a_pixel_matrix() {
    // 6 k-means runs over the 50176 pixels of the benchmark matrix; only the distinct label
    // tuples are clustered (an n x n matrix would take 10 GB).
    let manifest = common::manifest();
    let x = common::build(&manifest["bench"]["dataset"]);
    let runs: Vec<Vec<u32>> = (0..6)
        .map(|seed| {
            kmeans(
                x.view(),
                &KMeansParams {
                    seed,
                    ..KMeansParams::new(5)
                },
            )
            .expect("kmeans")
            .labels
        })
        .collect();
    let t = std::time::Instant::now();
    let c = consensus(&runs, 5, &ConsensusParams::default()).expect("consensus");
    let stability = mean_pairwise_ari(&runs).expect("stability");
    let to_runs: Vec<f64> = runs.iter().map(|r| adjusted_rand_index(&c, r).expect("ari")).collect();
    println!(
        "consensus of 6 runs over {} pixels: {:?}; stability {stability:.3}, consensus vs runs {to_runs:.3?}",
        c.len(),
        t.elapsed()
    );
    assert_eq!(c.len(), 224 * 224);
    assert_eq!(c.iter().max(), Some(&4));
    assert!(to_runs.iter().sum::<f64>() / 6.0 >= stability - 0.02);
}
