//! GradientSHAP (Lundberg and Lee 2017; expected gradients, Erion et al. 2021), as Captum's
//! `GradientShap` with its default `stdevs = 0`: for each of `samples` draws, a baseline picked
//! at random from a set and a point at a uniform random fraction of the way from it to the
//! photo; the attribution is the mean over draws of (photo - baseline) times the target logit's
//! gradient at that point, summed over colour channels. The draws are Captum's: NumPy's
//! `np.random.choice` of the baselines, then `np.random.uniform` of the fractions, after
//! `np.random.seed(seed)` for each photo.

pub use super::baseline_set::BaselineSet;
use super::gradient::{ChannelReduction, REDUCE_PARAM};
use crate::numpy_random::NumpyRandom;
use nas_core::ndarray::Array2;
use nas_core::progress::Task;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `gradient-shap` saliency method.
pub struct GradientShap {
    samples: usize,
    baselines: BaselineSet,
    seed: u32,
    batch: usize,
    reduction: ChannelReduction,
}

/// Parameters of `gradient-shap`.
pub const GRADIENT_SHAP_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int,
        default: "5",
        doc: "random draws of a baseline and a point on its path (Captum's n_samples)",
    },
    ParamSpec {
        name: "baselines",
        kind: ParamKind::Str,
        default: "\"black-white\"",
        doc: "the set baselines are drawn from: black-white (a black and a white photo), zero (normalised space, the mean colour), black or white",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "np.random.seed before each photo's draws",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "16",
        doc: "draws per backward pass (the draws are the same whatever the batch)",
    },
    REDUCE_PARAM,
];

impl GradientShap {
    /// Builds from `gradient-shap` parameters (see [`GRADIENT_SHAP_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<GradientShap> {
        Ok(GradientShap {
            samples: params.usize("samples", 5, 1, 100_000)?,
            baselines: BaselineSet::from_params(params, "black-white")?,
            seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
            batch: params.usize("batch", 16, 1, 10_000)?,
            reduction: ChannelReduction::from_params(params)?,
        })
    }

    /// The attribution `(1, 3, h, w)` of one photo for class `target`, `gradient` giving the
    /// gradient at a batch of points for a target.
    fn attribute(
        &self,
        backbone: &dyn Backbone,
        photo: NasTensor<4>,
        target: usize,
        task: &Task,
        gradient: &impl Fn(NasTensor<4>, usize) -> Result<NasTensor<4>>,
    ) -> Result<NasTensor<4>> {
        let baselines = self.baselines.tensors(backbone.info(), &photo);
        let draws = draws(self.seed, baselines.len(), self.samples);
        let mut total = photo.zeros_like();
        for group in draws.chunks(self.batch) {
            task.check()?;
            let points: Vec<NasTensor<4>> = group
                .iter()
                .map(|&(pick, a)| photo.clone() * a + baselines[pick].clone() * (1.0 - a))
                .collect();
            let differences: Vec<NasTensor<4>> = group.iter().map(|&(pick, _)| photo.clone() - baselines[pick].clone()).collect();
            let gradient = gradient(NasTensor::cat(points, 0), target)?;
            total = total + (NasTensor::cat(differences, 0) * gradient).sum_dim(0);
            task.advance(group.len() as u64);
        }
        Ok(total * (1.0 / self.samples as f32))
    }

    /// Each photo's GradientSHAP map for `method`, `gradient` giving the gradient of what is
    /// explained (the target's logit, a neuron) at a batch of points for a target.
    pub fn explain_with(
        &self,
        method: &str,
        backbone: &dyn Backbone,
        input: &NasTensor<4>,
        targets: &[usize],
        gradient: impl Fn(NasTensor<4>, usize) -> Result<NasTensor<4>>,
    ) -> Result<Vec<Array2<f32>>> {
        super::attribute_each(method, input, targets, self.samples, self.reduction, |photo, target, task| {
            self.attribute(backbone, photo, target, task, &gradient)
        })
    }
}

/// Captum's draws for one photo after `np.random.seed(seed)`: `np.random.choice(baselines,
/// samples)` picks the baselines, then `np.random.uniform(0, 1, samples)` the fractions of the
/// way from each to the photo (as float32).
pub fn draws(seed: u32, baselines: usize, samples: usize) -> Vec<(usize, f32)> {
    let mut random = NumpyRandom::new(seed);
    let picks: Vec<usize> = (0..samples)
        .map(|_| random.bounded(baselines.saturating_sub(1) as u32) as usize)
        .collect();
    picks.into_iter().map(|pick| (pick, random.uniform(0.0, 1.0) as f32)).collect()
}

impl Saliency for GradientShap {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        self.explain_with("gradient-shap", backbone, input, targets, |points, target| {
            let count = points.dims()[0];
            Ok(backbone.input_gradient(points, &vec![target; count])?.grad)
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(GradientShap::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "gradient-shap",
        summary: "GradientSHAP / expected gradients: (photo - baseline) x gradient at random points between them, baselines drawn from a set (Captum's GradientShap, its NumPy draws), summed over colour channels",
        params: GRADIENT_SHAP_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}

#[cfg(test)]
mod tests {
    use super::draws;

    #[test]
    fn draws_are_numpys() {
        // np.random.seed(0); np.random.choice(2, 5); np.random.uniform(0, 1, 5)
        let picks = [0, 1, 1, 0, 1];
        let fractions = [0.857_945_6, 0.847_251_7, 0.623_563_7, 0.384_381_7, 0.297_534_6];
        for ((pick, fraction), (p, f)) in draws(0, 2, 5).into_iter().zip(picks.into_iter().zip(fractions)) {
            assert_eq!(pick, p);
            assert!((fraction - f).abs() < 1e-6, "{fraction} vs {f}");
        }
        // One baseline: np.random.choice(1, n) draws nothing, so the fractions start at once:
        // np.random.seed(0); np.random.uniform(0, 1, 2) = [0.5488135, 0.71518937].
        let single = draws(0, 1, 2);
        assert_eq!(single.iter().map(|d| d.0).collect::<Vec<_>>(), vec![0, 0]);
        assert!((single[0].1 - 0.548_813_5).abs() < 1e-6 && (single[1].1 - 0.715_189_4).abs() < 1e-6);
    }
}
