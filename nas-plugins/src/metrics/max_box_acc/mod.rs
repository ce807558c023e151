//! MaxBoxAccV2 (Choe et al., "Evaluating Weakly Supervised Object Localization Methods Right",
//! CVPR 2020), as wsolevaluation's `BoxEvaluator` computes it. Each map is min-max normalised,
//! quantised to 8 bits and thresholded at every `τ` of `0, interval, 2·interval, ... < 1`; every
//! contour of every threshold gives a box, and the best IoU with any ground-truth box is kept.
//! Over a dataset, BoxAcc(τ, δ) is the share of photos whose best IoU at τ reaches δ;
//! MaxBoxAcc(δ) its maximum over τ, and MaxBoxAccV2 the mean over δ = 30, 50, 70 %.
//! Per photo, the score is its best IoU over all thresholds, and the curve is (τ, best IoU).
//!
//! All thresholds are scored together by two union-find sweeps over the 8-bit levels
//! (`sweep.rs`); the boxes are those [`contour_boxes`] gives at each level.
//!
//! With `contours = "largest"` only the largest contour of each threshold gives a box, as in
//! wsolevaluation's original MaxBoxAcc (`multi_contour_eval = False`, whose headline figure is
//! MaxBoxAcc at δ = 50 %).
//!
//! wsolevaluation scores localisation alone, with the true class known ("GT-known"). With
//! `classification = "top-1"` (or `"top-5"`) a photo counts only where the network also ranks
//! its true class first (among its first five): the Top-1 and Top-5 Loc of the WSOL literature
//! (Zhou et al. 2016's CAM onwards), at every threshold and IoU of the same sweep. The map is the
//! true class's, which for a correct top-1 prediction is the predicted class's.

mod boxes;
mod largest;
mod sweep;

pub use boxes::{contour_boxes, PixelBox};
pub use largest::largest_contour_box;

use nas_core::component::Statistic;
use nas_core::ndarray::Array2;
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// The `max-box-acc` metric.
pub struct MaxBoxAcc {
    thresholds: Vec<f64>,
    iou_thresholds: Vec<i64>,
    contours: Contours,
    /// Count a photo only when its true class is among the network's first `k` (Top-k Loc);
    /// `None` scores localisation alone (GT-known).
    top_k: Option<usize>,
}

/// Which contours of a thresholded map give boxes (wsolevaluation's `multi_contour_eval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Contours {
    /// Every contour, holes included: MaxBoxAccV2's `multi_contour_eval = True`.
    #[default]
    All,
    /// Only the one with the largest `cv2.contourArea`: the original MaxBoxAcc's
    /// `multi_contour_eval = False`.
    Largest,
}

/// The values of the `contours` parameter, in the order of [`Contours`]' variants.
const CONTOURS_NAMES: &[&str] = &["all", "largest"];

/// The values of the `classification` parameter.
const CLASSIFICATION_NAMES: &[&str] = &["gt-known", "top-1", "top-5"];

/// Parameters of `max-box-acc`.
pub const MAX_BOX_ACC_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "interval",
        kind: ParamKind::Float,
        default: "0.01",
        doc: "step between map thresholds (wsolevaluation's cam_curve_interval)",
    },
    ParamSpec {
        name: "iou_thresholds",
        kind: ParamKind::IntList,
        default: "[30, 50, 70]",
        doc: "IoU thresholds δ in percent; MaxBoxAccV2 is the mean of MaxBoxAcc over them",
    },
    ParamSpec {
        name: "contours",
        kind: ParamKind::Str,
        default: "\"all\"",
        doc: "boxes per threshold: \"all\" contours (MaxBoxAccV2) or only the \"largest\" (original MaxBoxAcc; its mean is then named MaxBoxAcc-mean)",
    },
    ParamSpec {
        name: "classification",
        kind: ParamKind::Str,
        default: "\"gt-known\"",
        doc: "\"gt-known\" (localisation alone, wsolevaluation's), or \"top-1\" / \"top-5\": a photo counts only when its true class is the network's first (among its first five), the WSOL literature's Top-1 / Top-5 Loc; needs labelled photos",
    },
];

