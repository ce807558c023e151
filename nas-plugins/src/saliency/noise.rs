//! Noisy copies of a photo as Captum's `NoiseTunnel` makes them: Gaussian noise of a given
//! standard deviation added in the normalised input space, and how the copies' attributions are
//! combined. The noise is a seeded ChaCha8 stream per copy, the same for every photo of a batch,
//! so a map does not depend on the batch; it is not torch's noise.

use nas_core::burn::tensor::{ElementConversion, TensorData};
use nas_core::{NasError, NasTensor, ParamKind, ParamSpec, Params, Result};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::ops::Range;

/// How the copies' attributions are combined (Captum's `nt_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseAggregate {
    /// Their mean.
    Mean,
    /// The mean of their squares.
    MeanOfSquares,
    /// Their variance (VarGrad).
    Variance,
}

impl NoiseAggregate {
    /// The combined value of `n` attributions whose sum is `sum` and sum of squares `squares`
    /// (a variance is never below zero, whatever the rounding).
    pub fn combine(self, sum: f64, squares: f64, n: f64) -> f64 {
        match self {
            NoiseAggregate::Mean => sum / n,
            NoiseAggregate::MeanOfSquares => squares / n,
            NoiseAggregate::Variance => (squares / n - (sum / n) * (sum / n)).max(0.0),
        }
    }
}

/// How many noisy copies, how noisy, combined how, from which seed, how many per pass.
#[derive(Debug, Clone)]
pub struct NoiseCopies {
    /// Noisy copies of the photo (Captum's `nt_samples`).
    pub samples: usize,
    /// Standard deviation of the noise (Captum's `stdevs`).
    pub stdev: f32,
    /// When set, the standard deviation is this share of each photo's range of values instead
    /// (Smilkov et al.'s noise level; Quantus's `noise_magnitude` in its smooth MPRT).
    pub level: Option<f32>,
    /// How the copies' attributions are combined.
    pub aggregate: NoiseAggregate,
    /// Seed of the noise.
    pub seed: u64,
    /// Copies per pass (0 counts as 1).
    pub batch: usize,
}

/// Parameters `samples`, `stdev`, `kind`, `seed`, `batch` and `noise_level`.
pub const NOISE_PARAMS: [ParamSpec; 6] = [
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int,
        default: "5",
        doc: "noisy copies of the photo (Captum's nt_samples)",
    },
    ParamSpec {
        name: "stdev",
        kind: ParamKind::Float,
        default: "1.0",
        doc: "standard deviation of the noise in the normalised input space (Captum's stdevs)",
    },
    ParamSpec {
        name: "kind",
        kind: ParamKind::Str,
        default: "\"smoothgrad\"",
        doc: "smoothgrad (mean), smoothgrad_sq (mean of squares) or vargrad (variance)",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of the noise",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "10",
        doc: "noisy copies per pass",
    },
    ParamSpec {
        name: "noise_level",
        kind: ParamKind::Float,
        default: "0.0",
        doc: "if above 0, the noise's standard deviation is this share of each photo's range of normalised values (max - min; Smilkov et al.'s noise level, 0.1-0.2 in their paper; Quantus's smooth MPRT uses 0.1) instead of stdev",
    },
];

impl NoiseCopies {
    /// Reads `samples`, `stdev`, `kind`, `seed`, `batch` and `noise_level` (Captum's defaults: 5
    /// copies, standard deviation 1.0, the mean); `stdev` and `noise_level` together are refused.
    pub fn from_params(params: &Params) -> Result<NoiseCopies> {
        let level = params.float("noise_level", 0.0, 0.0, 1e6)? as f32;
        if level > 0.0 && params.table().contains_key("stdev") {
            return Err(NasError::Param {
                component: params.component().to_string(),
                key: "noise_level".into(),
                value: level.to_string(),
                expected: "either stdev or noise_level, not both".into(),
            });
        }
        Ok(NoiseCopies {
            samples: params.usize("samples", 5, 1, 1_000_000)?,
            stdev: params.float("stdev", 1.0, 0.0, 1e6)? as f32,
            level: (level > 0.0).then_some(level),
            aggregate: match params
                .choice("kind", "smoothgrad", &["smoothgrad", "smoothgrad_sq", "vargrad"])?
                .as_str()
            {
                "smoothgrad_sq" => NoiseAggregate::MeanOfSquares,
                "vargrad" => NoiseAggregate::Variance,
                _ => NoiseAggregate::Mean,
            },
            seed: params.int("seed", 0, 0, i64::MAX)? as u64,
            batch: params.usize("batch", 10, 1, 10_000)?,
        })
    }

    /// The copies in passes of at most `batch`.
    pub fn batches(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        let batch = self.batch.max(1);
        (0..self.samples)
            .step_by(batch)
            .map(move |start| start..(start + batch).min(self.samples))
    }

    /// `len` standard normal values for noisy copy `copy`: the same for every photo and whatever
    /// the batch, so that a photo's map does not depend on the others.
    fn noise(&self, copy: usize, len: usize) -> Vec<f32> {
        standard_normals(self.seed, copy as u64, len)
    }

    /// The noise's standard deviation for `photo`: `stdev`, or the noise level times the photo's
    /// range of values.
    pub fn stdev_for(&self, photo: &NasTensor<4>) -> f32 {
        match self.level {
            None => self.stdev,
            Some(level) => {
                let (low, high) = (photo.clone().min().into_scalar(), photo.clone().max().into_scalar());
                level * (high.elem::<f32>() - low.elem::<f32>())
            }
        }
    }

    /// Copies `copies` of `photo` `(1, c, h, w)` with their noise, `(copies, c, h, w)`.
    pub fn noisy(&self, photo: &NasTensor<4>, copies: Range<usize>) -> NasTensor<4> {
        let [_, channels, h, w] = photo.dims();
        let n = copies.len();
        let noise: Vec<f32> = copies.flat_map(|copy| self.noise(copy, channels * h * w)).collect();
        let stdev = self.stdev_for(photo);
        let noise = NasTensor::<4>::from_data(TensorData::new(noise, [n, channels, h, w]), &photo.device()) * stdev;
        photo.clone().expand([n, channels, h, w]) + noise
    }
}

/// `len` standard normal values of stream `stream` of the ChaCha8 generator seeded with `seed`
/// (Box-Muller): reproducible for a seed whatever else is drawn.
pub fn standard_normals(seed: u64, stream: u64, len: usize) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    let mut uniform = || ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    let mut out = Vec::with_capacity(len + 1);
    while out.len() < len {
        // Two independent normals from two uniforms in (0, 1).
        let (radius, angle) = ((-2.0 * uniform().ln()).sqrt(), std::f64::consts::TAU * uniform());
        out.push((radius * angle.cos()) as f32);
        out.push((radius * angle.sin()) as f32);
    }
    out.truncate(len);
    out
}
