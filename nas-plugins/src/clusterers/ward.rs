//! The `ward` clusterer: deterministic agglomerative clustering with Ward linkage (nas-cluster).

use nas_core::{Clusterer, Context, Features, NasError, ParamKind, ParamSpec, Params, Result};

/// The `ward` clusterer.
pub struct Ward {
    max_samples: usize,
}

/// Parameters of `ward`.
pub const WARD_PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "max_samples",
    kind: ParamKind::Int,
    default: "16384",
    doc: "largest pixel count accepted (memory grows with its square); use a smaller NAS grid beyond it",
}];

impl Clusterer for Ward {
    fn cluster(&self, features: &Features<'_>, k: usize) -> Result<Vec<u32>> {
        nas_core::component::check_k(k, features.rows())?;
        if features.rows() > self.max_samples {
            return Err(NasError::InvalidInput(format!(
                "ward: {} pixels exceed max_samples = {}: Ward needs memory quadratic in the pixel count; use a smaller NAS grid (e.g. --param grid=64) or raise max_samples",
                features.rows(),
                self.max_samples
            )));
        }
        let mut cuts =
            nas_cluster::ward(features.dense().view(), &[k], self.max_samples).map_err(|e| NasError::InvalidInput(format!("ward: {e}")))?;
        cuts.pop()
            .ok_or_else(|| NasError::InvalidInput("ward: no clustering returned".into()))
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Clusterer>> {
    Ok(Box::new(Ward {
        max_samples: params.usize("max_samples", nas_cluster::WARD_DEFAULT_MAX_SAMPLES, 2, usize::MAX)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "ward",
        summary: "agglomerative clustering with Ward linkage (deterministic; quadratic memory)",
        params: WARD_PARAMS,
        factory: nas_core::Factory::Clusterer(build),
    }
}
