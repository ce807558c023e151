//! The greedy maximum of AUC-LeRF over a map's superpixels (the paper's "AUC Max."): superpixels
//! are removed one at a time, each time the one whose removal leaves the target's pre-softmax
//! score highest (the lowest id among equals), and the resulting deletion curve is scaled and
//! integrated as `auc-lerf` does. It scores the segmentation, not the map's values: an upper
//! reference for what any map averaged over these superpixels can reach with AUC-LeRF's
//! superpixel removal (greedily, so not a proven bound). It needs `S (S + 1) / 2` forward passes
//! for `S` superpixels.

use nas_core::deletion::{masked_scores, scaled_area};
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score, Segmentation};
use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::Mutex;

/// The `auc-lerf-max` metric.
pub struct AucLerfMax {
    batch: usize,
    max_superpixels: usize,
    /// Recent scores by a fingerprint of photo, segmentation and target: the score does not
    /// depend on the map, so every saliency method averaged over one segmentation shares it.
    recent: Mutex<Vec<(u64, Score)>>,
}

/// Scores remembered: a pipeline scores every photo of a batch with every segmenter before the
/// next saliency method asks again, so this must exceed batch size times segmenters.
const REMEMBERED: usize = 8192;

/// A fingerprint of what the score depends on: the photo, the superpixels and the target.
fn fingerprint(input: &MetricInput<'_>, segmentation: &Segmentation) -> Result<u64> {
    let mut hasher = DefaultHasher::new();
    input.target.hash(&mut hasher);
    segmentation.labels.dim().hash(&mut hasher);
    segmentation.labels.iter().for_each(|l| l.hash(&mut hasher));
    let pixels = input
        .input
        .to_data()
        .into_vec::<f32>()
        .map_err(|e| NasError::InvalidInput(format!("auc-lerf-max: cannot read the photo: {e:?}")))?;
    pixels.iter().for_each(|v| v.to_bits().hash(&mut hasher));
    Ok(hasher.finish())
}

/// Parameters of `auc-lerf-max`.
pub const AUC_LERF_MAX_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "16",
        doc: "masked images per forward pass",
    },
    ParamSpec {
        name: "max_superpixels",
        kind: ParamKind::Int,
        default: "64",
        doc: "refuse segmentations with more superpixels (S (S + 1) / 2 forward passes)",
    },
];

/// A greedy removal: the superpixels in the order removed, and the raw deletion curve
/// `(fraction of pixels removed, score)` from nothing removed to everything.
#[derive(Debug, Clone, PartialEq)]
pub struct GreedyRemoval {
    /// Indices into the groups, first removed first.
    pub order: Vec<usize>,
    /// The unscaled curve, one point more than groups.
    pub curve: Vec<(f64, f64)>,
}

/// The mask `keep` with the pixels of `group` removed as well.
pub fn without(keep: &[f32], group: &[usize]) -> Vec<f32> {
    let mut mask = keep.to_vec();
    group.iter().for_each(|p| mask[*p] = 0.0);
    mask
}

/// Removes `groups` (pixel indices of the photo) one at a time, each time the one that leaves
/// the target's pre-softmax score highest.
pub fn greedy_removal(input: &MetricInput<'_>, groups: &[Vec<usize>], batch: usize) -> Result<GreedyRemoval> {
    let [_, _, h, w] = input.input.dims();
    let pixels = h * w;
    let logits = |l| l;
    let mut keep = vec![1f32; pixels];
    let first = masked_scores(input, std::slice::from_ref(&keep), batch, &logits)?;
    let mut curve = vec![(0.0, first.first().copied().unwrap_or(0.0))];
    let mut remaining: Vec<usize> = (0..groups.len()).collect();
    let mut order = Vec::with_capacity(groups.len());
    let mut removed = 0usize;
    let n = groups.len() as u64;
    let task = nas_core::progress::task("AUC-LeRF maximisation", n * (n + 1) / 2);
    while !remaining.is_empty() {
        task.check()?;
        let candidates: Vec<Vec<f32>> = remaining.iter().map(|&g| without(&keep, &groups[g])).collect();
        let scores = masked_scores(input, &candidates, batch, &logits)?;
        let best = (0..scores.len()).fold(0, |best, i| if scores[i] > scores[best] { i } else { best });
        let chosen = remaining.remove(best);
        groups[chosen].iter().for_each(|p| keep[*p] = 0.0);
        removed += groups[chosen].len();
        curve.push((removed as f64 / pixels.max(1) as f64, scores[best]));
        order.push(chosen);
        task.advance(candidates.len() as u64);
    }
    Ok(GreedyRemoval { order, curve })
}

impl Metric for AucLerfMax {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let segmentation = input.segmentation.ok_or_else(|| {
            NasError::InvalidInput("auc-lerf-max: needs a segmentation (it scores the superpixels of a superpixelified map)".into())
        })?;
        let [b, channels, h, w] = input.input.dims();
        if b != 1 || (h, w) != segmentation.labels.dim() {
            return Err(NasError::InvalidInput(format!(
                "auc-lerf-max: expected one image matching the {:?} segmentation, got input {:?}",
                segmentation.labels.dim(),
                [b, channels, h, w]
            )));
        }
        let mut groups: Vec<Vec<usize>> = vec![Vec::new(); segmentation.count()];
        for (p, s) in segmentation.labels.iter().enumerate() {
            groups[*s as usize].push(p);
        }
        groups.retain(|g| !g.is_empty());
        if groups.len() > self.max_superpixels {
            return Err(NasError::InvalidInput(format!(
                "auc-lerf-max: {} superpixels need {} forward passes; parameter `max_superpixels` = {} (raise it to allow that)",
                groups.len(),
                groups.len() * (groups.len() + 1) / 2,
                self.max_superpixels
            )));
        }
        let key = fingerprint(input, segmentation)?;
        let remembered = self
            .recent
            .lock()
            .ok()
            .and_then(|r| r.iter().find(|(k, _)| *k == key).map(|(_, s)| s.clone()));
        if let Some(score) = remembered {
            return Ok(score);
        }
        let score = scaled_area(&greedy_removal(input, &groups, self.batch)?.curve);
        if let Ok(mut recent) = self.recent.lock() {
            if recent.len() == REMEMBERED {
                recent.remove(0);
            }
            recent.push((key, score.clone()));
        }
        Ok(score)
    }

    fn needs_segmentation(&self) -> bool {
        true
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(AucLerfMax {
        batch: params.usize("batch", 16, 1, 4096)?,
        max_superpixels: params.usize("max_superpixels", 64, 1, 1_000_000)?,
        recent: Mutex::new(Vec::new()),
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "auc-lerf-max",
        summary: "greedy maximum of AUC-LeRF over the superpixels (the paper's AUC Max.); superpixelified maps only",
        params: AUC_LERF_MAX_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
