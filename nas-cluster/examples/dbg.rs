#[path = "../tests/common/mod.rs"]
mod common;
use nas_cluster::{kmeans, KMeansParams};
fn main() {
    let x = common::dataset(&std::env::args().nth(1).unwrap());
    let mut v: Vec<(f64, usize)> = (0..200)
        .map(|seed| {
            let r = kmeans(
                x.view(),
                &KMeansParams {
                    seed,
                    ..KMeansParams::new(std::env::args().nth(2).unwrap().parse().unwrap())
                },
            )
            .unwrap();
            (r.inertia, r.n_iter)
        })
        .collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    println!(
        "ours n_init=1 over 200 seeds: min {:?} q10 {:?} median {:?} max {:?}",
        v[0], v[20], v[100], v[199]
    );
}
