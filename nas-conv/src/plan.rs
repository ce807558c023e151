//! A convolution prepared once from its weights and run on any number of inputs.

use crate::error::ConvError;
use crate::geometry::ConvGeometry;
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
    /// im2col + GEMM: everything else.
    Im2col,
}

/// Fewest input channels for which Winograd beats im2col: below it the 16 products are too thin.
pub const WINOGRAD_MIN_INPUTS: usize = 16;

enum Kernels {
    Winograd(WinogradWeights),
    Im2col(Im2colWeights),
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
    /// Prepares `weight` `(out, in, k, k)` and an optional `bias` `(out)` (zero when absent).
    pub fn new(geometry: ConvGeometry, weight: &[f32], bias: Option<&[f32]>) -> Result<Conv2dPlan, ConvError> {
        let g = geometry;
        check_len(
            "weight",
            &format!("({}, {}, {}, {})", g.out_channels, g.in_channels, g.kernel, g.kernel),
            g.weight_len(),
            weight.len(),
        )?;
        if g.kernel == 0 || g.stride == 0 {
            return Err(ConvError::Geometry(format!(
                "kernel {} and stride {} must both be at least 1",
                g.kernel, g.stride
            )));
        }
        let bias = match bias {
            Some(b) => {
                check_len("bias", &format!("({})", g.out_channels), g.out_channels, b.len())?;
                b.to_vec()
            }
            None => vec![0.0; g.out_channels],
        };
        let kernels = if g.kernel == 3 && g.stride == 1 && g.in_channels >= WINOGRAD_MIN_INPUTS {
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
        }
    }

    /// Convolves `input` `(batch, in_channels, height, width)` and adds the bias, then applies a
    /// ReLU when `relu` is set.
    pub fn run(&self, input: &[f32], batch: usize, height: usize, width: usize, relu: bool) -> Result<FeatureMap, ConvError> {
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
            let image = &input[b * image_len..(b + 1) * image_len];
            match &self.kernels {
                Kernels::Winograd(k) => k.block(image, g, (height, width), out_w, rows.clone(), inner_threads),
                Kernels::Im2col(k) => k.block(image, g, (height, width), out_w, rows.clone(), inner_threads),
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
                    let v = s + bias;
                    *d = if relu { v.max(0.0) } else { v };
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
