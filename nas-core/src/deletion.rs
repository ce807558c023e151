//! Deletion curves, shared by deletion-style metrics (AUC-LeRF, MoRF/RISE deletion): remove
//! groups of pixels from the normalised input one after another, setting them to zero, and record
//! the target's score after each removal.

use crate::backbone::Backbone;
use crate::component::{MetricInput, Score};
use crate::error::{NasError, Result};
use crate::NasTensor;
use burn::tensor::TensorData;

/// A deletion curve scaled to run from 1 (nothing removed) to 0 (everything removed), as the
/// paper compares them, and the area under it by the trapezoid rule. A flat curve stays at 1.
pub fn scaled_area(raw: &[(f64, f64)]) -> Score {
    let (first, last) = match (raw.first(), raw.last()) {
        (Some(a), Some(b)) => (a.1, b.1),
        _ => (0.0, 0.0),
    };
    let span = first - last;
    let curve: Vec<(f64, f64)> = raw
        .iter()
        .map(|&(x, s)| (x, if span.abs() > f64::EPSILON { (s - last) / span } else { 1.0 }))
        .collect();
    Score {
        value: trapezoid(&curve),
        curve,
    }
}

/// Trapezoid rule over `(x, y)` points sorted by `x`.
pub fn trapezoid(curve: &[(f64, f64)]) -> f64 {
    curve.windows(2).map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0).sum()
}

/// The points `(fraction of pixels removed, score)` after removing nothing and then each group
/// in turn; `measure` turns the logits of a batch of masked images into the scores to record
/// (identity for pre-softmax scores, softmax for probabilities). Masked images are evaluated
/// `batch` at a time.
pub fn deletion_curve(
    input: &MetricInput<'_>,
    groups: &[Vec<usize>],
    batch: usize,
    measure: &dyn Fn(NasTensor<2>) -> NasTensor<2>,
) -> Result<Vec<(f64, f64)>> {
    let [_, _, h, w] = input.input.dims();
    let pixels = h * w;
    let scores = progressive_scores(input, groups, Change::Remove, None, batch, measure)?;
    let mut removed = 0usize;
    let fractions = std::iter::once(0.0).chain(groups.iter().map(|g| {
        removed += g.len();
        removed as f64 / pixels.max(1) as f64
    }));
    Ok(fractions.zip(scores).collect())
}

/// How a progressive curve changes the photo, group after group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Start from the photo and replace each group by the substrate (deletion).
    Remove,
    /// Start from the substrate and put each group of the photo back (insertion).
    Reveal,
}

/// The target's score before any group and after each group in turn has been changed
/// (`Change`), the photo blended with `substrate` (zeros when `None`). The masks are built one
/// forward batch at a time (all at once would take a photo's size per group), and long curves
/// report progress and stop on Ctrl-C.
pub fn progressive_scores<G: AsRef<[usize]>>(
    input: &MetricInput<'_>,
    groups: &[G],
    change: Change,
    substrate: Option<&NasTensor<4>>,
    batch: usize,
    measure: &dyn Fn(NasTensor<2>) -> NasTensor<2>,
) -> Result<Vec<f64>> {
    let [_, _, h, w] = input.input.dims();
    let (start, changed) = match change {
        Change::Remove => (1.0, 0.0),
        Change::Reveal => (0.0, 1.0),
    };
    let mut mask = vec![start; h * w];
    let mut pending = vec![mask.clone()];
    let mut scores = Vec::with_capacity(groups.len() + 1);
    let task = crate::progress::task("curve", groups.len() as u64 + 1);
    let mut flush = |pending: &mut Vec<Vec<f32>>| -> Result<()> {
        task.check()?;
        scores.extend(blended_scores(input, pending, substrate, batch, measure)?);
        task.advance(pending.len() as u64);
        pending.clear();
        Ok(())
    };
    for group in groups {
        if pending.len() == batch.max(1) {
            flush(&mut pending)?;
        }
        group.as_ref().iter().for_each(|&p| mask[p] = changed);
        pending.push(mask.clone());
    }
    flush(&mut pending)?;
    Ok(scores)
}

/// The target's score for the photo multiplied by each of `masks` (one value per pixel, 1 to
/// keep and 0 to set to zero in the normalised input), evaluated `batch` at a time.
pub fn masked_scores(
    input: &MetricInput<'_>,
    masks: &[Vec<f32>],
    batch: usize,
    measure: &dyn Fn(NasTensor<2>) -> NasTensor<2>,
) -> Result<Vec<f64>> {
    blended_scores(input, masks, None, batch, measure)
}

/// The target's score for each of `masks` blending the photo (where the mask is 1) with
/// `substrate` (where it is 0; zeros when `None`), both `(1, 3, H, W)` in the normalised space.
pub fn blended_scores(
    input: &MetricInput<'_>,
    masks: &[Vec<f32>],
    substrate: Option<&NasTensor<4>>,
    batch: usize,
    measure: &dyn Fn(NasTensor<2>) -> NasTensor<2>,
) -> Result<Vec<f64>> {
    let [_, _, h, w] = input.input.dims();
    let device = input.input.device();
    let mut scores = Vec::with_capacity(masks.len());
    for chunk in masks.chunks(batch.max(1)) {
        let n = chunk.len();
        let flat: Vec<f32> = chunk.iter().flatten().copied().collect();
        let mask = NasTensor::<4>::from_data(TensorData::new(flat, [n, 1, h, w]), &device);
        let photo = input.input.clone().detach().repeat_dim(0, n);
        let masked = match substrate {
            Some(other) => photo * mask.clone() + other.clone().detach().repeat_dim(0, n) * (mask.neg() + 1.0),
            None => photo * mask,
        };
        scores.extend(target_scores(input, masked, measure)?);
    }
    Ok(scores)
}

/// The target's score, `measure`d from the logits, for each image of `images` `(n, 3, H, W)`.
pub fn target_scores(input: &MetricInput<'_>, images: NasTensor<4>, measure: &dyn Fn(NasTensor<2>) -> NasTensor<2>) -> Result<Vec<f64>> {
    class_scores(input.backbone, images, input.target, measure)
}

/// Class `target`'s score, `measure`d from `backbone`'s logits, for each image of `images`
/// `(n, 3, H, W)`: what perturbation metrics and perturbation attributions both read.
pub fn class_scores(
    backbone: &dyn Backbone,
    images: NasTensor<4>,
    target: usize,
    measure: &dyn Fn(NasTensor<2>) -> NasTensor<2>,
) -> Result<Vec<f64>> {
    let n = images.dims()[0];
    let logits = backbone.forward(images).logits;
    let classes = logits.dims()[1];
    if target >= classes {
        return Err(NasError::InvalidInput(format!(
            "target class {target} is out of range: the backbone has {classes} classes"
        )));
    }
    let column: Vec<f32> = measure(logits)
        .slice([0..n, target..target + 1])
        .into_data()
        .to_vec()
        .map_err(|e| NasError::InvalidInput(format!("cannot read scores: {e:?}")))?;
    Ok(column.into_iter().map(f64::from).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn trapezoid_integrates_a_line() {
        let curve = [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)];
        assert!((super::trapezoid(&curve) - 0.5).abs() < 1e-12);
    }
}
