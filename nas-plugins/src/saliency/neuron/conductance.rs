//! `neuron-conductance` (Captum's `NeuronConductance`, Dhamdhere et al. 2018): the target
//! logit's flow through one unit (or channel) of a depth level, attributed to the photo. Along
//! the path from a baseline image, each point's gradient of the unit with respect to the input,
//! times the target logit's gradient with respect to the unit, is integrated and multiplied by
//! the photo's difference from the baseline. Captum's `riemann_trapezoid` rule by default;
//! `steps`, `baseline`, `batch` and `reduce` as `integrated-gradients`. For a channel, the
//! target's gradient is summed over the channel's positions as Captum applies a selector
//! function to it.

use super::{NeuronSettings, CHANNEL_PARAM, NEURON_LEVEL_PARAM, NEURON_PARAM};
use crate::saliency::gradient::REDUCE_PARAM;
use crate::saliency::integrated_gradients::{IntegratedGradients, BASELINE_PARAM, PATH_BATCH_PARAM, STEPS_PARAM};
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, ReluGradient, Result, Saliency};

/// The `neuron-conductance` saliency method.
pub struct NeuronConductance {
    neuron: NeuronSettings,
    path: IntegratedGradients,
}

/// Parameters of `neuron-conductance`.
pub const NEURON_CONDUCTANCE_PARAMS: &[ParamSpec] = &[
    NEURON_LEVEL_PARAM,
    NEURON_PARAM,
    CHANNEL_PARAM,
    STEPS_PARAM,
    ParamSpec {
        name: "method",
        kind: ParamKind::Str,
        default: "\"riemann_trapezoid\"",
        doc: "quadrature (Captum's NeuronConductance default): riemann_trapezoid, gausslegendre, riemann_left, riemann_right, riemann_middle or linspace",
    },
    BASELINE_PARAM,
    PATH_BATCH_PARAM,
    REDUCE_PARAM,
];

impl NeuronConductance {
    /// At a batch of path points for `target`: the unit's input gradient, each sample's times
    /// the target logit's gradient at the unit.
    fn conducted(&self, backbone: &dyn Backbone, points: NasTensor<4>, target: usize) -> Result<NasTensor<4>> {
        let count = points.dims()[0];
        let through = self.neuron.input_gradient(backbone, points.clone(), ReluGradient::Standard)?;
        let at_level = backbone.level_gradient(points, self.neuron.level, &vec![target; count])?;
        let flow = self.neuron.select(at_level.grad)?;
        let flow = NasTensor::<4>::from_data(TensorData::new(flow, [count, 1, 1, 1]), &through.device());
        Ok(through * flow)
    }
}

impl Saliency for NeuronConductance {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        self.path
            .explain_with("neuron-conductance", backbone, input, targets, |points, target| {
                self.conducted(backbone, points, target)
            })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(NeuronConductance {
        neuron: NeuronSettings::from_params(params, "neuron-conductance")?,
        path: IntegratedGradients::from_params_with_rule(params, "riemann_trapezoid")?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "neuron-conductance",
        summary: "the target logit's flow through one unit (or channel) of a depth level, integrated along a path from a baseline image (Captum's NeuronConductance)",
        params: NEURON_CONDUCTANCE_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
