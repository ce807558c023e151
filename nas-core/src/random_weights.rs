//! Seeded random weights for any architecture: `weights = "random:SEED"` in place of a file.
//!
//! For checks and benchmarks that need a network but not a trained one (CPU-vs-GPU agreement,
//! throughput), like `pretrained=False` in torchvision or timm. Every tensor is drawn from the
//! seed and its key, so a key's values do not depend on which other keys the network reads.
//! Scales keep activations finite through deep networks: He-uniform for weight matrices and
//! kernels, BatchNorm statistics near the identity, LayerNorm and BatchNorm gains near one.

use crate::error::{NasError, Result};
use std::path::Path;

/// The seed of a `random:SEED` weight specification; `None` for an ordinary path.
pub fn seed_of(path: &Path) -> Option<Result<u64>> {
    let spec = path.to_str()?.strip_prefix("random:")?;
    Some(spec.parse::<u64>().map_err(|_| {
        NasError::InvalidInput(format!(
            "weights `random:{spec}`: expected random:SEED with SEED a non-negative integer"
        ))
    }))
}

/// 64 random bits per call (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[low, high)`.
    fn uniform(&mut self, low: f32, high: f32) -> f32 {
        let unit = (self.next() >> 40) as f32 / (1u64 << 24) as f32;
        low + (high - low) * unit
    }
}

/// FNV-1a hash of a key, to give every key its own stream.
fn key_hash(key: &str) -> u64 {
    key.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The values of `key` with `shape` for `seed`.
pub fn values(seed: u64, key: &str, shape: &[usize]) -> Vec<f32> {
    let mut rng = SplitMix(seed ^ key_hash(key));
    let count: usize = shape.iter().product();
    let (low, high) = if key.ends_with("running_var") {
        (0.5, 1.5)
    } else if key.ends_with("running_mean") || key.ends_with("bias") {
        (-0.1, 0.1)
    } else if shape.len() <= 1 {
        (0.9, 1.1)
    } else {
        let fan_in: usize = shape.iter().skip(1).product();
        let bound = (6.0 / fan_in.max(1) as f32).sqrt();
        (-bound, bound)
    };
    (0..count).map(|_| rng.uniform(low, high)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_depend_on_seed_and_key_only() {
        let a = values(3, "layer1.0.conv1.weight", &[4, 2, 3, 3]);
        assert_eq!(a, values(3, "layer1.0.conv1.weight", &[4, 2, 3, 3]));
        assert_ne!(a, values(4, "layer1.0.conv1.weight", &[4, 2, 3, 3]));
        assert_ne!(a, values(3, "layer1.0.conv2.weight", &[4, 2, 3, 3]));
        let bound = (6.0f32 / 18.0).sqrt();
        assert!(a.iter().all(|v| v.abs() <= bound));
        assert!(values(0, "bn1.running_var", &[8]).iter().all(|v| *v >= 0.5));
        assert_eq!(values(0, "logit_scale", &[]).len(), 1, "a scalar tensor is one value");
    }

    #[test]
    fn specification_is_parsed_with_a_clear_error() {
        assert!(matches!(seed_of(Path::new("random:7")), Some(Ok(7))));
        assert!(seed_of(Path::new("weights/resnet18.pth")).is_none());
        let Some(Err(err)) = seed_of(Path::new("random:x")) else {
            panic!("`random:x` must be recognised and refused");
        };
        let err = err.to_string();
        assert!(err.contains("random:x") && err.contains("SEED"), "{err}");
    }
}
