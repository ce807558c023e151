//! `neuron-gradient` (Captum's `NeuronGradient`): the gradient of a unit (or channel) of a
//! depth level with respect to the photo, colour channels reduced.

use super::{NeuronSettings, CHANNEL_PARAM, NEURON_LEVEL_PARAM, NEURON_PARAM};
use crate::saliency::gradient::{reduce_channels, ChannelReduction, REDUCE_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, ReluGradient, Result, Saliency};

/// The `neuron-gradient` saliency method.
pub struct NeuronGradient {
    neuron: NeuronSettings,
    reduction: ChannelReduction,
}

/// Parameters of `neuron-gradient`.
pub const NEURON_GRADIENT_PARAMS: &[ParamSpec] = &[NEURON_LEVEL_PARAM, NEURON_PARAM, CHANNEL_PARAM, REDUCE_PARAM];

impl Saliency for NeuronGradient {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        reduce_channels(
            self.neuron.input_gradient(backbone, input.clone(), ReluGradient::Standard)?,
            self.reduction,
        )
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(NeuronGradient {
        neuron: NeuronSettings::from_params(params, "neuron-gradient")?,
        reduction: ChannelReduction::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "neuron-gradient",
        summary: "the gradient of one unit (or channel) of a depth level with respect to the photo (Captum's NeuronGradient), class-agnostic",
        params: NEURON_GRADIENT_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
