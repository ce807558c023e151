//! `feature-ablation`: each feature's attribution is the drop of the target's score when that
//! feature alone is set to the baseline (Captum's `FeatureAblation` with a feature mask).

use super::feature_scoring::{superpixel_attribution, FeatureScoring};
use super::superpixel_features::{FeatureMask, SuperpixelFeatures, SUPERPIXEL_FEATURE_PARAMS};
use super::{perturbation_params, Perturbation, Subject, SUPERPIXEL_BASELINE_DOC};
use nas_core::progress::Task;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result};

/// The `feature-ablation` saliency method.
pub struct FeatureAblation {
    perturbation: Perturbation,
    features: SuperpixelFeatures,
}

/// Parameters of `feature-ablation`.
pub const FEATURE_ABLATION_PARAMS: &[ParamSpec] =
    perturbation_params!("\"zero\"", "\"logit\"", SUPERPIXEL_BASELINE_DOC; SUPERPIXEL_FEATURE_PARAMS[0], SUPERPIXEL_FEATURE_PARAMS[1]);

impl FeatureAblation {
    /// Builds from `feature-ablation` parameters (see [`FEATURE_ABLATION_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<FeatureAblation> {
        Ok(FeatureAblation {
            perturbation: Perturbation::from_params(params, "feature-ablation", ["zero", "logit"], true)?,
            features: SuperpixelFeatures::from_params(params, ctx)?,
        })
    }
}

impl FeatureScoring for FeatureAblation {
    fn name(&self) -> &'static str {
        "feature-ablation"
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
