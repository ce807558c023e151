//! `shapley`: each feature's exact Shapley value for the target's score, the game's players
//! being the features and a coalition's worth the score with every other feature set to the
//! baseline (Captum's `ShapleyValues` with a feature mask). Every coalition is scored once
//! (`2^n` forward passes for `n` features, where Captum walks all `n!` orders), which NAS's few
//! clusters make cheap: 32 passes for the default 5.

use super::feature_scoring::{superpixel_attribution, FeatureScoring};
use super::superpixel_features::{FeatureMask, SuperpixelFeatures, SUPERPIXEL_FEATURE_PARAMS};
use super::{perturbation_params, Perturbation, Subject, SUPERPIXEL_BASELINE_DOC};
use nas_core::progress::Task;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result};

/// The most features accepted at all: `2^20` forward passes.
const MOST_FEATURES: usize = 20;

/// The `shapley` saliency method.
pub struct Shapley {
    perturbation: Perturbation,
    features: SuperpixelFeatures,
    max_features: usize,
}

/// Parameters of `shapley`.
pub const SHAPLEY_PARAMS: &[ParamSpec] = perturbation_params!("\"zero\"", "\"logit\"", SUPERPIXEL_BASELINE_DOC;
    SUPERPIXEL_FEATURE_PARAMS[0],
    SUPERPIXEL_FEATURE_PARAMS[1],
    ParamSpec {
        name: "max_features",
        kind: ParamKind::Int,
        default: "12",
        doc: "refuse photos with more features (2^n forward passes; at most 20)",
    },
);

impl Shapley {
    /// Builds from `shapley` parameters (see [`SHAPLEY_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<Shapley> {
        Ok(Shapley {
            perturbation: Perturbation::from_params(params, "shapley", ["zero", "logit"], true)?,
            features: SuperpixelFeatures::from_params(params, ctx)?,
            max_features: params.usize("max_features", 12, 1, MOST_FEATURES)?,
        })
    }
}

/// Shapley values of a game of `n` players from the worth of every coalition, `worth[s]` for the
/// coalition whose members are the set bits of `s`.
pub fn shapley_values(worth: &[f64], n: usize) -> Vec<f64> {
    // The weight of a coalition of `s` others: s! (n - 1 - s)! / n! = 1 / (n C(n - 1, s)).
    let mut choose = vec![1f64; n];
    for s in 1..n {
        choose[s] = choose[s - 1] * (n - s) as f64 / s as f64;
    }
    (0..n)
        .map(|player| {
            let bit = 1usize << player;
            (0..worth.len())
                .filter(|coalition| coalition & bit == 0)
                .map(|coalition| (worth[coalition | bit] - worth[coalition]) / (n as f64 * choose[coalition.count_ones() as usize]))
                .sum()
        })
        .collect()
}

impl FeatureScoring for Shapley {
    fn name(&self) -> &'static str {
        "shapley"
    }

    fn copies(&self, mask: &FeatureMask) -> Result<usize> {
        if mask.count > self.max_features {
            return Err(NasError::InvalidInput(format!(
                "shapley: the segmentation has {} features but `max_features` is {} (2^n forward passes); use fewer superpixels (NAS's k) or raise max_features (at most {MOST_FEATURES})",
                mask.count, self.max_features
            )));
        }
        Ok(1 << mask.count)
    }

    fn attribute(&self, backbone: &dyn Backbone, photo: &NasTensor<4>, target: usize, mask: &FeatureMask, task: &Task) -> Result<Vec<f64>> {
        let coalitions = self.copies(mask)?;
        let remove = |coalition: usize, removed: &mut [bool]| {
            removed
                .iter_mut()
                .zip(&mask.pixels)
                .for_each(|(r, &f)| *r = coalition & (1 << f) == 0);
        };
        let worth = self.perturbation.scores(
            backbone,
            &Subject {
                photo,
                target,
                features: Some(mask),
            },
            coalitions,
            &remove,
            task,
        )?;
        Ok(shapley_values(&worth, mask.count))
    }
}

superpixel_attribution!(
    Shapley,
    "shapley",
    SHAPLEY_PARAMS,
    "exact Shapley values of the superpixels (NAS clusters by default) for the target's score (Captum's ShapleyValues with a feature mask)"
);

#[cfg(test)]
mod tests {
    use super::shapley_values;

    /// A game where a coalition is worth the sum of its members' numbers plus a bonus when the
    /// first two play together: Shapley values give each their number and split the bonus.
    #[test]
    fn shapley_values_split_an_interaction_equally() {
        let own = [1.0, 2.0, 4.0];
        let worth: Vec<f64> = (0..8usize)
            .map(|s| (0..3).filter(|p| s & (1 << p) != 0).map(|p| own[p]).sum::<f64>() + if s & 3 == 3 { 6.0 } else { 0.0 })
            .collect();
        let values = shapley_values(&worth, 3);
        for (value, expected) in values.iter().zip([4.0, 5.0, 4.0]) {
            assert!((value - expected).abs() < 1e-12, "{values:?}");
        }
    }
}
