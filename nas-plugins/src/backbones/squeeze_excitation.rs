//! Squeeze-excitation (Hu et al. 2018), as torchvision's `SqueezeExcitation`: each channel of a
//! map scaled by a gate computed from all channels' means through two 1x1 convolutions
//! (`fc1`, `fc2`). EfficientNet-B gates with SiLU and a sigmoid, MobileNetV3 with ReLU and a
//! hard sigmoid, RegNetY with ReLU and a sigmoid.

use super::layers::{global_average, hardsigmoid, Conv2d, ConvGeometry};
use nas_core::burn::tensor::activation::sigmoid;
use nas_core::weights::StateDict;
use nas_core::{NasTensor, Result};

/// The activations between and after the two convolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// SiLU, then a sigmoid (EfficientNet).
    SiluSigmoid,
    /// ReLU, then a hard sigmoid (MobileNetV3).
    ReluHardSigmoid,
    /// ReLU, then a sigmoid (RegNetY).
    ReluSigmoid,
}

/// A squeeze-excitation module.
pub struct SqueezeExcitation {
    reduce: Conv2d,
    expand: Conv2d,
    gate: Gate,
}

impl SqueezeExcitation {
    /// Loads `key.fc1` (`channels` to `squeezed`) and `key.fc2` (back), both with bias.
    pub fn load(sd: &mut StateDict, key: &str, channels: usize, squeezed: usize, gate: Gate) -> Result<SqueezeExcitation> {
        Ok(SqueezeExcitation {
            reduce: Conv2d::load(sd, &format!("{key}.fc1"), ConvGeometry::symmetric(channels, squeezed, 1, 1, 0))?,
            expand: Conv2d::load(sd, &format!("{key}.fc2"), ConvGeometry::symmetric(squeezed, channels, 1, 1, 0))?,
            gate,
        })
    }

    /// `x` `(batch, channels, h, w)` with every channel scaled by its gate.
    pub fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let [batch, channels, ..] = x.dims();
        let means = global_average(x.clone()).reshape([batch, channels, 1, 1]);
        let gate = match self.gate {
            Gate::SiluSigmoid => sigmoid(self.expand.forward(self.reduce.forward_silu(means))),
            Gate::ReluHardSigmoid => hardsigmoid(self.expand.forward(self.reduce.forward_relu(means))),
            Gate::ReluSigmoid => sigmoid(self.expand.forward(self.reduce.forward_relu(means))),
        };
        x * gate
    }
}
