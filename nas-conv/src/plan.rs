//! A convolution prepared once from its weights and run on any number of inputs.

use crate::activation::Activation;
use crate::depthwise::DepthwiseWeights;
use crate::error::ConvError;
use crate::geometry::ConvGeometry;
use crate::grouped;
use crate::im2col::Im2colWeights;
use crate::winograd::WinogradWeights;
use rayon::prelude::*;
use std::ops::Range;

/// The algorithm a plan runs, chosen from the geometry by [`Conv2dPlan::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// Winograd F(2x2, 3x3): 3x3 kernels, stride 1, at least [`WINOGRAD_MIN_INPUTS`] input
    /// channels.
    Winograd,
    /// im2col + GEMM: every other ungrouped convolution.
    Im2col,
    /// Direct per-channel convolution: depthwise convolutions.
    Depthwise,
    /// One ungrouped plan per group of channels: other grouped convolutions.
    Grouped,
}

/// Fewest input channels for which Winograd beats im2col: below it the 16 products are too thin.
pub const WINOGRAD_MIN_INPUTS: usize = 16;

enum Kernels {
    Winograd(WinogradWeights),
    Im2col(Im2colWeights),
    Depthwise(DepthwiseWeights),
    Grouped(Vec<Conv2dPlan>),
}

/// One unit of work for the blocked algorithms: output rows `rows` of one image
/// `(in, size.0, size.1)` whose output is `out_width` wide, on `threads` threads.
pub(crate) struct RowBlock<'a> {
    pub image: &'a [f32],
    pub size: (usize, usize),
    pub out_width: usize,
    pub rows: Range<usize>,
    pub threads: usize,
}

/// A convolution's weights prepared for repeated inference.
pub struct Conv2dPlan {
    geometry: ConvGeometry,
    kernels: Kernels,
    bias: Vec<f32>,
}

/// A `(batch, channels, height, width)` result of a convolution or a pooling.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMap {
    /// Values in NCHW order.
    pub data: Vec<f32>,
    /// Output height.
    pub height: usize,
    /// Output width.
    pub width: usize,
}

impl Conv2dPlan {
    /// Prepares `weight` `(out, in / groups, k, k)` and an optional `bias` `(out)` (zero when
    /// absent).
    pub fn new(geometry: ConvGeometry, weight: &[f32], bias: Option<&[f32]>) -> Result<Conv2dPlan, ConvError> {
        let g = geometry;
        g.validate()?;
        check_len(
            "weight",
            &format!("({}, {}, {}, {})", g.out_channels, g.in_channels / g.groups, g.kernel, g.kernel),
            g.weight_len(),
            weight.len(),
        )?;
        let bias = match bias {
            Some(b) => {
                check_len("bias", &format!("({})", g.out_channels), g.out_channels, b.len())?;
                b.to_vec()
            }
            None => vec![0.0; g.out_channels],
        };
        let kernels = if g.is_depthwise() {
            Kernels::Depthwise(DepthwiseWeights::new(weight, &bias))
        } else if g.groups > 1 {
            let part = grouped::group_geometry(&g);
            let per_group = part.out_channels;
            let plans = weight
                .chunks_exact(part.weight_len())
                .zip(bias.chunks_exact(per_group))
                .map(|(w, b)| Conv2dPlan::new(part, w, Some(b)))
                .collect::<Result<Vec<_>, _>>()?;
            Kernels::Grouped(plans)
        } else if g.kernel == 3 && g.stride == 1 && g.in_channels >= WINOGRAD_MIN_INPUTS {
            Kernels::Winograd(WinogradWeights::new(&g, weight))
        } else {
            Kernels::Im2col(Im2colWeights::new(weight))
        };
        Ok(Conv2dPlan { geometry, kernels, bias })
    }

    /// The geometry the plan was prepared for.
    pub fn geometry(&self) -> &ConvGeometry {
        &self.geometry
    }

    /// The algorithm this plan runs.
    pub fn algorithm(&self) -> Algorithm {
        match self.kernels {
            Kernels::Winograd(_) => Algorithm::Winograd,
            Kernels::Im2col(_) => Algorithm::Im2col,
            Kernels::Depthwise(_) => Algorithm::Depthwise,
            Kernels::Grouped(_) => Algorithm::Grouped,
        }
    }

