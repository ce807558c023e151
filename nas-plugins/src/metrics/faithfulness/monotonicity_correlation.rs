//! `monotonicity-correlation` (Nguyen & Martínez 2020, Quantus's `MonotonicityCorrelation`): the
//! pixels, least salient first, are cut into groups of `step`; each group alone is set to a
//! baseline `samples` times in the unperturbed photo, and the score is Spearman's rank
//! correlation between the groups' total saliency and the mean squared change of the target's
//! score they cause (1: the more salient a region, the more the model's output moves when it is
//! replaced).
//!
//! Quantus's defaults: `uniform` baseline (each replacement sets the whole group to one value
//! drawn from U(0, 1) in the normalised photo), the map's absolute values, softmax
//! probabilities. The draws are NumPy's, one per replacement after `np.random.seed(seed)`, as
//! Quantus draws them from the global state, so the same seed gives Quantus's values for one
//! photo (each photo starts from the seed again). A fixed baseline (`black`, `white`, `mean` or a
//! number) changes nothing between samples, so it is evaluated once. Quantus divides the changes
//! by the squared unperturbed score, which a rank correlation ignores; it is left out.
//!
//! Quantus counts `features_in_step` in values of the map broadcast over the colour channels;
//! `step` here counts whole pixels (Quantus's `features_in_step = 3 * step`). Quantus's default
//! of one value per step means 150,528 x 100 forward passes for a 224x224 photo; nas's defaults
//! (`step` 1792, 28 groups; `samples` 10) keep it to 280.

use super::{ascending, removal_params, Baseline, Removal};
use crate::numpy_random::NumpyRandom;
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// The `monotonicity-correlation` metric.
pub struct MonotonicityCorrelation {
    step: usize,
    samples: usize,
    seed: u32,
    removal: Removal,
}

/// Parameters of `monotonicity-correlation`.
pub const MONOTONICITY_CORRELATION_PARAMS: &[ParamSpec] = removal_params!(
    "\"uniform\"", "\"probability\"", "true";
    ParamSpec {
        name: "step",
        kind: ParamKind::Int,
        default: "1792",
        doc: "pixels per group (Quantus's features_in_step / 3)",
    },
    ParamSpec {
        name: "samples",
        kind: ParamKind::Int,
        default: "10",
        doc: "replacements of each group with a drawn uniform value (Quantus's nr_samples)",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of NumPy's global random state the uniform values are drawn from (np.random.seed)",
    },
);

impl Metric for MonotonicityCorrelation {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let values: Vec<f64> = self.removal.ranked_values(input).into_iter().map(f64::from).collect();
        let groups: Vec<Vec<usize>> = ascending(&values).chunks(self.step).map(<[usize]>::to_vec).collect();
        if groups.len() < 2 {
            return Err(NasError::InvalidInput(format!(
                "monotonicity-correlation: parameter `step` = {} leaves {} group(s) of the photo's {} pixels; a rank correlation needs 2 or more: lower `step`",
                self.step,
                groups.len(),
                values.len()
            )));
        }
        let samples = if self.removal.baseline == Baseline::Uniform {
            self.samples
        } else {
            1
        };
        let photo = input.photo_values()?;
        let mut random = NumpyRandom::new(self.seed);
        let fixed = self.removal.baseline.value(&photo);
        // Quantus's lookup of any baseline draws one uniform value, used only by `uniform`.
        let fills: Vec<f32> = (0..groups.len() * samples)
            .map(|_| {
                let drawn = random.random_sample() as f32;
                fixed.unwrap_or(drawn)
            })
            .collect();
        let replaced: Vec<Vec<usize>> = groups.iter().flat_map(|g| std::iter::repeat_n(g, samples)).cloned().collect();
        let scores = self.removal.scores_each_filled(input, &replaced, &fills)?;
        let changes: Vec<f64> = scores[1..]
            .chunks(samples)
            .map(|moved| moved.iter().map(|s| (s - scores[0]).powi(2)).sum::<f64>() / samples as f64)
            .collect();
        let totals: Vec<f64> = groups.iter().map(|g| g.iter().map(|&p| values[p]).sum()).collect();
        Ok(Score {
            value: crate::metrics::correlation::spearman(&totals, &changes),
            curve: totals.into_iter().zip(changes).collect(),
        })
    }

    fn plots_curve(&self) -> bool {
        false
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(MonotonicityCorrelation {
        step: params.usize("step", 1792, 1, usize::MAX)?,
        samples: params.usize("samples", 10, 1, 1_000_000)?,
        seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
        removal: Removal::from_params_with(params, "uniform", "probability", true)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "monotonicity-correlation",
        summary: "Quantus's MonotonicityCorrelation: rank correlation between the saliency of pixel groups and how much the target's score moves when each is replaced by a baseline",
        params: MONOTONICITY_CORRELATION_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
