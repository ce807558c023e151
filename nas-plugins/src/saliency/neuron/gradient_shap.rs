//! `neuron-gradient-shap` (Captum's `NeuronGradientShap`): GradientSHAP of a unit (or channel)
//! of a depth level instead of a logit; `samples`, `baselines`, `seed`, `batch` and `reduce` as
//! `gradient-shap`, whose NumPy draws it shares.

use super::{NeuronSettings, CHANNEL_PARAM, NEURON_LEVEL_PARAM, NEURON_PARAM};
use crate::saliency::gradient_shap::{GradientShap, GRADIENT_SHAP_PARAMS};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, ReluGradient, Result, Saliency};

/// The `neuron-gradient-shap` saliency method.
pub struct NeuronGradientShap {
    neuron: NeuronSettings,
    shap: GradientShap,
}

/// Parameters of `neuron-gradient-shap`: the neuron's, then `gradient-shap`'s.
pub const NEURON_GRADIENT_SHAP_PARAMS: &[ParamSpec] = &[
    NEURON_LEVEL_PARAM,
    NEURON_PARAM,
    CHANNEL_PARAM,
    GRADIENT_SHAP_PARAMS[0],
    GRADIENT_SHAP_PARAMS[1],
    GRADIENT_SHAP_PARAMS[2],
    GRADIENT_SHAP_PARAMS[3],
    GRADIENT_SHAP_PARAMS[4],
];

impl Saliency for NeuronGradientShap {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        self.shap
            .explain_with("neuron-gradient-shap", backbone, input, targets, |points, _| {
                self.neuron.input_gradient(backbone, points, ReluGradient::Standard)
            })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(NeuronGradientShap {
        neuron: NeuronSettings::from_params(params, "neuron-gradient-shap")?,
        shap: GradientShap::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "neuron-gradient-shap",
        summary: "GradientSHAP of one unit (or channel) of a depth level: (photo - baseline) x the unit's gradient at random points between them (Captum's NeuronGradientShap, its NumPy draws), class-agnostic",
        params: NEURON_GRADIENT_SHAP_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
