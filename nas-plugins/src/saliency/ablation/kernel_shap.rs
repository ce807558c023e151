//! `kernel-shap`: Kernel SHAP (Lundberg and Lee 2017) over superpixels, as Captum's `KernelShap`
//! with a feature mask computes it: coalitions of superpixels drawn with the Shapley kernel's
//! size distribution (a size `k` of `n` with probability proportional to `(n - 1) / (k (n -
//! k))`, then `k` members uniformly), the photo with the other superpixels at the baseline, and
//! a linear regression of the target's score on the coalitions (scikit-learn's
//! `LinearRegression`), the full and the empty coalition first with a weight of a million, every
//! other of one; each superpixel's coefficient is its attribution. The draws are torch's after
//! `torch.manual_seed(seed)`, as Captum makes them, so a seed gives Captum's coalitions.

use super::feature_scoring::{superpixel_attribution, FeatureScoring};
use super::linear_regression::weighted_least_squares;
use super::superpixel_features::{FeatureMask, SuperpixelFeatures, SUPERPIXEL_FEATURE_PARAMS};
use super::{perturbation_params, torch_seed, Perturbation, SUPERPIXEL_BASELINE_DOC, TORCH_SEED_PARAM};
use crate::torch_random::TorchRandom;
use nas_core::progress::Task;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result};

/// The weight of the full and the empty coalition (Captum's `inf_weight`), standing for the
/// Shapley kernel's infinite one: the fit all but passes through both.
const ENDPOINT_WEIGHT: f64 = 1e6;

/// The `kernel-shap` saliency method.
pub struct KernelShap {
    perturbation: Perturbation,
    features: SuperpixelFeatures,
    samples: usize,
    seed: u32,
}

/// Parameters of `kernel-shap`.
pub const KERNEL_SHAP_PARAMS: &[ParamSpec] = perturbation_params!("\"zero\"", "\"logit\"", SUPERPIXEL_BASELINE_DOC;
    SUPERPIXEL_FEATURE_PARAMS[0],
    SUPERPIXEL_FEATURE_PARAMS[1],
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int,
        default: "25",
        doc: "coalitions, the full and the empty one included (Captum's n_samples); one forward pass each; with no more than the superpixels the fit is the minimum-norm one",
    },
    TORCH_SEED_PARAM,
);

impl KernelShap {
    /// Builds from `kernel-shap` parameters (see [`KERNEL_SHAP_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<KernelShap> {
        Ok(KernelShap {
            perturbation: Perturbation::from_params(params, "kernel-shap", ["zero", "logit"], true)?,
            features: SuperpixelFeatures::from_params(params, ctx)?,
            samples: params.usize("samples", 25, 2, 1_000_000)?,
            seed: torch_seed(params)?,
        })
    }

    /// The coalitions of one photo, `samples x features` row-major (true: the superpixel is
    /// kept): all, none, then Captum's draws of a size from the Shapley kernel's distribution and
    /// of the members as the largest of that many normal deviates.
    fn coalitions(&self, features: usize) -> Vec<bool> {
        let n = features as f32;
        let sizes: Vec<f32> = (0..features)
            .map(|k| if k == 0 { 0.0 } else { (n - 1.0) / (k as f32 * (n - k as f32)) })
            .collect();
        let mut generator = TorchRandom::new(self.seed);
        let mut coalitions = Vec::with_capacity(self.samples * features);
        for sample in 0..self.samples {
            match sample {
                0 => coalitions.extend(std::iter::repeat_n(true, features)),
                1 => coalitions.extend(std::iter::repeat_n(false, features)),
                _ => {
                    let size = generator.categorical(&sizes);
                    let deviates = generator.randn(features);
                    let mut sorted = deviates.clone();
                    sorted.sort_by(f64::total_cmp);
                    let threshold = sorted[features - size - 1];
                    coalitions.extend(deviates.iter().map(|&d| d > threshold));
                }
            }
        }
        coalitions
    }
}

impl FeatureScoring for KernelShap {
    fn name(&self) -> &'static str {
        "kernel-shap"
    }

    fn copies(&self, mask: &FeatureMask) -> Result<usize> {
        if mask.count < 2 {
            return Err(NasError::InvalidInput(format!(
                "kernel-shap: the segmentation has {} feature(s); Kernel SHAP needs at least 2 (more superpixels, or NAS's k)",
                mask.count
            )));
        }
        Ok(self.samples)
    }

    fn attribute(&self, backbone: &dyn Backbone, photo: &NasTensor<4>, target: usize, mask: &FeatureMask, task: &Task) -> Result<Vec<f64>> {
        let n = mask.count;
        // `copies` has refused fewer than two features before any photo is attributed.
        let coalitions = self.coalitions(n);
        let scores = self.perturbation.pattern_scores(backbone, photo, target, mask, &coalitions, task)?;
        let x: Vec<f64> = coalitions.iter().map(|&kept| if kept { 1.0 } else { 0.0 }).collect();
        let weights: Vec<f64> = coalitions
            .chunks(n)
            .map(|coalition| match coalition.iter().filter(|&&kept| kept).count() {
                0 => ENDPOINT_WEIGHT,
                k if k == n => ENDPOINT_WEIGHT,
                _ => 1.0,
            })
            .collect();
        Ok(weighted_least_squares(&x, &scores, &weights, n)?.coefficients)
    }
}

superpixel_attribution!(
    KernelShap,
    "kernel-shap",
    KERNEL_SHAP_PARAMS,
    "Kernel SHAP over superpixels (NAS clusters by default): least-squares coefficients of the target's score on coalitions drawn with the Shapley kernel (Captum's KernelShap with a feature mask, its torch draws)"
);
