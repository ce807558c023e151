//! `layer-conductance` (Dhamdhere et al. 2018, Captum's `LayerConductance`): the photo is
//! reached from a baseline image along a straight path; at consecutive points the level's
//! activations change, and each change times the target logit's gradient at the level (at the
//! earlier point) is summed: how much of the logit's rise flows through each unit. As Captum,
//! the points are the quadrature's nodes for `steps + 1`, in order (with Gauss-Legendre nodes
//! the path is walked from its first node to its last, not from 0 to 1).

use super::{explain_each, path_points, LayerSettings, PathSettings, INTERPOLATE_PARAM, LEVEL_PARAM, PATH_PARAMS};
use crate::saliency::integrated_gradients::{Baseline, BASELINE_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `layer-conductance` saliency method.
pub struct LayerConductance {
    layer: LayerSettings,
    path: PathSettings,
    baseline: Baseline,
}

/// Parameters of `layer-conductance`.
pub const LAYER_CONDUCTANCE_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    PATH_PARAMS[0],
    PATH_PARAMS[1],
    BASELINE_PARAM,
    PATH_PARAMS[2],
    INTERPOLATE_PARAM,
];

impl LayerConductance {
    /// The conductance `(1, channels, h, w)` of the level for one photo and its target.
    fn attribute(
        &self,
        backbone: &dyn Backbone,
        photo: NasTensor<4>,
        target: usize,
        task: &nas_core::progress::Task,
    ) -> Result<NasTensor<4>> {
        let baseline = self.baseline.tensor_for(backbone, &photo);
        let (alphas, _) = self.path.quadrature.nodes(self.path.steps + 1)?;
        let mut previous: Option<(NasTensor<4>, NasTensor<4>)> = None;
        let mut total: Option<NasTensor<4>> = None;
        for alphas in alphas.chunks(self.path.batch) {
            task.check()?;
            let points = path_points(&baseline, &photo, alphas);
            let gradient = backbone.level_gradient(points, self.layer.level, &vec![target; alphas.len()])?;
            let [n, channels, h, w] = gradient.value.dims();
            for k in 0..n {
                let value = gradient.value.clone().slice([k..k + 1, 0..channels, 0..h, 0..w]);
                let grad = gradient.grad.clone().slice([k..k + 1, 0..channels, 0..h, 0..w]);
                if let Some((before, grad_before)) = previous.take() {
                    let flow = grad_before * (value.clone() - before);
                    total = Some(match total {
                        Some(sum) => sum + flow,
                        None => flow,
                    });
                }
                previous = Some((value, grad));
            }
            task.advance(alphas.len() as u64);
        }
        // steps >= 1 gives two nodes or more, so one difference at least.
        total.ok_or_else(|| nas_core::NasError::InvalidInput("layer-conductance: needs 2 path points or more".into()))
    }
}

impl Saliency for LayerConductance {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        explain_each(
            &self.layer,
            "layer-conductance",
            "layer conductance",
            self.path.steps + 1,
            input,
            targets,
            |photo, target, task| self.attribute(backbone, photo, target, task),
        )
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(LayerConductance {
        layer: LayerSettings::from_params(params)?,
        path: PathSettings::from_params(params, "layer-conductance", 1)?,
        baseline: Baseline::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-conductance",
        summary: "conductance of a depth level: its activations' changes along the path from a baseline image times the target logit's gradient there (Captum's LayerConductance), summed over channels",
        params: LAYER_CONDUCTANCE_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
