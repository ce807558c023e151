//! Times the `knn` clusterer's vote (`ClassClustering::assign`) for one photo: `pixels` feature
//! rows of `dims` values against a class clustering of `points` sampled pixels, the median of
//! several runs. The values are seeded pseudo-random numbers: the cost depends only on the sizes.
//!
//! ```text
//! cargo run --release -p nas-plugins --example knn_bench -- [pixels] [points] [dims] [runs]
//! ```
//! Defaults: 3136 pixels (a 56 x 56 NAS grid), 16384 points (Ward's limit), 896 features
//! (ResNet18 levels 2 to 4), 3 runs.

use nas_core::ndarray::Array2;
use nas_plugins::classwise::ClassClustering;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg =
        |i: usize, default: usize| -> Result<usize, std::num::ParseIntError> { std::env::args().nth(i).map_or(Ok(default), |a| a.parse()) };
    let (pixels, points, dims, runs) = (arg(1, 3136)?, arg(2, 16384)?, arg(3, 896)?, arg(4, 3)?);
    let mut state = 1u64;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let model = ClassClustering {
        points: Array2::from_shape_fn((points, dims), |_| next()),
        labels: (0..points).map(|i| (i % 10) as u32).collect(),
        clusters: 10,
        description: "benchmark".into(),
    };
    let features = Array2::from_shape_fn((pixels, dims), |_| next());
    let mut times: Vec<Duration> = Vec::new();
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        std::hint::black_box(model.assign(features.view(), 5)?);
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "knn vote: {pixels} pixels x {points} points x {dims} features: {:.3} s (median of {})",
        times[times.len() / 2].as_secs_f64(),
        times.len()
    );
    Ok(())
}
