//! Finer-CAM (Zhang et al. 2025), as pytorch-grad-cam's `FinerCAM`: a gradient CAM (Grad-CAM by
//! default) of a target that sets the explained class against the classes the network finds
//! most alike, `sum_i p_i (z_t - alpha z_i) / (sum_i p_i + 1e-9)` over the comparison classes
//! `i` (by default the three whose logits are nearest the target's), `p` the softmax
//! probabilities and `z` the logits. What the explained class has that its look-alikes lack
//! stands out; with `alpha` 0 the map is the base CAM's.
//!
//! The target mixes every logit through the softmax, so its gradient with respect to the logits
//! is worked out from one forward pass and the level's gradient is that of the logits weighted
//! by it ([`Objective::WeightedLogits`]): the same numbers as differentiating the target.

use super::cam::{eigen_smooth, multi_level_cams, EIGEN_SMOOTH_PARAM, LEVEL_PARAM};
use super::grad_cam::{gradient_cams, CamWeights, GRADIENT_CAMS};
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasError, NasTensor, Objective, ParamKind, ParamSpec, Params, Result, Saliency};

/// pytorch-grad-cam's comparison ranks: the three classes nearest the target.
const DEFAULT_COMPARISONS: [i64; 3] = [1, 2, 3];

/// pytorch-grad-cam's guard in the target's denominator.
const WEIGHT_EPS: f64 = 1e-9;

/// The `finer-cam` saliency method.
pub struct FinerCam {
    levels: Vec<usize>,
    base: CamWeights,
    eigen_smooth: bool,
    alpha: f64,
    /// Ranks of the comparison classes among all classes ordered by how near their logit is to
    /// the target's (0 is the target itself); `None` for the default, `[1, 2, 3]` cut to the
    /// classes there are, as pytorch-grad-cam cuts it.
    comparisons: Option<Vec<usize>>,
}

/// Parameters of `finer-cam`.
pub const FINER_CAM_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    ParamSpec {
        name: "base",
        kind: ParamKind::Str,
        default: "\"grad-cam\"",
        doc: "the gradient CAM whose target is replaced: grad-cam, grad-cam-plus-plus, xgrad-cam, hires-cam, layer-cam or grad-cam-elementwise (pytorch-grad-cam's base_method)",
    },
    ParamSpec {
        name: "alpha",
        kind: ParamKind::Float,
        default: "1.0",
        doc: "how strongly the comparison classes' logits are subtracted (0: the base CAM)",
    },
    ParamSpec {
        name: "comparisons",
        kind: ParamKind::IntList,
        default: "[1, 2, 3]",
        doc: "the comparison classes, as ranks among the classes ordered by how near their logit is to the target's (pytorch-grad-cam's comparison_categories; the default is cut to the classes there are)",
    },
    EIGEN_SMOOTH_PARAM,
];

impl FinerCam {
    /// Builds from `finer-cam` parameters (see [`FINER_CAM_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<FinerCam> {
        let names: Vec<&str> = GRADIENT_CAMS.iter().map(|(name, _)| *name).collect();
        let base = params.choice("base", "grad-cam", &names)?;
        let base = GRADIENT_CAMS
            .iter()
            .find(|(name, _)| *name == base)
            .map(|(_, weights)| *weights)
            .ok_or_else(|| params.error("base", base.clone(), format!("one of: {}", names.join(", "))))?;
        let comparisons = if params.contains("comparisons") {
            let ranks = params.int_list("comparisons", &DEFAULT_COMPARISONS, 0, i64::from(u32::MAX))?;
            Some(ranks.into_iter().map(|rank| rank as usize).collect())
        } else {
            None
        };
        Ok(FinerCam {
            levels: super::cam::cam_levels(params)?,
            base,
            eigen_smooth: eigen_smooth(params)?,
            alpha: params.float("alpha", 1.0, f64::MIN, f64::MAX)?,
            comparisons,
        })
    }

    /// The gradient of Finer-CAM's target for class `target` with respect to the `logits` of
    /// one image.
    fn logit_weights(&self, logits: &[f32], target: usize) -> Result<Vec<f32>> {
        let z: Vec<f64> = logits.iter().map(|&v| f64::from(v)).collect();
        let classes = z.len();
        if target >= classes {
            return Err(NasError::InvalidInput(format!(
                "finer-cam: target class {target} is out of range: the backbone has {classes} classes"
            )));
        }
        let comparisons: Vec<usize> = match &self.comparisons {
            Some(ranks) => {
                if let Some(bad) = ranks.iter().find(|&&rank| rank >= classes) {
                    return Err(NasError::InvalidInput(format!(
                        "finer-cam: parameter `comparisons` has rank {bad}; expected ranks below the backbone's {classes} classes"
                    )));
                }
                ranks.clone()
            }
            None => DEFAULT_COMPARISONS
                .iter()
                .map(|&rank| rank as usize)
                .filter(|&rank| rank < classes)
                .collect(),
        };
        // The target first, then the other classes by how near their logit is to it.
        let mut nearest: Vec<usize> = (0..classes).filter(|&k| k != target).collect();
        nearest.sort_by(|&a, &b| (z[a] - z[target]).abs().total_cmp(&(z[b] - z[target]).abs()).then(a.cmp(&b)));
        nearest.insert(0, target);
        let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
        let total: f64 = exp.iter().sum();
        let p: Vec<f64> = exp.iter().map(|e| e / total).collect();
        // Numerator N = sum_i p_i (z_t - alpha z_i) and S = sum_i p_i, with their gradients;
        // dp_i/dz_k = p_i (delta_ik - p_k).
        let (mut numerator, mut sum) = (0.0, 0.0);
        let (mut d_numerator, mut d_sum) = (vec![0f64; classes], vec![0f64; classes]);
        for &rank in &comparisons {
            let i = nearest[rank];
            let difference = z[target] - self.alpha * z[i];
            numerator += p[i] * difference;
            sum += p[i];
            for k in 0..classes {
                d_numerator[k] -= p[i] * p[k] * difference;
                d_sum[k] -= p[i] * p[k];
            }
            d_numerator[i] += p[i] * difference - self.alpha * p[i];
            d_numerator[target] += p[i];
            d_sum[i] += p[i];
        }
        let denominator = sum + WEIGHT_EPS;
        Ok(d_numerator
            .iter()
            .zip(&d_sum)
            .map(|(dn, ds)| (dn / denominator - numerator * ds / (denominator * denominator)) as f32)
            .collect())
    }
}

impl Saliency for FinerCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let batch = input.dims()[0];
        if targets.len() != batch {
            return Err(NasError::InvalidInput(format!(
                "finer-cam: {} targets for a batch of {batch}",
                targets.len()
            )));
        }
        let logits = backbone.forward(input.clone()).logits;
        let classes = logits.dims()[1];
        let logits = to_host(logits)?;
        let mut weights = Vec::with_capacity(batch * classes);
        for (row, &target) in logits.chunks_exact(classes.max(1)).zip(targets) {
            weights.extend(self.logit_weights(row, target)?);
        }
        multi_level_cams(&self.levels, input.dims(), |level| {
            let gradient = backbone.level_gradient_of(input.clone(), level, Objective::WeightedLogits(&weights))?;
            gradient_cams(gradient, level, self.base, self.eigen_smooth)
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(FinerCam::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "finer-cam",
        summary: "Finer-CAM: a gradient CAM of the target's logit against those of its nearest classes (pytorch-grad-cam's FinerCAM), scaled to [0, 1]",
        params: FINER_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
