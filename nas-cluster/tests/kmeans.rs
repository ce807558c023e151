//! k-means on real activation matrices against scikit-learn's fixtures.

mod common;

use nas_cluster::{adjusted_rand_index, kmeans, ClusterError, KMeansParams};
use ndarray::{Array2, ArrayView2, ShapeBuilder};

/// Our best inertia may exceed scikit-learn's best by at most 1% (or be lower).
const INERTIA_SLACK: f64 = 1.01;
/// Our initialisations for that best. scikit-learn's best is over 30 (3 seeds x n_init 10);
/// with another random stream a best of 30 is itself a random draw that spans 1-2% on the
/// rugged small cases (eff-chelsea-l3 at K = 8: scikit-learn's three seeds give 561403,
/// 563078 and 566743), so we take more draws: the test is that we reach the same optimum.
const N_INIT: usize = 100;
/// The same k-means++ and Lloyd from both sides: the median inertia of 50 single-init runs
/// (seeds 0..49) at most 1% above scikit-learn's median over its seeds 0..49. (It may be
/// lower: where two local optima compete, as r18-coffee-l3 at K = 3, 50 draws put the median
/// of either side on one or the other.)
const MEDIAN_SLACK: f64 = 1.01;
/// scikit-learn's own seeds agree to this ARI or better: the optimum is well separated.
const SEPARATED: f64 = 0.95;
/// Then our labels must match scikit-learn's best labels to this ARI.
const MIN_ARI: f64 = 0.9;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len().is_multiple_of(2) {
        0.5 * (v[m - 1] + v[m])
    } else {
        v[m]
    }
}

fn direct_inertia(x: ArrayView2<f32>, r: &nas_cluster::Clustering) -> f64 {
    x.outer_iter()
        .zip(&r.labels)
        .map(|(row, &l)| {
            row.iter()
                .zip(r.centroids.row(l as usize).iter())
                .map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2))
                .sum::<f64>()
        })
        .sum()
}

/// Every label is the nearest centroid of its row (up to float ties).
fn labels_are_nearest(x: ArrayView2<f32>, r: &nas_cluster::Clustering) {
    for (i, row) in x.outer_iter().enumerate() {
        let d: Vec<f64> = r
            .centroids
            .outer_iter()
            .map(|c| row.iter().zip(c.iter()).map(|(a, b)| (f64::from(*a) - f64::from(*b)).powi(2)).sum())
            .collect();
        let own = d[r.labels[i] as usize];
        let min = d.iter().cloned().fold(f64::INFINITY, f64::min);
        assert!(own <= min + 1e-4 * (1.0 + min), "row {i}: own {own} > nearest {min}");
    }
}

#[test]
fn matches_scikit_learn_on_real_activations() {
    let manifest = common::manifest();
    let mut report = Vec::new();
    for entry in manifest["kmeans"].as_array().expect("kmeans entries") {
        let name = entry["dataset"].as_str().expect("dataset");
        let k = entry["k"].as_u64().expect("k") as usize;
        let x = common::dataset(name);
        let params = KMeansParams {
            n_init: N_INIT,
            ..KMeansParams::new(k)
        };
        let r = kmeans(x.view(), &params).expect("kmeans");
        let sk_best = entry["best_inertia"].as_f64().expect("best_inertia");
        let sk_labels = common::load_labels(entry["labels"].as_str().expect("labels"));
        let ari = adjusted_rand_index(&r.labels, &sk_labels).expect("ari");
        let self_ari = entry["self_ari"].as_f64().expect("self_ari");
        report.push(format!(
            "{name} k={k}: inertia {:.2} vs sklearn {:.2} (ratio {:.5}), ARI {:.3} (sklearn seeds {:.3}), {} iterations",
            r.inertia,
            sk_best,
            r.inertia / sk_best,
            ari,
            self_ari,
            r.n_iter
        ));
        assert!(
            r.inertia <= sk_best * INERTIA_SLACK,
            "{name} k={k}: inertia {} above sklearn's {sk_best} by more than 1%",
            r.inertia
        );
        if self_ari >= SEPARATED {
            assert!(ari >= MIN_ARI, "{name} k={k}: ARI {ari} against sklearn's labels");
        }
        // The inertia from cluster sums equals the direct one, and labels are nearest centres.
        let direct = direct_inertia(x.view(), &r);
        assert!(
            (r.inertia - direct).abs() <= 1e-5 * direct,
            "{name} k={k}: {} vs {direct}",
            r.inertia
        );
        labels_are_nearest(x.view(), &r);
    }
    println!("{}", report.join("\n"));
}

#[test]
fn single_initialisations_are_distributed_as_scikit_learn() {
    let manifest = common::manifest();
    for entry in manifest["kmeans"].as_array().expect("kmeans entries") {
        let name = entry["dataset"].as_str().expect("dataset");
        let k = entry["k"].as_u64().expect("k") as usize;
        let x = common::dataset(name);
        let sk: Vec<f64> = entry["single_inertias"]
            .as_array()
            .expect("single_inertias")
            .iter()
            .map(|v| v.as_f64().expect("inertia"))
            .collect();
        let ours: Vec<f64> = (0..sk.len() as u64)
            .map(|seed| {
                kmeans(
                    x.view(),
                    &KMeansParams {
                        seed,
                        ..KMeansParams::new(k)
                    },
                )
                .expect("kmeans")
                .inertia
            })
            .collect();
        let (mo, ms) = (median(ours), median(sk));
        println!(
            "{name} k={k}: median of 50 single runs {mo:.2}, sklearn {ms:.2} (ratio {:.4})",
            mo / ms
        );
        assert!(mo / ms <= MEDIAN_SLACK, "{name} k={k}: median {mo} vs sklearn's {ms}");
    }
}

