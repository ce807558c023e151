//! `neuron-deep-lift` (Captum's `NeuronDeepLift`) and `neuron-deep-lift-shap` (Captum's
//! `NeuronDeepLiftShap`): DeepLift's Rescale rule from a unit (or channel) of a depth level back
//! to the photo, times the photo's difference from each baseline, averaged over the baselines.
//! The backward pass is the backbone's own, started at the neuron's level (CPU host kernels).

use super::{NeuronSettings, CHANNEL_PARAM, NEURON_LEVEL_PARAM, NEURON_PARAM};
use crate::saliency::baseline_set::BaselineSet;
use crate::saliency::deep_lift::{averaged, BASELINES_PARAM, SHAP_BASELINES_PARAM};
use crate::saliency::gradient::{reduce_channels, ChannelReduction, REDUCE_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `neuron-deep-lift` and `neuron-deep-lift-shap` saliency methods.
pub struct NeuronDeepLift {
    neuron: NeuronSettings,
    baselines: BaselineSet,
    reduction: ChannelReduction,
}

/// Parameters of `neuron-deep-lift`.
pub const NEURON_DEEP_LIFT_PARAMS: &[ParamSpec] = &[NEURON_LEVEL_PARAM, NEURON_PARAM, CHANNEL_PARAM, BASELINES_PARAM, REDUCE_PARAM];

/// Parameters of `neuron-deep-lift-shap`.
pub const NEURON_DEEP_LIFT_SHAP_PARAMS: &[ParamSpec] =
    &[NEURON_LEVEL_PARAM, NEURON_PARAM, CHANNEL_PARAM, SHAP_BASELINES_PARAM, REDUCE_PARAM];

impl Saliency for NeuronDeepLift {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let NeuronSettings { level, neuron } = self.neuron;
        let attribution = averaged(backbone, input, self.baselines, |reference| {
            backbone.neuron_deep_lift_multipliers(input.clone(), reference, level, neuron)
        })?;
        reduce_channels(attribution, self.reduction)
    }
}

fn build(params: &Params, method: &str, default: &str) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(NeuronDeepLift {
        neuron: NeuronSettings::from_params(params, method)?,
        baselines: BaselineSet::from_params(params, default)?,
        reduction: ChannelReduction::from_params(params)?,
    }))
}

fn build_deep_lift(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    build(params, "neuron-deep-lift", "zero")
}

fn build_deep_lift_shap(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    build(params, "neuron-deep-lift-shap", "black-white")
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "neuron-deep-lift",
        summary: "DeepLift (Rescale rule) of one unit (or channel) of a depth level: (photo - baseline) x the unit's multipliers (Captum's NeuronDeepLift; CPU), class-agnostic",
        params: NEURON_DEEP_LIFT_PARAMS,
        factory: nas_core::Factory::Saliency(build_deep_lift),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "neuron-deep-lift-shap",
        summary: "DeepLiftShap of one unit (or channel) of a depth level: its DeepLift averaged over baselines, a black and a white photo by default (Captum's NeuronDeepLiftShap; CPU), class-agnostic",
        params: NEURON_DEEP_LIFT_SHAP_PARAMS,
        factory: nas_core::Factory::Saliency(build_deep_lift_shap),
    }
}
