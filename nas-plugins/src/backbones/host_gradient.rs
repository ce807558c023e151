//! Gradients on the host kernels: a forward pass on `nas_conv`'s prepared convolutions that keeps
//! what the backward pass needs (each ReLU's output, each max-pool's input), then the backward
//! pass on the convolutions' prepared input gradients ([`nas_conv::InputGradientPlan`]).
//!
//! burn's automatic differentiation runs its own, slower convolution kernels in both directions;
//! ResNet, VGG and EfficientNet-Lite0 take this path instead for [`Backbone::input_gradient`](nas_core::Backbone) and
//! `level_gradient` when the input is on the CPU and no outer computation needs to differentiate
//! through them. Only the classifier head (a few small matrix products) still goes through burn.
//! The same pass gives what burn's differentiation cannot: modified rectifier rules (guided
//! backpropagation, deconvolution), DeepLift's Rescale rule ([`Rule::Rescale`]), and each
//! convolution's output gradient for FullGrad ([`Watch`]).

use super::layers::{host_values, Conv2d};
use nas_conv::{max_pool2d, max_pool2d_input_gradient, Activation, PoolGeometry};
use nas_core::backbone::{autodiff_input_gradient, autodiff_level_gradient, check_level, neuron_input_gradient, Objective};
use nas_core::burn::tensor::TensorData;
use nas_core::device::runs_on_host;
use nas_core::differentiable::differentiable;
use nas_core::{Backbone, BiasGradient, Device, Gradient, NasError, NasTensor, Neuron, ReluGradient, Result};

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

    /// The gradient through the rectifier `site` by `rule`. Under the Rescale rule the gradient
    /// covers the first half of the site's batch (the inputs, before their references).
    pub(crate) fn through(mut self, site: &Rectified, rule: Rule) -> Result<HostMap> {
        let passes = |x: f32| match site.kind {
            Activation::Relu6 => x > 0.0 && x < 6.0,
            Activation::Relu => x > 0.0,
            Activation::Identity => true,
        };
        match rule {
            Rule::Gradient(rule) => {
                for (g, y) in self.data.iter_mut().zip(&site.values.data) {
                    *g = rule.through(*g, passes(*y));
                }
            }
            Rule::Rescale => {
                let input = site.input.as_ref().ok_or_else(|| {
                    NasError::InvalidInput(format!(
                        "DeepLift: a {:?} of shape {:?} kept no input for the Rescale rule",
                        site.kind, site.values.dims
                    ))
                })?;
                let half = input.data.len() / 2;
                if self.data.len() != half {
                    return Err(NasError::InvalidInput(format!(
                        "DeepLift: a gradient of shape {:?} for a {:?} of shape {:?} (inputs and references: twice the gradient's batch)",
                        self.dims, site.kind, site.values.dims
                    )));
                }
                let (x, reference) = input.data.split_at(half);
                let (y, reference_y) = site.values.data.split_at(half);
                for (i, g) in self.data.iter_mut().enumerate() {
                    let delta_in = x[i] - reference[i];
                    *g = if delta_in.abs() < RESCALE_EPS {
                        if passes(x[i]) {
                            *g
                        } else {
                            0.0
                        }
                    } else {
                        *g * (y[i] - reference_y[i]) / delta_in
                    };
                }
            }
        }
        Ok(self)
    }

    /// A copy of the first `batch` samples.
    pub(crate) fn leading(&self, batch: usize) -> HostMap {
        let [_, channels, height, width] = self.dims;
        let len = (batch * channels * height * width).min(self.data.len());
        HostMap {
            data: self.data[..len].to_vec(),
            dims: [len / (channels * height * width).max(1), channels, height, width],
        }
    }

    /// Element-wise sum with a map of the same shape.
    pub(crate) fn plus(mut self, other: &HostMap) -> HostMap {
        for (a, b) in self.data.iter_mut().zip(&other.data) {
            *a += b;
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

/// Where a host backward pass starts.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Start<'a> {
    /// Each sample's objective on the logits: the pass runs back through the classifier.
    Logits(Objective<'a>),
    /// Each sample's neuron at a depth level: the pass starts there, skipping the layers after
    /// it (Captum's neuron attributions).
    Neuron {
        /// The depth level.
        level: usize,
        /// The unit, or channel, of it.
        neuron: Neuron,
    },
}

impl Start<'_> {
    /// Whether the forward pass must produce depth level `level`: every level for a pass that
    /// starts at the logits, none after the neuron's.
    pub(crate) fn runs_to(&self, level: usize) -> bool {
        match *self {
            Start::Logits(_) => true,
            Start::Neuron { level: start, .. } => level <= start,
        }
    }

    /// For a pass that starts at the logits, the logits of the first `explained` samples of
    /// `features` through the classifier `head` and the gradient of its objective at
    /// `features`. A pass that starts at a neuron stopped its forward pass there: no logits
    /// (`explained x 0`) and no gradient yet.
    pub(crate) fn head(
        &self,
        features: &HostMap,
        explained: usize,
        device: &Device,
        head: impl Fn(NasTensor<4>) -> NasTensor<2>,
    ) -> Result<(NasTensor<2>, Option<HostMap>)> {
        match *self {
            Start::Logits(objective) => {
                let (logits, grad) = head_gradient(&features.leading(explained), device, objective, head)?;
                Ok((logits, Some(grad)))
            }
            Start::Neuron { .. } => Ok((NasTensor::zeros([explained, 0], device), None)),
        }
    }

    /// The gradient the pass carries on with below depth level `level`, whose values are
    /// `value` (the inputs', then under the Rescale rule their references'): the neuron's own
    /// where the pass starts at this level, else `grad`.
    pub(crate) fn at_level(&self, level: usize, value: &HostMap, explained: usize, grad: Option<HostMap>) -> Result<Option<HostMap>> {
        match *self {
            Start::Neuron { level: start, neuron } if start == level => Ok(Some(seed(neuron, level, value, explained)?)),
            _ => Ok(grad),
        }
    }
}

/// The gradient of each of the first `explained` samples' `neuron` with respect to its depth
/// level `level`, whose values are `value`: one at the neuron's positions, zero elsewhere.
fn seed(neuron: Neuron, level: usize, value: &HostMap, explained: usize) -> Result<HostMap> {
    let [_, channels, h, w] = value.dims;
    neuron.check_in(level, [channels, h, w])?;
    let mut data = vec![0.0; explained * channels * h * w];
    for sample in data.chunks_mut(channels * h * w) {
        match neuron {
            Neuron::At { channel, y, x } => sample[(channel * h + y) * w + x] = 1.0,
            Neuron::Channel(channel) => sample[channel * h * w..][..h * w].fill(1.0),
        }
    }
    Ok(HostMap {
        data,
        dims: [explained, channels, h, w],
    })
}

/// The gradient a backward pass reached the end with: refuses a pass whose start never came
/// (a neuron's level the backbone does not have).
pub(crate) fn started(grad: Option<HostMap>, start: Start<'_>) -> Result<HostMap> {
    grad.ok_or_else(|| NasError::InvalidInput(format!("the backward pass never reached its start, {start:?}")))
}

/// `step` applied to a backward pass's gradient once its start is behind it.
pub(crate) fn step(grad: Option<HostMap>, step: impl FnOnce(HostMap) -> Result<HostMap>) -> Result<Option<HostMap>> {
    grad.map(step).transpose()
}

/// Where Captum's Rescale rule takes the plain gradient instead of the secant slope: input
/// changes smaller than this (its `eps`).
const RESCALE_EPS: f32 = 1e-10;

/// How a backward pass crosses the rectifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    /// Each rectifier's gradient, as the [`ReluGradient`] modifies it.
    Gradient(ReluGradient),
    /// DeepLift's Rescale rule: the secant slope `(y - y0) / (x - x0)` between the input's and
    /// the reference's values. The forward pass runs on the inputs followed by their
    /// references (a batch twice as large), the backward pass on the inputs' half alone.
    Rescale,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rule::Gradient(rule) => write!(f, "{rule:?}"),
            Rule::Rescale => write!(f, "DeepLift (Rescale rule)"),
        }
    }
}

