//! ShapleyCAM (Cai et al. 2025, pytorch-grad-cam's `ShapleyCAM`): Grad-CAM's channel weights
//! with a second-order term, the spatial mean of `g - H a / 2`, where `g` is the target's
//! gradient at the level, `a` its activations and `H` the target's Hessian there: the channel's
//! Shapley value to second order. The target is `rest` by default, the logit minus the
//! cross-entropy (`2 z_c - logsumexp(z)`, the paper's ClassifierOutputReST), whose softmax gives
//! the Hessian a part even where the network after the level is piecewise linear; or the class's
//! logit (pytorch-grad-cam's default target, with which ShapleyCAM of a CNN is Grad-CAM).
//!
//! pytorch-grad-cam differentiates twice; burn differentiates once. The target is a function
//! `f(z)` of the logits, so its Hessian at the level is `J' f''(z) J` plus the logits' own
//! curvature weighted by `f'(z)`. nas computes the first part exactly but for one step: `J a`,
//! how the logits move as the activations grow along themselves, is the central difference of
//! the logits (not of gradients, which jump at every ReLU kink) over a step of `eps` of the
//! activations; `f''(z) J a` is then a backward pass of logits weighted by it. The second part
//! is zero wherever the network after the level is piecewise linear (ReLU, ReLU6, max pools,
//! batch norms, linear layers: the ResNets, VGGs, EfficientNet-Lite0, MobileNetV2, DenseNets,
//! ...) or linear (every level-4 head that pools and classifies); behind SiLU, GELU or layer
//! norms (EfficientNets, ConvNeXts, ViTs at levels 0-3) it is left out, and the logit target,
//! whose `f''` is zero, then gives Grad-CAM.

use super::cam::{eigen_smooth, multi_level_cams, EIGEN_SMOOTH_PARAM, LEVEL_PARAM};
use super::grad_cam::{gradient_cams, CamWeights};
use nas_core::backbone::logits_with_level;
use nas_core::burn::tensor::activation::softmax;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, Gradient, NasError, NasTensor, Objective, ParamKind, ParamSpec, Params, Result, Saliency};

/// What ShapleyCAM differentiates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The class's logit (pytorch-grad-cam's `ClassifierOutputTarget`).
    Logit,
    /// The logit minus the cross-entropy (`ClassifierOutputReST`).
    Rest,
}

/// The `shapley-cam` saliency method.
pub struct ShapleyCam {
    levels: Vec<usize>,
    target: Target,
    eps: f64,
    eigen_smooth: bool,
}

/// Parameters of `shapley-cam`.
pub const SHAPLEY_CAM_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    ParamSpec {
        name: "target",
        kind: ParamKind::Str,
        default: "\"rest\"",
        doc: "what is differentiated: rest (the logit minus the cross-entropy, the paper's ClassifierOutputReST) or logit (pytorch-grad-cam's default target, with which CNNs give Grad-CAM)",
    },
    ParamSpec {
        name: "eps",
        kind: ParamKind::Float,
        default: "1e-4",
        doc: "relative step of the central difference of the logits along the activations (the Hessian term's J a): smaller crosses fewer ReLU kinks, larger rounds less",
    },
    EIGEN_SMOOTH_PARAM,
];

impl ShapleyCam {
    /// Per sample, the weights of its logits whose sum has ReST's gradient, for logits `z`
    /// (`batch x classes`, row-major): `2 e_c - softmax(z)`.
    fn rest_weights(&self, logits: NasTensor<2>, targets: &[usize]) -> Result<Vec<f32>> {
        let [batch, classes] = logits.dims();
        if targets.len() != batch {
            return Err(NasError::InvalidInput(format!(
                "shapley-cam: {} targets for a batch of {batch}",
                targets.len()
            )));
        }
        let mut weights: Vec<f32> = to_host(softmax(logits, 1))?.into_iter().map(|p| -p).collect();
        for (i, &target) in targets.iter().enumerate() {
            if target >= classes {
                return Err(NasError::InvalidInput(format!("shapley-cam: class {target} of {classes}")));
            }
            weights[i * classes + target] += 2.0;
        }
        Ok(weights)
    }

    /// The level's activations with `g - H a / 2` as their gradient, for [`gradient_cams`].
    fn shapley_gradient(&self, backbone: &dyn Backbone, input: &NasTensor<4>, level: usize, targets: &[usize]) -> Result<Gradient> {
        if self.target == Target::Logit {
            // A logit's curvature in the logits is zero: no Hessian term, and no forward pass first.
            return backbone.level_gradient(input.clone(), level, targets);
        }
        let logits = backbone.forward(input.clone()).logits;
        let weights = self.rest_weights(logits.clone(), targets)?;
        let gradient = backbone.level_gradient_of(input.clone(), level, Objective::WeightedLogits(&weights))?;
        let moved = |scale: f64| logits_with_level(backbone, input.clone(), level, gradient.value.clone() * scale as f32);
        let tangent = to_host((moved(1.0 + self.eps)? - moved(1.0 - self.eps)?) / (2.0 * self.eps) as f32)?;
        let classes = logits.dims()[1].max(1);
        let probabilities = to_host(softmax(logits, 1))?;
        // f''(z) = -(diag(p) - p p') for ReST, times J a, row by row.
        let curvature: Vec<f32> = probabilities
            .chunks(classes)
            .zip(tangent.chunks(classes))
            .flat_map(|(p, t)| {
                let mean: f32 = p.iter().zip(t).map(|(p, t)| p * t).sum();
                p.iter().zip(t).map(move |(p, t)| -p * (t - mean)).collect::<Vec<_>>()
            })
            .collect();
        let hessian_product = backbone
            .level_gradient_of(input.clone(), level, Objective::WeightedLogits(&curvature))?
            .grad;
        Ok(Gradient {
            grad: gradient.grad - hessian_product * 0.5,
            ..gradient
        })
    }
}

impl Saliency for ShapleyCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        multi_level_cams(&self.levels, input.dims(), |level| {
            let gradient = self.shapley_gradient(backbone, input, level, targets)?;
            gradient_cams(gradient, level, CamWeights::Mean, self.eigen_smooth)
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(ShapleyCam {
        levels: super::cam::cam_levels(params)?,
        target: match params.choice("target", "rest", &["rest", "logit"])?.as_str() {
            "logit" => Target::Logit,
            _ => Target::Rest,
        },
        eps: params.float("eps", 1e-4, 1e-7, 0.5)?,
        eigen_smooth: eigen_smooth(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "shapley-cam",
        summary: "ShapleyCAM: Grad-CAM's channel weights less half the target's Hessian-vector product with the activations (pytorch-grad-cam's ShapleyCAM; logit or ReST target), scaled to [0, 1]",
        params: SHAPLEY_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
