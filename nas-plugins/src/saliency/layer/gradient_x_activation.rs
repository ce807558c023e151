//! `layer-gradient-x-activation` (Captum's `LayerGradientXActivation`): a depth level's
//! activations times the target logit's gradient there, channel by channel and position by
//! position; summed over channels it is HiResCAM before rectifying and scaling.

use super::{LayerSettings, INTERPOLATE_PARAM, LEVEL_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `layer-gradient-x-activation` saliency method.
pub struct LayerGradientXActivation {
    layer: LayerSettings,
}

/// Parameters of `layer-gradient-x-activation`.
pub const LAYER_GRADIENT_X_ACTIVATION_PARAMS: &[ParamSpec] = &[LEVEL_PARAM, INTERPOLATE_PARAM];

impl Saliency for LayerGradientXActivation {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [_, _, h, w] = input.dims();
        let gradient = backbone.level_gradient(input.clone(), self.layer.level, targets)?;
        self.layer.maps(gradient.value * gradient.grad, [h, w])
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(LayerGradientXActivation {
        layer: LayerSettings::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-gradient-x-activation",
        summary: "a depth level's activations times the target logit's gradient there (Captum's LayerGradientXActivation), summed over channels",
        params: LAYER_GRADIENT_X_ACTIVATION_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
