//! `faithfulness-estimate` (Alvarez-Melis & Jaakkola 2018, Quantus's `FaithfulnessEstimate`):
//! the pixels, most salient first, are cut into groups of `step`; each group alone is set to the
//! baseline in the unperturbed photo, and the Pearson correlation between the groups' total
//! saliency and the drops of the target's score they cause is the score (1: the map's ranking
//! of regions is the model's). Quantus's defaults: `black` baseline, logits (`softmax=False`),
//! signed values. `step` counts whole pixels (Quantus's `features_in_step = 3 * step`).

use super::{descending, removal_params, Removal};
use nas_core::{Context, Metric, MetricInput, ParamKind, ParamSpec, Params, Result, Score};

/// The `faithfulness-estimate` metric.
pub struct FaithfulnessEstimate {
    step: usize,
    removal: Removal,
}

/// Parameters of `faithfulness-estimate`.
pub const FAITHFULNESS_ESTIMATE_PARAMS: &[ParamSpec] = removal_params!(
    "\"black\"", "\"logit\"";
    ParamSpec {
        name: "step",
        kind: ParamKind::Int,
        default: "224",
        doc: "pixels per group (Quantus's features_in_step / 3)",
    },
);

/// Pearson's r between the removed regions' saliency `totals` and the drops of the target's
/// score from `scores[0]` (the unperturbed photo) to `scores[i + 1]` (region `i` removed); the
/// `(total, drop)` pairs are kept as the score's curve (a scatter, not a curve to plot).
pub fn drop_correlation(totals: Vec<f64>, scores: &[f64]) -> Score {
    let drops: Vec<f64> = scores.iter().skip(1).map(|s| scores[0] - s).collect();
    Score {
        value: crate::metrics::correlation::pearson(&totals, &drops),
        curve: totals.into_iter().zip(drops).collect(),
    }
}

impl Metric for FaithfulnessEstimate {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let values: Vec<f64> = self.removal.ranked_values(input).into_iter().map(f64::from).collect();
        let groups: Vec<Vec<usize>> = descending(&values).chunks(self.step).map(<[usize]>::to_vec).collect();
        let scores = self.removal.scores_each(input, &groups)?;
        let totals: Vec<f64> = groups.iter().map(|g| g.iter().map(|&p| values[p]).sum()).collect();
        Ok(drop_correlation(totals, &scores))
    }

    fn plots_curve(&self) -> bool {
        false
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(FaithfulnessEstimate {
        step: params.usize("step", 224, 1, usize::MAX)?,
        removal: Removal::from_params(params, "black", "logit")?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "faithfulness-estimate",
        summary: "Quantus's FaithfulnessEstimate: correlation between the saliency of pixel groups and the drop of the target's score when each is set to a baseline",
        params: FAITHFULNESS_ESTIMATE_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
