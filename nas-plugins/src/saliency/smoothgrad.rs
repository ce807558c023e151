//! SmoothGrad (Smilkov et al. 2017) and its variants, as Captum's `NoiseTunnel` around
//! `InputXGradient`: gradient x input on copies of the photo with Gaussian noise added in the
//! normalised input space, then the mean (`smoothgrad`), the mean of squares (`smoothgrad_sq`) or
//! the variance (`vargrad`) over the copies, summed over colour channels. Captum's defaults: 5
//! copies, noise standard deviation 1.0.

use super::gradient::{reduce_channels, ChannelReduction, REDUCE_PARAM};
use super::noise::{NoiseAggregate, NoiseCopies, NOISE_PARAMS};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `smoothgrad` saliency method.
pub struct SmoothGrad {
    noise: NoiseCopies,
    reduction: ChannelReduction,
}

/// Parameters of `smoothgrad`.
pub const SMOOTHGRAD_PARAMS: &[ParamSpec] = &[
    NOISE_PARAMS[0],
    NOISE_PARAMS[1],
    NOISE_PARAMS[2],
    NOISE_PARAMS[3],
    NOISE_PARAMS[4],
    NOISE_PARAMS[5],
    REDUCE_PARAM,
];

impl SmoothGrad {
    /// Builds from `smoothgrad` parameters (see [`SMOOTHGRAD_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<SmoothGrad> {
        Ok(SmoothGrad {
            noise: NoiseCopies::from_params(params)?,
            reduction: ChannelReduction::from_params(params)?,
        })
    }

    /// The combined attribution `(1, 3, h, w)` of one photo for class `target`.
    fn attribute(
        &self,
        backbone: &dyn Backbone,
        input: NasTensor<4>,
        target: usize,
        task: &nas_core::progress::Task,
    ) -> Result<NasTensor<4>> {
        let (mut sum, mut squares) = (input.zeros_like(), input.zeros_like());
        for copies in self.noise.batches() {
            task.check()?;
            let n = copies.len();
            let noisy = self.noise.noisy(&input, copies);
            let gradient = backbone.input_gradient(noisy, &vec![target; n])?;
            let attribution = gradient.grad * gradient.value;
            sum = sum + attribution.clone().sum_dim(0);
            squares = squares + attribution.square().sum_dim(0);
            task.advance(n as u64);
        }
        let n = self.noise.samples as f32;
        Ok(match self.noise.aggregate {
            NoiseAggregate::Mean => sum / n,
            NoiseAggregate::MeanOfSquares => squares / n,
            NoiseAggregate::Variance => (squares / n - (sum / n).square()).clamp_min(0.0),
        })
    }
}

impl Saliency for SmoothGrad {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let photos = super::photos_with_targets("smoothgrad", input, targets)?;
        let task = nas_core::progress::task("smoothgrad copies", (photos.len() * self.noise.samples) as u64);
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
