//! PxAP, pixel average precision (Choe et al., "Evaluating Weakly Supervised Object Localization
//! Methods Right", CVPR 2020), as wsolevaluation's `MaskEvaluator` computes it on OpenImages:
//! the area under the precision-recall curve of the map's pixels against the ground-truth mask,
//! every pixel of every photo pooled.
//!
//! Each map is min-max normalised (wsolevaluation's `normalize_scoremap`), and its values at
//! foreground and at background pixels (ignored pixels left out) are counted into the bins
//! `[τ_i, τ_(i+1))` of the thresholds `τ_i = i · interval` below 1, then `[1, 2)` and `[2, 3]`.
//! From the highest bin down, the running sums are the true and false positives at each
//! threshold; precision is `tp / (tp + fp)`, recall `tp / positives`, and PxAP is
//! `100 · Σ precision_k · (recall_k − recall_(k−1))` over the thresholds where anything is
//! predicted positive.
//!
//! Per photo, the score is the photo's own PxAP (NaN when its mask has no foreground pixel) and
//! the curve its `(true positives, false positives)` counts at each threshold, highest first; the
//! dataset's PxAP sums those counts over all photos, as wsolevaluation accumulates them.

use super::max_box_acc::normalise_scoremap;
use nas_core::component::{mean_and_std, Statistic};
use nas_core::{Annotation, Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, PixelMask, PixelTruth, Result, Score};

/// The `pxap` metric.
pub struct PixelAveragePrecision {
    /// The histogram's bin edges: the thresholds, then 1, 2 and 3.
    edges: Vec<f64>,
}

/// Parameters of `pxap`.
pub const PXAP_PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "interval",
    kind: ParamKind::Float,
    default: "0.01",
    doc: "step between map thresholds (wsolevaluation's cam_curve_interval; its evaluate_wsol defaults to 0.001)",
}];

impl PixelAveragePrecision {
    /// The metric with wsolevaluation's thresholds `τ = i · interval` below 1.
    pub fn new(interval: f64) -> PixelAveragePrecision {
        let mut edges: Vec<f64> = (0..).map(|i| f64::from(i) * interval).take_while(|t| *t < 1.0).collect();
        edges.extend([1.0, 2.0, 3.0]);
        PixelAveragePrecision { edges }
    }

    /// The true and false positive pixel counts of `map` against `mask` at every threshold,
    /// highest first (scores of at least 2, at least 1, at least the last `τ`, ..., at least 0).
    pub fn counts(&self, map: &nas_core::ndarray::Array2<f32>, mask: &PixelMask) -> Result<Vec<(f64, f64)>> {
        if map.dim() != (mask.height, mask.width) {
            return Err(NasError::InvalidInput(format!(
                "pxap: the saliency map is {}x{} pixels but the ground-truth mask {}x{}",
                map.dim().1,
                map.dim().0,
                mask.width,
                mask.height
            )));
        }
        let bins = self.edges.len() - 1;
        let mut foreground = vec![0u64; bins];
        let mut background = vec![0u64; bins];
        for (score, truth) in normalise_scoremap(map).into_iter().zip(&mask.pixels) {
            let histogram = match truth {
                PixelTruth::Foreground => &mut foreground,
                PixelTruth::Background => &mut background,
                PixelTruth::Ignored => continue,
            };
            if let Some(bin) = self.bin(score) {
                histogram[bin] += 1;
            }
        }
        let running = |histogram: &[u64]| -> Vec<f64> {
            histogram
                .iter()
                .rev()
                .scan(0u64, |sum, &n| {
                    *sum += n;
                    Some(*sum as f64)
                })
                .collect()
        };
        Ok(running(&foreground).into_iter().zip(running(&background)).collect())
    }

    /// The bin of `score`: `edges[i] <= score < edges[i + 1]`, the last bin closed, as
    /// `np.histogram` counts; `None` outside the edges.
    fn bin(&self, score: f64) -> Option<usize> {
        let last = self.edges.len() - 2;
        match self.edges.partition_point(|&e| e <= score) {
            0 => None,
            n if n <= last + 1 => Some(n - 1),
            _ if score == self.edges[last + 1] => Some(last),
            _ => None,
        }
    }
}

/// PxAP (in percent) from true and false positive counts at each threshold, highest first;
/// `None` when there is no foreground pixel or nothing is ever predicted positive.
pub fn average_precision(counts: &[(f64, f64)]) -> Option<f64> {
    let positives = counts.last()?.0;
    if positives <= 0.0 || counts.iter().all(|(tp, fp)| tp + fp <= 0.0) {
        return None;
    }
    let sum = counts
        .windows(2)
        .filter(|pair| pair[1].0 + pair[1].1 != 0.0)
        .map(|pair| {
            let ((tp_before, _), (tp, fp)) = (pair[0], pair[1]);
            tp / (tp + fp) * (tp / positives - tp_before / positives)
        })
        .sum::<f64>();
    Some(sum * 100.0)
}

/// The photo's mask, or an error saying where masks come from.
fn mask(annotation: &Annotation) -> Result<&PixelMask> {
    annotation.mask.as_ref().ok_or_else(|| {
        NasError::InvalidInput(
            "pxap needs ground-truth masks: read the photos from a [dataset] with format = \"wsol-metadata\" whose localization.txt lists masks (`path,mask,ignore`, wsolevaluation's OpenImages layout)".into(),
        )
    })
}

impl Metric for PixelAveragePrecision {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let counts = self.counts(input.saliency, mask(input.annotation)?)?;
        Ok(Score {
            value: average_precision(&counts).unwrap_or(f64::NAN),
            curve: counts,
        })
    }

    fn summarise(&self, scores: &[&Score]) -> Result<Vec<Statistic>> {
        let mut pooled = vec![(0.0, 0.0); self.edges.len() - 1];
        for score in scores {
            if score.curve.len() != pooled.len() {
                return Err(NasError::InvalidInput(format!(
                    "pxap: a score has {} threshold counts, expected {}",
                    score.curve.len(),
                    pooled.len()
                )));
            }
            for (total, (tp, fp)) in pooled.iter_mut().zip(&score.curve) {
                total.0 += tp;
                total.1 += fp;
            }
        }
        let mut stats = vec![Statistic {
            name: "PxAP".into(),
            value: average_precision(&pooled).unwrap_or(f64::NAN),
        }];
        stats.extend(mean_and_std(scores));
        Ok(stats)
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let interval = params.float("interval", 0.01, 1e-4, 0.5)?;
    Ok(Box::new(PixelAveragePrecision::new(interval)))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "pxap",
        summary: "wsolevaluation's PxAP: area under the pixel-wise precision-recall curve against ground-truth masks, pooled over the dataset (needs masks)",
        params: PXAP_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