    /// Convolves `input` `(batch, in_channels, height, width)`, adds the bias and applies
    /// `activation`.
    pub fn run(&self, input: &[f32], batch: usize, height: usize, width: usize, activation: Activation) -> Result<FeatureMap, ConvError> {
        let g = &self.geometry;
        let image_len = g.in_channels * height * width;
        check_len(
            "input",
            &format!("({batch}, {}, {height}, {width})", g.in_channels),
            batch * image_len,
            input.len(),
        )?;
        let (out_h, out_w) = g.output_size(height, width)?;
        let rows_per_block = match &self.kernels {
            Kernels::Winograd(k) => k.rows_per_block(out_h, out_w),
            Kernels::Im2col(k) => k.rows_per_block(g, out_w),
            Kernels::Depthwise(k) => return Ok(self.run_depthwise(k, input, batch, (height, width), (out_h, out_w), activation)),
            Kernels::Grouped(plans) => return self.run_grouped(plans, input, batch, (height, width), activation),
        };
        let blocks: Vec<(usize, Range<usize>)> = (0..batch)
            .flat_map(|b| {
                (0..out_h)
                    .step_by(rows_per_block)
                    .map(move |r| (b, r..(r + rows_per_block).min(out_h)))
            })
            .collect();
        let threads = rayon::current_num_threads();
        let compute = |(b, rows): &(usize, Range<usize>), inner_threads: usize| {
            let job = RowBlock {
                image: &input[b * image_len..(b + 1) * image_len],
                size: (height, width),
                out_width: out_w,
                rows: rows.clone(),
                threads: inner_threads,
            };
            match &self.kernels {
                Kernels::Winograd(k) => k.block(g, &job),
                Kernels::Im2col(k) => k.block(g, &job),
                Kernels::Depthwise(_) | Kernels::Grouped(_) => unreachable!("depthwise and grouped convolutions return before blocking"),
            }
        };
        let results: Vec<Vec<f32>> = if blocks.len() >= threads {
            blocks.par_iter().map(|block| compute(block, 1)).collect()
        } else {
            blocks.iter().map(|block| compute(block, threads)).collect()
        };

        let plane = out_h * out_w;
        let mut data = vec![0f32; batch * g.out_channels * plane];
        for ((b, rows), values) in blocks.iter().zip(&results) {
            let block_len = rows.len() * out_w;
            for (o, (src, bias)) in values.chunks(block_len).zip(&self.bias).enumerate() {
                let start = (b * g.out_channels + o) * plane + rows.start * out_w;
                let dst = &mut data[start..start + block_len];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = activation.apply(s + bias);
                }
            }
        }
        Ok(FeatureMap {
            data,
            height: out_h,
            width: out_w,
        })
    }
}

impl Conv2dPlan {
    /// A grouped convolution: each group's plan on its channels of every image, in parallel.
    fn run_grouped(
        &self,
        plans: &[Conv2dPlan],
        input: &[f32],
        batch: usize,
        size: (usize, usize),
        activation: Activation,
    ) -> Result<FeatureMap, ConvError> {
        let g = &self.geometry;
        let (in_share, out_share) = (g.in_channels / g.groups, g.out_channels / g.groups);
        let parts = plans
            .par_iter()
            .enumerate()
            .map(|(group, plan)| {
                let part = grouped::gather(input, g.in_channels, size.0 * size.1, in_share, group);
                plan.run(&part, batch, size.0, size.1, activation)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (height, width) = g.output_size(size.0, size.1)?;
        let mut data = vec![0f32; batch * g.out_channels * height * width];
        for (group, part) in parts.iter().enumerate() {
            grouped::scatter(&part.data, &mut data, g.out_channels, height * width, out_share, group);
        }
        Ok(FeatureMap { data, height, width })
    }

    /// A depthwise convolution: every `(image, channel)` plane on its own, in parallel.
    fn run_depthwise(
        &self,
        kernels: &DepthwiseWeights,
        input: &[f32],
        batch: usize,
        size: (usize, usize),
        out_size: (usize, usize),
        activation: Activation,
    ) -> FeatureMap {
        let g = &self.geometry;
        let (out_h, out_w) = out_size;
        let plane_len = size.0 * size.1;
        let mut data = vec![0f32; batch * g.out_channels * out_h * out_w];
        if out_h * out_w > 0 && plane_len > 0 {
            data.par_chunks_mut(out_h * out_w)
                .zip(input.par_chunks(plane_len))
                .enumerate()
                .for_each(|(index, (out, plane))| {
                    let channel = index % g.out_channels;
                    kernels.channel(g, channel, plane, size, out, activation);
                });
        }
        FeatureMap {
            data,
            height: out_h,
            width: out_w,
        }
    }
}

fn check_len(what: &'static str, shape: &str, expected: usize, actual: usize) -> Result<(), ConvError> {
    if expected == actual {
        Ok(())
    } else {
        Err(ConvError::Length {
            what,
            shape: shape.to_string(),
            expected,
            actual,
        })
    }
}
