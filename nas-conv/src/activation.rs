//! The activation a convolution applies to its output as it writes it.

/// An element-wise activation fused into a convolution's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Activation {
    /// No activation: the convolution plus bias.
    #[default]
    Identity,
    /// `max(x, 0)`.
    Relu,
    /// `min(max(x, 0), 6)`, as MobileNets and EfficientNet-Lite use.
    Relu6,
}

impl Activation {
    /// Applies the activation to one value (NaN passes through, as in PyTorch).
    #[inline]
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Activation::Identity => x,
            Activation::Relu => {
                if x < 0.0 {
                    0.0
                } else {
                    x
                }
            }
            Activation::Relu6 => x.clamp(0.0, 6.0),
        }
    }
}
