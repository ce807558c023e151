//! Quantus 0.6's `RandomLogit` (Sixt et al. 2020), a randomisation check: the photo is explained
//! again for a class drawn at random among the others, and the score is the structural
//! similarity (Quantus's `ssim`) of the two maps, flattened, after Quantus's normalisation.
//! A method whose map barely changes with the class scores near 1: it does not explain the
//! class. The class is drawn from NumPy's global random state after `np.random.seed(seed)`, as
//! Quantus draws it for a batch of one photo (each photo starts from the seed again), among the
//! backbone's classes (Quantus's `num_classes`).

use super::normalisation::prepared_f32;
use super::structural_similarity::quantus_ssim;
use crate::numpy_random::NumpyRandom;
use nas_core::{Context, Explainer, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// The `random-logit` metric.
pub struct RandomLogit {
    seed: u32,
    normalise: bool,
    absolute: bool,
}

/// Parameters of `random-logit`.
pub const RANDOM_LOGIT_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "42",
        doc: "seed of NumPy's global random state the other class is drawn from (Quantus's seed)",
    },
    super::normalisation::normalise_param("true"),
    super::normalisation::abs_param("false"),
];

impl RandomLogit {
    /// Builds from `random-logit` parameters (see [`RANDOM_LOGIT_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<RandomLogit> {
        Ok(RandomLogit {
            seed: params.usize("seed", 42, 0, u32::MAX as usize)? as u32,
            normalise: params.bool("normalise", true)?,
            absolute: params.bool("abs", false)?,
        })
    }

    /// The class other than `target` that Quantus draws among `classes` for this seed.
    pub fn other_class(&self, target: usize, classes: usize) -> Result<usize> {
        if classes < 2 || target >= classes {
            return Err(NasError::InvalidInput(format!(
                "random-logit: target class {target} of a backbone with {classes} classes (needs another class to draw)"
            )));
        }
        let index = NumpyRandom::new(self.seed).bounded((classes - 2) as u32) as usize;
        Ok(index + usize::from(index >= target))
    }
}

impl Metric for RandomLogit {
    fn score(&self, _input: &MetricInput<'_>) -> Result<Score> {
        Err(super::remaking::needs_pipeline(
            "random-logit explains the photo again for another class",
            false,
        ))
    }

    fn score_explained(&self, input: &MetricInput<'_>, explain: &Explainer<'_>) -> Result<Score> {
        let (h, w) = input.single_image("random-logit")?;
        let other = self.other_class(input.target, input.backbone.info().num_classes)?;
        let maps = super::remaking::remade_maps("random-logit", explain, input.input, other)?;
        let [map] = maps.as_slice() else {
            return Err(NasError::InvalidInput(format!(
                "random-logit: {} maps came back for one {h}x{w} photo",
                maps.len()
            )));
        };
        let value = quantus_ssim(
            &prepared_f32(input.saliency, self.normalise, self.absolute),
            &prepared_f32(map, self.normalise, self.absolute),
        )?;
        Ok(Score { value, curve: Vec::new() })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(RandomLogit::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "random-logit",
        summary: "Quantus's RandomLogit: structural similarity of the map and the map for a random other class (smaller: the map depends on the class)",
        params: RANDOM_LOGIT_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
