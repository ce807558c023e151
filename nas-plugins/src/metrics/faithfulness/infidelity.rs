//! `infidelity` (Yeh et al. 2019, Quantus's `Infidelity`): how far the map's prediction of the
//! score drops falls from the model's. For each patch size, the photo's `p x p` blocks are set
//! to the baseline one after another (row-major, every colour channel, cumulatively); after
//! block `k` the model's drop `f(x) - f(x_k)` is compared with the map's `sum(a * (x - x_k))`
//! (the map over every colour channel), and the mean squared difference over the blocks is the
//! patch size's value; the score is the mean over patch sizes (lower is better). Quantus's
//! defaults: patch size 4, `black` baseline, logits (`softmax=False`), signed values.
//!
//! Quantus repeats this deterministic computation `n_perturb_samples` (10) times and averages;
//! nas computes it once (the same value). Where a side is not a multiple of the patch size
//! Quantus raises (it pads the photo, then reshapes the unpadded one to the padded shape); nas
//! clips the last row and column of blocks to the photo.

use super::{removal_params, Removal};
use nas_core::{Context, Metric, MetricInput, ParamKind, ParamSpec, Params, Result, Score};

/// The `infidelity` metric.
pub struct Infidelity {
    patch_sizes: Vec<usize>,
    removal: Removal,
}

/// Parameters of `infidelity`.
pub const INFIDELITY_PARAMS: &[ParamSpec] = removal_params!(
    "\"black\"", "\"logit\"";
    ParamSpec {
        name: "patch_sizes",
        kind: ParamKind::IntList,
        default: "[4]",
        doc: "sides of the square blocks removed, one cumulative run per size (Quantus's perturb_patch_sizes)",
    },
);

/// The pixels (row-major indices) of the `side x side` blocks of an `h x w` image, blocks in
/// row-major order, the last row and column of blocks clipped to the image (none for side 0).
pub fn blocks(h: usize, w: usize, side: usize) -> Vec<Vec<usize>> {
    if side == 0 {
        return Vec::new();
    }
    let mut out = Vec::with_capacity(h.div_ceil(side) * w.div_ceil(side));
    for top in (0..h).step_by(side) {
        for left in (0..w).step_by(side) {
            out.push(
                (top..(top + side).min(h))
                    .flat_map(|y| (left..(left + side).min(w)).map(move |x| y * w + x))
                    .collect(),
            );
        }
    }
    out
}

impl Infidelity {
    /// The `(map's prediction, model's drop)` pair after each block of one patch size.
    fn pairs(&self, input: &MetricInput<'_>, side: usize) -> Result<Vec<(f64, f64)>> {
        let (h, w) = input.single_image("infidelity")?;
        // The map as Quantus uses it: signed, or in absolute value with `abs`.
        let saliency: Vec<f64> = self.removal.ranked_values(input).into_iter().map(f64::from).collect();
        let photo = input.photo_values()?;
        let plane = h * w;
        let groups = blocks(h, w, side);
        let (scores, values) = self.removal.scores_and_values(input, &groups)?;
        // The map's prediction grows with each block by its pixels' saliency times the change
        // of their values, every channel (blocks are disjoint, so each pixel changes once).
        let mut predicted = 0.0;
        let mut pairs = Vec::with_capacity(groups.len());
        for ((group, value), score) in groups.iter().zip(values).zip(scores.iter().skip(1)) {
            for &p in group {
                for c in 0..photo.len() / plane {
                    predicted += saliency[p] * (f64::from(photo[c * plane + p]) - f64::from(value));
                }
            }
            pairs.push((predicted, scores[0] - score));
        }
        Ok(pairs)
    }
}

impl Metric for Infidelity {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let mut total = 0.0;
        let mut curve = Vec::new();
        for (i, &side) in self.patch_sizes.iter().enumerate() {
            let pairs = self.pairs(input, side)?;
            total += pairs.iter().map(|(a, d)| (d - a) * (d - a)).sum::<f64>() / pairs.len().max(1) as f64;
            if i == 0 {
                curve = pairs;
            }
        }
        Ok(Score {
            value: total / self.patch_sizes.len() as f64,
            curve,
        })
    }

    fn plots_curve(&self) -> bool {
        false
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let patch_sizes: Vec<usize> = params
        .int_list("patch_sizes", &[4], 1, i64::from(u32::MAX))?
        .into_iter()
        .map(|s| s as usize)
        .collect();
    if patch_sizes.is_empty() {
        return Err(params.error("patch_sizes", "[]", "at least one patch size"));
    }
    Ok(Box::new(Infidelity {
        patch_sizes,
        removal: Removal::from_params(params, "black", "logit")?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "infidelity",
        summary: "Quantus's Infidelity: mean squared gap between the map's predicted score drops and the model's as square blocks are set to a baseline, cumulatively (lower is better)",
        params: INFIDELITY_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}

#[cfg(test)]
mod tests {
    use super::blocks;

    #[test]
    fn blocks_cover_the_image_once_in_row_major_order() {
        let b = blocks(5, 7, 3);
        assert_eq!(b.len(), 2 * 3);
        assert_eq!(b[0], vec![0, 1, 2, 7, 8, 9, 14, 15, 16]);
        assert_eq!(b[2], vec![6, 13, 20]);
        assert_eq!(b[5], vec![27, 34]);
        let mut all: Vec<usize> = b.concat();
        all.sort_unstable();
        assert_eq!(all, (0..35).collect::<Vec<_>>());
    }
}
