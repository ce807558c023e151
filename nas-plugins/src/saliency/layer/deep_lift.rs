//! `layer-deep-lift` and `layer-deep-lift-shap` (Captum's `LayerDeepLift` and
//! `LayerDeepLiftShap`): DeepLift's Rescale rule from the target logit back to a depth level,
//! the level's change from each baseline to the photo times the multipliers there, averaged
//! over the baselines. Where every nonlinearity after the level takes the Rescale rule, a
//! baseline's attribution adds up to the change of the logit. Backbones with their own
//! backward pass, on the CPU.

use super::{LayerSettings, INTERPOLATE_PARAM, LEVEL_PARAM};
use crate::saliency::baseline_set::BaselineSet;
use crate::saliency::deep_lift::{attribution, BASELINES_PARAM, SHAP_BASELINES_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `layer-deep-lift` and `layer-deep-lift-shap` saliency methods.
pub struct LayerDeepLift {
    baselines: BaselineSet,
    layer: LayerSettings,
}

/// Parameters of `layer-deep-lift`.
pub const LAYER_DEEP_LIFT_PARAMS: &[ParamSpec] = &[LEVEL_PARAM, BASELINES_PARAM, INTERPOLATE_PARAM];

/// Parameters of `layer-deep-lift-shap`.
pub const LAYER_DEEP_LIFT_SHAP_PARAMS: &[ParamSpec] = &[LEVEL_PARAM, SHAP_BASELINES_PARAM, INTERPOLATE_PARAM];

impl Saliency for LayerDeepLift {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [_, _, h, w] = input.dims();
        let attributed = attribution(backbone, input, targets, self.baselines, Some(self.layer.level))?;
        self.layer.maps(attributed, [h, w])
    }
}

fn build(params: &Params, default_baselines: &str) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(LayerDeepLift {
        baselines: BaselineSet::from_params(params, default_baselines)?,
        layer: LayerSettings::from_params(params)?,
    }))
}

fn build_layer_deep_lift(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    build(params, "zero")
}

fn build_layer_deep_lift_shap(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    build(params, "black-white")
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-deep-lift",
        summary: "DeepLift (Rescale rule) at a depth level: the level's change from the baseline times the multipliers there (Captum's LayerDeepLift; CPU), summed over channels",
        params: LAYER_DEEP_LIFT_PARAMS,
        factory: nas_core::Factory::Saliency(build_layer_deep_lift),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-deep-lift-shap",
        summary: "LayerDeepLift averaged over a black and a white photo by default (Captum's LayerDeepLiftShap; CPU), summed over channels",
        params: LAYER_DEEP_LIFT_SHAP_PARAMS,
        factory: nas_core::Factory::Saliency(build_layer_deep_lift_shap),
    }
}
