//! The `knn` clusterer: assigns pixels to the clusters of a class clustering fitted by
//! `nas classwise`, so that NAS superpixels of every photo share cluster ids (the paper's
//! class-wise clustering, Section 4.2.3).

use crate::classwise::ClassClustering;
use nas_core::{Clusterer, Context, Features, NasError, ParamKind, ParamSpec, Params, Result};
use std::path::PathBuf;

/// The `knn` clusterer.
pub struct Knn {
    model: ClassClustering,
    path: PathBuf,
    neighbours: usize,
}

/// Parameters of `knn`.
pub const KNN_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "model",
        kind: ParamKind::Str,
        default: "",
        doc: "class clustering file written by `nas classwise` (required)",
    },
    ParamSpec {
        name: "neighbours",
        kind: ParamKind::Int,
        default: "5",
        doc: "nearest sampled pixels that vote (scikit-learn's n_neighbors)",
    },
];

impl Clusterer for Knn {
    fn cluster(&self, features: &Features<'_>, k: usize) -> Result<Vec<u32>> {
        if k != self.model.clusters {
            return Err(NasError::InvalidInput(format!(
                "knn: {} holds {} clusters but the segmenter asks for k = {k}; set k = {}",
                self.path.display(),
                self.model.clusters,
                self.model.clusters
            )));
        }
        self.model.assign(features.dense().view(), self.neighbours)
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Clusterer>> {
    let path = params
        .string("model")?
        .map(PathBuf::from)
        .ok_or_else(|| params.error("model", "(missing)", "the class clustering file written by `nas classwise`"))?;
    let neighbours = params.usize("neighbours", 5, 1, 10_000)?;
    Ok(Box::new(Knn {
        model: ClassClustering::load(&path)?,
        path,
        neighbours,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "knn",
        summary: "pixels to the clusters of a class clustering (`nas classwise`) by k-nearest-neighbour vote",
        params: KNN_PARAMS,
        factory: nas_core::Factory::Clusterer(build),
    }
}
