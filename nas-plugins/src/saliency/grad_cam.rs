//! Grad-CAM (Selvaraju et al. 2017) and its relatives: a depth level's activations weighted by
//! the target logit's gradient, summed over channels, rectified, scaled to `[0, 1]` and resized
//! to the input. Grad-CAM, Grad-CAM++ (Chattopadhay et al. 2018) and XGrad-CAM (Fu et al. 2020)
//! weight each channel; HiResCAM (Draelos and Carin 2020), LayerCAM (Jiang et al. 2021) and
//! pytorch-grad-cam's element-wise Grad-CAM weight each position. Numbers follow
//! pytorch-grad-cam's `GradCAM`, `GradCAMPlusPlus`, `XGradCAM`, `HiResCAM`, `LayerCAM` and
//! `GradCAMElementWise` with the chosen level as the single target layer (for torchvision
//! ResNets, level 4 is `model.layer4[-1]`), including its min-max scaling and OpenCV's bilinear
//! resize.

use super::cam::{
    cam_levels, combine_channels, eigen_smooth, multi_level_cams, non_empty, weight_channels, LevelCam, EIGEN_SMOOTH_PARAM, LEVEL_PARAM,
};
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Gradient, NasTensor, ParamSpec, Params, Result, Saliency};

/// How activations are weighted by gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CamWeights {
    /// Each channel by the spatial mean of its gradient (Grad-CAM).
    Mean,
    /// Each channel by Grad-CAM++'s weights: positive gradients weighted by the closed-form
    /// `alpha` of its equation 19.
    PlusPlus,
    /// Each channel by the sum of gradient times activation over the sum of activations
    /// (XGrad-CAM).
    XGrad,
    /// Each position by its gradient (HiResCAM).
    Gradient,
    /// Each position by its positive gradient (LayerCAM).
    PositiveGradient,
    /// Each position by its gradient, the products rectified before the channel sum
    /// (pytorch-grad-cam's `GradCAMElementWise`).
    RectifiedProduct,
}

/// The gradient-weighted CAM saliency methods (`grad-cam` and its relatives).
pub struct GradCam {
    levels: Vec<usize>,
    weights: CamWeights,
    eigen_smooth: bool,
}

/// Parameters of the CAM methods.
pub const GRAD_CAM_PARAMS: &[ParamSpec] = &[LEVEL_PARAM, EIGEN_SMOOTH_PARAM];

/// pytorch-grad-cam's `eps` in the Grad-CAM++ weights.
const PLUS_PLUS_EPS: f32 = 1e-6;

/// pytorch-grad-cam's `eps` in the XGrad-CAM weights.
const AXIOM_EPS: f32 = 1e-7;

impl GradCam {
    /// Builds from `grad-cam` parameters (see [`GRAD_CAM_PARAMS`]).
    pub fn from_params(params: &Params, weights: CamWeights) -> Result<GradCam> {
        Ok(GradCam {
            levels: cam_levels(params)?,
            weights,
            eigen_smooth: eigen_smooth(params)?,
        })
    }
}

impl CamWeights {
    /// The weight of each channel, from one image's activations and gradients (`channels x
    /// positions`), or `None` for the rules that weight each position.
    fn channel_weights(self, activations: &[f32], gradients: &[f32], positions: usize) -> Option<Vec<f32>> {
        let per_channel = activations.chunks(positions).zip(gradients.chunks(positions));
        Some(match self {
            Self::Mean => per_channel.map(|(_, g)| g.iter().sum::<f32>() / positions as f32).collect(),
            Self::PlusPlus => per_channel
                .map(|(a, g)| {
                    let activation_sum: f32 = a.iter().sum();
                    g.iter()
                        .map(|g| {
                            let (g2, g3) = (g * g, g * g * g);
                            let alpha = if *g != 0.0 {
                                g2 / (2.0 * g2 + activation_sum * g3 + PLUS_PLUS_EPS)
                            } else {
                                0.0
                            };
                            g.max(0.0) * alpha
                        })
                        .sum()
                })
                .collect(),
            Self::XGrad => per_channel
                .map(|(a, g)| {
                    let activation_sum: f32 = a.iter().sum();
                    a.iter().zip(g).map(|(a, g)| g * a / (activation_sum + AXIOM_EPS)).sum()
                })
                .collect(),
            Self::Gradient | Self::PositiveGradient | Self::RectifiedProduct => return None,
        })
    }

