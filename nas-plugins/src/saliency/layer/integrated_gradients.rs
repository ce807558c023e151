//! `layer-integrated-gradients` (Captum's `LayerIntegratedGradients`): Integrated Gradients in
//! the space of a depth level. The level's activations for the baseline image and for the photo
//! are joined by a straight path; at each point the network continues from the point instead
//! of its own level, and the target logit's gradient there, averaged along the path, times the
//! difference of the two activations is the attribution (per channel and position).

use super::{explain_each, path_points, LayerSettings, PathSettings, INTERPOLATE_PARAM, LEVEL_PARAM, PATH_PARAMS};
use crate::saliency::integrated_gradients::{weighted_sum, Baseline};
use nas_core::backbone::level_gradient_replaced;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, Objective, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `layer-integrated-gradients` saliency method.
pub struct LayerIntegratedGradients {
    layer: LayerSettings,
    path: PathSettings,
    baseline: Baseline,
}

/// Parameters of `layer-integrated-gradients`.
pub const LAYER_INTEGRATED_GRADIENTS_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    PATH_PARAMS[0],
    PATH_PARAMS[1],
    ParamSpec {
        name: "baseline",
        kind: ParamKind::Str,
        default: "\"zero\"",
        doc: "image whose level activations start the path: zero (normalised space, the mean colour) or black",
    },
    PATH_PARAMS[2],
    INTERPOLATE_PARAM,
];

impl LayerIntegratedGradients {
    /// The attribution `(1, channels, h, w)` at the level for one photo and its target.
    fn attribute(
        &self,
        backbone: &dyn Backbone,
        photo: NasTensor<4>,
        target: usize,
        task: &nas_core::progress::Task,
    ) -> Result<NasTensor<4>> {
        let level = self.layer.level;
        let baseline = self.baseline.tensor_for(backbone, &photo);
        let end = backbone.forward(photo.clone()).levels.swap_remove(level);
        let start = backbone.forward(baseline).levels.swap_remove(level);
        let (alphas, weights) = self.path.quadrature.nodes(self.path.steps)?;
        let mut total = end.zeros_like();
        for (alphas, weights) in alphas.chunks(self.path.batch).zip(weights.chunks(self.path.batch)) {
            task.check()?;
            let [_, channels, h, w] = photo.dims();
            let photos = photo.clone().expand([alphas.len(), channels, h, w]);
            let points = path_points(&start, &end, alphas);
            let targets = vec![target; alphas.len()];
            let gradient = level_gradient_replaced(backbone, photos, level, points, Objective::Targets(&targets))?;
            total = total + weighted_sum(gradient.grad, weights);
            task.advance(alphas.len() as u64);
        }
        Ok(total * (end - start))
    }
}

impl Saliency for LayerIntegratedGradients {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        explain_each(
            &self.layer,
            "layer-integrated-gradients",
            "layer integrated gradients",
            self.path.steps,
            input,
            targets,
            |photo, target, task| self.attribute(backbone, photo, target, task),
        )
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(LayerIntegratedGradients {
        layer: LayerSettings::from_params(params)?,
        path: PathSettings::from_params(params, "layer-integrated-gradients", 0)?,
        baseline: Baseline::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-integrated-gradients",
        summary: "Integrated Gradients in a depth level's space, from the baseline's activations to the photo's (Captum's LayerIntegratedGradients), summed over channels",
        params: LAYER_INTEGRATED_GRADIENTS_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
