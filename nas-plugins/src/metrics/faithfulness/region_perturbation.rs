//! Metrics that remove square patches: `region-perturbation` (Samek et al. 2016, Quantus's
//! `RegionPerturbation`) and `selectivity` (Montavon et al. 2018, Quantus's `Selectivity`).
//!
//! The photo is cut into `patch x patch` squares on Quantus's grid: when a side is not a multiple
//! of the patch, Quantus pads it (half before, the larger half after), so the grid starts that
//! far before the image. Patches are ranked by the sum of the map over them.
//! `region-perturbation` sets the first `regions` patches to the baseline (most relevant first,
//! or least relevant first with `order = "lerf"`) and records the drop of the target's score
//! from the unperturbed photo after each; `selectivity` removes every patch, most relevant
//! first, and records the score itself. Both scores are the area under the curve with one unit
//! per patch (Quantus's `calculate_auc`): a large area means a faithful map for
//! `region-perturbation` (MoRF), a small one for `selectivity`.
//!
//! With `baseline = "mean"` and a side that is not a multiple of the patch, Quantus averages
//! over its edge-padded copy of the image; here the mean is over the image itself.

use super::{descending, removal_params, unit_curve, Removal};
use nas_core::deletion::trapezoid;
use nas_core::{Context, Metric, MetricInput, ParamKind, ParamSpec, Params, Result, Score};

/// Which patches go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Most relevant first.
    Morf,
    /// Least relevant first.
    Lerf,
}

/// The `region-perturbation` metric.
pub struct RegionPerturbation {
    patch: usize,
    regions: usize,
    order: Order,
    removal: Removal,
}

/// The `selectivity` metric.
pub struct Selectivity {
    patch: usize,
    removal: Removal,
}

/// The `patch` parameter both metrics take.
const PATCH: ParamSpec = ParamSpec {
    name: "patch",
    kind: ParamKind::Int,
    default: "8",
    doc: "side of the square patches, in pixels",
};

/// Parameters of `region-perturbation`.
pub const REGION_PERTURBATION_PARAMS: &[ParamSpec] = removal_params!(
    "\"black\"", "\"probability\"";
    PATCH,
    ParamSpec {
        name: "regions",
        kind: ParamKind::Int,
        default: "100",
        doc: "patches removed (Quantus's regions_evaluation)",
    },
    ParamSpec {
        name: "order",
        kind: ParamKind::Str,
        default: "\"morf\"",
        doc: "morf (most relevant first) or lerf (least relevant first)",
    },
);

/// Parameters of `selectivity`.
pub const SELECTIVITY_PARAMS: &[ParamSpec] = removal_params!(
    "\"black\"", "\"probability\"";
    PATCH,
);

/// The pixels (row-major indices) of each patch of Quantus's grid over an `h x w` image, in
/// row-major patch order; patches keep only their pixels inside the image.
pub fn patches(h: usize, w: usize, patch: usize) -> Vec<Vec<usize>> {
    // Quantus's `get_padding_size`: the padding before is the smaller half.
    let before = |side: usize| {
        if side.is_multiple_of(patch) {
            0
        } else {
            (patch - side % patch) / 2
        }
    };
    let (top, left) = (before(h), before(w));
    let (rows, cols) = ((h + top).div_ceil(patch), (w + left).div_ceil(patch));
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            let ys = (r * patch).saturating_sub(top)..((r + 1) * patch - top).min(h);
            let xs = (c * patch).saturating_sub(left)..((c + 1) * patch - left).min(w);
            out.push(ys.flat_map(|y| xs.clone().map(move |x| y * w + x)).collect());
        }
    }
    out
}

/// The patches of `input`'s map in `order` of their sums (equal sums in patch order).
fn ranked_patches(input: &MetricInput<'_>, patch: usize, removal: &Removal, order: Order) -> Vec<Vec<usize>> {
    let (h, w) = input.saliency.dim();
    let values = removal.ranked_values(input);
    let mut all = patches(h, w, patch);
    let sign = if order == Order::Morf { 1.0 } else { -1.0 };
    let keys: Vec<f64> = all
        .iter()
        .map(|p| sign * p.iter().map(|&i| f64::from(values[i])).sum::<f64>())
        .collect();
    descending(&keys).into_iter().map(|i| std::mem::take(&mut all[i])).collect()
}

impl Metric for RegionPerturbation {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let mut ranked = ranked_patches(input, self.patch, &self.removal, self.order);
        ranked.truncate(self.regions);
        let scores = self.removal.scores(input, &ranked)?;
        let drops: Vec<f64> = scores.iter().skip(1).map(|s| scores[0] - s).collect();
        let curve = unit_curve(&drops);
        Ok(Score {
            value: trapezoid(&curve),
            curve,
        })
    }
}

impl Metric for Selectivity {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let ranked = ranked_patches(input, self.patch, &self.removal, Order::Morf);
        let after: Vec<f64> = self.removal.scores(input, &ranked)?.into_iter().skip(1).collect();
        let curve = unit_curve(&after);
        Ok(Score {
            value: trapezoid(&curve),
            curve,
        })
    }
}

fn build_region_perturbation(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(RegionPerturbation {
        patch: params.usize("patch", 8, 1, 4096)?,
        regions: params.usize("regions", 100, 1, usize::MAX)?,
        order: match params.choice("order", "morf", &["morf", "lerf"])?.as_str() {
            "lerf" => Order::Lerf,
            _ => Order::Morf,
        },
        removal: Removal::from_params(params, "black", "probability")?,
    }))
}

fn build_selectivity(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(Selectivity {
        patch: params.usize("patch", 8, 1, 4096)?,
        removal: Removal::from_params(params, "black", "probability")?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "region-perturbation",
        summary: "Quantus's RegionPerturbation: area under the drop of the target's score as the most (or least) relevant patches are set to a baseline",
        params: REGION_PERTURBATION_PARAMS,
        factory: nas_core::Factory::Metric(build_region_perturbation),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "selectivity",
        summary: "Quantus's Selectivity: area under the target's score as every patch, most relevant first, is set to a baseline",
        params: SELECTIVITY_PARAMS,
        factory: nas_core::Factory::Metric(build_selectivity),
    }
}

#[cfg(test)]
mod tests {
    use super::patches;

    #[test]
    fn patches_follow_quantus_padding() {
        // 10 = 3 * 4 - 2: one row of padding before, one after.
        let grid = patches(10, 8, 4);
        assert_eq!(grid.len(), 3 * 2);
        assert_eq!(grid[0], vec![0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19]);
        assert_eq!(grid[5].len(), 3 * 4, "the last row loses its padded row");
        let mut covered: Vec<usize> = grid.concat();
        covered.sort_unstable();
        assert_eq!(covered, (0..80).collect::<Vec<_>>(), "every pixel in exactly one patch");
    }
}
