//! `faithfulness-correlation` (Bhatt et al. 2020, Quantus's `FaithfulnessCorrelation`): `runs`
//! (100) times, `subset` (224) random values of the photo (one colour of one pixel each, drawn
//! without replacement among all `C x H x W`) are set to the baseline in the unperturbed photo;
//! the score is Pearson's r between the subsets' saliency sums (each value counting its pixel's
//! saliency) and the drops of the target's logit they cause (Quantus's `softmax=False`).
//!
//! The subsets are NumPy's: `np.random.choice(n, subset, replace=False)` after
//! `np.random.seed(seed)`, as Quantus draws them from the global state, followed each time by
//! the one uniform draw Quantus's lookup of a named baseline makes, so the same seed gives
//! Quantus's subsets for one photo (each photo starts from the seed again).

use super::faithfulness_estimate::drop_correlation;
use super::{removal_params, Baseline, Removal};
use crate::numpy_random::NumpyRandom;
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// The `faithfulness-correlation` metric.
pub struct FaithfulnessCorrelation {
    runs: usize,
    subset: usize,
    seed: u32,
    removal: Removal,
}

/// Parameters of `faithfulness-correlation`.
pub const FAITHFULNESS_CORRELATION_PARAMS: &[ParamSpec] = removal_params!(
    "\"black\"", "\"logit\"";
    ParamSpec {
        name: "runs",
        kind: ParamKind::Int,
        default: "100",
        doc: "random subsets removed (Quantus's nr_runs)",
    },
    ParamSpec {
        name: "subset",
        kind: ParamKind::Int,
        default: "224",
        doc: "values (colours of pixels) per subset (Quantus's subset_size)",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of NumPy's global random state the subsets are drawn from (np.random.seed)",
    },
);

impl Metric for FaithfulnessCorrelation {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let [_, channels, h, w] = input.input.dims();
        let (plane, values) = (h * w, channels * h * w);
        // Quantus refuses subsets of the image's pixel count or more.
        if self.subset >= plane || values > u32::MAX as usize {
            return Err(NasError::InvalidInput(format!(
                "faithfulness-correlation: parameter `subset` = {}: expected fewer than the photo's {plane} pixels",
                self.subset
            )));
        }
        let saliency = self.removal.ranked_values(input);
        let mut random = NumpyRandom::new(self.seed);
        let mut subsets = Vec::with_capacity(self.runs);
        let mut totals = Vec::with_capacity(self.runs);
        for _ in 0..self.runs {
            let mut subset = random.permutation(values);
            subset.truncate(self.subset);
            // Quantus's lookup of a named baseline draws one uniform value it does not use.
            if !matches!(self.removal.baseline, Baseline::Value(_)) {
                random.random_sample();
            }
            totals.push(subset.iter().map(|&i| f64::from(saliency[i % plane])).sum::<f64>());
            subsets.push(subset);
        }
        let scores = self.removal.scores_each_value(input, &subsets)?;
        Ok(drop_correlation(totals, &scores))
    }

    fn plots_curve(&self) -> bool {
        false
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(FaithfulnessCorrelation {
        runs: params.usize("runs", 100, 2, 1_000_000)?,
        subset: params.usize("subset", 224, 1, usize::MAX)?,
        seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
        removal: Removal::from_params(params, "black", "logit")?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "faithfulness-correlation",
        summary: "Quantus's FaithfulnessCorrelation: correlation between the saliency of random subsets of the photo and the drop of the target's score when each is set to a baseline",
        params: FAITHFULNESS_CORRELATION_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
