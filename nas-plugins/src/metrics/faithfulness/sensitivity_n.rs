//! `sensitivity-n` (Ancona et al. 2018, "Towards better understanding of gradient-based
//! attribution methods for deep neural networks"; Quantus 0.6's `SensitivityN`): whether the
//! relevance a map gives a set of pixels predicts the score lost when they are removed, across a
//! dataset. Pixels are set to the baseline most salient first, `step` at a time and cumulatively
//! (as `pixel-flipping`); at every step the map's sum over that step's pixels is paired with the
//! drop of the target's score from the unperturbed photo. For each step, Pearson's correlation of
//! the two over all photos; the metric is the mean of these correlations over the first steps
//! Quantus keeps, `floor(share * H * W / (3 * step))` of them (Quantus counts its features in
//! channel values but this limit in pixels).
//!
//! It is defined over a dataset only: each photo's score carries its step pairs and has no value
//! of its own (NaN), and the dataset's figure needs two photos or more of one size. Quantus's
//! `normalise` divides every map by one maximum over the whole batch, which no correlation
//! notices, so there is no such setting here. Quantus 0.6 correlates only its first batch of
//! photos (`batch_size`, 64 by default); here every photo counts.

use super::{descending, removal_params, Removal};
use crate::metrics::correlation::pearson;
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score, Statistic};

/// The `sensitivity-n` metric.
pub struct SensitivityN {
    step: usize,
    share: f64,
    removal: Removal,
}

/// Parameters of `sensitivity-n`.
pub const SENSITIVITY_N_PARAMS: &[ParamSpec] = removal_params!(
    "\"black\"", "\"probability\"";
    ParamSpec {
        name: "step",
        kind: ParamKind::Int,
        default: "224",
        doc: "pixels set to the baseline per step (Quantus's features_in_step / 3)",
    },
    ParamSpec {
        name: "share",
        kind: ParamKind::Float,
        default: "0.8",
        doc: "Quantus's n_max_percentage: the steps kept are floor(share * H * W / (3 * step))",
    },
);

impl SensitivityN {
    /// The steps whose correlations are averaged, for a photo of `height x width` pixels.
    fn steps_kept(&self, height: usize, width: usize) -> usize {
        (self.share * (height * width) as f64 / (3 * self.step) as f64).floor() as usize
    }
}

impl Metric for SensitivityN {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let (height, width) = input.single_image(&self.removal.metric)?;
        let values = self.removal.ranked_values(input);
        let kept = self.steps_kept(height, width);
        let groups: Vec<Vec<usize>> = descending(&values).chunks(self.step).take(kept).map(<[usize]>::to_vec).collect();
        let scores = self.removal.scores(input, &groups)?;
        let unperturbed = scores.first().copied().unwrap_or(f64::NAN);
        // Each pixel's value counts once per colour channel, as Quantus broadcasts the map.
        let channels = input.input.dims()[1] as f64;
        let curve = groups
            .iter()
            .zip(scores.iter().skip(1))
            .map(|(group, after)| {
                let relevance: f64 = group.iter().map(|&i| f64::from(values[i])).sum::<f64>() * channels;
                (relevance, unperturbed - after)
            })
            .collect();
        Ok(Score { value: f64::NAN, curve })
    }

    fn plots_curve(&self) -> bool {
        false
    }

    fn summarise(&self, scores: &[&Score]) -> Result<Vec<Statistic>> {
        let steps = scores.first().map_or(0, |s| s.curve.len());
        if scores.iter().any(|s| s.curve.len() != steps) {
            return Err(NasError::InvalidInput(format!(
                "{}: the photos give different numbers of steps; it correlates photos of one size (use a resize)",
                self.removal.metric
            )));
        }
        let mean = if scores.len() < 2 || steps == 0 {
            f64::NAN
        } else {
            let correlations: Vec<f64> = (0..steps)
                .map(|k| {
                    let (relevance, drops): (Vec<f64>, Vec<f64>) = scores.iter().map(|s| s.curve[k]).unzip();
                    pearson(&drops, &relevance)
                })
                .collect();
            correlations.iter().sum::<f64>() / steps as f64
        };
        Ok(vec![Statistic {
            name: "SensitivityN".into(),
            value: mean,
        }])
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(SensitivityN {
        step: params.usize("step", 224, 1, usize::MAX)?,
        share: params.float("share", 0.8, 0.0, 1.0)?,
        removal: Removal::from_params(params, "black", "probability")?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "sensitivity-n",
        summary: "Quantus's SensitivityN (Ancona et al.): per removal step, the correlation over a dataset of the removed pixels' relevance with the score lost, averaged over steps",
        params: SENSITIVITY_N_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