impl MaxBoxAcc {
    /// The metric with wsolevaluation's thresholds: `τ = i · interval` below 1, and the IoU
    /// thresholds δ in percent; every contour gives a box (MaxBoxAccV2).
    pub fn new(interval: f64, iou_thresholds: Vec<i64>) -> MaxBoxAcc {
        let thresholds = (0..).map(|i| f64::from(i) * interval).take_while(|t| *t < 1.0).collect();
        MaxBoxAcc {
            thresholds,
            iou_thresholds,
            contours: Contours::All,
            top_k: None,
        }
    }

    /// The same metric counting a photo only when its true class is among the network's first
    /// `k` classes (Top-k Loc); `None` for localisation alone (GT-known).
    pub fn with_top_k(self, top_k: Option<usize>) -> MaxBoxAcc {
        MaxBoxAcc { top_k, ..self }
    }

    /// What the summary's names start with: `Top-1 ` or `Top-5 ` where classification counts.
    fn name_prefix(&self) -> String {
        self.top_k.map(|k| format!("Top-{k} ")).unwrap_or_default()
    }

    /// Whether the network ranks the photo's true class among its first `k`: fewer than `k`
    /// classes score strictly higher. Refuses a photo without a label, or one out of range.
    fn ranks_true_class(&self, input: &MetricInput<'_>, k: usize) -> Result<bool> {
        let label = input.annotation.label.ok_or_else(|| {
            NasError::InvalidInput(format!(
                "max-box-acc: classification = \"top-{k}\" needs each photo's true class; this photo has none (use a labelled dataset, or classification = \"gt-known\")"
            ))
        })?;
        let logits: Vec<f32> = input
            .backbone
            .forward(input.input.clone())
            .logits
            .into_data()
            .to_vec()
            .map_err(|e| NasError::InvalidInput(format!("max-box-acc: cannot read the logits: {e:?}")))?;
        let Some(&own) = logits.get(label) else {
            return Err(NasError::InvalidInput(format!(
                "max-box-acc: the photo's true class {label} is out of range: the backbone has {} classes",
                logits.len()
            )));
        };
        Ok(logits.iter().filter(|&&v| v > own).count() < k)
    }

    /// The same metric with boxes from `contours`: [`Contours::Largest`] for the original
    /// MaxBoxAcc.
    pub fn with_contours(self, contours: Contours) -> MaxBoxAcc {
        MaxBoxAcc { contours, ..self }
    }

    /// The best IoU with any of `truth` at every threshold, for one map. Thresholds that cut
    /// the 8-bit map at the same level share one evaluation (at wsolevaluation's 0.001 interval,
    /// 1000 thresholds fall on at most 256 levels).
    pub fn best_ious(&self, map: &Array2<f32>, truth: &[PixelBox]) -> Vec<f64> {
        let quantised = quantise(map);
        let (height, width) = map.dim();
        let peak = quantised.iter().copied().max().unwrap_or(0);
        let levels: Vec<u8> = self.thresholds.iter().map(|t| (t * f64::from(peak)) as u8).collect();
        let by_level: [f64; 256] = match self.contours {
            Contours::All => {
                let mut wanted = [false; 256];
                levels.iter().for_each(|&l| wanted[usize::from(l)] = true);
                sweep::best_iou_by_level(&quantised, width, height, &wanted, truth)
            }
            Contours::Largest => {
                let mut by_level = [f64::NEG_INFINITY; 256];
                let mut done = [false; 256];
                for &level in &levels {
                    if !std::mem::replace(&mut done[usize::from(level)], true) {
                        let foreground: Vec<bool> = quantised.iter().map(|&v| v > level).collect();
                        let chosen = largest_contour_box(&foreground, width, height);
                        by_level[usize::from(level)] = truth.iter().map(|g| chosen.iou(g)).fold(f64::NEG_INFINITY, f64::max);
                    }
                }
                by_level
            }
        };
        levels.iter().map(|&l| by_level[usize::from(l)]).collect()
    }
}

