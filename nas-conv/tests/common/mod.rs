//! Test support shared by the convolution tests: seeded random data and geometries.
#![allow(dead_code)]

use nas_conv::ConvGeometry;
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `len` values uniform in [-1, 1], the same for the same `seed`.
pub fn random(len: usize, seed: u64) -> Vec<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| (rng.next_u32() as f32 / u32::MAX as f32) * 2.0 - 1.0).collect()
}

/// An ordinary convolution.
pub fn geometry(in_channels: usize, out_channels: usize, kernel: usize, stride: usize, padding: [usize; 4]) -> ConvGeometry {
    ConvGeometry {
        in_channels,
        out_channels,
        kernel,
        stride,
        padding,
        groups: 1,
    }
}

/// A depthwise convolution.
pub fn depthwise(channels: usize, kernel: usize, stride: usize, padding: [usize; 4]) -> ConvGeometry {
    ConvGeometry {
        groups: channels,
        ..geometry(channels, channels, kernel, stride, padding)
    }
}
