//! Quantus 0.6's faithfulness metrics that remove image regions in the order a saliency map
//! ranks them and watch the target's score: `pixel-flipping` (Bach et al. 2015),
//! `region-perturbation` (Samek et al. 2016), `selectivity` (Montavon et al. 2018), `irof`
//! (Rieger & Hansen 2020), `infidelity` (Yeh et al. 2019), `faithfulness-estimate`
//! (Alvarez-Melis & Jaakkola 2018), `faithfulness-correlation` (Bhatt et al. 2020),
//! `monotonicity-correlation` (Nguyen & Martínez 2020), `sensitivity-n` (Ancona et al. 2018) and
//! `monotonicity` (Arya et al. 2019), which inserts the photo's regions into a baseline image,
//! least relevant first, instead of removing them.
//!
//! As in Quantus, removal is cumulative for the first five and `sensitivity-n`: each step sets
//! one more region to the baseline in every colour channel of the normalised input, the
//! baseline being computed
//! from the image as it stands before that step (`black` is its smallest value over all
//! channels, `white` its largest, `mean` its mean, which therefore drifts as regions are
//! replaced); `faithfulness-estimate`, `faithfulness-correlation` and
//! `monotonicity-correlation` remove each region from the unperturbed photo alone.
//! Scores are the target's softmax probability or its logit, with Quantus's default per metric.

pub mod faithfulness_correlation;
pub mod faithfulness_estimate;
pub mod infidelity;
pub mod irof;
pub mod monotonicity;
pub mod monotonicity_correlation;
pub mod pixel_flipping;
pub mod region_perturbation;
pub mod sensitivity_n;

pub use super::ranking::{ascending, descending};

use nas_core::burn::tensor::activation::softmax;
use nas_core::burn::tensor::TensorData;
use nas_core::deletion::target_scores;
use nas_core::{MetricInput, NasError, NasTensor, Params, Result};

/// What removed pixels are set to (Quantus's `perturb_baseline`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Baseline {
    /// The image's smallest value, over all channels.
    Black,
    /// The image's largest value, over all channels.
    White,
    /// The image's mean, over all channels.
    Mean,
    /// A fixed value in the normalised input space.
    Value(f32),
    /// A value drawn from U(0, 1) for every perturbation (Quantus's `uniform`); metrics that
    /// offer it draw the values themselves, from NumPy's seeded state as Quantus does.
    Uniform,
}

impl Baseline {
    /// Reads parameter `baseline`: `black`, `white`, `mean` or a number; also `uniform` where
    /// that is the default (only metrics that draw the values offer it).
    pub fn from_params(params: &Params, default: &str) -> Result<Baseline> {
        if matches!(
            params.table().get("baseline"),
            Some(toml::Value::Integer(_) | toml::Value::Float(_))
        ) {
            return Ok(Baseline::Value(params.float("baseline", 0.0, f64::MIN, f64::MAX)? as f32));
        }
        let named: &[&str] = if default == "uniform" {
            &["uniform", "black", "white", "mean"]
        } else {
            &["black", "white", "mean"]
        };
        Ok(match params.choice("baseline", default, named)?.as_str() {
            "uniform" => Baseline::Uniform,
            "white" => Baseline::White,
            "mean" => Baseline::Mean,
            _ => Baseline::Black,
        })
    }

    /// The value for `image` as it stands; none for `uniform`, which is drawn.
    pub fn value(self, image: &[f32]) -> Option<f32> {
        match self {
            Baseline::Black => Some(image.iter().copied().fold(f32::INFINITY, f32::min)),
            Baseline::White => Some(image.iter().copied().fold(f32::NEG_INFINITY, f32::max)),
            Baseline::Mean => Some((image.iter().map(|&v| f64::from(v)).sum::<f64>() / image.len().max(1) as f64) as f32),
            Baseline::Value(v) => Some(v),
            Baseline::Uniform => None,
        }
    }
}

/// Settings every metric of this family shares.
#[derive(Debug, Clone)]
pub struct Removal {
    /// What removed pixels become.
    pub baseline: Baseline,
    /// Rank by the map's absolute values (Quantus's `abs`).
    pub absolute: bool,
    /// Softmax probabilities (true) or logits.
    pub probability: bool,
    /// Images per forward pass.
    pub batch: usize,
    /// The metric's name, for errors.
    pub metric: String,
}