#[test]
fn same_seed_same_result_whatever_the_threads() {
    let x = common::dataset("eff-coffee-nas56");
    let params = KMeansParams {
        seed: 7,
        n_init: 3,
        ..KMeansParams::new(6)
    };
    let a = kmeans(x.view(), &params).expect("kmeans");
    let b = kmeans(x.view(), &params).expect("kmeans");
    assert_eq!(a, b);
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        let c = pool.install(|| kmeans(x.view(), &params)).expect("kmeans");
        assert_eq!(a, c, "{threads} threads");
    }
    // Another seed gives another seeding (and here another result).
    let other = kmeans(x.view(), &KMeansParams { seed: 8, ..params.clone() }).expect("kmeans");
    assert_ne!(a.centroids, other.centroids);
}

#[test]
fn more_initialisations_never_do_worse() {
    let x = common::dataset("r18-chelsea-l2");
    for seed in 0..4 {
        let one = kmeans(
            x.view(),
            &KMeansParams {
                seed,
                ..KMeansParams::new(8)
            },
        )
        .expect("kmeans");
        let ten = kmeans(
            x.view(),
            &KMeansParams {
                seed,
                n_init: 10,
                ..KMeansParams::new(8)
            },
        )
        .expect("kmeans");
        assert!(ten.inertia <= one.inertia);
    }
}

#[test]
fn non_standard_layouts_and_offsets_give_the_same_partition() {
    let x = common::dataset("eff-rocket-l2");
    let params = KMeansParams::new(4);
    let a = kmeans(x.view(), &params).expect("kmeans");
    // A column-major copy: same values, same result.
    let mut f = Array2::<f32>::zeros(x.raw_dim().set_f(true));
    f.assign(&x);
    let b = kmeans(f.view(), &params).expect("kmeans");
    assert_eq!(a.labels, b.labels);
    // A large offset: centred internally, so the partition stays (up to float ties).
    let shifted = x.mapv(|v| v + 1000.0);
    let c = kmeans(shifted.view(), &params).expect("kmeans");
    let ari = adjusted_rand_index(&a.labels, &c.labels).expect("ari");
    assert!(ari > 0.99, "ARI {ari} after an offset of 1000");
    assert!((c.inertia - a.inertia).abs() <= 1e-3 * a.inertia);
    assert!((c.centroids[[0, 0]] - 1000.0).abs() < 100.0);
}

#[test]
fn every_k_from_one_to_n_works() {
    let x = common::dataset("eff-chelsea-l3");
    let n = x.nrows();
    for k in [1, 2, n - 1, n] {
        let r = kmeans(x.view(), &KMeansParams::new(k)).expect("kmeans");
        assert_eq!(r.centroids.nrows(), k);
        assert!(r.labels.iter().all(|&l| (l as usize) < k));
        if k == n {
            // Zero up to the rounding of the inertia from cluster sums (relative to the data's
            // total sum of squares).
            let total: f64 = x.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
            assert!(r.inertia <= 1e-7 * total, "k = n: inertia {} of {total}", r.inertia);
        }
    }
    // Duplicate rows: fewer distinct points than K leaves clusters to relocation.
    let dup = Array2::from_shape_fn((10, 3), |(i, j)| ((i % 3) * 2 + j) as f32);
    let r = kmeans(dup.view(), &KMeansParams::new(5)).expect("kmeans");
    assert_eq!(r.labels.len(), 10);
    assert!(r.inertia.abs() < 1e-6);
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let x = Array2::<f32>::zeros((50176, 1));
    let err = kmeans(x.view(), &KMeansParams::new(60000)).unwrap_err();
    assert_eq!(err.to_string(), "K = 60000 is larger than the number of pixels (50176)");
    assert_eq!(kmeans(x.view(), &KMeansParams::new(0)).unwrap_err(), ClusterError::ZeroClusters);
    let empty = Array2::<f32>::zeros((0, 4));
    assert!(matches!(
        kmeans(empty.view(), &KMeansParams::new(1)),
        Err(ClusterError::EmptyData { .. })
    ));
    let mut nan = Array2::<f32>::ones((300, 4));
    nan[[257, 2]] = f32::NAN;
    let err = kmeans(nan.view(), &KMeansParams::new(2)).unwrap_err();
    assert!(matches!(err, ClusterError::NonFinite { row: 257, col: 2, .. }), "{err:?}");
    assert!(err.to_string().contains("row 257"), "{err}");
    for bad in [
        KMeansParams {
            n_init: 0,
            ..KMeansParams::new(2)
        },
        KMeansParams {
            max_iter: 0,
            ..KMeansParams::new(2)
        },
        KMeansParams {
            tol: -1.0,
            ..KMeansParams::new(2)
        },
        KMeansParams {
            tol: f32::NAN,
            ..KMeansParams::new(2)
        },
    ] {
        assert!(matches!(
            kmeans(nan.slice(ndarray::s![..10, ..]), &bad),
            Err(ClusterError::InvalidParameter { .. })
        ));
    }
}
