//! Captum's neuron attributions: what in the photo drives one unit of a depth level (or one
//! channel of it, summed over positions). `neuron-gradient` (`NeuronGradient`) and
//! `neuron-integrated-gradients` (`NeuronIntegratedGradients`) explain the unit itself, blind to
//! the photo's target; `neuron-conductance` (`NeuronConductance`) explains the target's logit
//! as it flows through the unit. `neuron-gradient-shap`, `neuron-deep-lift`,
//! `neuron-deep-lift-shap`, `neuron-guided-backprop` and `neuron-deconvolution` are Captum's
//! `NeuronGradientShap`, `NeuronDeepLift`, `NeuronDeepLiftShap`, `NeuronGuidedBackprop` and
//! `NeuronDeconvolution`; `neuron-feature-ablation` (`NeuronFeatureAblation`) is
//! `feature-ablation` scoring the unit (`ablation::feature_ablation`). Maps are input-shaped
//! attributions with their colour channels reduced as `gradient`'s.

pub mod conductance;
pub mod deep_lift;
pub mod gradient;
pub mod gradient_shap;
pub mod guided;
pub mod integrated_gradients;

use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, NasError, NasTensor, Neuron, ParamKind, ParamSpec, Params, ReluGradient, Result, LEVELS};

/// The level and the unit of it a neuron method explains.
#[derive(Debug, Clone, Copy)]
pub struct NeuronSettings {
    /// The depth level.
    pub level: usize,
    /// The unit, or channel, of it.
    pub neuron: Neuron,
}

/// The `level` parameter of the neuron methods.
pub const NEURON_LEVEL_PARAM: ParamSpec = ParamSpec {
    name: "level",
    kind: ParamKind::Int,
    default: "4",
    doc: "depth level holding the neuron (Captum's layer)",
};

/// The `neuron` parameter of the neuron methods.
pub const NEURON_PARAM: ParamSpec = ParamSpec {
    name: "neuron",
    kind: ParamKind::IntList,
    default: "",
    doc: "[channel, y, x]: one unit of the level's grid (Captum's neuron_selector tuple); give this or `channel`",
};

/// The `channel` parameter of the neuron methods.
pub const CHANNEL_PARAM: ParamSpec = ParamSpec {
    name: "channel",
    kind: ParamKind::Int,
    default: "",
    doc: "a channel of the level, its activations summed over every position; give this or `neuron`",
};

impl NeuronSettings {
    /// Reads `level` and exactly one of `neuron` and `channel`; `method` names the caller.
    pub fn from_params(params: &Params, method: &str) -> Result<NeuronSettings> {
        let level = params.usize("level", LEVELS - 1, 0, LEVELS - 1)?;
        let neuron = match (params.contains("neuron"), params.contains("channel")) {
            (true, false) => match params.int_list("neuron", &[], 0, i64::from(u32::MAX))?.as_slice() {
                &[channel, y, x] => Neuron::At {
                    channel: channel as usize,
                    y: y as usize,
                    x: x as usize,
                },
                other => return Err(params.error("neuron", format!("{other:?}"), "[channel, y, x]: three indices into the level")),
            },
            (false, true) => Neuron::Channel(params.usize("channel", 0, 0, u32::MAX as usize)?),
            _ => {
                return Err(params.error(
                    "neuron",
                    if params.contains("neuron") {
                        "both `neuron` and `channel`"
                    } else {
                        "neither `neuron` nor `channel`"
                    },
                    format!("{method} explains one unit: `neuron = [channel, y, x]` or `channel = C`"),
                ))
            }
        };
        Ok(NeuronSettings { level, neuron })
    }

    /// The neuron's input gradient at a batch of inputs, through rectifiers by `rule`.
    pub fn input_gradient(&self, backbone: &dyn Backbone, input: NasTensor<4>, rule: ReluGradient) -> Result<NasTensor<4>> {
        Ok(backbone.neuron_gradient(input, self.level, self.neuron, rule)?.grad)
    }

    /// Each image's value of the neuron (the unit, or the channel's sum) in a forward pass.
    pub fn values(&self, backbone: &dyn Backbone, images: NasTensor<4>) -> Result<Vec<f64>> {
        let level = backbone.forward(images).levels.into_iter().nth(self.level).ok_or_else(|| {
            NasError::InvalidInput(format!(
                "{}: the backbone never produced level {}",
                backbone.info().name,
                self.level
            ))
        })?;
        let [_, channels, h, w] = level.dims();
        self.neuron.check_in(self.level, [channels, h, w])?;
        Ok(self.select(level)?.into_iter().map(f64::from).collect())
    }

    /// Each sample's value of the neuron in `values`, a tensor shaped like the level (its
    /// gradient, say): the unit's, or the channel's sum. The neuron must lie in the level.
    pub fn select(&self, values: NasTensor<4>) -> Result<Vec<f32>> {
        let batch = values.dims()[0];
        to_host(self.neuron.of(values).sum_dim(3).sum_dim(2).reshape([batch]))
    }
}
