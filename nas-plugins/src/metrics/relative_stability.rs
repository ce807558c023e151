//! Relative input, output and representation stability (Agarwal et al. 2022), as Quantus 0.6's
//! `RelativeInputStability`, `RelativeOutputStability` and `RelativeRepresentationStability`: the
//! photo is perturbed by uniform noise `samples` times, the map remade for each copy, and the
//! relative change of the map, `||(e - e') / e||`, is divided by the relative change of the photo,
//! `||(x - x') / x||` (RIS), by the change of the logits, `||h - h'||` (ROS: Quantus's divides by
//! the plain change, where the paper divides by the relative one), or by the relative change of one
//! depth level's activations, `||(L - L') / L||` (RRS: Quantus's `layer_names` picks the layers;
//! nas takes one of the backbone's depth levels, by default the deepest, which for ResNet-18 is
//! Quantus's `layer_names=["layer4.1"]`). Zeros in a denominator count as `eps`. A copy whose
//! predicted class changed scores NaN; the score is the largest ratio, NaN if any is, as Quantus's
//! `np.max`. Lower is more stable. Noise comes from NumPy's `RandomState(seed)`, drawn as Quantus
//! draws it, so the scores match Quantus's called on one photo after `np.random.seed(seed)`
//! (Quantus draws from NumPy's global state and, for several photos, each sample's noise for all of
//! them at once).

use crate::numpy_random::NumpyRandom;
use nas_core::burn::tensor::TensorData;
use nas_core::upsampled_batch::to_host;
use nas_core::{Context, Explainer, Metric, MetricInput, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Score};

/// What the change of the map is divided by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stability {
    /// The relative change of the photo (RIS).
    Input,
    /// The change of the logits (ROS).
    Output,
    /// The relative change of the activations of the depth level with this index (RRS).
    Representation(usize),
}

/// The `relative-input-stability`, `relative-output-stability` and
/// `relative-representation-stability` metrics.
pub struct RelativeStability {
    stability: Stability,
    samples: usize,
    seed: u32,
    lower: f64,
    upper: f64,
    eps: f64,
    batch: usize,
    nan_when_prediction_changes: bool,
}

/// The parameter list of a metric of this family: its own specs, then those all three share.
macro_rules! stability_params {
    ($($own:expr),* $(,)?) => {
        &[
            $($own,)*
            ParamSpec {
                name: "samples",
                kind: ParamKind::Int,
                default: "200",
                doc: "perturbed copies of the photo (Quantus's nr_samples)",
            },
            ParamSpec {
                name: "lower",
                kind: ParamKind::Float,
                default: "0.02",
                doc: "smallest noise added to each value of the normalised photo",
            },
            ParamSpec {
                name: "upper",
                kind: ParamKind::Float,
                default: "0.2",
                doc: "largest noise (exclusive)",
            },
            ParamSpec {
                name: "seed",
                kind: ParamKind::Int,
                default: "0",
                doc: "np.random.seed of the noise",
            },
            ParamSpec {
                name: "eps",
                kind: ParamKind::Float,
                default: "1e-6",
                doc: "what a zero in a denominator counts as (Quantus's eps_min)",
            },
            ParamSpec {
                name: "nan_when_prediction_changes",
                kind: ParamKind::Bool,
                default: "true",
                doc: "a copy whose predicted class changed scores NaN (and so the whole score), as Quantus's default",
            },
            ParamSpec {
                name: "batch",
                kind: ParamKind::Int,
                default: "8",
                doc: "copies per forward and explanation pass",
            },
        ]
    };
}

/// Parameters of `relative-input-stability` and `relative-output-stability`.
pub const RELATIVE_STABILITY_PARAMS: &[ParamSpec] = stability_params!();

/// Parameters of `relative-representation-stability`.
pub const RELATIVE_REPRESENTATION_STABILITY_PARAMS: &[ParamSpec] = stability_params!(ParamSpec {
    name: "level",
    kind: ParamKind::Int,
    default: "4",
    doc: "the depth level whose activations are the representation (0-4; Quantus's layer_names)",
});

/// `||(old - new) / (old + eps where old is 0)||`, in double precision.
fn relative_change(old: &[f32], new: &[f32], eps: f64) -> f64 {
    old.iter()
        .zip(new)
        .map(|(&o, &n)| {
            let denominator = if o == 0.0 { eps } else { f64::from(o) };
            let change = f64::from(o - n) / denominator;
            change * change
        })
        .sum::<f64>()
        .sqrt()
}

/// The first index of the largest value, as NumPy's `argmax`.
fn argmax(values: &[f32]) -> usize {
    (0..values.len()).fold(0, |best, i| if values[i] > values[best] { i } else { best })
}

impl RelativeStability {
    /// The chosen depth level's activations for a batch, each photo's flattened `(C, H, W)` in
    /// turn; empty unless this is RRS.
    fn representation(&self, levels: &[NasTensor<4>]) -> Result<Vec<f32>> {
        let Stability::Representation(level) = self.stability else {
            return Ok(Vec::new());
        };
        let activations = levels.get(level).ok_or_else(|| {
            NasError::InvalidInput(format!(
                "relative-representation-stability: parameter `level` = {level}, but the backbone has levels 0-{}",
                levels.len().saturating_sub(1)
            ))
        })?;
        to_host(activations.clone())
    }
}