impl Rule {
    /// The number of photos explained in a forward batch of `batch`.
    pub(crate) fn explained(self, batch: usize) -> usize {
        match self {
            Rule::Rescale => batch / 2,
            Rule::Gradient(_) => batch,
        }
    }
}

/// A rectifier's output, with its input where the backward pass needs it (the Rescale rule).
pub(crate) struct Rectified {
    /// ReLU or ReLU6.
    kind: Activation,
    /// The rectifier's output.
    pub(crate) values: HostMap,
    /// Its input, kept for the Rescale rule only.
    input: Option<HostMap>,
}

impl Rectified {
    /// The rectifier `kind` applied to `input`.
    pub(crate) fn of(input: HostMap, kind: Activation, rule: Rule) -> Rectified {
        let keep = (rule == Rule::Rescale).then(|| input.clone());
        let mut values = input;
        for v in &mut values.data {
            *v = kind.apply(*v);
        }
        Rectified { kind, values, input: keep }
    }

    /// `conv` and then the rectifier `kind` on `x`: fused, unless `rule` needs the input.
    pub(crate) fn after(conv: &Conv2d, x: &HostMap, kind: Activation, rule: Rule) -> Result<Rectified> {
        Ok(match rule {
            Rule::Rescale => Rectified::of(conv.host_forward(x, Activation::Identity)?, kind, rule),
            Rule::Gradient(_) => Rectified {
                kind,
                values: conv.host_forward(x, kind)?,
                input: None,
            },
        })
    }
}

