//! ROAD, RemOve And Debias (Rong et al. 2022), as pytorch-grad-cam's `ROADMostRelevantFirst`,
//! `ROADLeastRelevantFirst`, their averages over percentiles and `ROADCombined`: the pixels
//! above a percentile of the map (most relevant first) or below it (least relevant first) are
//! removed and filled by noisy linear imputation (`linear_imputation`), which leaves no sharp
//! edges for the network to react to; the score is the change of the target's score. Removing
//! the most relevant pixels should make it drop (MoRF, lower is better); removing the least
//! relevant should not (LeRF, higher is better); `combined` is `(LeRF - MoRF) / 2` averaged
//! over the percentiles (higher is better).

use super::linear_imputation::{impute, removed};
use crate::saliency::noise::standard_normals;
use nas_core::burn::tensor::TensorData;
use nas_core::deletion::target_scores;
use nas_core::{Context, Metric, MetricInput, NasTensor, ParamKind, ParamSpec, Params, Result, Score};
use rayon::prelude::*;

/// Which pixels go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoadOrder {
    /// The most relevant: those at or above the percentile.
    MostRelevantFirst,
    /// The least relevant: those whose complement `1 - value` is at or above the percentile.
    LeastRelevantFirst,
    /// Both, scored `(LeRF - MoRF) / 2`.
    Combined,
}

/// The `road` metric.
pub struct Road {
    order: RoadOrder,
    percentiles: Vec<f64>,
    noise: f64,
    seed: u64,
    probability: bool,
    batch: usize,
}

/// pytorch-grad-cam's percentiles for the averages and `ROADCombined`.
const DEFAULT_PERCENTILES: [f64; 9] = [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0];

/// Parameters of `road`.
pub const ROAD_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "order",
        kind: ParamKind::Str,
        default: "\"combined\"",
        doc: "combined ((LeRF - MoRF) / 2, higher is better), morf (most relevant removed; lower is better) or lerf (least relevant removed; higher is better)",
    },
    ParamSpec {
        name: "percentiles",
        kind: ParamKind::FloatList,
        default: "[10, 20, ..., 90]",
        doc: "percentiles of the map that split kept from removed pixels; the score is the mean over them",
    },
    ParamSpec {
        name: "noise",
        kind: ParamKind::Float,
        default: "0.01",
        doc: "standard deviation of the Gaussian noise added to imputed values (normalised input units; pytorch-grad-cam's), 0 for none",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of that noise",
    },
    ParamSpec {
        name: "scores",
        kind: ParamKind::Str,
        default: "\"logit\"",
        doc: "logit (pytorch-grad-cam's ClassifierOutputTarget) or probability (ClassifierOutputSoftmaxTarget)",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "16",
        doc: "images per forward pass",
    },
];

/// NumPy's `np.percentile(values, p)` of float32 values (linear method, arithmetic in float32
/// as NumPy does for a float32 array and a Python-number percentile), and how many values its
/// virtual index puts below it (the share a cut at `p` keeps when values are distinct).
pub fn percentile(values: &[f32], p: f64) -> (f32, usize) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f32::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return (f32::NAN, 0);
    }
    // NumPy's virtual index for its linear method, `(n - 1) * q`, rounding included.
    let virtual_index = ((n - 1) as f64 * (p / 100.0)).clamp(0.0, (n - 1) as f64);
    let below = virtual_index.floor() as usize;
    let above = (below + 1).min(n - 1);
    let gamma = virtual_index - below as f64;
    let (a, b) = (sorted[below], sorted[above]);
    let difference = b - a;
    let value = if gamma >= 0.5 {
        b - difference * (1.0 - gamma) as f32
    } else {
        a + difference * gamma as f32
    };
    (value, if gamma > 0.0 { below + 1 } else { below })
}

/// Pixels kept when `values` are cut at their percentile `p`: those strictly below it, as
/// pytorch-grad-cam keeps them. Where that keeps nothing because many pixels share the lowest
/// value (a superpixel map's darkest superpixel, the zeros of a rectified map), pytorch-grad-cam
/// has nothing to impute from (its linear system is singular); here the first of them by index
/// are kept, as many as the percentile's rank says.
pub fn kept_below(values: &[f32], p: f64) -> Vec<bool> {
    let (threshold, rank) = percentile(values, p);
    let mut keep: Vec<bool> = values.iter().map(|&v| v < threshold).collect();
    if !keep.contains(&true) {
        (0..values.len())
            .filter(|&i| values[i] == threshold)
            .take(rank)
            .for_each(|i| keep[i] = true);
    }
    keep
}

impl Road {
    /// The kept-pixel masks of every (order, percentile) case this metric scores, MoRF's first,
    /// then LeRF's, each with its noise stream: MoRF's `i`-th percentile draws stream `i` and
    /// LeRF's stream `n + i` whatever `order` is, so `combined` is `(lerf - morf) / 2` of
    /// separate runs.
    fn cases(&self, map: &[f32]) -> Vec<(u64, Vec<bool>)> {
        let n = self.percentiles.len() as u64;
        let complement: Vec<f32> = map.iter().map(|v| 1.0 - v).collect();
        let morf = (0u64..).zip(&self.percentiles).map(|(i, &p)| (i, kept_below(map, p)));
        let lerf = (0u64..).zip(&self.percentiles).map(|(i, &p)| (n + i, kept_below(&complement, p)));
        match self.order {
            RoadOrder::MostRelevantFirst => morf.collect(),
            RoadOrder::LeastRelevantFirst => lerf.collect(),
            RoadOrder::Combined => morf.chain(lerf).collect(),
        }
    }
}

