//! `monotonicity` (Arya et al. 2019, Quantus's `Monotonicity`): the image starts as the baseline
//! and the photo's pixels are given back least salient first, `step` at a time; the score is 1
//! when the target's score never falls from one step to the next (each pixel added raises the
//! model's belief at least as much as the less salient ones before it), else 0. Over a dataset
//! the mean is the share of photos whose maps are monotonic.
//!
//! Quantus 0.6's own `Monotonicity` returns True for every photo: its default perturbation sets
//! each step's values of the baseline image to the baseline again, so the image never changes.
//! nas gives them back their photo values, as Arya et al. describe; the reference is Quantus's
//! metric with a perturbation that does so (scripts/make_monotonicity_non_sensitivity_fixture.py).
//!
//! Quantus counts `features_in_step` in values of the map broadcast over the colour channels;
//! `step` here counts whole pixels (Quantus's `features_in_step = 3 * step`). Quantus's default
//! of one value per step means 150,528 forward passes for a 224x224 photo; nas's default (1792
//! pixels, 28 steps) keeps it to 29.

use super::{ascending, removal_params, unit_curve, Removal};
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// The `monotonicity` metric.
pub struct Monotonicity {
    step: usize,
    removal: Removal,
}

/// Parameters of `monotonicity`.
pub const MONOTONICITY_PARAMS: &[ParamSpec] = removal_params!(
    "\"black\"", "\"probability\"", "true";
    ParamSpec {
        name: "step",
        kind: ParamKind::Int,
        default: "1792",
        doc: "pixels given back per step (Quantus's features_in_step / 3)",
    },
);

impl Metric for Monotonicity {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let values: Vec<f64> = self.removal.ranked_values(input).into_iter().map(f64::from).collect();
        let groups: Vec<Vec<usize>> = ascending(&values).chunks(self.step).map(<[usize]>::to_vec).collect();
        if groups.len() < 2 {
            return Err(NasError::InvalidInput(format!(
                "monotonicity: parameter `step` = {} leaves {} step(s) for the photo's {} pixels; a rise needs 2 or more: lower `step`",
                self.step,
                groups.len(),
                values.len()
            )));
        }
        // Quantus's curve starts after the first step, not at the baseline image.
        let after: Vec<f64> = self.removal.scores_restored(input, &groups)?.into_iter().skip(1).collect();
        let monotonic = after.windows(2).all(|pair| pair[1] >= pair[0]);
        Ok(Score {
            value: if monotonic { 1.0 } else { 0.0 },
            curve: unit_curve(&after),
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(Monotonicity {
        step: params.usize("step", 1792, 1, usize::MAX)?,
        removal: Removal::from_params_with(params, "black", "probability", true)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "monotonicity",
        summary: "Quantus's Monotonicity (Arya et al.): 1 if the target's score never falls as the photo's pixels are given back to a baseline image, least salient first, else 0",
        params: MONOTONICITY_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
