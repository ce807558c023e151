//! `non-sensitivity` (Nguyen & Martínez 2020, Quantus's `NonSensitivity`): a map should give no
//! relevance where the model does not care, and some where it does. The photo's values, taken
//! in `(C, H, W)` order `step` at a time, are set to a baseline one group at a time; a group is
//! insensitive when the target's score moves by less than `eps`, and a non-feature when every
//! value of the map over it (normalised by its largest magnitude) is below `eps`. The score is
//! the number of groups where exactly one of the two holds (0 is best).
//!
//! With `step` 1 (Quantus's default; every colour value alone, 150,528 forward passes for a
//! 224x224 photo) the count is Quantus's. Quantus 0.6 fails for any other step: it compares a
//! flag per group with a flag per value. nas makes a group a non-feature when all its values are,
//! and defaults to 224 values per group (672 passes for 224x224).

use crate::metrics::faithfulness::{removal_params, Removal};
use crate::metrics::normalisation::{normalise_param, prepared_f32};
use nas_core::{Context, Metric, MetricInput, ParamKind, ParamSpec, Params, Result, Score};

/// The `non-sensitivity` metric.
pub struct NonSensitivity {
    step: usize,
    eps: f64,
    normalise: bool,
    removal: Removal,
}

/// Parameters of `non-sensitivity`.
pub const NON_SENSITIVITY_PARAMS: &[ParamSpec] = removal_params!(
    "\"black\"", "\"probability\"", "true";
    ParamSpec {
        name: "step",
        kind: ParamKind::Int,
        default: "224",
        doc: "colour values per group, in (C, H, W) order (Quantus's features_in_step)",
    },
    ParamSpec {
        name: "eps",
        kind: ParamKind::Float,
        default: "1e-5",
        doc: "below this, a change of the target's score or a (normalised) map value counts as none",
    },
    normalise_param("true"),
);

impl Metric for NonSensitivity {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let (h, w) = input.single_image("non-sensitivity")?;
        let channels = input.input.dims()[1];
        let map = prepared_f32(input.saliency, self.normalise, self.removal.absolute);
        let plane = h * w;
        let groups: Vec<Vec<usize>> = (0..channels * plane)
            .collect::<Vec<_>>()
            .chunks(self.step)
            .map(<[usize]>::to_vec)
            .collect();
        let scores = self.removal.scores_each_value(input, &groups)?;
        let mut violations = 0usize;
        let mut curve = Vec::with_capacity(groups.len());
        for (group, score) in groups.iter().zip(&scores[1..]) {
            let change = (score - scores[0]).abs();
            let largest = group.iter().map(|&i| f64::from(map[i % plane])).fold(f64::NEG_INFINITY, f64::max);
            if (change < self.eps) != (largest < self.eps) {
                violations += 1;
            }
            curve.push((largest, change));
        }
        Ok(Score {
            value: violations as f64,
            curve,
        })
    }

    fn plots_curve(&self) -> bool {
        false
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(NonSensitivity {
        step: params.usize("step", 224, 1, usize::MAX)?,
        eps: params.float("eps", 1e-5, 0.0, f64::MAX)?,
        normalise: params.bool("normalise", true)?,
        removal: Removal::from_params_with(params, "black", "probability", true)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "non-sensitivity",
        summary: "Quantus's NonSensitivity: groups of the photo's values where the map and the model disagree on whether they matter (score barely moves when replaced vs map near zero); 0 is best",
        params: NON_SENSITIVITY_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
