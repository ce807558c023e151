//! SmoothGrad (Smilkov et al. 2017) and its variants, as Captum's `NoiseTunnel` around
//! `InputXGradient`: gradient x input on copies of the photo with Gaussian noise added in the
//! normalised input space, then the mean (`smoothgrad`), the mean of squares (`smoothgrad_sq`) or
//! the variance (`vargrad`) over the copies, summed over colour channels. Captum's defaults: 5
//! copies, noise standard deviation 1.0.

use super::gradient::{reduce_channels, ChannelReduction};
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

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

/// The `smoothgrad` saliency method.
pub struct SmoothGrad {
    samples: usize,
    stdev: f32,
    aggregate: NoiseAggregate,
    seed: u64,
    batch: usize,
    reduction: ChannelReduction,
}

/// Parameters of `smoothgrad`.
pub const SMOOTHGRAD_PARAMS: &[ParamSpec] = &[
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
        doc: "noisy copies per backward pass",
    },
    ParamSpec {
        name: "reduce",
        kind: ParamKind::Str,
        default: "\"sum\"",
        doc: "how colour channels are combined: sum (signed), abs-sum or max-abs",
    },
];

impl SmoothGrad {
    /// Builds from `smoothgrad` parameters (see [`SMOOTHGRAD_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<SmoothGrad> {
        Ok(SmoothGrad {
            samples: params.usize("samples", 5, 1, 1_000_000)?,
            stdev: params.float("stdev", 1.0, 0.0, 1e6)? as f32,
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
            reduction: ChannelReduction::from_params(params)?,
        })
    }

    /// `len` standard normal values for noisy copy `copy`: the same for every photo and whatever
    /// the batch, so that a photo's map does not depend on the others.
    fn noise(&self, copy: usize, len: usize) -> Vec<f32> {
        let mut rng = ChaCha8Rng::seed_from_u64(self.seed);
        rng.set_stream(copy as u64);
        let mut uniform = || ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let mut out = Vec::with_capacity(len + 1);
        while out.len() < len {
            // Box-Muller: two independent normals from two uniforms in (0, 1).
            let (radius, angle) = ((-2.0 * uniform().ln()).sqrt(), std::f64::consts::TAU * uniform());
            out.push((radius * angle.cos()) as f32);
            out.push((radius * angle.sin()) as f32);
        }
        out.truncate(len);
        out
    }

    /// The combined attribution `(1, 3, h, w)` of one photo for class `target`.
    fn attribute(
        &self,
        backbone: &dyn Backbone,
        input: NasTensor<4>,
        target: usize,
        task: &nas_core::progress::Task,
    ) -> Result<NasTensor<4>> {
        let [_, channels, h, w] = input.dims();
        let len = channels * h * w;
        let (mut sum, mut squares) = (input.zeros_like(), input.zeros_like());
        for start in (0..self.samples).step_by(self.batch) {
            task.check()?;
            let end = (start + self.batch).min(self.samples);
            let noise: Vec<f32> = (start..end).flat_map(|copy| self.noise(copy, len)).collect();
            let noise = NasTensor::<4>::from_data(TensorData::new(noise, [end - start, channels, h, w]), &input.device()) * self.stdev;
            let noisy = input.clone().expand([end - start, channels, h, w]) + noise;
            let gradient = backbone.input_gradient(noisy, &vec![target; end - start])?;
            let attribution = gradient.grad * gradient.value;
            sum = sum + attribution.clone().sum_dim(0);
            squares = squares + attribution.square().sum_dim(0);
            task.advance((end - start) as u64);
        }
        let n = self.samples as f32;
        Ok(match self.aggregate {
            NoiseAggregate::Mean => sum / n,
            NoiseAggregate::MeanOfSquares => squares / n,
            NoiseAggregate::Variance => squares / n - (sum / n).square(),
        })
    }
}

impl Saliency for SmoothGrad {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let photos = super::photos_with_targets("smoothgrad", input, targets)?;
        let task = nas_core::progress::task("smoothgrad copies", (photos.len() * self.samples) as u64);
        let attributions = photos
            .into_iter()
            .map(|(one, target)| self.attribute(backbone, one, target, &task))
            .collect::<Result<Vec<_>>>()?;
        reduce_channels(NasTensor::cat(attributions, 0), self.reduction)
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(SmoothGrad::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "smoothgrad",
        summary: "SmoothGrad / SmoothGrad-squared / VarGrad of gradient x input (Captum's NoiseTunnel defaults), seeded",
        params: SMOOTHGRAD_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
