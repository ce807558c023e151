//! Quantus 0.6's robustness metrics `max-sensitivity`, `avg-sensitivity` (Yeh et al. 2019) and
//! `local-lipschitz-estimate` (Alvarez-Melis & Jaakkola 2018): the photo is perturbed `samples`
//! times by noise added to every value of the normalised input (uniform in `[-radius, radius]`
//! for the sensitivities, normal with standard deviation `std` for the Lipschitz estimate), each
//! perturbed photo is explained again the way the scored map was made (same method, target and
//! segmentation), and the score is the largest (or mean) of `|a - a'| / |a|` (sensitivities) or
//! `|a - a'| / (|x - x'| + 1e-10)` (Lipschitz estimate, whose maps are first divided by their
//! largest magnitude, Quantus's default `normalise` there), Euclidean norms: 0 for a map that
//! does not move, larger for a less robust one.
//!
//! The noise follows NumPy's global random state after `np.random.seed(seed)`, as Quantus draws
//! it, so for the same seed the scores are Quantus's for one photo (each photo starts from the
//! seed again; Quantus seeds once for a batch). Maps read from files (`precomputed`) cannot be
//! remade: the metrics refuse them. A superpixelified map is remade over the segmentation of the
//! unperturbed photo.

use crate::numpy_random::NumpyRandom;
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::{Context, Explainer, Metric, MetricInput, NasTensor, ParamKind, ParamSpec, Params, Result, Score};

/// How the samples' ratios become one score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    /// `max-sensitivity`, `local-lipschitz-estimate`.
    Max,
    /// `avg-sensitivity`.
    Mean,
}

/// The noise added to the photo.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Noise {
    /// Uniform in `[-radius, radius]` (`np.random.uniform`).
    Uniform(f64),
    /// Normal with this standard deviation (`np.random.normal`).
    Normal(f64),
}

/// What the change of the map is divided by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Relative {
    /// The map's own norm (sensitivity).
    Map,
    /// The distance of the perturbed photo from the photo (Lipschitz constant).
    Input,
}

/// The `max-sensitivity`, `avg-sensitivity` and `local-lipschitz-estimate` metrics.
pub struct Sensitivity {
    aggregate: Aggregate,
    noise: Noise,
    relative: Relative,
    samples: usize,
    seed: u32,
    normalise: bool,
    absolute: bool,
    batch: usize,
}

/// The parameter list of a metric here: `samples`, its noise parameter, `seed`, `normalise`
/// (whose default, as TOML, comes second), `abs` and `batch`.
macro_rules! robustness_params {
    ($noise:expr, $normalise:expr) => {
        &[
            ParamSpec {
                name: "samples",
                kind: ParamKind::Int,
                default: "200",
                doc: "perturbed copies explained (Quantus's nr_samples)",
            },
            $noise,
            ParamSpec {
                name: "seed",
                kind: ParamKind::Int,
                default: "0",
                doc: "seed of NumPy's global random state the noise is drawn from (np.random.seed)",
            },
            super::normalisation::normalise_param($normalise),
            super::normalisation::abs_param("false"),
            ParamSpec {
                name: "batch",
                kind: ParamKind::Int,
                default: "8",
                doc: "perturbed copies explained per pass",
            },
        ]
    };
}

/// Parameters of `max-sensitivity` and `avg-sensitivity`.
pub const SENSITIVITY_PARAMS: &[ParamSpec] = robustness_params!(
    ParamSpec {
        name: "radius",
        kind: ParamKind::Float,
        default: "0.2",
        doc: "the uniform noise's half-width in the normalised input space (Quantus's lower_bound)",
    },
    "false"
);

/// Parameters of `local-lipschitz-estimate`.
pub const LIPSCHITZ_PARAMS: &[ParamSpec] = robustness_params!(
    ParamSpec {
        name: "std",
        kind: ParamKind::Float,
        default: "0.1",
        doc: "the normal noise's standard deviation in the normalised input space (Quantus's perturb_std)",
    },
    "true"
);

impl Sensitivity {
    /// One value of noise.
    fn draw(&self, random: &mut NumpyRandom) -> f64 {
        match self.noise {
            Noise::Uniform(radius) => random.uniform(-radius, radius),
            Noise::Normal(std) => random.normal(0.0, std),
        }
    }

    /// The map as Quantus compares it.
    fn prepared(&self, map: &Array2<f32>) -> Vec<f64> {
        super::normalisation::prepared(map, self.normalise, self.absolute)
    }
}

impl Metric for Sensitivity {
    fn score(&self, _input: &MetricInput<'_>) -> Result<Score> {
        Err(super::remaking::needs_pipeline(
            "max-sensitivity, avg-sensitivity and local-lipschitz-estimate remake the map for perturbed photos",
            true,
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
            let mut noisy: Vec<f32> = Vec::with_capacity(n * photo.len());
            let mut distances = Vec::with_capacity(n);
            for _ in 0..n {
                let mut squared = 0.0;
                for &v in &photo {
                    // The distance is the noise's, in f64, as Quantus measures it (the network
                    // sees the perturbed photo rounded to f32).
                    let noise = self.draw(&mut random);
                    squared += noise * noise;
                    noisy.push((f64::from(v) + noise) as f32);
                }
                distances.push(squared.sqrt());
            }
            let variants = NasTensor::<4>::from_data(TensorData::new(noisy, [n, channels, h, w]), &input.input.device());
            let maps = super::remaking::remade_maps("sensitivity", explain, &variants, input.target)?;
            for (map, distance) in maps.iter().zip(distances) {
                let moved = self.prepared(map);
                let difference = original.iter().zip(&moved).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
                ratios.push(match self.relative {
                    Relative::Map => difference / norm,
                    Relative::Input => difference / (distance + 1e-10),
                });
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

fn build(params: &Params, aggregate: Aggregate, relative: Relative) -> Result<Box<dyn Metric>> {
    let (noise, normalise) = match relative {
        Relative::Map => (Noise::Uniform(params.float("radius", 0.2, 0.0, 1e6)?), false),
        Relative::Input => (Noise::Normal(params.float("std", 0.1, 0.0, 1e6)?), true),
    };
    Ok(Box::new(Sensitivity {
        aggregate,
        noise,
        relative,
        samples: params.usize("samples", 200, 1, 1_000_000)?,
        seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
        normalise: params.bool("normalise", normalise)?,
        absolute: params.bool("abs", false)?,
        batch: params.usize("batch", 8, 1, 4096)?,
    }))
}

fn build_max(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Aggregate::Max, Relative::Map)
}

fn build_mean(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Aggregate::Mean, Relative::Map)
}

fn build_lipschitz(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Aggregate::Max, Relative::Input)
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

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "local-lipschitz-estimate",
        summary: "Quantus's LocalLipschitzEstimate: largest change of the normalised map per unit change of the photo under normal noise",
        params: LIPSCHITZ_PARAMS,
        factory: nas_core::Factory::Metric(build_lipschitz),
    }
}