/// Watches a backward pass: called with each convolution and the gradient at its output, just
/// before the pass goes through it.
pub(crate) type Watch<'a> = dyn FnMut(&Conv2d, &HostMap) -> Result<()> + 'a;

/// A [`Watch`] that does nothing.
pub(crate) fn unwatched(_: &Conv2d, _: &HostMap) -> Result<()> {
    Ok(())
}

/// The gradient through `conv` (to an input of `input_size`) of the gradient `grad` at its
/// output, shown to `watch` first.
pub(crate) fn conv_backward(conv: &Conv2d, grad: &HostMap, input_size: (usize, usize), watch: &mut Watch<'_>) -> Result<HostMap> {
    watch(conv, grad)?;
    conv.host_input_gradient(grad, input_size)
}

/// A backbone with a backward pass on the host kernels.
pub(crate) trait HostDifferentiable: Backbone + Sized {
    /// The gradient of each sample's objective or neuron (`start`) with respect to `of`, by the
    /// host kernels, through rectifiers by `rule` (see [`Rule::Rescale`] for its batch), each
    /// convolution shown to `watch` on the way.
    fn host_gradient(&self, input: NasTensor<4>, start: Start<'_>, of: GradientOf, rule: Rule, watch: &mut Watch<'_>) -> Result<Gradient>;

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
        net.host_gradient(
            input,
            Start::Logits(Objective::Targets(targets)),
            GradientOf::Input,
            Rule::Gradient(ReluGradient::Standard),
            &mut unwatched,
        )
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
        net.host_gradient(
            input,
            Start::Logits(Objective::Targets(targets)),
            GradientOf::Input,
            Rule::Gradient(rule),
            &mut unwatched,
        )
    } else if rule == ReluGradient::Standard {
        autodiff_input_gradient(net, input, targets)
    } else {
        Err(NasError::InvalidInput(format!(
            "{}: {rule:?} backward passes run on the CPU's host kernels only (use --device cpu)",
            net.info().name
        )))
    }
}

/// [`Backbone::neuron_gradient`] by the host kernels where they apply (the pass starts at the
/// neuron's level); elsewhere only the standard rule, by burn.
pub(crate) fn neuron_gradient<B: HostDifferentiable>(
    net: &B,
    input: NasTensor<4>,
    level: usize,
    neuron: Neuron,
    rule: ReluGradient,
) -> Result<Gradient> {
    check_level(level)?;
    if applies(net, &input) {
        net.host_gradient(
            input,
            Start::Neuron { level, neuron },
            GradientOf::Input,
            Rule::Gradient(rule),
            &mut unwatched,
        )
    } else if rule == ReluGradient::Standard {
        neuron_input_gradient(net, input, level, neuron)
    } else {
        Err(NasError::InvalidInput(format!(
            "{}: {rule:?} backward passes run on the CPU's host kernels only (use --device cpu)",
            net.info().name
        )))
    }
}

