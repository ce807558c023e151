//! Gradients on the host kernels: a forward pass on `nas_conv`'s prepared convolutions that keeps
//! what the backward pass needs (each ReLU's output, each max-pool's input), then the backward
//! pass on the convolutions' prepared input gradients ([`nas_conv::InputGradientPlan`]).
//!
//! burn's automatic differentiation runs its own, slower convolution kernels in both directions;
//! ResNet, VGG and EfficientNet-Lite0 take this path instead for [`Backbone::input_gradient`](nas_core::Backbone) and
//! `level_gradient` when the input is on the CPU and no outer computation needs to differentiate
//! through them. Only the classifier head (a few small matrix products) still goes through burn.

use super::layers::host_values;
use nas_conv::{max_pool2d, max_pool2d_input_gradient, PoolGeometry};
use nas_core::backbone::{autodiff_input_gradient, autodiff_level_gradient, check_level, target_sum};
use nas_core::burn::tensor::TensorData;
use nas_core::device::runs_on_host;
use nas_core::differentiable::differentiable;
use nas_core::{Backbone, Device, Gradient, NasError, NasTensor, ReluGradient, Result};

/// A `(batch, channels, height, width)` array of host values in NCHW order.
#[derive(Clone)]
pub(crate) struct HostMap {
    pub(crate) data: Vec<f32>,
    pub(crate) dims: [usize; 4],
}

impl HostMap {
    /// The values of a CPU tensor.
    pub(crate) fn from_tensor(x: NasTensor<4>) -> Result<HostMap> {
        let dims = x.dims();
        let data = host_values(x).ok_or_else(|| NasError::InvalidInput("the backbone's input is not an f32 tensor".into()))?;
        Ok(HostMap { data, dims })
    }

    /// The values as a tensor on `device`.
    pub(crate) fn into_tensor(self, device: &Device) -> NasTensor<4> {
        NasTensor::from_data(TensorData::new(self.data, self.dims), device)
    }

    /// Height and width.
    pub(crate) fn size(&self) -> (usize, usize) {
        (self.dims[2], self.dims[3])
    }

    /// The gradient through a ReLU whose output was `output`, by `rule` (standard: zero
    /// wherever the output was not positive, PyTorch's convention at 0).
    pub(crate) fn through_relu(self, output: &HostMap, rule: ReluGradient) -> HostMap {
        self.through_rectifier(output, rule, |y| y > 0.0)
    }

    /// The gradient through a ReLU6 whose output was `output`, by `rule` (standard: zero
    /// wherever it was clamped, at or below 0, at or above 6, as PyTorch's `hardtanh` backward).
    pub(crate) fn through_relu6(self, output: &HostMap, rule: ReluGradient) -> HostMap {
        self.through_rectifier(output, rule, |y| y > 0.0 && y < 6.0)
    }

    /// The gradient through a rectifier that let `output` values through where `passed` says.
    fn through_rectifier(mut self, output: &HostMap, rule: ReluGradient, passed: impl Fn(f32) -> bool) -> HostMap {
        for (g, y) in self.data.iter_mut().zip(&output.data) {
            *g = rule.through(*g, passed(*y));
        }
        self
    }

    /// Element-wise sum with a map of the same shape.
    pub(crate) fn plus(mut self, other: &HostMap) -> HostMap {
        for (a, b) in self.data.iter_mut().zip(&other.data) {
            *a += b;
        }
        self
    }

    /// `max(x, 0)` in place.
    pub(crate) fn relu(mut self) -> HostMap {
        for v in &mut self.data {
            *v = v.max(0.0);
        }
        self
    }
}

/// What a backward pass differentiates against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GradientOf {
    /// The network's input.
    Input,
    /// A depth level, 0..4.
    Level(usize),
}

/// A backbone with a backward pass on the host kernels.
pub(crate) trait HostDifferentiable: Backbone + Sized {
    /// The gradient of each sample's target logit with respect to `of`, by the host kernels,
    /// through rectifiers by `rule`.
    fn host_gradient(&self, input: NasTensor<4>, targets: &[usize], of: GradientOf, rule: ReluGradient) -> Result<Gradient>;

    /// Whether the layers have host kernels (their weights are on the CPU).
    fn has_host_kernels(&self) -> bool;
}

