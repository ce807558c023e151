//! `layer-gradient-shap` (Captum's `LayerGradientShap`, with its default `stdevs = 0`):
//! GradientSHAP at a depth level. For each of `samples` draws, a baseline picked from a set and
//! a point a uniform random fraction of the way from it to the photo; the attribution is the
//! mean over draws of the difference of the level's activations for the photo and the baseline
//! times the target logit's gradient at the level for the point. The draws are
//! `gradient-shap`'s (NumPy's, as Captum makes them), so a seed gives Captum's.

use super::{explain_each, LayerSettings, INTERPOLATE_PARAM, LEVEL_PARAM};
use crate::saliency::gradient_shap::{draws, BaselineSet, GRADIENT_SHAP_PARAMS};
use nas_core::ndarray::Array2;
use nas_core::progress::Task;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `layer-gradient-shap` saliency method.
pub struct LayerGradientShap {
    layer: LayerSettings,
    samples: usize,
    baselines: BaselineSet,
    seed: u32,
    batch: usize,
}

/// Parameters of `layer-gradient-shap`.
pub const LAYER_GRADIENT_SHAP_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    GRADIENT_SHAP_PARAMS[0],
    GRADIENT_SHAP_PARAMS[1],
    GRADIENT_SHAP_PARAMS[2],
    GRADIENT_SHAP_PARAMS[3],
    INTERPOLATE_PARAM,
];

impl LayerGradientShap {
    /// The attribution `(1, channels, h, w)` at the level for one photo and its target.
    fn attribute(&self, backbone: &dyn Backbone, photo: NasTensor<4>, target: usize, task: &Task) -> Result<NasTensor<4>> {
        let level = self.layer.level;
        let baselines = self.baselines.tensors(backbone.info(), &photo);
        let at_photo = backbone.forward(photo.clone()).levels.swap_remove(level);
        let differences: Vec<NasTensor<4>> = baselines
            .iter()
            .map(|baseline| at_photo.clone() - backbone.forward(baseline.clone()).levels.swap_remove(level))
            .collect();
        let mut total = at_photo.zeros_like();
        for group in draws(self.seed, baselines.len(), self.samples).chunks(self.batch) {
            task.check()?;
            let points: Vec<NasTensor<4>> = group
                .iter()
                .map(|&(pick, a)| photo.clone() * a + baselines[pick].clone() * (1.0 - a))
                .collect();
            let gradient = backbone.level_gradient(NasTensor::cat(points, 0), level, &vec![target; group.len()])?;
            let picked: Vec<NasTensor<4>> = group.iter().map(|&(pick, _)| differences[pick].clone()).collect();
            total = total + (NasTensor::cat(picked, 0) * gradient.grad).sum_dim(0);
            task.advance(group.len() as u64);
        }
        Ok(total * (1.0 / self.samples as f32))
    }
}

impl Saliency for LayerGradientShap {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        explain_each(
            &self.layer,
            "layer-gradient-shap",
            "layer gradient shap",
            self.samples,
            input,
            targets,
            |photo, target, task| self.attribute(backbone, photo, target, task),
        )
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(LayerGradientShap {
        layer: LayerSettings::from_params(params)?,
        samples: params.usize("samples", 5, 1, 100_000)?,
        baselines: BaselineSet::from_params(params, "black-white")?,
        seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
        batch: params.usize("batch", 16, 1, 10_000)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-gradient-shap",
        summary: "GradientSHAP at a depth level: the level's change from a drawn baseline times its gradient at a random point between them (Captum's LayerGradientShap, its NumPy draws), summed over channels",
        params: LAYER_GRADIENT_SHAP_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