/// [`Backbone::deep_lift_multipliers`] by the host kernels, the only place it runs.
pub(crate) fn deep_lift_multipliers<B: HostDifferentiable>(
    net: &B,
    input: NasTensor<4>,
    reference: NasTensor<4>,
    level: Option<usize>,
    targets: &[usize],
) -> Result<Gradient> {
    let of = level.map_or(GradientOf::Input, GradientOf::Level);
    rescaled_gradient(net, input, reference, Start::Logits(Objective::Targets(targets)), of)
}

/// [`Backbone::neuron_deep_lift_multipliers`] by the host kernels, the only place it runs.
pub(crate) fn neuron_deep_lift_multipliers<B: HostDifferentiable>(
    net: &B,
    input: NasTensor<4>,
    reference: NasTensor<4>,
    level: usize,
    neuron: Neuron,
) -> Result<Gradient> {
    check_level(level)?;
    rescaled_gradient(net, input, reference, Start::Neuron { level, neuron }, GradientOf::Input)
}

/// DeepLift's multipliers of `start` against `reference` at `of`, by the host kernels; `value`
/// is the change from the reference there.
fn rescaled_gradient<B: HostDifferentiable>(
    net: &B,
    input: NasTensor<4>,
    reference: NasTensor<4>,
    start: Start<'_>,
    of: GradientOf,
) -> Result<Gradient> {
    if input.dims() != reference.dims() {
        return Err(NasError::InvalidInput(format!(
            "DeepLift: the reference is {:?}, the input {:?}; they must have one shape",
            reference.dims(),
            input.dims()
        )));
    }
    if let GradientOf::Level(level) = of {
        check_level(level)?;
    }
    if !(applies(net, &input) && runs_on_host(&reference)) {
        return Err(NasError::InvalidInput(format!(
            "{}: DeepLift runs on the CPU's host kernels only (use --device cpu)",
            net.info().name
        )));
    }
    let batch = input.dims()[0];
    let both = NasTensor::cat(vec![input.clone(), reference.clone()], 0);
    let mut gradient = net.host_gradient(both, start, of, Rule::Rescale, &mut unwatched)?;
    gradient.value = match of {
        GradientOf::Input => input - reference,
        // The pass keeps the level of the inputs followed by that of their references.
        GradientOf::Level(level) => {
            let value = gradient.value;
            if value.dims()[0] != 2 * batch {
                return Err(NasError::InvalidInput(format!(
                    "{}: DeepLift at level {level} kept a level of {} samples for {batch} inputs and their references",
                    net.info().name,
                    value.dims()[0]
                )));
            }
            value.clone().narrow(0, 0, batch) - value.narrow(0, batch, batch)
        }
    };
    if gradient.logits.dims()[0] > batch {
        gradient.logits = gradient.logits.narrow(0, 0, batch);
    }
    Ok(gradient)
}

