//! Quantus's relevance localisation metrics (Arras et al. 2022, CLEVR-XAI) with ground-truth
//! boxes as the mask (the pixels inside any box, corners inclusive): `relevance-mass`, the share
//! of the map's total inside the mask, and `relevance-rank`, the share of the mask among the
//! `K` highest-valued pixels, `K` being the mask's size. Values are signed, as Quantus's
//! defaults (`abs = False`); its normalisation by the maximum does not change either share.

use super::ground_truth;
use nas_core::{BoundingBox, Context, Metric, MetricInput, ParamSpec, Params, Result, Score};

/// Which share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Share {
    Mass,
    Rank,
}

/// The `relevance-mass` and `relevance-rank` metrics.
pub struct Relevance {
    share: Share,
}

/// The pixels inside any of `boxes` (whole-pixel corners, inclusive), row-major.
pub fn box_mask(boxes: &[BoundingBox], height: usize, width: usize) -> Vec<bool> {
    let mut mask = vec![false; height * width];
    for b in boxes {
        // Boxes with nothing inside the map mark nothing.
        if b.x1 < 0.0 || b.y1 < 0.0 || b.x0 > width as f64 - 1.0 || b.y0 > height as f64 - 1.0 || b.x1 < b.x0 || b.y1 < b.y0 {
            continue;
        }
        let clip = |v: f64, side: usize| (v.max(0.0) as usize).min(side.saturating_sub(1));
        let (x0, x1) = (clip(b.x0, width), clip(b.x1, width));
        let (y0, y1) = (clip(b.y0, height), clip(b.y1, height));
        if x0 > x1 || y0 > y1 || width == 0 || height == 0 {
            continue;
        }
        for y in y0..=y1 {
            mask[y * width + x0..=y * width + x1].iter_mut().for_each(|m| *m = true);
        }
    }
    mask
}

/// The share of the map's total inside the mask (NaN for an empty mask or a zero total).
pub fn mass_share(map: &[f32], mask: &[bool]) -> f64 {
    let total: f64 = map.iter().map(|&v| f64::from(v)).sum();
    let inside: f64 = map.iter().zip(mask).filter(|(_, &m)| m).map(|(&v, _)| f64::from(v)).sum();
    if mask.iter().any(|&m| m) && total != 0.0 {
        inside / total
    } else {
        f64::NAN
    }
}

/// The share of the mask among the mask-sized set of highest-valued pixels (equal values in
/// increasing index order; NaN for an empty mask).
pub fn rank_share(map: &[f32], mask: &[bool]) -> f64 {
    let k = mask.iter().filter(|&&m| m).count();
    if k == 0 {
        return f64::NAN;
    }
    super::ranking::descending(map)[..k].iter().filter(|&&p| mask[p]).count() as f64 / k as f64
}

impl Metric for Relevance {
    /// The share for this photo; NaN when the crop removed its object (no mask to look in).
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let (height, width) = input.saliency.dim();
        let mask = match ground_truth::boxes(input.annotation)? {
            Some(boxes) => box_mask(boxes, height, width),
            None => vec![false; height * width],
        };
        let map: Vec<f32> = input.saliency.iter().copied().collect();
        let value = match self.share {
            Share::Mass => mass_share(&map, &mask),
            Share::Rank => rank_share(&map, &mask),
        };
        Ok(Score { value, curve: Vec::new() })
    }
}

fn build(params: &Params, share: Share) -> Result<Box<dyn Metric>> {
    params.finish(&[])?;
    Ok(Box::new(Relevance { share }))
}

fn build_mass(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Share::Mass)
}

fn build_rank(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, Share::Rank)
}

/// Neither metric has parameters.
const NO_PARAMS: &[ParamSpec] = &[];

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "relevance-mass",
        summary: "Quantus's Relevance Mass Accuracy: share of the map's total inside the ground-truth boxes (needs boxes)",
        params: NO_PARAMS,
        factory: nas_core::Factory::Metric(build_mass),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "relevance-rank",
        summary: "Quantus's Relevance Rank Accuracy: share of the boxes among the box-sized top of the map (needs boxes)",
        params: NO_PARAMS,
        factory: nas_core::Factory::Metric(build_rank),
    }
}
