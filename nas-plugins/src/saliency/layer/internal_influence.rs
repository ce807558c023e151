//! `internal-influence` (Leino et al. 2018, Captum's `InternalInfluence`): the target logit's
//! gradient at a depth level, integrated along the straight path from a baseline image to the
//! photo (not multiplied by anything): how strongly each unit sways the output on the way.

use super::{explain_each, path_points, LayerSettings, PathSettings, INTERPOLATE_PARAM, LEVEL_PARAM, PATH_PARAMS};
use crate::saliency::integrated_gradients::{weighted_sum, Baseline, BASELINE_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `internal-influence` saliency method.
pub struct InternalInfluence {
    layer: LayerSettings,
    path: PathSettings,
    baseline: Baseline,
}

/// Parameters of `internal-influence`.
pub const INTERNAL_INFLUENCE_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    PATH_PARAMS[0],
    PATH_PARAMS[1],
    BASELINE_PARAM,
    PATH_PARAMS[2],
    INTERPOLATE_PARAM,
];

impl InternalInfluence {
    /// The influence `(1, channels, h, w)` at the level for one photo and its target.
    fn attribute(
        &self,
        backbone: &dyn Backbone,
        photo: NasTensor<4>,
        target: usize,
        task: &nas_core::progress::Task,
    ) -> Result<NasTensor<4>> {
        let baseline = self.baseline.tensor_for(backbone, &photo);
        let (alphas, weights) = self.path.quadrature.nodes(self.path.steps)?;
        let mut total: Option<NasTensor<4>> = None;
        for (alphas, weights) in alphas.chunks(self.path.batch).zip(weights.chunks(self.path.batch)) {
            task.check()?;
            let points = path_points(&baseline, &photo, alphas);
            let gradient = backbone.level_gradient(points, self.layer.level, &vec![target; alphas.len()])?;
            let part = weighted_sum(gradient.grad, weights);
            total = Some(match total {
                Some(sum) => sum + part,
                None => part,
            });
            task.advance(alphas.len() as u64);
        }
        total.ok_or_else(|| nas_core::NasError::InvalidInput("internal-influence: needs 1 path point or more".into()))
    }
}

impl Saliency for InternalInfluence {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        explain_each(
            &self.layer,
            "internal-influence",
            "internal influence",
            self.path.steps,
            input,
            targets,
            |photo, target, task| self.attribute(backbone, photo, target, task),
        )
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(InternalInfluence {
        layer: LayerSettings::from_params(params)?,
        path: PathSettings::from_params(params, "internal-influence", 0)?,
        baseline: Baseline::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "internal-influence",
        summary: "internal influence: the target logit's gradient at a depth level integrated along the path from a baseline image (Captum's InternalInfluence), summed over channels",
        params: INTERNAL_INFLUENCE_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
