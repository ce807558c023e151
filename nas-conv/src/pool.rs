//! Max pooling, as PyTorch's `MaxPool2d` with dilation 1 and `ceil_mode=False`.

use crate::error::ConvError;
use crate::plan::FeatureMap;
use rayon::prelude::*;

/// Geometry of a square max-pooling window: padded positions never win (PyTorch pads with -inf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolGeometry {
    /// Window height and width.
    pub kernel: usize,
    /// Stride in both directions.
    pub stride: usize,
    /// Implicit padding on every side; at most half the window, as PyTorch requires.
    pub padding: usize,
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
    let PoolGeometry { kernel, stride, padding } = pool;
    let expected = batch * channels * height * width;
    if input.len() != expected {
        return Err(ConvError::Length {
            what: "input",
            shape: format!("({batch}, {channels}, {height}, {width})"),
            expected,
            actual: input.len(),
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
    let out_h = (height + 2 * padding - kernel) / stride + 1;
    let out_w = (width + 2 * padding - kernel) / stride + 1;
    let mut data = vec![0f32; batch * channels * out_h * out_w];
    if data.is_empty() {
        return Ok(FeatureMap {
            data,
            height: out_h,
            width: out_w,
        });
    }
    // Window rows/columns clipped to the image: [start, end) of input indices for output index o.
    let span = |o: usize, size: usize| {
        let start = (o * stride).saturating_sub(padding);
        let end = (o * stride + kernel - padding).min(size);
        start..end
    };
    data.par_chunks_mut(out_h * out_w)
        .zip(input.par_chunks(height * width))
        .for_each(|(dst, plane)| {
            for oy in 0..out_h {
                let rows = span(oy, height);
                for ox in 0..out_w {
                    let cols = span(ox, width);
                    let mut best = f32::NEG_INFINITY;
                    for y in rows.clone() {
                        for &v in &plane[y * width + cols.start..y * width + cols.end] {
                            // NaN wins, as in PyTorch.
                            if v > best || v.is_nan() {
                                best = v;
                            }
                        }
                    }
                    dst[oy * out_w + ox] = best;
                }
            }
        });
    Ok(FeatureMap {
        data,
        height: out_h,
        width: out_w,
    })
}
