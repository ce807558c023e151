//! `layer-activation` (Captum's `LayerActivation`): a depth level's activations summed over
//! channels, blind to the class; the raw signal every layer method starts from.

use super::{LayerSettings, INTERPOLATE_PARAM, LEVEL_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `layer-activation` saliency method.
pub struct LayerActivation {
    layer: LayerSettings,
}

/// Parameters of `layer-activation`.
pub const LAYER_ACTIVATION_PARAMS: &[ParamSpec] = &[LEVEL_PARAM, INTERPOLATE_PARAM];

impl Saliency for LayerActivation {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [_, _, h, w] = input.dims();
        let activations = backbone.forward(input.clone()).levels.swap_remove(self.layer.level);
        self.layer.maps(activations, [h, w])
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(LayerActivation {
        layer: LayerSettings::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-activation",
        summary: "a depth level's activations summed over channels, class-agnostic (Captum's LayerActivation)",
        params: LAYER_ACTIVATION_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
