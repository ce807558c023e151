//! FullGrad (Srinivas and Fleuret 2019), as pytorch-grad-cam's `FullGrad`: the input gradient
//! times the input, and every biased layer's bias times the target logit's gradient at its
//! output (the convolutions, with the batch norms that follow them folded in), each in absolute
//! value, each channel min-max scaled and resized to the photo (OpenCV's bilinear rule), all
//! summed and scaled to `[0, 1]`. The backward pass is the backbone's own (CPU host kernels:
//! the ResNets, the VGGs, efficientnet-lite0).

use super::cam::{resize_linear, scale_to_unit};
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, BiasGradient, Context, NasError, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `full-grad` saliency method.
pub struct FullGrad;

/// Parameters of `full-grad`: none (pytorch-grad-cam's FullGrad takes every biased layer).
pub const FULL_GRAD_PARAMS: &[ParamSpec] = &[];

/// Per-channel maps added up before resizing, one sum per grid size: resizing is linear, so
/// one resize per size gives the sum of the resized channels.
struct ScaledSums {
    batch: usize,
    /// `[h, w]` and the batch's `batch x h x w` sum.
    sizes: Vec<([usize; 2], Vec<f32>)>,
}

impl ScaledSums {
    /// Adds each `(image, channel)` map of `values` `(batch, channels, h, w)`, in absolute
    /// value, scaled to `[0, 1]`.
    fn add(&mut self, values: impl Iterator<Item = f32>, [batch, channels, h, w]: [usize; 4]) -> Result<()> {
        if batch != self.batch {
            return Err(NasError::InvalidInput(format!(
                "full-grad: a layer of {batch} images in a batch of {}",
                self.batch
            )));
        }
        let plane = h * w;
        let index = match self.sizes.iter().position(|(size, _)| *size == [h, w]) {
            Some(i) => i,
            None => {
                self.sizes.push(([h, w], vec![0.0; batch * plane]));
                self.sizes.len() - 1
            }
        };
        let sum = &mut self.sizes[index].1;
        let mut values = values.map(f32::abs);
        for image in 0..batch {
            for channel in 0..channels {
                let mut map: Vec<f32> = values.by_ref().take(plane).collect();
                if map.len() != plane {
                    return Err(NasError::InvalidInput(format!(
                        "full-grad: a map of shape {:?} ended after {} of its {} values",
                        [batch, channels, h, w],
                        (image * channels + channel) * plane + map.len(),
                        batch * channels * plane
                    )));
                }
                scale_to_unit(&mut map);
                for (s, v) in sum[image * plane..(image + 1) * plane].iter_mut().zip(&map) {
                    *s += v;
                }
            }
        }
        Ok(())
    }

    /// The image's map at `[in_h, in_w]`: every size's sum resized and added, scaled to `[0, 1]`.
    fn finish(&self, image: usize, [in_h, in_w]: [usize; 2]) -> Result<Array2<f32>> {
        let mut total = vec![0f32; in_h * in_w];
        for ([h, w], sum) in &self.sizes {
            let resized = resize_linear(&sum[image * h * w..(image + 1) * h * w], [*h, *w], [in_h, in_w]);
            for (t, v) in total.iter_mut().zip(&resized) {
                *t += v;
            }
        }
        scale_to_unit(&mut total);
        Array2::from_shape_vec((in_h, in_w), total).map_err(|e| NasError::InvalidInput(e.to_string()))
    }
}

impl Saliency for FullGrad {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let dims = input.dims();
        let mut sums = ScaledSums {
            batch: dims[0],
            sizes: Vec::new(),
        };
        let gradient = backbone.bias_gradients(input.clone(), targets, &mut |layer: BiasGradient<'_>| {
            let [_, channels, h, w] = layer.dims;
            if layer.bias.len() != channels || layer.grad.len() != layer.dims.iter().product::<usize>() {
                return Err(NasError::InvalidInput(format!(
                    "full-grad: a layer with {} biases and {} gradient values for shape {:?}",
                    layer.bias.len(),
                    layer.grad.len(),
                    layer.dims
                )));
            }
            let plane = h * w;
            let values = layer.grad.iter().enumerate().map(|(i, g)| layer.bias[(i / plane) % channels] * g);
            sums.add(values, layer.dims)
        })?;
        let (x, g) = (to_host(input.clone())?, to_host(gradient.grad)?);
        sums.add(x.iter().zip(&g).map(|(x, g)| g * x), dims)?;
        (0..dims[0]).map(|image| sums.finish(image, [dims[2], dims[3]])).collect()
    }
}

fn build(_params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(FullGrad))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "full-grad",
        summary: "FullGrad: |input x gradient| plus every biased layer's |bias x gradient|, each channel scaled and resized, summed (pytorch-grad-cam's FullGrad; CPU), scaled to [0, 1]",
        params: FULL_GRAD_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
