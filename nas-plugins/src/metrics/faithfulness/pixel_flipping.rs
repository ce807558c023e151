//! `pixel-flipping` (Bach et al. 2015, Quantus's `PixelFlipping`): pixels are set to the baseline
//! most salient first, `step` at a time, and the target's score recorded after every step; the
//! score is the area under that curve with one unit per step (Quantus's `calculate_auc`; lower
//! means a more faithful map).
//!
//! Quantus counts `features_in_step` in channel values of the map broadcast over the colour
//! channels; `step` here counts whole pixels, i.e. Quantus's `features_in_step = 3 * step`.

use super::{descending, removal_params, unit_curve, Removal};
use nas_core::deletion::trapezoid;
use nas_core::{Context, Metric, MetricInput, ParamKind, ParamSpec, Params, Result, Score};

/// The `pixel-flipping` metric.
pub struct PixelFlipping {
    step: usize,
    removal: Removal,
}

/// Parameters of `pixel-flipping`.
pub const PIXEL_FLIPPING_PARAMS: &[ParamSpec] = removal_params!(
    "\"black\"", "\"probability\"";
    ParamSpec {
        name: "step",
        kind: ParamKind::Int,
        default: "224",
        doc: "pixels set to the baseline per step (Quantus's features_in_step / 3)",
    },
);

impl Metric for PixelFlipping {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let values: Vec<f64> = self.removal.ranked_values(input).into_iter().map(f64::from).collect();
        let groups: Vec<Vec<usize>> = descending(&values).chunks(self.step).map(<[usize]>::to_vec).collect();
        // Quantus's curve starts after the first step.
        let after: Vec<f64> = self.removal.scores(input, &groups)?.into_iter().skip(1).collect();
        let curve = unit_curve(&after);
        Ok(Score {
            value: trapezoid(&curve),
            curve,
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(PixelFlipping {
        step: params.usize("step", 224, 1, usize::MAX)?,
        removal: Removal::from_params(params, "black", "probability")?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "pixel-flipping",
        summary: "Quantus's PixelFlipping: area under the target's score as the most salient pixels are set to a baseline, step by step",
        params: PIXEL_FLIPPING_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