impl Metric for RelativeStability {
    fn score(&self, _input: &MetricInput<'_>) -> Result<Score> {
        Err(super::remaking::needs_pipeline(
            "relative-input-, output- and representation-stability remake the map for perturbed photos",
            true,
        ))
    }

    fn score_explained(&self, input: &MetricInput<'_>, explain: &Explainer<'_>) -> Result<Score> {
        let (h, w) = input.single_image("relative stability")?;
        let channels = input.input.dims()[1];
        let photo = input.photo_values()?;
        let original: Vec<f32> = input.saliency.iter().copied().collect();
        let forward = input.backbone.forward(input.input.clone());
        let representation = self.representation(&forward.levels)?;
        let logits = to_host(forward.logits)?;
        let predicted = argmax(&logits);
        let classes = logits.len();
        let mut random = NumpyRandom::new(self.seed);
        let task = nas_core::progress::task("relative stability", self.samples as u64);
        let mut ratios = Vec::with_capacity(self.samples);
        while ratios.len() < self.samples {
            task.check()?;
            let n = self.batch.min(self.samples - ratios.len());
            // Quantus adds float64 noise to the float32 photo and stores the sum as float32.
            let noisy: Vec<f32> = (0..n * photo.len())
                .map(|i| (f64::from(photo[i % photo.len()]) + random.uniform(self.lower, self.upper)) as f32)
                .collect();
            let variants = NasTensor::<4>::from_data(TensorData::new(noisy.clone(), [n, channels, h, w]), &input.input.device());
            let maps = super::remaking::remade_maps("relative stability", explain, &variants, input.target)?;
            let moved_forward = input.backbone.forward(variants);
            let moved_representations = self.representation(&moved_forward.levels)?;
            let moved_logits = to_host(moved_forward.logits)?;
            for (j, map) in maps.iter().enumerate() {
                let moved: Vec<f32> = map.iter().copied().collect();
                let top = relative_change(&original, &moved, self.eps);
                let copy_logits = &moved_logits[j * classes..(j + 1) * classes];
                let bottom = match self.stability {
                    Stability::Input => relative_change(&photo, &noisy[j * photo.len()..(j + 1) * photo.len()], self.eps),
                    Stability::Output => logits
                        .iter()
                        .zip(copy_logits)
                        .map(|(a, b)| f64::from(a - b) * f64::from(a - b))
                        .sum::<f64>()
                        .sqrt(),
                    Stability::Representation(_) => {
                        let size = representation.len();
                        relative_change(&representation, &moved_representations[j * size..(j + 1) * size], self.eps)
                    }
                };
                let bottom = if bottom == 0.0 { self.eps } else { bottom };
                let changed = argmax(copy_logits) != predicted;
                ratios.push(if self.nan_when_prediction_changes && changed {
                    f64::NAN
                } else {
                    top / bottom
                });
            }
            task.advance(n as u64);
        }
        let value = if ratios.iter().any(|r| r.is_nan()) {
            f64::NAN
        } else {
            ratios.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        };
        Ok(Score {
            value,
            curve: ratios.into_iter().enumerate().map(|(i, r)| (i as f64, r)).collect(),
        })
    }

    fn plots_curve(&self) -> bool {
        false
    }
}

fn build(params: &Params, stability: Stability) -> Result<Box<dyn Metric>> {
    let lower = params.float("lower", 0.02, -1e6, 1e6)?;
    let upper = params.float("upper", 0.2, -1e6, 1e6)?;
    if upper <= lower {
        return Err(NasError::InvalidInput(format!(
            "relative stability: `upper` ({upper}) must be above `lower` ({lower})"
        )));
    }
    Ok(Box::new(RelativeStability {
        stability,
        samples: params.usize("samples", 200, 1, 1_000_000)?,
        seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
        lower,
        upper,
        eps: params.float("eps", 1e-6, f64::MIN_POSITIVE, 1.0)?,
        batch: params.usize("batch", 8, 1, 4096)?,
        nan_when_prediction_changes: params.bool("nan_when_prediction_changes", true)?,
    }))
}

fn build_input(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Stability::Input)
}

fn build_output(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Stability::Output)
}

fn build_representation(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Stability::Representation(params.usize("level", 4, 0, 4)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "relative-input-stability",
        summary: "Quantus's RelativeInputStability: largest relative change of the map per relative change of the photo under uniform noise (lower is more stable)",
        params: RELATIVE_STABILITY_PARAMS,
        factory: nas_core::Factory::Metric(build_input),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "relative-output-stability",
        summary: "Quantus's RelativeOutputStability: largest relative change of the map per change of the logits under uniform noise (lower is more stable)",
        params: RELATIVE_STABILITY_PARAMS,
        factory: nas_core::Factory::Metric(build_output),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "relative-representation-stability",
        summary: "Quantus's RelativeRepresentationStability: largest relative change of the map per relative change of a depth level's activations under uniform noise (lower is more stable)",
        params: RELATIVE_REPRESENTATION_STABILITY_PARAMS,
        factory: nas_core::Factory::Metric(build_representation),
    }
}
