//! Layer normalisation, mean first, then the biased variance around it, as PyTorch computes
//! them: over the channels of each pixel of an NCHW map ([`layer_norm_channels`]: torchvision's
//! `LayerNorm2d` and ConvNeXt's channels-last LayerNorm without moving the data; each image is
//! reduced channel by channel into per-pixel sums, contiguous rows that vectorise), and over
//! each contiguous row of a token or channels-last map ([`layer_norm_rows`]: ViT's and Swin's).

use nas_simd::vectorized;
use rayon::prelude::*;

/// `(x - mean) / sqrt(var + eps) * gamma + beta` over the channels of every pixel of `values`
/// `(batch, gamma.len(), pixels)`, with the per-channel `gamma` and `beta`.
pub fn layer_norm_channels(values: &mut [f32], pixels: usize, gamma: &[f32], beta: &[f32], eps: f32) {
    let channels = gamma.len();
    let image_len = channels * pixels;
    if image_len == 0 || beta.len() != channels {
        return;
    }
    values.par_chunks_mut(image_len).for_each(|image| {
        vectorized(
            #[inline(always)]
            || normalise_image(image, pixels, gamma, beta, eps),
        )
    });
}

#[inline(always)]
fn normalise_image(image: &mut [f32], pixels: usize, gamma: &[f32], beta: &[f32], eps: f32) {
    let scale = 1.0 / gamma.len() as f32;
    let mut mean = vec![0f32; pixels];
    for row in image.chunks_exact(pixels) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += v;
        }
    }
    mean.iter_mut().for_each(|m| *m *= scale);
    let mut inverse_std = vec![0f32; pixels];
    for row in image.chunks_exact(pixels) {
        for ((s, v), m) in inverse_std.iter_mut().zip(row).zip(&mean) {
            let d = v - m;
            *s += d * d;
        }
    }
    inverse_std.iter_mut().for_each(|s| *s = 1.0 / (*s * scale + eps).sqrt());
    for ((row, g), b) in image.chunks_exact_mut(pixels).zip(gamma).zip(beta) {
        for ((v, m), s) in row.iter_mut().zip(&mean).zip(&inverse_std) {
            *v = (*v - m) * s * g + b;
        }
    }
}

/// Rows of a parallel chunk in [`layer_norm_rows`].
const ROWS_PER_CHUNK: usize = 64;

/// `(x - mean) / sqrt(var + eps) * gamma + beta` over every row of `values`, rows of
/// `gamma.len()` values each.
pub fn layer_norm_rows(values: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let width = gamma.len();
    if width == 0 || beta.len() != width {
        return;
    }
    values.par_chunks_mut(width * ROWS_PER_CHUNK).for_each(|rows| {
        vectorized(
            #[inline(always)]
            || {
                for row in rows.chunks_exact_mut(width) {
                    normalise_row(row, gamma, beta, eps);
                }
            },
        )
    });
}

#[inline(always)]
fn normalise_row(row: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let scale = 1.0 / row.len() as f32;
    let mean = row.iter().sum::<f32>() * scale;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() * scale;
    let inverse_std = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in row.iter_mut().zip(gamma).zip(beta) {
        *v = (*v - mean) * inverse_std * g + b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows normalised as the same values laid out as one-pixel channel vectors.
    #[test]
    fn rows_normalise_as_channel_vectors() {
        let (rows, width) = (130, 9);
        let input: Vec<f32> = (0..rows * width).map(|i| ((i * 53 % 31) as f32 - 15.0) * 0.3).collect();
        let gamma: Vec<f32> = (0..width).map(|c| 1.0 + c as f32 * 0.1).collect();
        let beta: Vec<f32> = (0..width).map(|c| c as f32 * -0.05).collect();
        let mut ours = input.clone();
        layer_norm_rows(&mut ours, &gamma, &beta, 1e-5);
        for (r, row) in input.chunks_exact(width).enumerate() {
            let mut pixel = row.to_vec();
            layer_norm_channels(&mut pixel, 1, &gamma, &beta, 1e-5);
            for (a, b) in ours[r * width..(r + 1) * width].iter().zip(&pixel) {
                assert!((a - b).abs() < 1e-5, "row {r}: {a} vs {b}");
            }
        }
    }

    /// Against a float64 normalisation of each pixel's channel vector, on two images.
    #[test]
    fn normalises_each_pixel_over_its_channels() {
        let (batch, channels, pixels) = (2, 5, 7);
        let input: Vec<f32> = (0..batch * channels * pixels)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.7 + i as f32 * 0.01)
            .collect();
        let gamma: Vec<f32> = (0..channels).map(|c| 0.5 + c as f32 * 0.25).collect();
        let beta: Vec<f32> = (0..channels).map(|c| c as f32 * 0.1 - 0.2).collect();
        let mut ours = input.clone();
        layer_norm_channels(&mut ours, pixels, &gamma, &beta, 1e-6);
        for b in 0..batch {
            for p in 0..pixels {
                let at = |c: usize| (b * channels + c) * pixels + p;
                let xs: Vec<f64> = (0..channels).map(|c| f64::from(input[at(c)])).collect();
                let mean = xs.iter().sum::<f64>() / channels as f64;
                let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / channels as f64;
                for c in 0..channels {
                    let expected = (xs[c] - mean) / (var + 1e-6).sqrt() * f64::from(gamma[c]) + f64::from(beta[c]);
                    assert!((f64::from(ours[at(c)]) - expected).abs() < 1e-5, "image {b} pixel {p} channel {c}");
                }
            }
        }
    }
}
