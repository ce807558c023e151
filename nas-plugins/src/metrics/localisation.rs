//! Quantus 0.6's localisation metrics on ground-truth boxes (the pixels inside any box, corners
//! inclusive, as `relevance-mass` uses them), with Quantus's defaults:
//!
//! - `top-k-intersection` (Theiner et al. 2021): the share of the map's `k` (1000) highest pixels
//!   that fall inside the boxes; `concept_influence = true` divides it by the boxes' share of the
//!   photo;
//! - `attribution-localisation` (Kohlbrenner et al. 2020): the share of the map's absolute
//!   values (`abs = true`, each divided by the largest, as Quantus normalises) inside the boxes,
//!   `inside / (total + 1e-9)`; `positive = true` keeps only positive values (Quantus's
//!   `positive_attributions`, applied after `abs`, so it only matters with `abs = false`);
//! - `localisation-auc` (Fawcett 2006): the area under the ROC curve of the map as a detector of
//!   box pixels (scikit-learn's `roc_curve` and `auc`; equal values count one half).
//!
//! A photo whose boxes the crop removed, or whose boxes cover nothing, scores NaN (so does
//! `localisation-auc` when the boxes cover the whole photo). Equal values rank by increasing
//! pixel index in `top-k-intersection` (Quantus's `np.argsort` leaves them unordered).

use super::ground_truth;
use super::ranking::descending;
use super::relevance::box_mask;
use nas_core::significance::average_ranks;
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// Which metric.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Measure {
    TopK { k: usize, concept_influence: bool },
    AttributionShare { absolute: bool, positive: bool },
    RocArea,
}

/// The `top-k-intersection`, `attribution-localisation` and `localisation-auc` metrics.
pub struct Localisation {
    measure: Measure,
}

/// The share of the `k` highest values inside `mask` (equal values by increasing index).
pub fn top_k_share(map: &[f32], mask: &[bool], k: usize) -> f64 {
    let k = k.min(map.len());
    descending(map)[..k].iter().filter(|&&p| mask[p]).count() as f64 / k as f64
}

/// Quantus's attribution localisation: `inside / (total + 1e-9)` of the values divided by their
/// largest magnitude; NaN above 1 (Quantus's "segmentation" warning case).
pub fn attribution_share(map: &[f32], mask: &[bool], absolute: bool, positive: bool) -> f64 {
    let values: Vec<f64> = map.iter().map(|&v| f64::from(if absolute { v.abs() } else { v })).collect();
    let largest = values.iter().fold(0f64, |m, v| m.max(v.abs()));
    let scale = if largest > 0.0 { largest } else { 1.0 };
    let values = values.into_iter().map(|v| v / scale).map(|v| if positive { v.max(0.0) } else { v });
    let (mut inside, mut total) = (0.0, 0.0);
    for (v, &m) in values.zip(mask) {
        total += v;
        if m {
            inside += v;
        }
    }
    let share = inside / (total + 1e-9);
    if share > 1.0 {
        f64::NAN
    } else {
        share
    }
}

/// The area under the ROC curve of `map` scoring the pixels of `mask`: the probability that a
/// mask pixel outranks a pixel outside it, ties counting one half. NaN without both kinds.
pub fn roc_area(map: &[f32], mask: &[bool]) -> f64 {
    let positives = mask.iter().filter(|&&m| m).count() as f64;
    let negatives = mask.len() as f64 - positives;
    if positives == 0.0 || negatives == 0.0 {
        return f64::NAN;
    }
    let values: Vec<f64> = map.iter().map(|&v| f64::from(v)).collect();
    let (ranks, _) = average_ranks(&values);
    let rank_sum: f64 = ranks.iter().zip(mask).filter(|(_, &m)| m).map(|(r, _)| r).sum();
    (rank_sum - positives * (positives + 1.0) / 2.0) / (positives * negatives)
}

impl Metric for Localisation {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let (height, width) = input.saliency.dim();
        let Some(boxes) = ground_truth::boxes(input.annotation)? else {
            return Ok(Score {
                value: f64::NAN,
                curve: Vec::new(),
            });
        };
        let mask = box_mask(boxes, height, width);
        let inside = mask.iter().filter(|&&m| m).count();
        let map: Vec<f32> = input.saliency.iter().copied().collect();
        let value = if inside == 0 {
            f64::NAN
        } else {
            match self.measure {
                Measure::TopK { k, concept_influence } => {
                    if k > map.len() {
                        return Err(NasError::InvalidInput(format!(
                            "top-k-intersection: parameter `k` = {k} is larger than the {height}x{width} map's {} pixels",
                            map.len()
                        )));
                    }
                    let share = top_k_share(&map, &mask, k);
                    if concept_influence {
                        share * map.len() as f64 / inside as f64
                    } else {
                        share
                    }
                }
                Measure::AttributionShare { absolute, positive } => attribution_share(&map, &mask, absolute, positive),
                Measure::RocArea => roc_area(&map, &mask),
            }
        };
        Ok(Score { value, curve: Vec::new() })
    }
}

/// Parameters of `top-k-intersection`.
pub const TOP_K_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "k",
        kind: ParamKind::Int,
        default: "1000",
        doc: "pixels of highest saliency looked at",
    },
    ParamSpec {
        name: "concept_influence",
        kind: ParamKind::Bool,
        default: "false",
        doc: "divide by the boxes' share of the photo",
    },
];

/// Parameters of `attribution-localisation`.
pub const ATTRIBUTION_LOCALISATION_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "abs",
        kind: ParamKind::Bool,
        default: "true",
        doc: "use the map's absolute values (Quantus's default)",
    },
    ParamSpec {
        name: "positive",
        kind: ParamKind::Bool,
        default: "false",
        doc: "keep only positive values (Quantus's positive_attributions)",
    },
];

/// `localisation-auc` has no parameters.
const NO_PARAMS: &[ParamSpec] = &[];

fn build_top_k(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let measure = Measure::TopK {
        k: params.usize("k", 1000, 1, usize::MAX)?,
        concept_influence: params.bool("concept_influence", false)?,
    };
    Ok(Box::new(Localisation { measure }))
}

fn build_attribution_localisation(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let measure = Measure::AttributionShare {
        absolute: params.bool("abs", true)?,
        positive: params.bool("positive", false)?,
    };
    Ok(Box::new(Localisation { measure }))
}

fn build_auc(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    params.finish(NO_PARAMS)?;
    Ok(Box::new(Localisation { measure: Measure::RocArea }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "top-k-intersection",
        summary: "Quantus's Top-K Intersection: share of the k most salient pixels inside the ground-truth boxes (needs boxes)",
        params: TOP_K_PARAMS,
        factory: nas_core::Factory::Metric(build_top_k),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "attribution-localisation",
        summary: "Quantus's Attribution Localisation: share of the map's absolute total inside the ground-truth boxes (needs boxes)",
        params: ATTRIBUTION_LOCALISATION_PARAMS,
        factory: nas_core::Factory::Metric(build_attribution_localisation),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "localisation-auc",
        summary: "Quantus's AUC: area under the ROC curve of the map detecting the ground-truth boxes' pixels (needs boxes)",
        params: NO_PARAMS,
        factory: nas_core::Factory::Metric(build_auc),
    }
}
