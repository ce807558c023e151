//! The gradient of a convolution with respect to its input (the transposed convolution),
//! prepared once from the weights, so that gradient methods run their backward passes on the
//! same fast host kernels as the forward pass.
//!
//! A stride-1 convolution's input gradient is itself a convolution, with every kernel flipped,
//! input and output channels swapped and the padding mirrored (`k - 1 - p`): it runs as an
//! ordinary [`Conv2dPlan`] (Winograd for 3x3). Any other stride multiplies the output gradient
//! by the transposed weight matrix and adds the columns back onto the input positions they came
//! from (col2im), block by block so the columns stay in cache.

use crate::activation::Activation;
use crate::error::ConvError;
use crate::geometry::ConvGeometry;
use crate::grouped;
use crate::matmul::{multiply, Layout};
use crate::plan::Conv2dPlan;
use rayon::prelude::*;
use std::ops::Range;

/// Columns of the transposed product per block: about 1 MiB of f32 at depth 1 (divided by the
/// depth), as im2col's blocks.
const BLOCK_VALUES: usize = 262_144;

enum Kernels {
    /// Stride 1: the flipped, channel-swapped convolution.
    Convolution(Conv2dPlan),
    /// Ordinary convolution, other strides: `W^T` as an `(in*k*k, out)` matrix.
    Scatter(Vec<f32>),
    /// Depthwise convolution, other strides: the kernels as given, `(channels, k, k)`.
    DepthwiseScatter(Vec<f32>),
    /// Other grouped convolutions: one ungrouped input gradient per group.
    Grouped(Vec<InputGradientPlan>),
}

/// The input gradient of one convolution, for any number of output gradients.
pub struct InputGradientPlan {
    geometry: ConvGeometry,
    kernels: Kernels,
}

impl InputGradientPlan {
    /// Prepares the input gradient of the convolution `geometry` with `weight`
    /// `(out, in / groups, k, k)` (the bias does not enter the input gradient).
    pub fn new(geometry: ConvGeometry, weight: &[f32]) -> Result<InputGradientPlan, ConvError> {
        let g = geometry;
        g.validate()?;
        if weight.len() != g.weight_len() {
            let [o, i, k, _] = g.weight_dims();
            return Err(ConvError::Length {
                what: "weight",
                shape: format!("({o}, {i}, {k}, {k})"),
                expected: g.weight_len(),
                actual: weight.len(),
            });
        }
        let k = g.kernel;
        let kernels = if g.groups > 1 && !g.is_depthwise() {
            let part = grouped::group_geometry(&g);
            let plans = weight
                .chunks_exact(part.weight_len())
                .map(|w| InputGradientPlan::new(part, w))
                .collect::<Result<Vec<_>, _>>()?;
            Kernels::Grouped(plans)
        } else if g.stride == 1 && g.padding.iter().all(|&p| p < k) {
            let mirrored = ConvGeometry {
                in_channels: g.out_channels,
                out_channels: g.in_channels,
                padding: g.padding.map(|p| k - 1 - p),
                ..g
            };
            Kernels::Convolution(Conv2dPlan::new(mirrored, &flipped_swapped(&g, weight), None)?)
        } else if g.is_depthwise() {
            Kernels::DepthwiseScatter(weight.to_vec())
        } else {
            let depth = g.in_channels * k * k;
            let mut transposed = vec![0f32; weight.len()];
            for (o, row) in weight.chunks(depth).enumerate() {
                for (d, value) in row.iter().enumerate() {
                    transposed[d * g.out_channels + o] = *value;
                }
            }
            Kernels::Scatter(transposed)
        };
        Ok(InputGradientPlan { geometry, kernels })
    }

    /// The geometry of the forward convolution.
    pub fn geometry(&self) -> &ConvGeometry {
        &self.geometry
    }

