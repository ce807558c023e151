//! Gradients through modified rectifiers, as Captum computes them: `guided-backprop`
//! (Springenberg et al. 2015; Captum's `GuidedBackprop`), `deconvolution` (Zeiler and Fergus
//! 2014; Captum's `Deconvolution`) and `guided-grad-cam` (Selvaraju et al. 2017; Captum's
//! `GuidedGradCam`: guided backpropagation times the level's Grad-CAM, rectified, unscaled and
//! upsampled by nearest neighbour). The rectifiers are every ReLU of the network and, in
//! EfficientNet-Lite0, its ReLU6s (see docs/pipeline.md). The backward pass is the backbone's
//! own (CPU host kernels: the ResNets, the VGGs, efficientnet-lite0).

use super::grad_cam::CamWeights;
use super::gradient::{reduce_channels, ChannelReduction, REDUCE_PARAM};
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, ReluGradient, Result, Saliency};

/// The `guided-backprop` and `deconvolution` saliency methods.
pub struct ModifiedGradient {
    rule: ReluGradient,
    reduction: ChannelReduction,
}

/// Parameters of `guided-backprop` and `deconvolution`.
pub const MODIFIED_GRADIENT_PARAMS: &[ParamSpec] = &[REDUCE_PARAM];

impl Saliency for ModifiedGradient {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let gradient = backbone.modified_input_gradient(input.clone(), targets, self.rule)?;
        reduce_channels(gradient.grad, self.reduction)
    }
}

/// The `guided-grad-cam` saliency method.
pub struct GuidedGradCam {
    level: usize,
    reduction: ChannelReduction,
}

/// Parameters of `guided-grad-cam`.
pub const GUIDED_GRAD_CAM_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "level",
        kind: ParamKind::Int,
        default: "4",
        doc: "depth level of the Grad-CAM factor (Captum's layer)",
    },
    MODIFIED_GRADIENT_PARAMS[0],
];

/// Captum's `LayerGradCam` with `relu_attributions=True` for one image's activations and
/// gradients (`channels x positions`): Grad-CAM's map, rectified but not scaled.
fn layer_grad_cam(activations: &[f32], gradients: &[f32], positions: usize) -> Vec<f32> {
    let mut cam = CamWeights::Mean.class_activation(activations, gradients, positions, false);
    cam.iter_mut().for_each(|v| *v = v.max(0.0));
    cam
}

impl Saliency for GuidedGradCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [batch, colours, in_h, in_w] = input.dims();
        let guided = to_host(backbone.modified_input_gradient(input.clone(), targets, ReluGradient::Guided)?.grad)?;
        let level = backbone.level_gradient(input.clone(), self.level, targets)?;
        let [_, channels, h, w] = level.value.dims();
        let (activations, gradients) = (to_host(level.value)?, to_host(level.grad)?);
        let (image, photo) = (channels * h * w, colours * in_h * in_w);
        // torch's nearest interpolation: source index floor(dst * in / out).
        let source = |dst: usize, from: usize, to: usize| ((dst as f64 * (from as f64 / to as f64)) as usize).min(from - 1);
        let mut product = Vec::with_capacity(batch * photo);
        for i in 0..batch {
            let cam = layer_grad_cam(&activations[i * image..][..image], &gradients[i * image..][..image], h * w);
            for colour in guided[i * photo..][..photo].chunks(in_h * in_w) {
                product.extend(colour.iter().enumerate().map(|(p, g)| {
                    let (y, x) = (source(p / in_w, h, in_h), source(p % in_w, w, in_w));
                    g * cam[y * w + x]
                }));
            }
        }
        reduce_channels(
            NasTensor::<4>::from_data(TensorData::new(product, [batch, colours, in_h, in_w]), &input.device()),
            self.reduction,
        )
    }
}

fn build_guided(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(ModifiedGradient {
        rule: ReluGradient::Guided,
        reduction: ChannelReduction::from_params(params)?,
    }))
}

fn build_deconvolution(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(ModifiedGradient {
        rule: ReluGradient::Deconvolution,
        reduction: ChannelReduction::from_params(params)?,
    }))
}

fn build_guided_grad_cam(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(GuidedGradCam {
        level: super::cam::cam_level(params)?,
        reduction: ChannelReduction::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "guided-backprop",
        summary: "guided backpropagation: the gradient with only positive gradients through every rectifier (Captum's GuidedBackprop; CPU)",
        params: MODIFIED_GRADIENT_PARAMS,
        factory: nas_core::Factory::Saliency(build_guided),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "deconvolution",
        summary: "deconvolution (Zeiler and Fergus): the positive part of the gradient through every rectifier, whatever its input (Captum's Deconvolution; CPU)",
        params: MODIFIED_GRADIENT_PARAMS,
        factory: nas_core::Factory::Saliency(build_deconvolution),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "guided-grad-cam",
        summary: "guided Grad-CAM: guided backpropagation times the level's rectified Grad-CAM, upsampled (Captum's GuidedGradCam; CPU)",
        params: GUIDED_GRAD_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build_guided_grad_cam),
    }
}