impl Removal {
    /// Reads `baseline`, `abs`, `scores` and `batch`, given the defaults of the first and third
    /// (`abs` is false by default, as in most of Quantus's metrics).
    pub fn from_params(params: &Params, default_baseline: &str, default_scores: &str) -> Result<Removal> {
        Removal::from_params_with(params, default_baseline, default_scores, false)
    }

    /// [`Removal::from_params`], with the default of `abs` too.
    pub fn from_params_with(params: &Params, default_baseline: &str, default_scores: &str, default_abs: bool) -> Result<Removal> {
        Ok(Removal {
            baseline: Baseline::from_params(params, default_baseline)?,
            absolute: params.bool("abs", default_abs)?,
            probability: params.choice("scores", default_scores, &["probability", "logit"])? == "probability",
            batch: params.usize("batch", 16, 1, 4096)?,
            metric: params.component().to_string(),
        })
    }

    /// The map's values as this metric ranks them.
    pub fn ranked_values(&self, input: &MetricInput<'_>) -> Vec<f32> {
        input.saliency.iter().map(|&v| if self.absolute { v.abs() } else { v }).collect()
    }

    /// The target's score for the photo as given, then after each of `groups` (pixel indices,
    /// row-major) in turn has been set to the baseline, cumulatively. Long runs report progress
    /// and stop on Ctrl-C.
    pub fn scores(&self, input: &MetricInput<'_>, groups: &[Vec<usize>]) -> Result<Vec<f64>> {
        Ok(self.run(input, &every_channel(input, groups), Steps::Cumulative, None)?.0)
    }

    /// [`Removal::scores`], with the value each group was set to.
    pub fn scores_and_values(&self, input: &MetricInput<'_>, groups: &[Vec<usize>]) -> Result<(Vec<f64>, Vec<f32>)> {
        self.run(input, &every_channel(input, groups), Steps::Cumulative, None)
    }

    /// The target's score for the photo as given, then with each of `groups` alone set to the
    /// baseline (computed from the unperturbed photo).
    pub fn scores_each(&self, input: &MetricInput<'_>, groups: &[Vec<usize>]) -> Result<Vec<f64>> {
        Ok(self.run(input, &every_channel(input, groups), Steps::Each, None)?.0)
    }

    /// As [`Removal::scores_each`], but each group is set to its own value of `fills` (drawn
    /// values of a `uniform` baseline, say) instead of the baseline.
    pub fn scores_each_filled(&self, input: &MetricInput<'_>, groups: &[Vec<usize>], fills: &[f32]) -> Result<Vec<f64>> {
        Ok(self.run(input, &every_channel(input, groups), Steps::Each, Some(fills))?.0)
    }

    /// As [`Removal::scores_each`], but each group lists values of the photo `(C, H, W)` by
    /// their flat index (one colour of one pixel), not whole pixels.
    pub fn scores_each_value(&self, input: &MetricInput<'_>, groups: &[Vec<usize>]) -> Result<Vec<f64>> {
        Ok(self.run(input, groups, Steps::Each, None)?.0)
    }

    /// The target's score for the photo with every value set to the baseline, then after each
    /// of `groups` in turn has been given back its values in the photo, cumulatively: insertion,
    /// least relevant first in Arya et al.'s monotonicity.
    pub fn scores_restored(&self, input: &MetricInput<'_>, groups: &[Vec<usize>]) -> Result<Vec<f64>> {
        Ok(self.run(input, &every_channel(input, groups), Steps::Restore, None)?.0)
    }