    /// One image's activations (`channels x positions`) weighted by this rule.
    pub fn weighted_activations(self, activations: &[f32], gradients: &[f32], positions: usize) -> Vec<f32> {
        match self.channel_weights(activations, gradients, positions) {
            Some(weights) => weight_channels(activations, &weights, positions),
            None => {
                let term: fn(f32, f32) -> f32 = match self {
                    Self::PositiveGradient => |a, g| g.max(0.0) * a,
                    Self::RectifiedProduct => |a, g| (g * a).max(0.0),
                    _ => |a, g| g * a,
                };
                activations.iter().zip(gradients).map(|(a, g)| term(*a, *g)).collect()
            }
        }
    }

    /// The class activation map of one image over the level's positions, before rectifying
    /// (see [`combine_channels`]).
    pub fn class_activation(self, activations: &[f32], gradients: &[f32], positions: usize, eigen_smooth: bool) -> Vec<f32> {
        combine_channels(
            &self.weighted_activations(activations, gradients, positions),
            positions,
            eigen_smooth,
        )
    }
}

impl Saliency for GradCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        multi_level_cams(&self.levels, input.dims(), |level| {
            let gradient = backbone.level_gradient(input.clone(), level, targets)?;
            gradient_cams(gradient, level, self.weights, self.eigen_smooth)
        })
    }
}

/// The CAM of every image of the `gradient` (its values and gradients) of depth level `level`,
/// weighted by `weights`.
pub fn gradient_cams(gradient: Gradient, level: usize, weights: CamWeights, eigen_smooth: bool) -> Result<Vec<LevelCam>> {
    let [batch, channels, h, w] = gradient.value.dims();
    non_empty("CAM", level, [channels, h, w])?;
    let positions = h * w;
    let (activations, gradients) = (to_host(gradient.value)?, to_host(gradient.grad)?);
    let image = channels * positions;
    (0..batch)
        .map(|i| {
            let (a, g) = (&activations[i * image..(i + 1) * image], &gradients[i * image..(i + 1) * image]);
            Ok(LevelCam {
                values: weights.class_activation(a, g, positions, eigen_smooth),
                grid: [h, w],
            })
        })
        .collect()
}

/// The gradient CAMs of this module by name, for methods built on any of them (Finer-CAM's
/// `base`).
pub const GRADIENT_CAMS: &[(&str, CamWeights)] = &[
    ("grad-cam", CamWeights::Mean),
    ("grad-cam-plus-plus", CamWeights::PlusPlus),
    ("xgrad-cam", CamWeights::XGrad),
    ("hires-cam", CamWeights::Gradient),
    ("layer-cam", CamWeights::PositiveGradient),
    ("grad-cam-elementwise", CamWeights::RectifiedProduct),
];

/// Registers a CAM method of this module with its channel or position weighting.
macro_rules! cam_method {
    ($name:literal, $weights:expr, $summary:literal) => {
        nas_core::inventory::submit! {
            nas_core::ComponentEntry {
                name: $name,
                summary: $summary,
                params: GRAD_CAM_PARAMS,
                factory: nas_core::Factory::Saliency(|params, _ctx| Ok(Box::new(GradCam::from_params(params, $weights)?))),
            }
        }
    };
}

cam_method!(
    "grad-cam",
    CamWeights::Mean,
    "Grad-CAM on a depth level (pytorch-grad-cam's GradCAM), scaled to [0, 1]"
);
cam_method!(
    "grad-cam-plus-plus",
    CamWeights::PlusPlus,
    "Grad-CAM++ on a depth level (pytorch-grad-cam's GradCAMPlusPlus), scaled to [0, 1]"
);
cam_method!(
    "xgrad-cam",
    CamWeights::XGrad,
    "XGrad-CAM on a depth level (pytorch-grad-cam's XGradCAM), scaled to [0, 1]"
);
cam_method!(
    "hires-cam",
    CamWeights::Gradient,
    "HiResCAM: activations times gradients, position by position (pytorch-grad-cam's HiResCAM), scaled to [0, 1]"
);
cam_method!(
    "layer-cam",
    CamWeights::PositiveGradient,
    "LayerCAM: activations times positive gradients, position by position (pytorch-grad-cam's LayerCAM), scaled to [0, 1]"
);
cam_method!(
    "grad-cam-elementwise",
    CamWeights::RectifiedProduct,
    "Grad-CAM with rectified products, position by position (pytorch-grad-cam's GradCAMElementWise), scaled to [0, 1]"
);
