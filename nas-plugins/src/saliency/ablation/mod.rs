//! Perturbation attributions, as Captum computes them: how much the target's score drops when
//! parts of the photo are set to a baseline. [`occlusion`] slides a window over the photo
//! (Captum's `Occlusion`); [`feature_ablation`] removes one superpixel at a time
//! (`FeatureAblation` with a feature mask), [`shapley`] gives the superpixels' exact Shapley
//! values (`ShapleyValues`), [`shapley_sampling`] estimates them from random orders
//! (`ShapleyValueSampling`) and [`kernel_shap`] by Kernel SHAP's regression (`KernelShap`), and
//! [`lime`] fits LIME's local linear model over them (the `lime` package's
//! `LimeImageExplainer`), the superpixels coming from any segmenter ([`superpixel_features`]).
//! Maps hold Captum's attribution of one colour channel: the perturbations cover all three, so
//! Captum's three channels are equal.

pub mod feature_ablation;
pub mod feature_scoring;
pub mod kernel_shap;
pub mod lime;
pub mod linear_regression;
pub mod occlusion;
pub mod shapley;
pub mod shapley_sampling;
pub mod superpixel_features;

use super::neuron::NeuronSettings;
use nas_core::burn::tensor::activation::softmax;
use nas_core::burn::tensor::TensorData;
use nas_core::deletion::class_scores;
use nas_core::progress::Task;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, NasError, NasTensor, Params, Result};
use superpixel_features::FeatureMask;

/// What removed pixels become, in the normalised input space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AblationBaseline {
    /// Zero, i.e. the dataset's mean colour (Captum's default `baselines=0`).
    Zero,
    /// Black: zero in pixel space.
    Black,
    /// The same number on every channel (Captum's scalar `baselines`).
    Value(f32),
    /// Each superpixel's mean colour (LIME's `hide_color=None`); superpixel methods only.
    SuperpixelMean,
}

/// What a perturbation attribution explains: one photo, the class, and the photo's superpixels
/// when the method has any.
#[derive(Clone, Copy)]
pub struct Subject<'a> {
    /// The normalised photo, `(1, 3, H, W)`.
    pub photo: &'a NasTensor<4>,
    /// The class explained.
    pub target: usize,
    /// The superpixels, for methods over them.
    pub features: Option<&'a FeatureMask>,
}

/// What a perturbation attribution scores each perturbed photo by.
#[derive(Debug, Clone, Copy)]
pub enum Scored {
    /// The target's logit (Captum's model output).
    Logit,
    /// The target's softmax probability.
    Probability,
    /// A unit (or channel) of a depth level, whatever the target (Captum's neuron methods).
    Neuron(NeuronSettings),
}

/// Settings every perturbation attribution shares.
#[derive(Debug, Clone)]
pub struct Perturbation {
    /// What removed pixels become.
    pub baseline: AblationBaseline,
    /// What each perturbed photo is scored by.
    pub scored: Scored,
    /// Perturbed photos per forward pass (Captum's `perturbations_per_eval`).
    pub batch: usize,
    /// The method's name, for errors and progress.
    pub method: &'static str,
}

impl Perturbation {
    /// Reads `baseline`, `scores` and `batch`, given the defaults of the first two; the
    /// superpixel mean is accepted only where `superpixels` says the method has superpixels.
    pub fn from_params(params: &Params, method: &'static str, [baseline, scores]: [&str; 2], superpixels: bool) -> Result<Perturbation> {
        let baseline = if matches!(
            params.table().get("baseline"),
            Some(toml::Value::Integer(_) | toml::Value::Float(_))
        ) {
            AblationBaseline::Value(params.float("baseline", 0.0, f64::MIN, f64::MAX)? as f32)
        } else {
            let choices: &[&str] = if superpixels {
                &["zero", "black", "superpixel-mean"]
            } else {
                &["zero", "black"]
            };
            let choice = params.choice("baseline", baseline, choices).map_err(|_| {
                let given = params.table().get("baseline").map(ToString::to_string).unwrap_or_default();
                params.error("baseline", given, format!("one of: {}, or a number", choices.join(", ")))
            })?;
            match choice.as_str() {
                "black" => AblationBaseline::Black,
                "superpixel-mean" => AblationBaseline::SuperpixelMean,
                _ => AblationBaseline::Zero,
            }
        };
        Ok(Perturbation {
            baseline,
            scored: match params.choice("scores", scores, &["logit", "probability"])?.as_str() {
                "probability" => Scored::Probability,
                _ => Scored::Logit,
            },
            batch: params.usize("batch", 16, 1, 4096)?,
            method,
        })
    }

    /// What each value of the normalised photo `values` `(3, H, W)` becomes when removed.
    fn substitute(&self, backbone: &dyn Backbone, values: &[f32], features: Option<&FeatureMask>) -> Result<Vec<f32>> {
        let plane = values.len() / 3;
        let info = backbone.info();
        let constant = |value: &dyn Fn(usize) -> f32| (0..values.len()).map(|i| value(i / plane)).collect();
        let black = info.normalised_colour(0.0);
        Ok(match self.baseline {
            AblationBaseline::Zero => constant(&|_| 0.0),
            AblationBaseline::Black => constant(&|c| black[c]),
            AblationBaseline::Value(v) => constant(&|_| v),
            AblationBaseline::SuperpixelMean => {
                let features = features
                    .ok_or_else(|| NasError::InvalidInput(format!("{}: the superpixel-mean baseline needs superpixels", self.method)))?;
                let mut sizes = vec![0usize; features.count];
                features.pixels.iter().for_each(|&f| sizes[f] += 1);
                values
                    .chunks(plane)
                    .flat_map(|channel| {
                        let mut sums = vec![0f64; features.count];
                        channel.iter().zip(&features.pixels).for_each(|(v, &f)| sums[f] += f64::from(*v));
                        let means: Vec<f32> = sums.iter().zip(&sizes).map(|(s, &n)| (s / n.max(1) as f64) as f32).collect();
                        features.pixels.iter().map(move |&f| means[f])
                    })
                    .collect()
            }
        })
    }

