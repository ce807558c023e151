//! The `kmeans` clusterer: k-means++ (greedy, as scikit-learn) and Lloyd iterations. Dense
//! matrices go to nas-cluster; NAS's upsampled features are clustered implicitly at low
//! resolution, which gives the same k-means at a fraction of the cost (nas-core's `upsampled`).

use nas_core::upsampled::{BoundedAssignment, ClusterSums, UpsampledFeatures};
use nas_core::upsampled_batch::UpsampledBatch;
use nas_core::{Clusterer, Context, Features, NasError, ParamKind, ParamSpec, Params, Result};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// The `kmeans` clusterer.
pub struct KMeans {
    seed: u64,
    n_init: usize,
    max_iter: usize,
    tol: f32,
}

/// Parameters of `kmeans`.
pub const KMEANS_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of the k-means++ initialisation",
    },
    ParamSpec {
        name: "n_init",
        kind: ParamKind::Int,
        default: "1",
        doc: "initialisations; the lowest inertia wins",
    },
    ParamSpec {
        name: "max_iter",
        kind: ParamKind::Int,
        default: "300",
        doc: "maximum Lloyd iterations per run",
    },
    ParamSpec {
        name: "tol",
        kind: ParamKind::Float,
        default: "1e-4",
        doc: "centre-shift tolerance relative to the mean feature variance",
    },
];

/// A uniform float in `[0, 1)`.
fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Squared distances of every pixel to `center`: `|F(p)|^2 - 2 F(p).c + |c|^2`, clamped at 0.
fn distances(features: &UpsampledFeatures, norms: &[f32], center: &[f32]) -> Vec<f32> {
    let c2: f32 = center.iter().map(|v| v * v).sum();
    let dots = features.dot(center);
    norms
        .par_iter()
        .zip(dots.par_iter())
        .map(|(n, d)| (n - 2.0 * d + c2).max(0.0))
        .collect()
}

/// Number of candidates greedy k-means++ draws per new centre (scikit-learn's `2 + ln k`).
pub(crate) fn candidates_per_centre(k: usize) -> usize {
    2 + (k as f64).ln().floor() as usize
}

/// The first k-means++ centre: a pixel drawn uniformly.
pub(crate) fn draw_first(n: usize, rng: &mut ChaCha8Rng) -> usize {
    ((uniform(rng) * n as f64) as usize).min(n - 1)
}

/// Draws `trials` candidate pixels in proportion to their squared distance to the closest centre.
pub(crate) fn draw_candidates(closest: &[f32], trials: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut cumulative = Vec::with_capacity(closest.len());
    let mut total = 0f64;
    for d in closest {
        total += f64::from(*d);
        cumulative.push(total);
    }
    (0..trials)
        .map(|_| {
            let target = uniform(rng) * total;
            cumulative.partition_point(|c| *c <= target).min(closest.len() - 1)
        })
        .collect()
}

/// The random stream of k-means run `run` (of `n_init`) for `seed`, shared by host and device.
pub(crate) fn run_rng(seed: u64, run: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(run as u64);
    rng
}

/// Greedy k-means++: each new centre is the best of `2 + ln k` candidates drawn in proportion to
/// the squared distance to the closest centre so far.
fn kmeans_plus_plus(features: &UpsampledFeatures, norms: &[f32], k: usize, rng: &mut ChaCha8Rng) -> Vec<Vec<f32>> {
    let first = draw_first(norms.len(), rng);
    let mut centers = vec![features.pixel(first)];
    let mut closest = distances(features, norms, &centers[0]);
    for _ in 1..k {
        let mut best: Option<(f64, usize, Vec<f32>)> = None;
        for candidate in draw_candidates(&closest, candidates_per_centre(k), rng) {
            let d = distances(features, norms, &features.pixel(candidate));
            let potential: f64 = closest.iter().zip(&d).map(|(a, b)| f64::from(a.min(*b))).sum();
            if best.as_ref().is_none_or(|(p, _, _)| potential < *p) {
                best = Some((potential, candidate, d));
            }
        }
        if let Some((_, candidate, d)) = best {
            closest.iter_mut().zip(&d).for_each(|(a, b)| *a = a.min(*b));
            centers.push(features.pixel(candidate));
        }
    }
    centers
}

