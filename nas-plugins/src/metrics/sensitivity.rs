//! Quantus 0.6's robustness metrics `max-sensitivity` and `avg-sensitivity` (Yeh et al. 2019):
//! the photo is perturbed `samples` times by uniform noise in `[-radius, radius]` added to every
//! value of the normalised input, each perturbed photo is explained again the way the scored map
//! was made (same method, target and segmentation), and the score is the largest (or mean)
//! ratio `|a - a'| / |a|` of Frobenius norms between the map and the perturbed photo's map:
//! 0 for a map that does not move, larger for a less robust one.
//!
//! The noise follows NumPy's global random state after `np.random.seed(seed)`, as Quantus draws
//! it, so for the same seed the scores are Quantus's. Maps read from files (`precomputed`)
//! cannot be remade and score 0. A superpixelified map is remade over the segmentation of the
//! unperturbed photo.

use super::numpy_random::NumpyRandom;
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::{Context, Explainer, Metric, MetricInput, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Score};

/// How the samples' ratios become one score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    /// `max-sensitivity`.
    Max,
    /// `avg-sensitivity`.
    Mean,
}

/// The `max-sensitivity` and `avg-sensitivity` metrics.
pub struct Sensitivity {
    aggregate: Aggregate,
    samples: usize,
    radius: f64,
    seed: u32,
    normalise: bool,
    absolute: bool,
    batch: usize,
}

/// Parameters of both metrics.
pub const SENSITIVITY_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int,
        default: "200",
        doc: "perturbed copies explained (Quantus's nr_samples)",
    },
    ParamSpec {
        name: "radius",
        kind: ParamKind::Float,
        default: "0.2",
        doc: "the noise's half-width in the normalised input space (Quantus's lower_bound)",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of NumPy's global random state the noise is drawn from (np.random.seed)",
    },
    ParamSpec {
        name: "normalise",
        kind: ParamKind::Bool,
        default: "false",
        doc: "divide both maps by their largest magnitude first (Quantus's normalise)",
    },
    ParamSpec {
        name: "abs",
        kind: ParamKind::Bool,
        default: "false",
        doc: "compare absolute values",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "8",
        doc: "perturbed copies explained per pass",
    },
];

impl Sensitivity {
    /// The map as Quantus compares it.
    fn prepared(&self, map: &Array2<f32>) -> Vec<f64> {
        let values: Vec<f64> = map.iter().map(|&v| f64::from(if self.absolute { v.abs() } else { v })).collect();
        let largest = values.iter().fold(0f64, |m, v| m.max(v.abs()));
        if self.normalise && largest > 0.0 {
            values.into_iter().map(|v| v / largest).collect()
        } else {
            values
        }
    }
}

impl Metric for Sensitivity {
    fn score(&self, _input: &MetricInput<'_>) -> Result<Score> {
        Err(NasError::InvalidInput(
            "max-sensitivity / avg-sensitivity remake the map for perturbed photos: score them in a pipeline (Metric::score_explained)"
                .into(),
        ))
    }

    fn score_explained(&self, input: &MetricInput<'_>, explain: &Explainer<'_>) -> Result<Score> {
        let (h, w) = input.single_image("sensitivity")?;
        let channels = input.input.dims()[1];
        let photo = input.photo_values()?;
        let original = self.prepared(input.saliency);
        let norm = original.iter().map(|v| v * v).sum::<f64>().sqrt();
        let mut random = NumpyRandom::new(self.seed);
        let task = nas_core::progress::task("sensitivity", self.samples as u64);
        let mut ratios = Vec::with_capacity(self.samples);
        while ratios.len() < self.samples {
            task.check()?;
            let n = self.batch.min(self.samples - ratios.len());
            let noisy: Vec<f32> = (0..n)
                .flat_map(|_| {
                    photo
                        .iter()
                        .map(|&v| (f64::from(v) + random.uniform(-self.radius, self.radius)) as f32)
                        .collect::<Vec<_>>()
                })
                .collect();
            let variants = NasTensor::<4>::from_data(TensorData::new(noisy, [n, channels, h, w]), &input.input.device());
            for map in explain(&variants)? {
                let moved = self.prepared(&map);
                let difference = original.iter().zip(&moved).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
                ratios.push(difference / norm);
            }
            task.advance(n as u64);
        }
        let defined: Vec<f64> = ratios.iter().copied().filter(|r| !r.is_nan()).collect();
        let value = match (self.aggregate, defined.is_empty()) {
            (_, true) => f64::NAN,
            (Aggregate::Max, false) => defined.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            (Aggregate::Mean, false) => defined.iter().sum::<f64>() / defined.len() as f64,
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

fn build(params: &Params, aggregate: Aggregate) -> Result<Box<dyn Metric>> {
    Ok(Box::new(Sensitivity {
        aggregate,
        samples: params.usize("samples", 200, 1, 1_000_000)?,
        radius: params.float("radius", 0.2, 0.0, 1e6)?,
        seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
        normalise: params.bool("normalise", false)?,
        absolute: params.bool("abs", false)?,
        batch: params.usize("batch", 8, 1, 4096)?,
    }))
}

fn build_max(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Aggregate::Max)
}

fn build_mean(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Aggregate::Mean)
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "max-sensitivity",
        summary: "Quantus's MaxSensitivity: largest relative change of the map when the photo is perturbed by uniform noise",
        params: SENSITIVITY_PARAMS,
        factory: nas_core::Factory::Metric(build_max),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "avg-sensitivity",
        summary: "Quantus's AvgSensitivity: mean relative change of the map when the photo is perturbed by uniform noise",
        params: SENSITIVITY_PARAMS,
        factory: nas_core::Factory::Metric(build_mean),
    }
}