impl Metric for Road {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let (h, w) = input.single_image("road")?;
        let photo = input.photo_values()?;
        let channels = photo.len() / (h * w);
        let map: Vec<f32> = input.saliency.iter().copied().collect();
        let cases = self.cases(&map);
        // Every case is imputed alone, with its own noise stream.
        let imputed: Vec<Option<Vec<f32>>> = cases
            .par_iter()
            .map(|(stream, keep)| {
                let noise = (self.noise > 0.0).then(|| {
                    let normals = standard_normals(self.seed, *stream, channels * removed(keep));
                    normals.into_iter().map(|v| v * self.noise as f32).collect::<Vec<f32>>()
                });
                impute(&photo, [h, w], keep, noise.as_deref())
            })
            .collect::<Result<_>>()?;
        let measure = |logits: NasTensor<2>| {
            if self.probability {
                nas_core::burn::tensor::activation::softmax(logits, 1)
            } else {
                logits
            }
        };
        let before = target_scores(input, input.input.clone(), &measure)?[0];
        let usable: Vec<&Vec<f32>> = imputed.iter().flatten().collect();
        let mut after = Vec::with_capacity(usable.len());
        for group in usable.chunks(self.batch) {
            let values: Vec<f32> = group.iter().flat_map(|image| image.iter().copied()).collect();
            let images = NasTensor::<4>::from_data(TensorData::new(values, [group.len(), channels, h, w]), &input.input.device());
            after.extend(target_scores(input, images, &measure)?);
        }
        // A case with nothing to impute from (or a solve that failed) has no defined change.
        let mut scored = after.into_iter();
        let changes: Vec<f64> = imputed
            .iter()
            .map(|image| match image {
                Some(_) => scored.next().map_or(f64::NAN, |a| a - before),
                None => f64::NAN,
            })
            .collect();
        let n = self.percentiles.len();
        let per_percentile: Vec<f64> = match self.order {
            RoadOrder::Combined => (0..n).map(|i| (changes[n + i] - changes[i]) / 2.0).collect(),
            _ => changes,
        };
        let curve: Vec<(f64, f64)> = self
            .percentiles
            .iter()
            .map(|p| p / 100.0)
            .zip(per_percentile.iter().copied())
            .collect();
        Ok(Score {
            value: per_percentile.iter().sum::<f64>() / n as f64,
            curve,
        })
    }
}

impl Road {
    /// Builds from `road` parameters (see [`ROAD_PARAMS`]) with `default_percentiles` when none
    /// are given.
    pub fn from_params(params: &Params, default_percentiles: &[f64]) -> Result<Road> {
        let order = match params.choice("order", "combined", &["combined", "morf", "lerf"])?.as_str() {
            "morf" => RoadOrder::MostRelevantFirst,
            "lerf" => RoadOrder::LeastRelevantFirst,
            _ => RoadOrder::Combined,
        };
        let percentiles = params.float_list("percentiles")?.unwrap_or_else(|| default_percentiles.to_vec());
        // At the 0th percentile nothing is below the cut: every pixel would go.
        if percentiles.is_empty() || percentiles.iter().any(|&p| !(p > 0.0 && p <= 100.0)) {
            return Err(nas_core::NasError::InvalidInput(format!(
                "road: percentiles must be one or more numbers above 0 and at most 100, got {percentiles:?}"
            )));
        }
        Ok(Road {
            order,
            percentiles,
            noise: params.float("noise", 0.01, 0.0, f64::MAX)?,
            seed: params.usize("seed", 0, 0, usize::MAX)? as u64,
            probability: params.choice("scores", "logit", &["logit", "probability"])? == "probability",
            batch: params.usize("batch", 16, 1, 4096)?,
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(Road::from_params(params, &DEFAULT_PERCENTILES)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "road",
        summary: "ROAD (pytorch-grad-cam's ROADCombined / MoRF / LeRF): change of the target's score when the most or least relevant pixels are removed and filled by noisy linear imputation",
        params: ROAD_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}

#[cfg(test)]
mod tests {
    use super::{kept_below, percentile};

    #[test]
    fn percentiles_follow_numpy() {
        // np.percentile(np.float32([3, 1, 4, 1, 5, 9, 2, 6]), p) for p = 0, 10, 25, 50, 80, 100.
        let values = [3.0f32, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let expected = [1.0f32, 1.0, 1.75, 3.5, 5.6, 9.0];
        for (p, e) in [0.0, 10.0, 25.0, 50.0, 80.0, 100.0].into_iter().zip(expected) {
            let (value, _) = percentile(&values, p);
            assert!((value - e).abs() < 1e-6, "p = {p}: {value} vs {e}");
        }
    }

    #[test]
    fn cuts_keep_what_is_below_or_the_first_of_the_lowest() {
        // Distinct values: exactly those below the cut.
        let distinct = [0.5f32, 0.1, 0.9, 0.3, 0.7];
        assert_eq!(kept_below(&distinct, 50.0), vec![false, true, false, true, false]);
        // Ties at the cut with something below it: all of them removed, as pytorch-grad-cam.
        let tied_above = [0.1f32, 0.5, 0.5, 0.5, 0.9];
        assert_eq!(kept_below(&tied_above, 50.0), vec![true, false, false, false, false]);
        // Six equal lowest values: pytorch-grad-cam would keep none at the 40th percentile;
        // here the first four of them by index (rank of the cut: 0.4 x 9 = 3.6, so 4 below).
        let tied = [0.0f32, 0.0, 0.8, 0.0, 0.0, 0.9, 0.0, 0.0, 0.7, 0.6];
        let keep = kept_below(&tied, 40.0);
        assert_eq!(keep, vec![true, true, false, true, true, false, false, false, false, false]);
    }
}