/// [`Backbone::bias_gradients`] by the host kernels, the only place it runs.
pub(crate) fn bias_gradients<B: HostDifferentiable>(
    net: &B,
    input: NasTensor<4>,
    targets: &[usize],
    layer: &mut dyn FnMut(BiasGradient<'_>) -> Result<()>,
) -> Result<Gradient> {
    if !applies(net, &input) {
        return Err(NasError::InvalidInput(format!(
            "{}: bias gradients (FullGrad) run on the CPU's host kernels only (use --device cpu)",
            net.info().name
        )));
    }
    let mut watch = |conv: &Conv2d, grad: &HostMap| {
        layer(BiasGradient {
            bias: &conv.host_bias()?,
            grad: &grad.data,
            dims: grad.dims,
        })
    };
    net.host_gradient(
        input,
        Start::Logits(Objective::Targets(targets)),
        GradientOf::Input,
        Rule::Gradient(ReluGradient::Standard),
        &mut watch,
    )
}

/// [`Backbone::level_gradient_of`] by the host kernels where they apply, else by burn.
pub(crate) fn level_gradient_of<B: HostDifferentiable>(
    net: &B,
    input: NasTensor<4>,
    level: usize,
    objective: Objective<'_>,
) -> Result<Gradient> {
    check_level(level)?;
    if applies(net, &input) {
        net.host_gradient(
            input,
            Start::Logits(objective),
            GradientOf::Level(level),
            Rule::Gradient(ReluGradient::Standard),
            &mut unwatched,
        )
    } else {
        autodiff_level_gradient(net, input, level, objective)
    }
}

/// The logits of `features` through the classifier `head`, and the gradient of each sample's
/// `objective` with respect to `features` (by burn's automatic differentiation).
pub(crate) fn head_gradient(
    features: &HostMap,
    device: &Device,
    objective: Objective<'_>,
    head: impl Fn(NasTensor<4>) -> NasTensor<2>,
) -> Result<(NasTensor<2>, HostMap)> {
    let leaf = features.clone().into_tensor(device).require_grad();
    let scope = differentiable();
    let logits = head(leaf.clone());
    drop(scope);
    let grads = objective.batch_sum(&logits)?.backward();
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

/// The gradient through a max pooling whose input was `input`, given its output's gradient,
/// which may cover only the first samples of `input` (the Rescale rule's inputs: max pools
/// pass the gradient, DeepLIFT's default for them).
pub(crate) fn max_pool_backward(input: &HostMap, grad: &HostMap, pool: PoolGeometry) -> Result<HostMap> {
    let [_, channels, height, width] = input.dims;
    let batch = grad.dims[0];
    let len = batch * channels * height * width;
    if len > input.data.len() {
        return Err(NasError::InvalidInput(format!(
            "max pooling {pool:?}: a gradient for {batch} samples of an input of {}",
            input.dims[0]
        )));
    }
    let data = max_pool2d_input_gradient(&input.data[..len], &grad.data, batch, channels, height, width, pool)
        .map_err(|e| pooling_error(pool, e))?;
    Ok(HostMap {
        data,
        dims: [batch, channels, height, width],
    })
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

/// The gradient methods of [`Backbone`] for a [`HostDifferentiable`] network: each by its host
/// backward pass where it applies (see the functions of this module), inside `impl Backbone`.
macro_rules! host_gradient_methods {
    () => {
        fn input_gradient(&self, input: nas_core::NasTensor<4>, targets: &[usize]) -> nas_core::Result<nas_core::Gradient> {
            $crate::backbones::host_gradient::input_gradient(self, input, targets)
        }

        fn modified_input_gradient(
            &self,
            input: nas_core::NasTensor<4>,
            targets: &[usize],
            rule: nas_core::ReluGradient,
        ) -> nas_core::Result<nas_core::Gradient> {
            $crate::backbones::host_gradient::modified_input_gradient(self, input, targets, rule)
        }

        fn level_gradient_of(
            &self,
            input: nas_core::NasTensor<4>,
            level: usize,
            objective: nas_core::Objective<'_>,
        ) -> nas_core::Result<nas_core::Gradient> {
            $crate::backbones::host_gradient::level_gradient_of(self, input, level, objective)
        }

        fn bias_gradients(
            &self,
            input: nas_core::NasTensor<4>,
            targets: &[usize],
            layer: &mut dyn FnMut(nas_core::BiasGradient<'_>) -> nas_core::Result<()>,
        ) -> nas_core::Result<nas_core::Gradient> {
            $crate::backbones::host_gradient::bias_gradients(self, input, targets, layer)
        }

        fn deep_lift_multipliers(
            &self,
            input: nas_core::NasTensor<4>,
            reference: nas_core::NasTensor<4>,
            level: Option<usize>,
            targets: &[usize],
        ) -> nas_core::Result<nas_core::Gradient> {
            $crate::backbones::host_gradient::deep_lift_multipliers(self, input, reference, level, targets)
        }

        fn neuron_gradient(
            &self,
            input: nas_core::NasTensor<4>,
            level: usize,
            neuron: nas_core::Neuron,
            rule: nas_core::ReluGradient,
        ) -> nas_core::Result<nas_core::Gradient> {
            $crate::backbones::host_gradient::neuron_gradient(self, input, level, neuron, rule)
        }

        fn neuron_deep_lift_multipliers(
            &self,
            input: nas_core::NasTensor<4>,
            reference: nas_core::NasTensor<4>,
            level: usize,
            neuron: nas_core::Neuron,
        ) -> nas_core::Result<nas_core::Gradient> {
            $crate::backbones::host_gradient::neuron_deep_lift_multipliers(self, input, reference, level, neuron)
        }
    };
}
pub(crate) use host_gradient_methods;
