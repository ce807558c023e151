//! LIME (Ribeiro et al. 2016) over superpixels, as the `lime` package's `LimeImageExplainer`
//! computes it: random on/off patterns of the superpixels (drawn from NumPy's `RandomState`,
//! so a seed gives the package's samples), the photo with the "off" superpixels replaced by
//! their mean colour, a kernel on the cosine distance of each pattern to the all-on one, and a
//! weighted ridge regression of the target's probability on the patterns; each superpixel's
//! coefficient is its attribution.

use super::feature_scoring::{superpixel_attribution, FeatureScoring};
use super::linear_regression::weighted_ridge;
use super::superpixel_features::{FeatureMask, SuperpixelFeatures, SUPERPIXEL_FEATURE_PARAMS};
use super::{perturbation_params, Perturbation, SUPERPIXEL_BASELINE_DOC};
use crate::numpy_random::NumpyRandom;
use nas_core::progress::Task;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, Result};

/// The `lime` saliency method.
pub struct Lime {
    perturbation: Perturbation,
    features: SuperpixelFeatures,
    samples: usize,
    kernel_width: f64,
    alpha: f64,
    seed: u32,
}

/// Parameters of `lime`.
pub const LIME_PARAMS: &[ParamSpec] = perturbation_params!(
    "\"superpixel-mean\"",
    "\"probability\"",
    SUPERPIXEL_BASELINE_DOC;
    SUPERPIXEL_FEATURE_PARAMS[0],
    SUPERPIXEL_FEATURE_PARAMS[1],
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int,
        default: "1000",
        doc: "random patterns, the first with every superpixel on (the package's num_samples); one forward pass each",
    },
    ParamSpec {
        name: "kernel_width",
        kind: ParamKind::Float,
        default: "0.25",
        doc: "width of the exponential kernel on the cosine distance (the package's kernel_width)",
    },
    ParamSpec {
        name: "alpha",
        kind: ParamKind::Float,
        default: "1.0",
        doc: "ridge penalty of the linear model (the package's Ridge(alpha=1))",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of the RandomState the patterns are drawn from (the explainer's random_state), the same for every photo",
    },
);

impl Lime {
    /// Builds from `lime` parameters (see [`LIME_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<Lime> {
        Ok(Lime {
            perturbation: Perturbation::from_params(params, "lime", ["superpixel-mean", "probability"], true)?,
            features: SuperpixelFeatures::from_params(params, ctx)?,
            samples: params.usize("samples", 1000, 2, 1_000_000)?,
            kernel_width: params.float("kernel_width", 0.25, f64::MIN_POSITIVE, f64::MAX)?,
            alpha: params.float("alpha", 1.0, f64::MIN_POSITIVE, f64::MAX)?,
            seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
        })
    }

    /// The on/off patterns, `samples x features` row-major, as the package draws them: a
    /// `randint(0, 1000)` it makes for its segmentation seed, then `randint(0, 2, samples *
    /// features)`, the first row set to all on.
    fn patterns(&self, features: usize) -> Vec<bool> {
        let mut random = NumpyRandom::new(self.seed);
        random.bounded(999);
        let mut patterns: Vec<bool> = (0..self.samples * features).map(|_| random.bounded(1) == 1).collect();
        patterns[..features].fill(true);
        patterns
    }

    /// The weight of a pattern with `on` of `features` superpixels on: the kernel
    /// `sqrt(exp(-d^2 / width^2))` of its cosine distance `d` to the all-on pattern.
    fn weight(&self, on: usize, features: usize) -> f64 {
        let distance = if on == 0 {
            1.0
        } else {
            1.0 - on as f64 / ((on as f64).sqrt() * (features as f64).sqrt())
        };
        (-(distance * distance) / (self.kernel_width * self.kernel_width)).exp().sqrt()
    }
}

impl FeatureScoring for Lime {
    fn name(&self) -> &'static str {
        "lime"
    }

    fn copies(&self, _mask: &FeatureMask) -> Result<usize> {
        Ok(self.samples)
    }

    fn attribute(&self, backbone: &dyn Backbone, photo: &NasTensor<4>, target: usize, mask: &FeatureMask, task: &Task) -> Result<Vec<f64>> {
        let n = mask.count;
        let patterns = self.patterns(n);
        let scores = self.perturbation.pattern_scores(backbone, photo, target, mask, &patterns, task)?;
        let x: Vec<f64> = patterns.iter().map(|&on| if on { 1.0 } else { 0.0 }).collect();
        let weights: Vec<f64> = patterns
            .chunks(n)
            .map(|pattern| self.weight(pattern.iter().filter(|&&on| on).count(), n))
            .collect();
        Ok(weighted_ridge(&x, &scores, &weights, n, self.alpha)?.coefficients)
    }
}

superpixel_attribution!(
    Lime,
    "lime",
    LIME_PARAMS,
    "LIME over superpixels (NAS clusters by default): ridge coefficients of the target's probability on random on/off patterns (the lime package's LimeImageExplainer, seeded)"
);