    /// The scores, and the value each group was set to: its value of `fills` if given, else
    /// the baseline's (under [`Steps::Restore`], the baseline the image started from).
    fn run(&self, input: &MetricInput<'_>, groups: &[Vec<usize>], steps: Steps, fills: Option<&[f32]>) -> Result<(Vec<f64>, Vec<f32>)> {
        let (h, w) = input.single_image(&self.metric)?;
        let channels = input.input.dims()[1];
        let photo = input.photo_values()?;
        if let Some(bad) = groups.iter().flatten().find(|&&i| i >= photo.len()) {
            return Err(NasError::InvalidInput(format!(
                "{}: value {bad} of a {channels}x{h}x{w} photo",
                self.metric
            )));
        }
        let task = nas_core::progress::task("perturbation", groups.len() as u64 + 1);
        let mut scores = Vec::with_capacity(groups.len() + 1);
        let mut values = Vec::with_capacity(groups.len());
        let restored_from = match steps {
            Steps::Restore => Some(
                self.baseline
                    .value(&photo)
                    .ok_or_else(|| NasError::InvalidInput(format!("{}: needs a fixed baseline to start from", self.metric)))?,
            ),
            Steps::Cumulative | Steps::Each => None,
        };
        let start = restored_from.map_or_else(|| photo.clone(), |value| vec![value; photo.len()]);
        let mut image = start.clone();
        let mut pending: Vec<f32> = start.clone();
        for (index, group) in groups.iter().enumerate() {
            if pending.len() / photo.len() == self.batch {
                task.check()?;
                scores.extend(self.forward(input, &pending, [channels, h, w])?);
                task.advance((pending.len() / photo.len()) as u64);
                pending.clear();
            }
            if steps == Steps::Each {
                image.copy_from_slice(&photo);
            }
            let value = if let Some(baseline) = restored_from {
                for &i in group {
                    image[i] = photo[i];
                }
                baseline
            } else {
                let value = match fills {
                    Some(fills) => fills.get(index).copied(),
                    None => self.baseline.value(&image),
                }
                .ok_or_else(|| NasError::InvalidInput(format!("{}: no value to set group {index} to", self.metric)))?;
                for &i in group {
                    image[i] = value;
                }
                value
            };
            values.push(value);
            pending.extend_from_slice(&image);
        }
        task.check()?;
        scores.extend(self.forward(input, &pending, [channels, h, w])?);
        Ok((scores, values))
    }

    /// The target's score for each image of `images` (a batch, NCHW).
    fn forward(&self, input: &MetricInput<'_>, images: &[f32], [channels, h, w]: [usize; 3]) -> Result<Vec<f64>> {
        let n = images.len() / (channels * h * w).max(1);
        let batch = NasTensor::<4>::from_data(TensorData::new(images.to_vec(), [n, channels, h, w]), &input.input.device());
        let probability = self.probability;
        target_scores(input, batch, &|logits| if probability { softmax(logits, 1) } else { logits })
    }
}

/// How a metric's groups change the image, step by step.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Steps {
    /// Each group is set to the baseline in the image as the earlier steps left it.
    Cumulative,
    /// Each group alone is set to the baseline in the unperturbed photo.
    Each,
    /// The image starts as the baseline; each group gets its photo values back, cumulatively.
    Restore,
}

/// Pixel groups as groups of the photo's values `(C, H, W)`, every colour of each pixel.
fn every_channel(input: &MetricInput<'_>, groups: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let [_, channels, h, w] = input.input.dims();
    let plane = h * w;
    groups
        .iter()
        .map(|group| (0..channels).flat_map(|c| group.iter().map(move |p| c * plane + p)).collect())
        .collect()
}

/// `values` as a curve over steps 1, 2, ...: the area under it is Quantus's `calculate_auc`
/// (`np.trapz` with one unit per step).
pub fn unit_curve(values: &[f64]) -> Vec<(f64, f64)> {
    values.iter().enumerate().map(|(i, v)| ((i + 1) as f64, *v)).collect()
}

/// The parameter list of a metric of this family: its own specs, then `baseline`, `abs`,
/// `scores` and `batch`; the defaults of `baseline`, `scores` and optionally `abs` (false
/// otherwise), written as TOML, come first.
macro_rules! removal_params {
    ($baseline:expr, $scores:expr; $($own:expr),* $(,)?) => {
        removal_params!($baseline, $scores, "false"; $($own),*)
    };
    ($baseline:expr, $scores:expr, $abs:expr; $($own:expr),* $(,)?) => {
        &[
            $($own,)*
            nas_core::ParamSpec {
                name: "baseline",
                kind: nas_core::ParamKind::Str,
                default: $baseline,
                doc: "what removed pixels become: black (the image's minimum over all channels), white (maximum), mean, a number (normalised space), or uniform where that is the default",
            },
            nas_core::ParamSpec {
                name: "abs",
                kind: nas_core::ParamKind::Bool,
                default: $abs,
                doc: "use the map's absolute values (Quantus's abs)",
            },
            nas_core::ParamSpec {
                name: "scores",
                kind: nas_core::ParamKind::Str,
                default: $scores,
                doc: "probability (softmax) or logit",
            },
            nas_core::ParamSpec {
                name: "batch",
                kind: nas_core::ParamKind::Int,
                default: "16",
                doc: "images per forward pass",
            },
        ]
    };
}
pub(crate) use removal_params;
