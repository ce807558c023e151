#[path = "../tests/common/mod.rs"]
mod common;
use nas_cluster::{kmeans, KMeansParams};
fn main() {
    let m = common::manifest();
    let x = common::build(&m["bench"]["dataset"]);
    for (k, seed, n_init) in [(5, 0, 1), (5, 3, 1), (2, 1, 1), (8, 2, 3), (1, 0, 1), (13, 4, 1)] {
        let r = kmeans(x.view(), &KMeansParams { seed, n_init, ..KMeansParams::new(k) }).unwrap();
        let h: u64 = r.labels.iter().enumerate().fold(0u64, |h, (i, &l)| h.wrapping_mul(1000003).wrapping_add(l as u64 * 31 + i as u64));
        println!("k={k} seed={seed} n_init={n_init}: inertia {:?} n_iter {} labels {h:x} c00 {:?}", r.inertia, r.n_iter, r.centroids[[0, 0]]);
    }
}
