//! `feature-ablation`: each feature's attribution is the drop of the target's score when that
//! feature alone is set to the baseline (Captum's `FeatureAblation` with a feature mask); and
//! `neuron-feature-ablation`, the drop of a unit (or channel) of a depth level instead
//! (Captum's `NeuronFeatureAblation`).

use super::feature_scoring::{superpixel_attribution, FeatureScoring};
use super::superpixel_features::{FeatureMask, SuperpixelFeatures, SUPERPIXEL_FEATURE_PARAMS};
use super::{perturbation_params, Perturbation, Scored, Subject, SUPERPIXEL_BASELINE_DOC};
use crate::saliency::neuron::{NeuronSettings, CHANNEL_PARAM, NEURON_LEVEL_PARAM, NEURON_PARAM};
use nas_core::progress::Task;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result};

/// The `feature-ablation` and `neuron-feature-ablation` saliency methods.
pub struct FeatureAblation {
    perturbation: Perturbation,
    features: SuperpixelFeatures,
}

/// Parameters of `feature-ablation`.
pub const FEATURE_ABLATION_PARAMS: &[ParamSpec] =
    perturbation_params!("\"zero\"", "\"logit\"", SUPERPIXEL_BASELINE_DOC; SUPERPIXEL_FEATURE_PARAMS[0], SUPERPIXEL_FEATURE_PARAMS[1]);

/// Parameters of `neuron-feature-ablation`: the neuron's, then `feature-ablation`'s but `scores`.
pub const NEURON_FEATURE_ABLATION_PARAMS: &[ParamSpec] = &[
    NEURON_LEVEL_PARAM,
    NEURON_PARAM,
    CHANNEL_PARAM,
    FEATURE_ABLATION_PARAMS[0],
    FEATURE_ABLATION_PARAMS[1],
    FEATURE_ABLATION_PARAMS[2],
    FEATURE_ABLATION_PARAMS[4],
];

impl FeatureAblation {
    /// Builds from `feature-ablation` parameters (see [`FEATURE_ABLATION_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<FeatureAblation> {
        Ok(FeatureAblation {
            perturbation: Perturbation::from_params(params, "feature-ablation", ["zero", "logit"], true)?,
            features: SuperpixelFeatures::from_params(params, ctx)?,
        })
    }

    /// Builds from `neuron-feature-ablation` parameters (see [`NEURON_FEATURE_ABLATION_PARAMS`]).
    pub fn for_neuron(params: &Params, ctx: &Context<'_>) -> Result<FeatureAblation> {
        const METHOD: &str = "neuron-feature-ablation";
        let mut perturbation = Perturbation::from_params(params, METHOD, ["zero", "logit"], true)?;
        perturbation.scored = Scored::Neuron(NeuronSettings::from_params(params, METHOD)?);
        Ok(FeatureAblation {
            perturbation,
            features: SuperpixelFeatures::from_params(params, ctx)?,
        })
    }
}

impl FeatureScoring for FeatureAblation {
    fn name(&self) -> &'static str {
        self.perturbation.method
    }

    fn copies(&self, mask: &FeatureMask) -> Result<usize> {
        Ok(mask.count + 1)
    }

    fn attribute(&self, backbone: &dyn Backbone, photo: &NasTensor<4>, target: usize, mask: &FeatureMask, task: &Task) -> Result<Vec<f64>> {
        // Copy 0 is the photo itself; copy f + 1 lacks feature f.
        let remove = |copy: usize, removed: &mut [bool]| {
            if copy > 0 {
                removed.iter_mut().zip(&mask.pixels).for_each(|(r, &f)| *r = f + 1 == copy);
            }
        };
        let scores = self.perturbation.scores(
            backbone,
            &Subject {
                photo,
                target,
                features: Some(mask),
            },
            mask.count + 1,
            &remove,
            task,
        )?;
        Ok(scores[1..].iter().map(|s| scores[0] - s).collect())
    }
}

superpixel_attribution!(
    FeatureAblation,
    "feature-ablation",
    FEATURE_ABLATION_PARAMS,
    "the target's score drop when each superpixel (NAS by default) alone is set to a baseline (Captum's FeatureAblation with a feature mask)"
);

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "neuron-feature-ablation",
        summary: "the drop of one unit (or channel) of a depth level when each superpixel (NAS by default) alone is set to a baseline (Captum's NeuronFeatureAblation with a feature mask), class-agnostic",
        params: NEURON_FEATURE_ABLATION_PARAMS,
        factory: nas_core::Factory::Saliency(|params, ctx| Ok(Box::new(FeatureAblation::for_neuron(params, ctx)?))),
    }
}
