//! The `kmeans` clusterer: k-means++ and Lloyd iterations with scikit-learn's semantics (nas-cluster).

use nas_core::{Clusterer, Context, Features, NasError, ParamKind, ParamSpec, Params, Result};

/// The `kmeans` clusterer.
pub struct KMeans {
    seed: u64,
    n_init: usize,
    max_iter: usize,
    tol: f32,
}

/// Parameters of `kmeans`.
pub const KMEANS_PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "seed", kind: ParamKind::Int, default: "0", doc: "seed of the k-means++ initialisation" },
    ParamSpec { name: "n_init", kind: ParamKind::Int, default: "1", doc: "initialisations; the lowest inertia wins" },
    ParamSpec { name: "max_iter", kind: ParamKind::Int, default: "300", doc: "maximum Lloyd iterations per run" },
    ParamSpec { name: "tol", kind: ParamKind::Float, default: "1e-4", doc: "centre-shift tolerance relative to the mean feature variance" },
];

impl Clusterer for KMeans {
    fn cluster(&self, features: &Features<'_>, k: usize) -> Result<Vec<u32>> {
        nas_core::component::check_k(k, features.matrix.nrows())?;
        let mut params = nas_cluster::KMeansParams::new(k);
        params.seed = self.seed;
        params.n_init = self.n_init;
        params.max_iter = self.max_iter;
        params.tol = self.tol;
        nas_cluster::kmeans(features.matrix, &params)
            .map(|c| c.labels)
            .map_err(|e| NasError::InvalidInput(format!("kmeans: {e}")))
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Clusterer>> {
    Ok(Box::new(KMeans {
        seed: params.int("seed", 0, 0, i64::MAX)? as u64,
        n_init: params.usize("n_init", 1, 1, 1000)?,
        max_iter: params.usize("max_iter", 300, 1, 1_000_000)?,
        tol: params.float("tol", 1e-4, 0.0, 1.0)? as f32,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "kmeans",
        summary: "k-means++ initialisation and Lloyd iterations, multi-threaded, seeded",
        params: KMEANS_PARAMS,
        factory: nas_core::Factory::Clusterer(build),
    }
}
