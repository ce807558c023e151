//! Depthwise convolution (one kernel per channel, `groups == in == out`), computed directly: each
//! kernel tap adds a scaled, shifted copy of the zero-padded channel to the output, as one long
//! contiguous update the compiler vectorises.

use crate::activation::Activation;
use crate::geometry::ConvGeometry;
use nas_simd::vectorized;

/// Kernels `(channels, k, k)`, as PyTorch stores a depthwise weight `(channels, 1, k, k)`, and
/// the bias of each channel.
pub struct DepthwiseWeights {
    kernels: Vec<f32>,
    bias: Vec<f32>,
}

impl DepthwiseWeights {
    /// Keeps a copy of the kernels and biases.
    pub fn new(weight: &[f32], bias: &[f32]) -> DepthwiseWeights {
        DepthwiseWeights {
            kernels: weight.to_vec(),
            bias: bias.to_vec(),
        }
    }

    /// Convolves one channel `plane` `(h, w)` into `out` `(out_h, out_w)`, adds the channel's bias
    /// and applies `activation`.
    pub fn channel(
        &self,
        geometry: &ConvGeometry,
        channel: usize,
        plane: &[f32],
        size: (usize, usize),
        out: &mut [f32],
        activation: Activation,
    ) {
        let bias = self.bias[channel];
        let [_, left, _, right] = geometry.padding;
        let out_width = (size.1 + left + right - geometry.kernel) / geometry.stride + 1;
        let kernel = &self.kernels[channel * geometry.kernel * geometry.kernel..(channel + 1) * geometry.kernel * geometry.kernel];
        vectorized(
            #[inline(always)]
            || {
                convolve_channel(geometry, kernel, plane, size, out, out_width, bias);
                for v in out.iter_mut() {
                    *v = activation.apply(*v);
                }
            },
        );
    }
}

/// The padded channel is split into `stride x stride` phases (rows and columns by their remainder
/// modulo the stride), so that every tap reads one phase at a fixed offset; the output is
/// accumulated with the phases' row pitch, each tap one long contiguous update, then cropped.
#[inline(always)]
fn convolve_channel(
    geometry: &ConvGeometry,
    kernel: &[f32],
    plane: &[f32],
    size: (usize, usize),
    out: &mut [f32],
    out_width: usize,
    bias: f32,
) {
    let (h, w) = size;
    let k = geometry.kernel;
    let s = geometry.stride;
    let [top, left, bottom, right] = geometry.padding;
    let phase_w = (w + left + right).div_ceil(s);
    // One spare row: the last tap's update runs past the end of its final row.
    let phase_len = ((h + top + bottom).div_ceil(s) + 1) * phase_w;
    let mut phases = vec![0f32; s * s * phase_len];
    for (y, line) in plane.chunks(w).enumerate() {
        let r = y + top;
        let row_start = (r % s) * s * phase_len + (r / s) * phase_w;
        for column_phase in 0..s {
            // Input columns x with (x + left) % s == column_phase, from the first one on.
            let first = (column_phase + s - left % s) % s;
            let start = row_start + column_phase * phase_len;
            let dst = &mut phases[start + (first + left) / s..start + phase_w];
            for (d, v) in dst.iter_mut().zip(line[first.min(w)..].iter().step_by(s)) {
                *d = *v;
            }
        }
    }
    let out_h = out.len() / out_width.max(1);
    let mut acc = vec![bias; out_h * phase_w];
    for ky in 0..k {
        for kx in 0..k {
            let weight = kernel[ky * k + kx];
            let start = ((ky % s) * s + kx % s) * phase_len + (ky / s) * phase_w + kx / s;
            for (a, v) in acc.iter_mut().zip(&phases[start..start + out_h * phase_w]) {
                *a += weight * v;
            }
        }
    }
    for (dst, src) in out.chunks_mut(out_width.max(1)).zip(acc.chunks(phase_w)) {
        dst.copy_from_slice(&src[..dst.len()]);
    }
}