    /// Class `target`'s score for each of `copies` copies of the photo, where copy `i` has the
    /// pixels that `remove(i, mask)` marks in `mask` (`H x W`, row-major, cleared before each
    /// call) set to the baseline. Reports each copy to `task`; stops on Ctrl-C.
    pub fn scores(
        &self,
        backbone: &dyn Backbone,
        subject: &Subject<'_>,
        copies: usize,
        remove: &dyn Fn(usize, &mut [bool]),
        task: &Task,
    ) -> Result<Vec<f64>> {
        let Subject { photo, target, features } = *subject;
        let [_, channels, h, w] = photo.dims();
        if channels != 3 {
            return Err(NasError::InvalidInput(format!(
                "{}: expected a colour photo (3 channels), got {channels}",
                self.method
            )));
        }
        let values = to_host(photo.clone())?;
        let substitute = self.substitute(backbone, &values, features)?;
        let plane = h * w;
        let mut mask = vec![false; plane];
        let mut scores = Vec::with_capacity(copies);
        let mut pending: Vec<f32> = Vec::with_capacity(self.batch.min(copies) * values.len());
        for copy in 0..copies {
            mask.iter_mut().for_each(|m| *m = false);
            remove(copy, &mut mask);
            for (channel, replacement) in values.chunks(plane).zip(substitute.chunks(plane)) {
                pending.extend(
                    channel
                        .iter()
                        .zip(replacement)
                        .zip(&mask)
                        .map(|((&v, &r), &removed)| if removed { r } else { v }),
                );
            }
            if pending.len() == self.batch * values.len() || copy + 1 == copies {
                task.check()?;
                let n = pending.len() / values.len();
                let images = NasTensor::<4>::from_data(TensorData::new(std::mem::take(&mut pending), [n, 3, h, w]), &photo.device());
                scores.extend(match self.scored {
                    Scored::Logit => class_scores(backbone, images, target, &|logits| logits)?,
                    Scored::Probability => class_scores(backbone, images, target, &|logits| softmax(logits, 1))?,
                    Scored::Neuron(neuron) => neuron.values(backbone, images)?,
                });
                task.advance(n as u64);
            }
        }
        Ok(scores)
    }

    /// Class `target`'s score with each on/off pattern of the superpixels `mask` (`patterns`:
    /// one row of `mask.count` flags per copy, true where the superpixel is kept, the others
    /// set to the baseline), for the surrogate-model methods (LIME, Kernel SHAP).
    pub fn pattern_scores(
        &self,
        backbone: &dyn Backbone,
        photo: &NasTensor<4>,
        target: usize,
        mask: &FeatureMask,
        patterns: &[bool],
        task: &Task,
    ) -> Result<Vec<f64>> {
        let n = mask.count.max(1);
        let remove = |copy: usize, removed: &mut [bool]| {
            let kept = &patterns[copy * n..][..n];
            removed.iter_mut().zip(&mask.pixels).for_each(|(r, &f)| *r = !kept[f]);
        };
        let subject = Subject {
            photo,
            target,
            features: Some(mask),
        };
        self.scores(backbone, &subject, patterns.len() / n, &remove, task)
    }
}

/// The parameter list of a perturbation attribution: its own specs, then `baseline`, `scores` and
/// `batch`; the defaults of `baseline` and `scores`, written as TOML, and the baseline's
/// documentation come first.
macro_rules! perturbation_params {
    ($baseline:expr, $scores:expr, $baseline_doc:expr; $($own:expr),* $(,)?) => {
        &[
            $($own,)*
            nas_core::ParamSpec {
                name: "baseline",
                kind: nas_core::ParamKind::Str,
                default: $baseline,
                doc: $baseline_doc,
            },
            nas_core::ParamSpec {
                name: "scores",
                kind: nas_core::ParamKind::Str,
                default: $scores,
                doc: "the target's logit (Captum's model output) or its softmax probability",
            },
            nas_core::ParamSpec {
                name: "batch",
                kind: nas_core::ParamKind::Int,
                default: "16",
                doc: "perturbed photos per forward pass (Captum's perturbations_per_eval)",
            },
        ]
    };
}
pub(crate) use perturbation_params;

/// The `seed` of the methods that draw as Captum does, from torch's generator.
pub const TORCH_SEED_PARAM: nas_core::ParamSpec = nas_core::ParamSpec {
    name: "seed",
    kind: nas_core::ParamKind::Int,
    default: "0",
    doc: "torch.manual_seed before each photo's draws (Captum draws them from torch's generator)",
};

/// Reads [`TORCH_SEED_PARAM`].
pub fn torch_seed(params: &Params) -> Result<u32> {
    Ok(params.usize("seed", 0, 0, u32::MAX as usize)? as u32)
}

/// `baseline`'s documentation for methods without superpixels.
pub const BASELINE_DOC: &str =
    "what removed pixels become: zero (normalised space, the mean colour; Captum's default), black, or a number (normalised space)";

/// `baseline`'s documentation for methods over superpixels.
pub const SUPERPIXEL_BASELINE_DOC: &str = "what removed pixels become: zero (normalised space, the mean colour; Captum's default), black, superpixel-mean (each superpixel's mean colour; LIME's default), or a number (normalised space)";
