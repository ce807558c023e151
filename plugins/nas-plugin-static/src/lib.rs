//! A static `nas` plugin: linking this crate into a binary adds the `deletion-auc` metric to
//! [`Registry::builtin`](nas_core::Registry::builtin), with no loading step and no handshake,
//! because the component is compiled together with the host.
//!
//! `deletion-auc` is the deletion metric of RISE (Petsiuk et al., 2018): pixels are set to zero in
//! the normalised input (the dataset's mean colour) from most to least relevant, in `steps` equal
//! groups, and the target's softmax probability (or its logit, with `score = "logit"`) is recorded
//! after each group. The score is the area under that curve over the fraction of pixels removed,
//! by the trapezoid rule. Lower is better: a faithful map removes the evidence first, so the
//! probability collapses early. It is the most-relevant-first counterpart of `auc-lerf`.
//!
//! Call [`link`] once from the binary so that the linker keeps the registration.

use nas_core::burn::tensor::activation::softmax;
use nas_core::deletion::{deletion_curve, trapezoid};
use nas_core::{ComponentEntry, Context, Factory, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// Makes sure the linker keeps this crate's registration: call it once from the binary (a crate
/// none of whose symbols is used is not linked, and its `inventory::submit!` with it).
pub fn link() {}

/// What is recorded after each deletion step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Softmax probability of the target class (default, as in RISE).
    Probability,
    /// Pre-softmax score of the target class.
    Logit,
}

/// The `deletion-auc` metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeletionAuc {
    steps: usize,
    batch: usize,
    measure: Measure,
}

/// Parameters of `deletion-auc`.
pub const DELETION_AUC_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "steps",
        kind: ParamKind::Int,
        default: "50",
        doc: "number of deletion steps (1..1000000, at most one per pixel)",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "16",
        doc: "masked images per forward pass (1..4096)",
    },
    ParamSpec {
        name: "score",
        kind: ParamKind::Str,
        default: "\"probability\"",
        doc: "what is recorded: probability (softmax) or logit",
    },
];

/// Pixel indices (row-major) removed at each step: most relevant first, ties broken by index,
/// split into `steps` groups of (nearly) equal size.
pub fn deletion_groups(saliency: &[f32], steps: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..saliency.len()).collect();
    order.sort_by(|&a, &b| saliency[b].total_cmp(&saliency[a]).then(a.cmp(&b)));
    let steps = steps.min(order.len()).max(1);
    (0..steps)
        .map(|s| order[s * order.len() / steps..(s + 1) * order.len() / steps].to_vec())
        .collect()
}

impl Metric for DeletionAuc {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let [b, channels, h, w] = input.input.dims();
        if b != 1 || (h, w) != input.saliency.dim() {
            return Err(NasError::InvalidInput(format!(
                "deletion-auc: expected one image matching the {:?} saliency map, got input {:?}",
                input.saliency.dim(),
                [b, channels, h, w]
            )));
        }
        let pixels = h * w;
        if pixels == 0 {
            return Err(NasError::InvalidInput("deletion-auc: the image has no pixels".into()));
        }
        let values: Vec<f32> = input.saliency.iter().copied().collect();
        if values.iter().any(|v| !v.is_finite()) {
            return Err(NasError::InvalidInput(
                "deletion-auc: the saliency map contains NaN or infinite values".into(),
            ));
        }
        let groups = deletion_groups(&values, self.steps);
        let curve = deletion_curve(input, &groups, self.batch, &|logits| match self.measure {
            Measure::Probability => softmax(logits, 1),
            Measure::Logit => logits,
        })?;
        Ok(Score {
            value: trapezoid(&curve),
            curve,
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let steps = params.usize("steps", 50, 1, 1_000_000)?;
    let batch = params.usize("batch", 16, 1, 4096)?;
    let measure = match params.choice("score", "probability", &["probability", "logit"])?.as_str() {
        "logit" => Measure::Logit,
        _ => Measure::Probability,
    };
    Ok(Box::new(DeletionAuc { steps, batch, measure }))
}

nas_core::inventory::submit! {
    ComponentEntry {
        name: "deletion-auc",
        summary: "area under the most-relevant-first deletion curve of the target probability (RISE); lower is better",
        params: DELETION_AUC_PARAMS,
        factory: Factory::Metric(build),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_remove_the_most_relevant_first() {
        let groups = deletion_groups(&[0.1, 0.9, 0.5, 0.9], 2);
        assert_eq!(groups, vec![vec![1, 3], vec![2, 0]]);
        assert_eq!(deletion_groups(&[1.0, 2.0], 10).len(), 2);
    }

    #[test]
    fn trapezoid_integrates_a_line() {
        assert!((trapezoid(&[(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]) - 0.5).abs() < 1e-12);
    }
}
