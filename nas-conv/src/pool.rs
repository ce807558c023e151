//! Max pooling, as PyTorch's `MaxPool2d` with dilation 1 and `ceil_mode=False`, and average
//! pooling, as its `AvgPool2d` with `count_include_pad=True` (the default) and `ceil_mode=False`.

use crate::error::ConvError;
use crate::plan::FeatureMap;
use rayon::prelude::*;
use std::ops::Range;

/// Geometry of a square pooling window: padded positions never win a max pool (PyTorch pads
/// with -inf) and count as zeros in an average pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeometry {
    /// Window height and width.
    pub kernel: usize,
    /// Stride in both directions.
    pub stride: usize,
    /// Implicit padding on every side; at most half the window, as PyTorch requires.
    pub padding: usize,
}

impl PoolGeometry {
    /// Output height and width for a `height x width` input (checked by [`PoolGeometry::check`]).
    fn output_size(&self, height: usize, width: usize) -> (usize, usize) {
        (
            (height + 2 * self.padding - self.kernel) / self.stride + 1,
            (width + 2 * self.padding - self.kernel) / self.stride + 1,
        )
    }

    /// The input rows (or columns) of output index `o`'s window, clipped to the image.
    fn window(&self, o: usize, size: usize) -> Range<usize> {
        let start = (o * self.stride).saturating_sub(self.padding);
        let end = (o * self.stride + self.kernel - self.padding).min(size);
        start..end
    }

    /// Checks the window against the input `(batch, channels, height, width)` of `len` values.
    fn check(&self, len: usize, batch: usize, channels: usize, height: usize, width: usize) -> Result<(), ConvError> {
        let PoolGeometry { kernel, stride, padding } = *self;
        let expected = batch * channels * height * width;
        if len != expected {
            return Err(ConvError::Length {
                what: "input",
                shape: format!("({batch}, {channels}, {height}, {width})"),
                expected,
                actual: len,
            });
        }
        if kernel == 0 || stride == 0 || 2 * padding > kernel {
            return Err(ConvError::Geometry(format!(
                "pooling window {kernel}, stride {stride}, padding {padding}: expected window and stride >= 1 and padding <= window / 2"
            )));
        }
        if height + 2 * padding < kernel || width + 2 * padding < kernel {
            return Err(ConvError::Geometry(format!(
                "a {height}x{width} input padded by {padding} is smaller than the {kernel}x{kernel} pooling window"
            )));
        }
        Ok(())
    }
}

/// Average-pools `input` `(batch, channels, height, width)` channel by channel, every window
/// divided by its full `kernel x kernel` size, padding included.
pub fn avg_pool2d(
    input: &[f32],
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    pool: PoolGeometry,
) -> Result<FeatureMap, ConvError> {
    let area = (pool.kernel * pool.kernel) as f32;
    pool_planes(input, [batch, channels, height, width], pool, |window| {
        window.rows().map(|row| row.iter().sum::<f32>()).sum::<f32>() / area
    })
}

/// Max-pools `input` `(batch, channels, height, width)` channel by channel.
pub fn max_pool2d(
    input: &[f32],
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    pool: PoolGeometry,
) -> Result<FeatureMap, ConvError> {
    pool_planes(input, [batch, channels, height, width], pool, |window| {
        let mut best = f32::NEG_INFINITY;
        for row in window.rows() {
            for &v in row {
                // NaN wins, as in PyTorch.
                if v > best || v.is_nan() {
                    best = v;
                }
            }
        }
        best
    })
}

/// One pooling window of a plane, clipped to the image.
struct Window<'a> {
    plane: &'a [f32],
    width: usize,
    rows: Range<usize>,
    cols: Range<usize>,
}

impl<'a> Window<'a> {
    /// The window's part of each of its rows.
    fn rows(&self) -> impl Iterator<Item = &'a [f32]> + '_ {
        self.rows
            .clone()
            .map(|y| &self.plane[y * self.width + self.cols.start..y * self.width + self.cols.end])
    }
}

/// Pools every plane of `input` `(batch, channels, height, width)`: each output is `reduce` of
/// its window (padding left out).
fn pool_planes(
    input: &[f32],
    [batch, channels, height, width]: [usize; 4],
    pool: PoolGeometry,
    reduce: impl Fn(Window<'_>) -> f32 + Sync,
) -> Result<FeatureMap, ConvError> {
    pool.check(input.len(), batch, channels, height, width)?;
    let (out_h, out_w) = pool.output_size(height, width);
    let mut data = vec![0f32; batch * channels * out_h * out_w];
    if !data.is_empty() {
        data.par_chunks_mut(out_h * out_w)
            .zip(input.par_chunks(height * width))
            .for_each(|(dst, plane)| {
                for oy in 0..out_h {
                    let rows = pool.window(oy, height);
                    for ox in 0..out_w {
                        let window = Window {
                            plane,
                            width,
                            rows: rows.clone(),
                            cols: pool.window(ox, width),
                        };
                        dst[oy * out_w + ox] = reduce(window);
                    }
                }
            });
    }
    Ok(FeatureMap {
        data,
        height: out_h,
        width: out_w,
    })
}

/// The gradient of [`max_pool2d`] with respect to its input: each output's gradient goes to the
/// position its window's maximum came from (the first one in row order when several are equal,
/// as PyTorch's CPU kernel picks it).
///
/// `input` is the pooling's input and `grad_output` the gradient of its output.
pub fn max_pool2d_input_gradient(
    input: &[f32],
    grad_output: &[f32],
    batch: usize,
    channels: usize,
    height: usize,
    width: usize,
    pool: PoolGeometry,
) -> Result<Vec<f32>, ConvError> {
    pool.check(input.len(), batch, channels, height, width)?;
    let (out_h, out_w) = pool.output_size(height, width);
    let expected = batch * channels * out_h * out_w;
    if grad_output.len() != expected {
        return Err(ConvError::Length {
            what: "output gradient",
            shape: format!("({batch}, {channels}, {out_h}, {out_w})"),
            expected,
            actual: grad_output.len(),
        });
    }
    let mut grad_input = vec![0f32; input.len()];
    if expected == 0 {
        return Ok(grad_input);
    }
    grad_input
        .par_chunks_mut(height * width)
        .zip(input.par_chunks(height * width))
        .zip(grad_output.par_chunks(out_h * out_w))
        .for_each(|((dst, plane), grads)| {
            for oy in 0..out_h {
                let rows = pool.window(oy, height);
                for ox in 0..out_w {
                    let cols = pool.window(ox, width);
                    let mut best = f32::NEG_INFINITY;
                    let mut at = rows.start * width + cols.start;
                    for y in rows.clone() {
                        for x in cols.clone() {
                            let v = plane[y * width + x];
                            // The same rule as the forward pass (and PyTorch's): NaN wins.
                            if v > best || v.is_nan() {
                                best = v;
                                at = y * width + x;
                            }
                        }
                    }
                    dst[at] += grads[oy * out_w + ox];
                }
            }
        });
    Ok(grad_input)
}
