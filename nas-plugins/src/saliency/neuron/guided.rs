//! `neuron-guided-backprop` (Captum's `NeuronGuidedBackprop`) and `neuron-deconvolution`
//! (Captum's `NeuronDeconvolution`): a unit's (or channel's) gradient with respect to the photo
//! through modified rectifiers, as `guided-backprop` and `deconvolution` take the target logit's.
//! The backward pass is the backbone's own, started at the neuron's level (CPU host kernels).

use super::{NeuronSettings, CHANNEL_PARAM, NEURON_LEVEL_PARAM, NEURON_PARAM};
use crate::saliency::gradient::{reduce_channels, ChannelReduction, REDUCE_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, ReluGradient, Result, Saliency};

/// The `neuron-guided-backprop` and `neuron-deconvolution` saliency methods.
pub struct NeuronModifiedGradient {
    neuron: NeuronSettings,
    rule: ReluGradient,
    reduction: ChannelReduction,
}

/// Parameters of `neuron-guided-backprop` and `neuron-deconvolution`.
pub const NEURON_MODIFIED_GRADIENT_PARAMS: &[ParamSpec] = &[NEURON_LEVEL_PARAM, NEURON_PARAM, CHANNEL_PARAM, REDUCE_PARAM];

impl Saliency for NeuronModifiedGradient {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        reduce_channels(self.neuron.input_gradient(backbone, input.clone(), self.rule)?, self.reduction)
    }
}

fn build(params: &Params, method: &str, rule: ReluGradient) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(NeuronModifiedGradient {
        neuron: NeuronSettings::from_params(params, method)?,
        rule,
        reduction: ChannelReduction::from_params(params)?,
    }))
}

fn build_guided(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    build(params, "neuron-guided-backprop", ReluGradient::Guided)
}

fn build_deconvolution(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    build(params, "neuron-deconvolution", ReluGradient::Deconvolution)
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "neuron-guided-backprop",
        summary: "guided backpropagation of one unit (or channel) of a depth level to the photo (Captum's NeuronGuidedBackprop; CPU), class-agnostic",
        params: NEURON_MODIFIED_GRADIENT_PARAMS,
        factory: nas_core::Factory::Saliency(build_guided),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "neuron-deconvolution",
        summary: "deconvolution of one unit (or channel) of a depth level to the photo (Captum's NeuronDeconvolution; CPU), class-agnostic",
        params: NEURON_MODIFIED_GRADIENT_PARAMS,
        factory: nas_core::Factory::Saliency(build_deconvolution),
    }
}
