//! Perturbation attributions, as Captum computes them: how much the target's score drops when
//! parts of the photo are set to a baseline. [`occlusion`] slides a window over the photo
//! (Captum's `Occlusion`); [`feature_ablation`] removes one superpixel at a time
//! (`FeatureAblation` with a feature mask) and [`shapley`] gives the superpixels' exact Shapley
//! values (`ShapleyValues`), the superpixels coming from any segmenter ([`superpixel_features`]).
//! Maps hold Captum's attribution of one colour channel: the perturbations cover all three, so
//! Captum's three channels are equal.

pub mod feature_ablation;
pub mod occlusion;
pub mod shapley;
pub mod superpixel_features;

use nas_core::burn::tensor::activation::softmax;
use nas_core::burn::tensor::TensorData;
use nas_core::deletion::class_scores;
use nas_core::progress::Task;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, NasError, NasTensor, Params, Result};

/// What removed pixels become, in the normalised input space.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AblationBaseline {
    /// Zero, i.e. the dataset's mean colour (Captum's default `baselines=0`).
    Zero,
    /// Black: zero in pixel space.
    Black,
    /// The same number on every channel (Captum's scalar `baselines`).
    Value(f32),
}

/// Settings every perturbation attribution shares.
#[derive(Debug, Clone)]
pub struct Perturbation {
    /// What removed pixels become.
    pub baseline: AblationBaseline,
    /// Softmax probabilities (true) or logits (Captum's model output).
    pub probability: bool,
    /// Perturbed photos per forward pass (Captum's `perturbations_per_eval`).
    pub batch: usize,
    /// The method's name, for errors and progress.
    pub method: &'static str,
}

impl Perturbation {
    /// Reads `baseline`, `scores` and `batch`.
    pub fn from_params(params: &Params, method: &'static str) -> Result<Perturbation> {
        let baseline = if matches!(
            params.table().get("baseline"),
            Some(toml::Value::Integer(_) | toml::Value::Float(_))
        ) {
            AblationBaseline::Value(params.float("baseline", 0.0, f64::MIN, f64::MAX)? as f32)
        } else {
            match params.choice("baseline", "zero", &["zero", "black"])?.as_str() {
                "black" => AblationBaseline::Black,
                _ => AblationBaseline::Zero,
            }
        };
        Ok(Perturbation {
            baseline,
            probability: params.choice("scores", "logit", &["logit", "probability"])? == "probability",
            batch: params.usize("batch", 16, 1, 4096)?,
            method,
        })
    }

    /// The baseline of each colour channel, normalised for `backbone`.
    fn channel_values(&self, backbone: &dyn Backbone) -> [f32; 3] {
        let info = backbone.info();
        std::array::from_fn(|c| match self.baseline {
            AblationBaseline::Zero => 0.0,
            AblationBaseline::Black => -info.mean[c] / info.std[c],
            AblationBaseline::Value(v) => v,
        })
    }

    /// Class `target`'s score for each of `copies` copies of `photo` `(1, 3, H, W)`, where copy
    /// `i` has the pixels that `remove(i, mask)` marks in `mask` (`H x W`, row-major, cleared
    /// before each call) set to the baseline. Reports each copy to `task`; stops on Ctrl-C.
    pub fn scores(
        &self,
        backbone: &dyn Backbone,
        photo: &NasTensor<4>,
        target: usize,
        copies: usize,
        remove: &dyn Fn(usize, &mut [bool]),
        task: &Task,
    ) -> Result<Vec<f64>> {
        let [_, channels, h, w] = photo.dims();
        if channels != 3 {
            return Err(NasError::InvalidInput(format!(
                "{}: expected a colour photo (3 channels), got {channels}",
                self.method
            )));
        }
        let values = to_host(photo.clone())?;
        let baseline = self.channel_values(backbone);
        let plane = h * w;
        let mut mask = vec![false; plane];
        let mut scores = Vec::with_capacity(copies);
        let mut pending: Vec<f32> = Vec::with_capacity(self.batch.min(copies) * values.len());
        for copy in 0..copies {
            mask.iter_mut().for_each(|m| *m = false);
            remove(copy, &mut mask);
            for (c, channel) in values.chunks(plane).enumerate() {
                pending.extend(
                    channel
                        .iter()
                        .zip(&mask)
                        .map(|(&v, &removed)| if removed { baseline[c] } else { v }),
                );
            }
            if pending.len() == self.batch * values.len() || copy + 1 == copies {
                task.check()?;
                let n = pending.len() / values.len();
                let images = NasTensor::<4>::from_data(TensorData::new(std::mem::take(&mut pending), [n, 3, h, w]), &photo.device());
                let probability = self.probability;
                scores.extend(class_scores(backbone, images, target, &|logits| {
                    if probability {
                        softmax(logits, 1)
                    } else {
                        logits
                    }
                })?);
                task.advance(n as u64);
            }
        }
        Ok(scores)
    }
}

/// The parameter list of a perturbation attribution: its own specs, then `baseline`, `scores` and
/// `batch`.
macro_rules! perturbation_params {
    ($($own:expr),* $(,)?) => {
        &[
            $($own,)*
            nas_core::ParamSpec {
                name: "baseline",
                kind: nas_core::ParamKind::Str,
                default: "\"zero\"",
                doc: "what removed pixels become: zero (normalised space, the mean colour; Captum's default), black, or a number (normalised space)",
            },
            nas_core::ParamSpec {
                name: "scores",
                kind: nas_core::ParamKind::Str,
                default: "\"logit\"",
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
