//! `neuron-integrated-gradients` (Captum's `NeuronIntegratedGradients`): Integrated Gradients
//! of a unit (or channel) of a depth level instead of a logit, from a baseline image to the
//! photo; `steps`, `method`, `baseline`, `batch` and `reduce` as `integrated-gradients`.

use super::{NeuronSettings, CHANNEL_PARAM, NEURON_LEVEL_PARAM, NEURON_PARAM};
use crate::saliency::gradient::REDUCE_PARAM;
use crate::saliency::integrated_gradients::{IntegratedGradients, BASELINE_PARAM, METHOD_PARAM, PATH_BATCH_PARAM, STEPS_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, ReluGradient, Result, Saliency};

/// The `neuron-integrated-gradients` saliency method.
pub struct NeuronIntegratedGradients {
    neuron: NeuronSettings,
    path: IntegratedGradients,
}

/// Parameters of `neuron-integrated-gradients`.
pub const NEURON_INTEGRATED_GRADIENTS_PARAMS: &[ParamSpec] = &[
    NEURON_LEVEL_PARAM,
    NEURON_PARAM,
    CHANNEL_PARAM,
    STEPS_PARAM,
    METHOD_PARAM,
    BASELINE_PARAM,
    PATH_BATCH_PARAM,
    REDUCE_PARAM,
];

impl Saliency for NeuronIntegratedGradients {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        self.path
            .explain_with("neuron-integrated-gradients", backbone, input, targets, |points, _| {
                self.neuron.input_gradient(backbone, points, ReluGradient::Standard)
            })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(NeuronIntegratedGradients {
        neuron: NeuronSettings::from_params(params, "neuron-integrated-gradients")?,
        path: IntegratedGradients::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "neuron-integrated-gradients",
        summary: "Integrated Gradients of one unit (or channel) of a depth level from a baseline image (Captum's NeuronIntegratedGradients), class-agnostic",
        params: NEURON_INTEGRATED_GRADIENTS_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
