//! Fast inference-only 2D convolutions (and max pooling) on host `f32` arrays in PyTorch's NCHW
//! layout.
//!
//! burn's CPU backend runs every convolution as a tiled im2col + matrix product and re-lays out
//! the weights on every call. A classifier's weights do not change between calls, so this crate
//! prepares them once ([`Conv2dPlan::new`]) and picks the algorithm per layer:
//!
//! - 3x3, stride 1 convolutions with enough input channels use Winograd's minimal filtering
//!   F(2x2, 3x3): 16 multiplications per 2x2 output tile instead of 36, so the matrix products
//!   shrink 2.25x (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Its
//!   transforms only add, subtract and halve, so the result stays within float rounding of a
//!   direct convolution;
//! - every other ungrouped convolution uses im2col + GEMM on blocks of output rows sized to stay
//!   in cache (1x1 stride-1 convolutions read the input in place);
//! - depthwise convolutions (one kernel per channel) are computed directly, channel by channel;
//! - other grouped convolutions (ResNeXt's) run one ungrouped plan per group of channels.
//!
//! [`max_pool2d`] completes the set a ResNet or VGG needs on the host ([`avg_pool2d`] Inception
//! v3's), [`layer_norm_channels`] and [`gelu_in_place`] the set of a ConvNeXt,
//! [`layer_norm_rows`] a transformer's, [`silu_in_place`] an EfficientNet's,
//! [`hardswish_in_place`] a MobileNetV3's, [`attention`] a transformer's multi-head attention. For backward passes, [`InputGradientPlan`] prepares each
//! convolution's input gradient (a transposed convolution) and [`max_pool2d_input_gradient`]
//! routes pooled gradients to the window maxima. [`matmul`], the bounds-checked matrix product
//! these algorithms share, is public for other host code.
//!
//! Bias and an [`Activation`] (ReLU, ReLU6) are applied while the output is written. Groups
//! that do not divide both channel counts are refused by [`Conv2dPlan::new`]. Work
//! is spread over rayon's thread pool; results do not depend on the number of threads.
//! Design and timings: `docs/parity.md` ("CPU speed") in the repository.

#![warn(missing_docs)]

mod activation;
mod attention;
pub mod dense;
mod depthwise;
mod elementwise;
mod error;
mod exp;
mod gelu;
mod geometry;
mod grouped;
mod hardswish;
mod im2col;
mod input_gradient;
mod layer_norm;
pub mod matmul;
mod plan;
mod pool;
mod silu;
mod winograd;

pub use activation::Activation;
pub use attention::{attention, AttentionShape, ScoreTerms};
pub use error::ConvError;
pub use gelu::{gelu, gelu_and_slope, gelu_in_place, gelu_with_slopes};
pub use geometry::ConvGeometry;
pub use hardswish::{hardswish, hardswish_in_place};
pub use input_gradient::InputGradientPlan;
pub use layer_norm::{layer_norm_channels, layer_norm_rows};
pub use plan::{Algorithm, Conv2dPlan, FeatureMap, WINOGRAD_MIN_INPUTS};
pub use pool::{avg_pool2d, max_pool2d, max_pool2d_input_gradient, PoolGeometry};
pub use silu::{silu, silu_and_slope, silu_in_place, silu_with_slopes};