/// wsolevaluation's `normalize_scoremap`, in `f64` as its `CAMComputer` does: a map with a NaN
/// or with one value everywhere becomes all zeros, any other is shifted to start at 0 and divided
/// by its maximum. Row-major.
pub fn normalise_scoremap(map: &Array2<f32>) -> Vec<f64> {
    let low = map.iter().copied().fold(f32::INFINITY, f32::min);
    let high = map.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    if map.iter().any(|v| v.is_nan()) || low == high {
        return vec![0.0; map.len()];
    }
    let range = f64::from(high) - f64::from(low);
    map.iter().map(|&v| (f64::from(v) - f64::from(low)) / range).collect()
}

/// [`normalise_scoremap`], then `(map * 255).astype(uint8)`.
fn quantise(map: &Array2<f32>) -> Vec<u8> {
    normalise_scoremap(map).iter().map(|v| (v * 255.0) as u8).collect()
}

impl Metric for MaxBoxAcc {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let Some(boxes) = super::ground_truth::boxes(input.annotation)? else {
            // The object is outside the crop: no box can match it, a miss at every threshold.
            return Ok(Score {
                value: 0.0,
                curve: self.thresholds.iter().map(|&t| (t, 0.0)).collect(),
            });
        };
        let truth: Vec<PixelBox> = boxes
            .iter()
            .map(|b| PixelBox {
                x0: b.x0 as i64,
                y0: b.y0 as i64,
                x1: b.x1 as i64,
                y1: b.y1 as i64,
            })
            .collect();
        let classified = match self.top_k {
            Some(k) => self.ranks_true_class(input, k)?,
            None => true,
        };
        // Misclassified: a miss at every threshold, whatever the boxes.
        let ious = if classified {
            self.best_ious(input.saliency, &truth)
        } else {
            vec![0.0; self.thresholds.len()]
        };
        Ok(Score {
            value: ious.iter().copied().fold(0.0, f64::max),
            curve: self.thresholds.iter().copied().zip(ious).collect(),
        })
    }

    fn summarise(&self, scores: &[&Score]) -> Result<Vec<Statistic>> {
        let n = scores.len().max(1) as f64;
        let mut accuracies = Vec::new();
        for &delta in &self.iou_thresholds {
            let best = (0..self.thresholds.len())
                .map(|t| {
                    let correct = scores
                        .iter()
                        .filter(|s| s.curve.get(t).is_some_and(|&(_, iou)| iou >= delta as f64 / 100.0))
                        .count();
                    correct as f64 * 100.0 / n
                })
                .fold(0.0, f64::max);
            accuracies.push(Statistic {
                name: format!("{}IoU@{delta}", self.name_prefix()),
                value: best,
            });
        }
        let mean = accuracies.iter().map(|a| a.value).sum::<f64>() / accuracies.len().max(1) as f64;
        // The mean over δ is MaxBoxAccV2 only with every contour; the original MaxBoxAcc is
        // its δ = 50 % figure.
        let name = match self.contours {
            Contours::All => "MaxBoxAccV2",
            Contours::Largest => "MaxBoxAcc-mean",
        };
        let mut stats = vec![Statistic {
            name: format!("{}{name}", self.name_prefix()),
            value: mean,
        }];
        stats.extend(accuracies);
        Ok(stats)
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let interval = params.float("interval", 0.01, 1e-4, 0.5)?;
    let iou_thresholds = params.int_list("iou_thresholds", &[30, 50, 70], 1, 100)?;
    let contours = match params.choice("contours", CONTOURS_NAMES[0], CONTOURS_NAMES)?.as_str() {
        "largest" => Contours::Largest,
        _ => Contours::All,
    };
    let top_k = match params
        .choice("classification", CLASSIFICATION_NAMES[0], CLASSIFICATION_NAMES)?
        .as_str()
    {
        "top-1" => Some(1),
        "top-5" => Some(5),
        _ => None,
    };
    Ok(Box::new(
        MaxBoxAcc::new(interval, iou_thresholds).with_contours(contours).with_top_k(top_k),
    ))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "max-box-acc",
        summary: "wsolevaluation's MaxBoxAccV2 (or, with contours = \"largest\", the original MaxBoxAcc): best-threshold box localisation accuracy at IoU 30/50/70, GT-known or Top-1/Top-5 Loc (needs boxes)",
        params: MAX_BOX_ACC_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