/// Whether the host path can compute gradients for `input`: it lives on the CPU, nothing
/// around the call differentiates through the result, and `net` has host kernels.
fn applies<B: HostDifferentiable>(net: &B, input: &NasTensor<4>) -> bool {
    runs_on_host(input) && net.has_host_kernels()
}

/// [`Backbone::input_gradient`] by the host kernels where they apply, else by burn.
pub(crate) fn input_gradient<B: HostDifferentiable>(net: &B, input: NasTensor<4>, targets: &[usize]) -> Result<Gradient> {
    if applies(net, &input) {
        net.host_gradient(input, targets, GradientOf::Input, ReluGradient::Standard)
    } else {
        autodiff_input_gradient(net, input, targets)
    }
}

/// [`Backbone::modified_input_gradient`] by the host kernels where they apply; elsewhere only
/// the standard rule, by burn.
pub(crate) fn modified_input_gradient<B: HostDifferentiable>(
    net: &B,
    input: NasTensor<4>,
    targets: &[usize],
    rule: ReluGradient,
) -> Result<Gradient> {
    if applies(net, &input) {
        net.host_gradient(input, targets, GradientOf::Input, rule)
    } else if rule == ReluGradient::Standard {
        autodiff_input_gradient(net, input, targets)
    } else {
        Err(NasError::InvalidInput(format!(
            "{}: {rule:?} backward passes run on the CPU's host kernels only (use --device cpu)",
            net.info().name
        )))
    }
}

/// [`Backbone::level_gradient`] by the host kernels where they apply, else by burn.
pub(crate) fn level_gradient<B: HostDifferentiable>(net: &B, input: NasTensor<4>, level: usize, targets: &[usize]) -> Result<Gradient> {
    check_level(level)?;
    if applies(net, &input) {
        net.host_gradient(input, targets, GradientOf::Level(level), ReluGradient::Standard)
    } else {
        autodiff_level_gradient(net, input, level, targets)
    }
}

/// The logits of `features` through the classifier `head`, and the gradient of each sample's
/// target logit with respect to `features` (by burn's automatic differentiation).
pub(crate) fn head_gradient(
    features: &HostMap,
    device: &Device,
    targets: &[usize],
    head: impl Fn(NasTensor<4>) -> NasTensor<2>,
) -> Result<(NasTensor<2>, HostMap)> {
    let leaf = features.clone().into_tensor(device).require_grad();
    let scope = differentiable();
    let logits = head(leaf.clone());
    drop(scope);
    let grads = target_sum(&logits, targets)?.backward();
    let grad = leaf
        .grad(&grads)
        .ok_or_else(|| NasError::InvalidInput("the classifier's input received no gradient".into()))?;
    let grad = HostMap::from_tensor(NasTensor::from_inner(grad))?;
    Ok((logits.detach(), grad))
}

/// Max pooling of host values.
pub(crate) fn max_pool(x: &HostMap, pool: PoolGeometry) -> Result<HostMap> {
    let [batch, channels, height, width] = x.dims;
    let out = max_pool2d(&x.data, batch, channels, height, width, pool).map_err(|e| pooling_error(pool, e))?;
    Ok(HostMap {
        data: out.data,
        dims: [batch, channels, out.height, out.width],
    })
}

/// The gradient through a max pooling whose input was `input`, given its output's gradient.
pub(crate) fn max_pool_backward(input: &HostMap, grad: &HostMap, pool: PoolGeometry) -> Result<HostMap> {
    let [batch, channels, height, width] = input.dims;
    let data =
        max_pool2d_input_gradient(&input.data, &grad.data, batch, channels, height, width, pool).map_err(|e| pooling_error(pool, e))?;
    Ok(HostMap { data, dims: input.dims })
}

fn pooling_error(pool: PoolGeometry, e: nas_conv::ConvError) -> NasError {
    NasError::InvalidInput(format!("max pooling {pool:?}: {e}"))
}

/// The result handed back: `value` (the tensor differentiated against), its gradient and the
/// logits of the pass.
pub(crate) fn gradient(value: NasTensor<4>, grad: HostMap, logits: NasTensor<2>) -> Gradient {
    let device = value.device();
    Gradient {
        value,
        grad: grad.into_tensor(&device),
        logits,
    }
}