    /// The gradient with respect to an input `(batch, in, height, width)` of the output gradient
    /// `grad_output` `(batch, out, out_height, out_width)`; input positions no output reads get 0.
    pub fn run(&self, grad_output: &[f32], batch: usize, height: usize, width: usize) -> Result<Vec<f32>, ConvError> {
        let g = &self.geometry;
        let (out_h, out_w) = g.output_size(height, width)?;
        let expected = batch * g.out_channels * out_h * out_w;
        if grad_output.len() != expected {
            return Err(ConvError::Length {
                what: "output gradient",
                shape: format!("({batch}, {}, {out_h}, {out_w})", g.out_channels),
                expected,
                actual: grad_output.len(),
            });
        }
        match &self.kernels {
            Kernels::Convolution(plan) => Ok(plan.run(grad_output, batch, out_h, out_w, Activation::Identity)?.data),
            Kernels::Scatter(transposed) => Ok(self.scatter(transposed, grad_output, batch, (height, width), (out_h, out_w))),
            Kernels::DepthwiseScatter(weight) => Ok(self.depthwise_scatter(weight, grad_output, batch, (height, width), (out_h, out_w))),
            Kernels::Grouped(plans) => {
                let (in_share, out_share) = (g.in_channels / g.groups, g.out_channels / g.groups);
                let parts = plans
                    .par_iter()
                    .enumerate()
                    .map(|(group, plan)| {
                        let part = grouped::gather(grad_output, g.out_channels, out_h * out_w, out_share, group);
                        plan.run(&part, batch, height, width)
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let mut grad_input = vec![0f32; batch * g.in_channels * height * width];
                for (group, part) in parts.iter().enumerate() {
                    grouped::scatter(part, &mut grad_input, g.in_channels, height * width, in_share, group);
                }
                Ok(grad_input)
            }
        }
    }

    /// `W^T x grad` block by block of output rows, each column added back where im2col took it.
    fn scatter(&self, transposed: &[f32], grad_output: &[f32], batch: usize, size: (usize, usize), out_size: (usize, usize)) -> Vec<f32> {
        let g = &self.geometry;
        let (h, w) = size;
        let (out_h, out_w) = out_size;
        let depth = g.in_channels * g.kernel * g.kernel;
        let rows_per_block = (BLOCK_VALUES / depth.max(1)).clamp(64, 4096).div_ceil(out_w.max(1));
        let mut grad_input = vec![0f32; batch * g.in_channels * h * w];
        let image_len = g.in_channels * h * w;
        let out_image_len = g.out_channels * out_h * out_w;
        if image_len == 0 || out_image_len == 0 {
            return grad_input;
        }
        let threads = rayon::current_num_threads();
        let inner_threads = if batch >= threads { 1 } else { threads };
        let image = |(dst, src): (&mut [f32], &[f32])| {
            for start in (0..out_h).step_by(rows_per_block) {
                let rows = start..(start + rows_per_block).min(out_h);
                let columns = rows.len() * out_w;
                let mut block = vec![0f32; depth * columns];
                let rhs_at = Layout {
                    offset: rows.start * out_w,
                    rows: g.out_channels,
                    cols: columns,
                    row_stride: out_h * out_w,
                };
                multiply(
                    &mut block,
                    Layout::dense(depth, columns),
                    transposed,
                    Layout::dense(depth, g.out_channels),
                    src,
                    rhs_at,
                    inner_threads,
                );
                add_columns(g, &block, rows, out_w, dst, size);
            }
        };
        if inner_threads == 1 {
            grad_input
                .par_chunks_mut(image_len)
                .zip(grad_output.par_chunks(out_image_len))
                .for_each(image);
        } else {
            grad_input
                .chunks_mut(image_len)
                .zip(grad_output.chunks(out_image_len))
                .for_each(image);
        }
        grad_input
    }

    /// Every `(image, channel)` plane on its own: each output gradient spread over its window.
    fn depthwise_scatter(
        &self,
        weight: &[f32],
        grad_output: &[f32],
        batch: usize,
        size: (usize, usize),
        out_size: (usize, usize),
    ) -> Vec<f32> {
        let g = &self.geometry;
        let (h, w) = size;
        let (out_h, out_w) = out_size;
        let k = g.kernel;
        let [top, left, _, _] = g.padding;
        let mut grad_input = vec![0f32; batch * g.in_channels * h * w];
        if h * w == 0 || out_h * out_w == 0 {
            return grad_input;
        }
        grad_input
            .par_chunks_mut(h * w)
            .zip(grad_output.par_chunks(out_h * out_w))
            .enumerate()
            .for_each(|(index, (dst, src))| {
                let kernel = &weight[(index % g.in_channels) * k * k..][..k * k];
                for oy in 0..out_h {
                    for ky in 0..k {
                        let Some(y) = (oy * g.stride + ky).checked_sub(top).filter(|y| *y < h) else {
                            continue;
                        };
                        for ox in 0..out_w {
                            let value = src[oy * out_w + ox];
                            for kx in 0..k {
                                if let Some(x) = (ox * g.stride + kx).checked_sub(left).filter(|x| *x < w) {
                                    dst[y * w + x] += kernel[ky * k + kx] * value;
                                }
                            }
                        }
                    }
                }
            });
        grad_input
    }
}

/// Adds the `(in*k*k, rows*out_width)` columns of one block back onto the input positions
/// im2col gathers them from (col2im); columns over the padding are dropped.
fn add_columns(g: &ConvGeometry, block: &[f32], rows: Range<usize>, out_w: usize, image: &mut [f32], size: (usize, usize)) {
    let (h, w) = size;
    let k = g.kernel;
    let stride = g.stride;
    let [top, left, _, _] = g.padding;
    let columns = rows.len() * out_w;
    for (row_index, src) in block.chunks(columns).enumerate() {
        let c = row_index / (k * k);
        let ky = (row_index / k) % k;
        let kx = row_index % k;
        let plane = &mut image[c * h * w..(c + 1) * h * w];
        // Output columns whose input column lies inside the image: ox*stride + kx - left in [0, w).
        let first_col = left.saturating_sub(kx).div_ceil(stride);
        let end_col = if w + left > kx {
            ((w + left - kx - 1) / stride + 1).min(out_w)
        } else {
            0
        };
        for (local_row, oy) in rows.clone().enumerate() {
            let Some(y) = (oy * stride + ky).checked_sub(top).filter(|y| *y < h) else {
                continue;
            };
            let line = &mut plane[y * w..(y + 1) * w];
            let values = &src[local_row * out_w..(local_row + 1) * out_w];
            for ox in first_col..end_col {
                line[ox * stride + kx - left] += values[ox];
            }
        }
    }
}

/// `(out, in, k, k)` kernels as `(in, out, k, k)`, each turned by 180 degrees; a depthwise
/// convolution's `(channels, 1, k, k)` kernels are only turned.
fn flipped_swapped(g: &ConvGeometry, weight: &[f32]) -> Vec<f32> {
    let [outs, ins, k, _] = g.weight_dims();
    let taps = k * k;
    let mut flipped = vec![0f32; weight.len()];
    for o in 0..outs {
        for i in 0..ins {
            let src = &weight[(o * ins + i) * taps..][..taps];
            let at = if g.is_depthwise() { o } else { i * outs + o };
            for (t, value) in src.iter().enumerate() {
                flipped[at * taps + taps - 1 - t] = *value;
            }
        }
    }
    flipped
}
