//! Grad-CAM (Selvaraju et al. 2017) and Grad-CAM++ (Chattopadhay et al. 2018): a depth level's
//! channels weighted by the target logit's gradient, summed, rectified, scaled to `[0, 1]` and
//! resized to the input. Numbers follow pytorch-grad-cam's `GradCAM` and `GradCAMPlusPlus` with
//! the chosen level as the single target layer (for torchvision ResNets, level 4 is
//! `model.layer4[-1]`), including its min-max scaling and OpenCV's bilinear resize.

use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency, LEVELS};

/// How the channels of the level are weighted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CamWeights {
    /// The spatial mean of the gradient (Grad-CAM).
    Mean,
    /// Grad-CAM++'s weights: positive gradients weighted by the closed-form `alpha` of its
    /// equation 19.
    PlusPlus,
}

/// The `grad-cam` and `grad-cam-plus-plus` saliency methods.
pub struct GradCam {
    level: usize,
    weights: CamWeights,
}

/// Parameters of `grad-cam` and `grad-cam-plus-plus`.
pub const GRAD_CAM_PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "level",
    kind: ParamKind::Int,
    default: "4",
    doc: "depth level whose channels are weighted (4, the last, is the usual last convolutional block)",
}];

/// pytorch-grad-cam's `eps` in the Grad-CAM++ weights.
const PLUS_PLUS_EPS: f32 = 1e-6;

/// pytorch-grad-cam's guard against dividing by a zero maximum when scaling.
const SCALE_EPS: f32 = 1e-7;

impl GradCam {
    /// Builds from `grad-cam` parameters (see [`GRAD_CAM_PARAMS`]).
    pub fn from_params(params: &Params, weights: CamWeights) -> Result<GradCam> {
        Ok(GradCam {
            level: params.usize("level", LEVELS - 1, 0, LEVELS - 1)?,
            weights,
        })
    }

    /// Channel weights from one image's activations and gradients (`channels x positions`).
    fn channel_weights(&self, activations: &[f32], gradients: &[f32], positions: usize) -> Vec<f32> {
        activations
            .chunks(positions)
            .zip(gradients.chunks(positions))
            .map(|(a, g)| match self.weights {
                CamWeights::Mean => g.iter().sum::<f32>() / positions as f32,
                CamWeights::PlusPlus => {
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
                }
            })
            .collect()
    }
}

/// Shifts `map` to a minimum of 0 and divides by `SCALE_EPS` plus its maximum, in place.
fn scale_to_unit(map: &mut [f32]) {
    let least = map.iter().copied().fold(f32::INFINITY, f32::min);
    map.iter_mut().for_each(|v| *v -= least);
    let most = map.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    map.iter_mut().for_each(|v| *v /= SCALE_EPS + most);
}

/// Source index and weight of the second source for each of `to` outputs resized from `from`
/// inputs, as OpenCV's `INTER_LINEAR` (half-pixel centres, clamped at the borders).
fn linear_taps(from: usize, to: usize) -> Vec<(usize, f32)> {
    let scale = from as f64 / to as f64;
    (0..to)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let s = f.floor();
            match s as isize {
                s if s < 0 => (0, 0.0),
                s if s as usize >= from - 1 => (from - 1, 0.0),
                s => (s as usize, f - s as f32),
            }
        })
        .collect()
}

/// Resizes an `h x w` map to `out_h x out_w` as `cv2.resize(map, (out_w, out_h))`: rows first,
/// then columns.
fn resize_linear(map: &[f32], [h, w]: [usize; 2], [out_h, out_w]: [usize; 2]) -> Vec<f32> {
    let (cols, rows) = (linear_taps(w, out_w), linear_taps(h, out_h));
    let widened: Vec<f32> = map
        .chunks(w)
        .flat_map(|row| cols.iter().map(move |&(x, t)| row[x] * (1.0 - t) + row[(x + 1).min(w - 1)] * t))
        .collect();
    let mut out = Vec::with_capacity(out_h * out_w);
    for &(y, t) in &rows {
        let (top, bottom) = (
            &widened[y * out_w..(y + 1) * out_w],
            &widened[(y + 1).min(h - 1) * out_w..][..out_w],
        );
        out.extend(top.iter().zip(bottom).map(|(a, b)| a * (1.0 - t) + b * t));
    }
    out
}

impl Saliency for GradCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [_, _, in_h, in_w] = input.dims();
        let gradient = backbone.level_gradient(input.clone(), self.level, targets)?;
        let [batch, channels, h, w] = gradient.value.dims();
        let positions = h * w;
        let (activations, gradients) = (to_host(gradient.value)?, to_host(gradient.grad)?);
        let image = channels * positions;
        (0..batch)
            .map(|i| {
                let (a, g) = (&activations[i * image..(i + 1) * image], &gradients[i * image..(i + 1) * image]);
                let weights = self.channel_weights(a, g, positions);
                let mut cam = vec![0f32; positions];
                for (channel, weight) in a.chunks(positions).zip(&weights) {
                    cam.iter_mut().zip(channel).for_each(|(c, v)| *c += weight * v);
                }
                cam.iter_mut().for_each(|v| *v = v.max(0.0));
                scale_to_unit(&mut cam);
                let mut map = resize_linear(&cam, [h, w], [in_h, in_w]);
                // pytorch-grad-cam scales again after averaging its target layers (one here).
                scale_to_unit(&mut map);
                Array2::from_shape_vec((in_h, in_w), map).map_err(|e| NasError::InvalidInput(e.to_string()))
            })
            .collect()
    }
}

fn build_grad_cam(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(GradCam::from_params(params, CamWeights::Mean)?))
}

fn build_grad_cam_plus_plus(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(GradCam::from_params(params, CamWeights::PlusPlus)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "grad-cam",
        summary: "Grad-CAM on a depth level (pytorch-grad-cam's GradCAM), scaled to [0, 1]",
        params: GRAD_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build_grad_cam),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "grad-cam-plus-plus",
        summary: "Grad-CAM++ on a depth level (pytorch-grad-cam's GradCAMPlusPlus), scaled to [0, 1]",
        params: GRAD_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build_grad_cam_plus_plus),
    }
}
