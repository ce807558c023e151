//! `shapley-sampling`: Shapley values of the superpixels estimated from random feature orders
//! (Castro et al. 2009), as Captum's `ShapleyValueSampling` with a feature mask computes them:
//! for each order, the photo starts at the baseline and gets its superpixels back one at a time,
//! each credited with the change of the target's score it brings; the credits are averaged
//! over the orders. The orders are `torch.randperm` draws after `torch.manual_seed(seed)`, so a
//! seed gives Captum's orders. Where [`super::shapley`] needs `2^n` forward passes,
//! this needs `1 + samples x n`, which suits SLIC's hundreds of superpixels.

use super::feature_scoring::{superpixel_attribution, FeatureScoring};
use super::superpixel_features::{FeatureMask, SuperpixelFeatures, SUPERPIXEL_FEATURE_PARAMS};
use super::{perturbation_params, torch_seed, Perturbation, Subject, SUPERPIXEL_BASELINE_DOC, TORCH_SEED_PARAM};
use crate::torch_random::TorchRandom;
use nas_core::progress::Task;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, Result};

/// The `shapley-sampling` saliency method.
pub struct ShapleySampling {
    perturbation: Perturbation,
    features: SuperpixelFeatures,
    samples: usize,
    seed: u32,
}

/// Parameters of `shapley-sampling`.
pub const SHAPLEY_SAMPLING_PARAMS: &[ParamSpec] = perturbation_params!("\"zero\"", "\"logit\"", SUPERPIXEL_BASELINE_DOC;
    SUPERPIXEL_FEATURE_PARAMS[0],
    SUPERPIXEL_FEATURE_PARAMS[1],
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int,
        default: "25",
        doc: "random feature orders averaged over (Captum's n_samples); n forward passes each for n features",
    },
    TORCH_SEED_PARAM,
);

impl ShapleySampling {
    /// Builds from `shapley-sampling` parameters (see [`SHAPLEY_SAMPLING_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<ShapleySampling> {
        Ok(ShapleySampling {
            perturbation: Perturbation::from_params(params, "shapley-sampling", ["zero", "logit"], true)?,
            features: SuperpixelFeatures::from_params(params, ctx)?,
            samples: params.usize("samples", 25, 1, 100_000)?,
            seed: torch_seed(params)?,
        })
    }

    /// The feature orders of one photo, `samples` rows of `features` each.
    fn orders(&self, features: usize) -> Vec<Vec<usize>> {
        let mut generator = TorchRandom::new(self.seed);
        (0..self.samples).map(|_| generator.randperm(features)).collect()
    }
}

/// Each feature's mean credit over `orders`, from `scores`: the score with every feature at the
/// baseline first, then, order after order, the score after each of its features comes back.
pub fn mean_marginal_contributions(orders: &[Vec<usize>], scores: &[f64], features: usize) -> Vec<f64> {
    let mut credit = vec![0f64; features];
    let mut step = scores[1..].iter();
    for order in orders {
        let mut previous = scores[0];
        for (&feature, &score) in order.iter().zip(step.by_ref()) {
            credit[feature] += score - previous;
            previous = score;
        }
    }
    credit.iter().map(|c| c / orders.len() as f64).collect()
}

impl FeatureScoring for ShapleySampling {
    fn name(&self) -> &'static str {
        "shapley-sampling"
    }

    fn copies(&self, mask: &FeatureMask) -> Result<usize> {
        Ok(1 + self.samples * mask.count)
    }

    fn attribute(&self, backbone: &dyn Backbone, photo: &NasTensor<4>, target: usize, mask: &FeatureMask, task: &Task) -> Result<Vec<f64>> {
        let n = mask.count;
        let orders = self.orders(n);
        // Each feature's place in each order: copy 0 has every feature removed, copy 1 + s n + i
        // the first i + 1 features of order s back.
        let mut places = vec![0usize; self.samples * n];
        for (s, order) in orders.iter().enumerate() {
            order
                .iter()
                .enumerate()
                .for_each(|(place, &feature)| places[s * n + feature] = place);
        }
        let remove = |copy: usize, removed: &mut [bool]| match copy.checked_sub(1) {
            Some(step) => {
                let (places, last) = (&places[step / n * n..][..n], step % n);
                removed.iter_mut().zip(&mask.pixels).for_each(|(r, &f)| *r = places[f] > last);
            }
            None => removed.fill(true),
        };
        let scores = self.perturbation.scores(
            backbone,
            &Subject {
                photo,
                target,
                features: Some(mask),
            },
            self.copies(mask)?,
            &remove,
            task,
        )?;
        Ok(mean_marginal_contributions(&orders, &scores, n))
    }
}

superpixel_attribution!(
    ShapleySampling,
    "shapley-sampling",
    SHAPLEY_SAMPLING_PARAMS,
    "Shapley values of the superpixels (NAS clusters by default) estimated from random feature orders (Captum's ShapleyValueSampling with a feature mask, its torch.randperm orders)"
);
