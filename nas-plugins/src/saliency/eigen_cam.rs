//! EigenCAM (Muhammad and Yeasin 2020), EigenGrad-CAM and Seg-Eigen-CAM (Chung and Ying 2025): a
//! depth level's positions projected on the first principal component of its activations
//! (EigenCAM: class-agnostic, no gradient), of activations times the target logit's gradient
//! (EigenGrad-CAM) or times its absolute value (Seg-Eigen-CAM), then rectified, scaled to
//! `[0, 1]` and resized as pytorch-grad-cam's `EigenCAM`, `EigenGradCAM` and `SegEigenCAM` do. The component's
//! sign follows pytorch-grad-cam's sign-corrected projection (largest magnitude positive) rather
//! than LAPACK's arbitrary one.

use super::cam::{cams_of, level_cams, multi_level_cams, LEVEL_PARAM};
use super::principal_component::principal_projection;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, NasTensor, Params, Result, Saliency};

/// What is decomposed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EigenSource {
    /// The level's activations (EigenCAM).
    Activations,
    /// Activations times the target logit's gradient (EigenGrad-CAM).
    GradientTimesActivations,
    /// Activations times the absolute value of the target logit's gradient (Seg-Eigen-CAM).
    AbsGradientTimesActivations,
}

/// The `eigen-cam` and `eigen-grad-cam` saliency methods.
pub struct EigenCam {
    levels: Vec<usize>,
    source: EigenSource,
}

impl EigenCam {
    /// Builds from the CAM parameters (see [`LEVEL_PARAM`]).
    pub fn from_params(params: &Params, source: EigenSource) -> Result<EigenCam> {
        Ok(EigenCam {
            levels: super::cam::cam_levels(params)?,
            source,
        })
    }
}

impl Saliency for EigenCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let projection = |values: &[f32], channels, positions| Ok(principal_projection(values, channels, positions));
        match self.source {
            EigenSource::Activations => level_cams("EigenCAM", backbone, input, &self.levels, |_, values, channels, positions| {
                projection(values, channels, positions)
            }),
            EigenSource::GradientTimesActivations | EigenSource::AbsGradientTimesActivations => {
                multi_level_cams(&self.levels, input.dims(), |level| {
                    let gradient = backbone.level_gradient(input.clone(), level, targets)?;
                    let (method, weights) = match self.source {
                        EigenSource::AbsGradientTimesActivations => ("Seg-Eigen-CAM", gradient.grad.abs()),
                        _ => ("EigenGrad-CAM", gradient.grad),
                    };
                    cams_of(method, level, gradient.value * weights, projection)
                })
            }
        }
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "eigen-cam",
        summary: "EigenCAM: a depth level's first principal component, class-agnostic (pytorch-grad-cam's EigenCAM, sign-corrected), scaled to [0, 1]",
        params: &[LEVEL_PARAM],
        factory: nas_core::Factory::Saliency(|params, _ctx| Ok(Box::new(EigenCam::from_params(params, EigenSource::Activations)?))),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "eigen-grad-cam",
        summary: "EigenGrad-CAM: first principal component of activations times gradients (pytorch-grad-cam's EigenGradCAM, sign-corrected), scaled to [0, 1]",
        params: &[LEVEL_PARAM],
        factory: nas_core::Factory::Saliency(|params, _ctx| Ok(Box::new(EigenCam::from_params(params, EigenSource::GradientTimesActivations)?))),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "seg-eigen-cam",
        summary: "Seg-Eigen-CAM: first principal component of activations times absolute gradients (pytorch-grad-cam's SegEigenCAM), scaled to [0, 1]",
        params: &[LEVEL_PARAM],
        factory: nas_core::Factory::Saliency(|params, _ctx| Ok(Box::new(EigenCam::from_params(params, EigenSource::AbsGradientTimesActivations)?))),
    }
}