/// One k-means run on implicit features: labels, and the inertia when `inertia` is asked for
/// (it takes one more full assignment). Each step reassigns only the pixels whose nearest centre
/// may have changed and moves only their features between the cluster sums; the labels are
/// those of plain Lloyd iterations.
fn run_once(
    features: &UpsampledFeatures,
    norms: &[f32],
    k: usize,
    rng: &mut ChaCha8Rng,
    max_iter: usize,
    tol: f64,
    inertia: bool,
) -> (Vec<u32>, Option<f64>) {
    let mut assignment = BoundedAssignment::new(features, kmeans_plus_plus(features, norms, k, rng), norms);
    let mut sums = ClusterSums::new(features, assignment.labels(), k);
    for _ in 0..max_iter {
        // Distances to the current centres, computed when a cluster is empty and must restart.
        let mut dist: Option<Vec<f32>> = None;
        let mut shift = 0f64;
        let mut new_centers = Vec::with_capacity(k);
        for ((old, sum), &size) in assignment.centres().iter().zip(sums.sums()).zip(sums.sizes()) {
            let center = if size > 0 {
                sum.iter().map(|v| (v / size as f64) as f32).collect()
            } else {
                // An empty cluster restarts at the pixel farthest from its centre.
                let dist = dist.get_or_insert_with(|| features.nearest(assignment.centres(), norms).1);
                let far = (0..dist.len())
                    .max_by(|&a, &b| dist[a].total_cmp(&dist[b]).then(b.cmp(&a)))
                    .unwrap_or(0);
                dist[far] = 0.0;
                features.pixel(far)
            };
            shift += old.iter().zip(&center).map(|(a, b)| f64::from(a - b).powi(2)).sum::<f64>();
            new_centers.push(center);
        }
        let changes = assignment.update(features, new_centers, norms);
        sums.apply(features, &changes);
        if changes.is_empty() || shift <= tol {
            break;
        }
    }
    let inertia = inertia.then(|| features.nearest(assignment.centres(), norms).1.iter().map(|d| f64::from(*d)).sum());
    (assignment.into_labels(), inertia)
}

impl KMeans {
    /// Builds from `kmeans` parameters (see [`KMEANS_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<KMeans> {
        Ok(KMeans {
            seed: params.int("seed", 0, 0, i64::MAX)? as u64,
            n_init: params.usize("n_init", 1, 1, 1000)?,
            max_iter: params.usize("max_iter", 300, 1, 1_000_000)?,
            tol: params.float("tol", 1e-4, 0.0, 1.0)? as f32,
        })
    }

    /// k-means on NAS's implicitly upsampled features, best of `n_init` seeded runs.
    pub fn cluster_upsampled(&self, features: &UpsampledFeatures, k: usize) -> Vec<u32> {
        let norms = features.squared_norms();
        let tol = f64::from(self.tol) * features.mean_variance();
        let mut best: Option<(Vec<u32>, f64)> = None;
        for run in 0..self.n_init {
            let mut rng = run_rng(self.seed, run);
            let (labels, inertia) = run_once(features, &norms, k, &mut rng, self.max_iter, tol, self.n_init > 1);
            let inertia = inertia.unwrap_or(0.0);
            if best.as_ref().is_none_or(|(_, b)| inertia < *b) {
                best = Some((labels, inertia));
            }
        }
        best.map(|(l, _)| l).unwrap_or_default()
    }
}

impl Clusterer for KMeans {
    fn cluster(&self, features: &Features<'_>, k: usize) -> Result<Vec<u32>> {
        nas_core::component::check_k(k, features.rows())?;
        match features {
            Features::Upsampled(f) => Ok(self.cluster_upsampled(f, k)),
            Features::Dense(matrix) => {
                let mut params = nas_cluster::KMeansParams::new(k);
                params.seed = self.seed;
                params.n_init = self.n_init;
                params.max_iter = self.max_iter;
                params.tol = self.tol;
                nas_cluster::kmeans(*matrix, &params)
                    .map(|c| c.labels)
                    .map_err(|e| NasError::InvalidInput(format!("kmeans: {e}")))
            }
        }
    }

    fn cluster_batch(&self, features: &UpsampledBatch, k: usize) -> Option<Result<Vec<Vec<u32>>>> {
        Some(super::kmeans_batch::cluster_batch(
            features,
            k,
            self.seed,
            self.n_init,
            self.max_iter,
            self.tol,
        ))
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Clusterer>> {
    Ok(Box::new(KMeans::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "kmeans",
        summary: "k-means++ and Lloyd iterations, seeded; exact and fast on NAS's upsampled features",
        params: KMEANS_PARAMS,
        factory: nas_core::Factory::Clusterer(build),
    }
}
