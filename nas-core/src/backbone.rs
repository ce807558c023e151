//! The `Backbone` trait: a trained classifier that exposes five depth levels, logits, and
//! gradients of a chosen logit with respect to its input or to any depth level.

use crate::device::{runs_on_host, Backend, Device, NasTensor};
use crate::differentiable::{differentiable, DifferentiableScope};
use crate::error::{NasError, Result};
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Int, Tensor, TensorData};

/// Number of depth levels every backbone exposes (DESIGN.md, "Depth levels").
pub const LEVELS: usize = 5;

/// Images per forward pass when [`Backbone::forward`] splits a large batch on the CPU.
pub const HOST_CHUNK: usize = 4;

/// What a caller needs to know to feed a backbone and read its levels.
#[derive(Debug, Clone)]
pub struct BackboneInfo {
    /// Registered name, e.g. `resnet18`.
    pub name: String,
    /// Per-channel mean subtracted from pixels in `[0, 1]`.
    pub mean: [f32; 3],
    /// Per-channel standard deviation the centred pixels are divided by.
    pub std: [f32; 3],
    /// Channels of each depth level.
    pub level_channels: [usize; LEVELS],
    /// Downsampling factor of each depth level relative to the input.
    pub level_strides: [usize; LEVELS],
    /// Smallest input side the network's unpadded layers need, where that is more than its
    /// coarsest stride (AlexNet: 63, as torchvision states); 0 otherwise.
    pub min_input_side: usize,
    /// Number of output classes.
    pub num_classes: usize,
}

impl BackboneInfo {
    /// A flat colour, the same `pixel` value in `[0, 1]` on every channel (0 black, 1 white), in
    /// the network's normalised input space: what baselines and bounds of that colour are.
    pub fn normalised_colour(&self, pixel: f32) -> [f32; 3] {
        std::array::from_fn(|c| (pixel - self.mean[c]) / self.std[c])
    }

    /// Smallest input side the network accepts: its coarsest level's stride, so that every level
    /// keeps at least one pixel, or more where its unpadded layers need it.
    pub fn min_side(&self) -> usize {
        self.level_strides
            .iter()
            .copied()
            .max()
            .unwrap_or(1)
            .max(self.min_input_side)
            .max(1)
    }
}

/// Called at each depth level during a forward pass; it may observe the level and may replace it
/// (for example by a detached copy that records gradients, to differentiate with respect to it).
pub trait LevelHook {
    /// Receives level `index` and returns the tensor the network continues with.
    fn level(&mut self, index: usize, activation: NasTensor<4>) -> NasTensor<4>;
}

/// The result of a forward pass: all five depth levels and the logits.
pub struct Forward {
    /// Depth levels 0..4, each `(batch, channels, h, w)`.
    pub levels: Vec<NasTensor<4>>,
    /// Pre-softmax scores, `(batch, classes)`.
    pub logits: NasTensor<2>,
}

struct Collect(Vec<NasTensor<4>>);

impl LevelHook for Collect {
    fn level(&mut self, _index: usize, activation: NasTensor<4>) -> NasTensor<4> {
        self.0.push(activation.clone());
        activation
    }
}

/// Replaces level `index` by a leaf that records gradients; from there on the pass must stay
/// differentiable, so the hook opens a [`differentiable`] scope that lasts as long as it does.
/// With a `replacement`, the network continues from it instead of the level's own values.
struct GradientAt {
    index: usize,
    replacement: Option<NasTensor<4>>,
    leaf: Option<NasTensor<4>>,
    scope: Option<DifferentiableScope>,
}

impl LevelHook for GradientAt {
    fn level(&mut self, index: usize, activation: NasTensor<4>) -> NasTensor<4> {
        if index == self.index {
            let leaf = match self.replacement.take() {
                Some(replacement) if replacement.dims() == activation.dims() => replacement,
                // A replacement of the wrong shape is left unused; the caller refuses it.
                Some(_) => return activation,
                None => activation,
            }
            .detach()
            .require_grad();
            self.leaf = Some(leaf.clone());
            self.scope = Some(differentiable());
            leaf
        } else {
            activation
        }
    }
}

/// A gradient together with the activation it was taken at and the logits of the same pass.
pub struct Gradient {
    /// The tensor differentiated against (the input, or a depth level).
    pub value: NasTensor<4>,
    /// d(target logit)/d(value), same shape as `value`.
    pub grad: NasTensor<4>,
    /// The logits of the pass, `(batch, classes)`.
    pub logits: NasTensor<2>,
}

/// The built-in backbones with their own backward pass, named in refusals of what needs one.
pub const OWN_BACKWARD_PASS: &str = "the ResNets, RegNetX, the VGGs, AlexNet, efficientnet-lite0 and mobilenet_v2 on the CPU";

/// One layer as FullGrad reads it: its bias per output channel and the gradient of each
/// sample's target logit at its output, `(batch, channels, height, width)` in row-major order.
pub struct BiasGradient<'a> {
    /// One value per output channel.
    pub bias: &'a [f32],
    /// The gradient at the layer's output.
    pub grad: &'a [f32],
    /// Its shape.
    pub dims: [usize; 4],
}

/// A trained image classifier seen through the five depth levels of the paper.
pub trait Backbone: Send + Sync {
    /// Name, normalisation and level geometry.
    fn info(&self) -> &BackboneInfo;

    /// The device holding the weights; inputs must live there too.
    fn device(&self) -> &Device;

    /// Runs the network on a normalised batch `(batch, 3, H, W)`, handing each depth level to
    /// `hook`, and returns the logits.
    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2>;

    /// The backbone as `Any`, for components that need its layers (LRP walks them rule by
    /// rule): they downcast to the types they know. `None` (the default) keeps them out.
    fn as_any(&self) -> Option<&dyn std::any::Any> {
        None
    }

    /// All five levels and the logits.
    ///
    /// On the CPU, outside a differentiable scope, a large batch runs [`HOST_CHUNK`] images at a
    /// time (inference treats every image on its own, so the result is the same): whole-batch
    /// activation maps outgrow the caches and cost up to twice as much per image.
    fn forward(&self, input: NasTensor<4>) -> Forward {
        let batch = input.dims()[0];
        if batch <= HOST_CHUNK || !runs_on_host(&input) {
            let mut collect = Collect(Vec::with_capacity(LEVELS));
            let logits = self.forward_hooked(input, &mut collect);
            return Forward { levels: collect.0, logits };
        }
        let parts: Vec<Forward> = (0..batch)
            .step_by(HOST_CHUNK)
            .map(|start| self.forward(input.clone().narrow(0, start, HOST_CHUNK.min(batch - start))))
            .collect();
        // A plugin backbone may report fewer levels than LEVELS.
        let reported = parts.iter().map(|p| p.levels.len()).min().unwrap_or(0);
        let levels = (0..reported)
            .map(|l| Tensor::cat(parts.iter().map(|p| p.levels[l].clone()).collect(), 0))
            .collect();
        let logits = Tensor::cat(parts.into_iter().map(|p| p.logits).collect(), 0);
        Forward { levels, logits }
    }

    /// Gradient of each sample's `targets[i]` logit with respect to the input. The default runs
    /// burn's automatic differentiation ([`autodiff_input_gradient`]); a backbone with a faster
    /// backward pass may override it.
    fn input_gradient(&self, input: NasTensor<4>, targets: &[usize]) -> Result<Gradient> {
        autodiff_input_gradient(self, input, targets)
    }

    /// Gradient of each sample's `targets[i]` logit with respect to depth level `level`: the
    /// [`Objective::Targets`] case of [`Backbone::level_gradient_of`].
    fn level_gradient(&self, input: NasTensor<4>, level: usize, targets: &[usize]) -> Result<Gradient> {
        self.level_gradient_of(input, level, Objective::Targets(targets))
    }

    /// Gradient of each sample's `objective` with respect to depth level `level`. The default
    /// runs burn's automatic differentiation ([`autodiff_level_gradient`]); a backbone with a
    /// faster backward pass may override it.
    fn level_gradient_of(&self, input: NasTensor<4>, level: usize, objective: Objective<'_>) -> Result<Gradient> {
        autodiff_level_gradient(self, input, level, objective)
    }

    /// [`Backbone::input_gradient`] with every rectifier's backward pass replaced by `rule`
    /// (guided backpropagation, deconvolution). The default only knows the standard rule;
    /// backbones with their own backward pass override it.
    fn modified_input_gradient(&self, input: NasTensor<4>, targets: &[usize], rule: ReluGradient) -> Result<Gradient> {
        match rule {
            ReluGradient::Standard => self.input_gradient(input, targets),
            other => Err(NasError::InvalidInput(format!(
                "{}: {other:?} backward passes need a backbone with its own backward pass ({OWN_BACKWARD_PASS})",
                self.info().name
            ))),
        }
    }

    /// [`Backbone::input_gradient`], handing `layer` every layer with a bias on the way, with
    /// the gradient of the target logit at its output: what FullGrad (Srinivas and Fleuret 2019)
    /// adds up. A batch norm counts as a layer whose bias is `beta - mean * gamma / sqrt(var +
    /// eps)`; folded into the convolution before it, the two are one layer with that bias. The
    /// default refuses; backbones with their own backward pass override it.
    fn bias_gradients(
        &self,
        input: NasTensor<4>,
        targets: &[usize],
        layer: &mut dyn FnMut(BiasGradient<'_>) -> Result<()>,
    ) -> Result<Gradient> {
        let _ = (input, targets, layer);
        Err(NasError::InvalidInput(format!(
            "{}: bias gradients (FullGrad) need a backbone with its own backward pass ({OWN_BACKWARD_PASS})",
            self.info().name
        )))
    }

    /// DeepLift's multipliers (Shrikumar et al. 2017, the Rescale rule, as Captum's `DeepLift`)
    /// of each sample's `targets[i]` logit against `reference` (shaped like `input`), at the
    /// input (`level` `None`) or at depth level `level` (Captum's `LayerDeepLift`): the backward
    /// pass of the gradient with every rectifier's derivative replaced by the secant slope
    /// between the input's and the reference's pre-activations. `value` is the change from the
    /// reference to the input where the multipliers are taken; their product is the
    /// attribution, which adds up to the change of the logit where every nonlinearity after
    /// that place takes the Rescale rule (max pools, passing the gradient, make the sum
    /// approximate). The default refuses; backbones with their own backward pass override it.
    fn deep_lift_multipliers(
        &self,
        input: NasTensor<4>,
        reference: NasTensor<4>,
        level: Option<usize>,
        targets: &[usize],
    ) -> Result<Gradient> {
        let _ = (input, reference, level, targets);
        Err(NasError::InvalidInput(format!(
            "{}: DeepLift needs a backbone with its own backward pass ({OWN_BACKWARD_PASS})",
            self.info().name
        )))
    }

    /// The gradient of each sample's `neuron` at depth level `level` with respect to the input,
    /// through every rectifier by `rule`: Captum's `NeuronGradient`, `NeuronGuidedBackprop` and
    /// `NeuronDeconvolution`. The default runs burn's automatic differentiation
    /// ([`neuron_input_gradient`]) for the standard rule and refuses the others; backbones with
    /// their own backward pass override it, running the network up to the level and the
    /// backward pass from there (their `logits` are then `batch x 0`: never computed).
    fn neuron_gradient(&self, input: NasTensor<4>, level: usize, neuron: Neuron, rule: ReluGradient) -> Result<Gradient> {
        match rule {
            ReluGradient::Standard => neuron_input_gradient(self, input, level, neuron),
            other => Err(NasError::InvalidInput(format!(
                "{}: {other:?} backward passes need a backbone with its own backward pass ({OWN_BACKWARD_PASS})",
                self.info().name
            ))),
        }
    }

    /// DeepLift's multipliers (the Rescale rule, as [`Backbone::deep_lift_multipliers`]) of each
    /// sample's `neuron` at depth level `level` against `reference`, at the input: Captum's
    /// `NeuronDeepLift`. `value` is the input's change from the reference; `logits` may be
    /// `batch x 0`, as [`Backbone::neuron_gradient`]'s. The default refuses; backbones with their
    /// own backward pass override it.
    fn neuron_deep_lift_multipliers(&self, input: NasTensor<4>, reference: NasTensor<4>, level: usize, neuron: Neuron) -> Result<Gradient> {
        let _ = (input, reference, level, neuron);
        Err(NasError::InvalidInput(format!(
            "{}: DeepLift needs a backbone with its own backward pass ({OWN_BACKWARD_PASS})",
            self.info().name
        )))
    }

    /// The logits when the network continues from `activation` as depth level `level`
    /// without running the layers before it: methods that move a level along a path (Captum's
    /// `LayerIntegratedGradients`) then pay for the layers after it alone. `None` (the default)
    /// where the backbone cannot start inside; [`level_gradient_replaced`] and
    /// [`logits_with_level`] then run it whole with the level replaced. Implementations refuse
    /// an activation with other than the level's channels ([`check_level_start`]).
    fn logits_from_level(&self, level: usize, activation: NasTensor<4>) -> Option<Result<NasTensor<2>>> {
        let _ = (level, activation);
        None
    }
}

/// How a backward pass goes through a rectifier (ReLU, ReLU6), as Captum's
/// `ModifiedReluGradientAttribution` overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReluGradient {
    /// The gradient where the rectifier passed its input, zero elsewhere.
    Standard,
    /// Guided backpropagation (Springenberg et al. 2015): the standard gradient, then only its
    /// positive part (Captum's `GuidedBackprop`).
    Guided,
    /// Deconvolution (Zeiler and Fergus 2014): the positive part of the incoming gradient,
    /// whatever the rectifier did in the forward pass (Captum's `Deconvolution`).
    Deconvolution,
}

impl ReluGradient {
    /// The gradient through a rectifier given the incoming gradient `g` and whether the forward
    /// pass let the value through (`passed`).
    #[inline]
    pub fn through(self, g: f32, passed: bool) -> f32 {
        match self {
            ReluGradient::Standard => {
                if passed {
                    g
                } else {
                    0.0
                }
            }
            ReluGradient::Guided => {
                if passed {
                    g.max(0.0)
                } else {
                    0.0
                }
            }
            ReluGradient::Deconvolution => g.max(0.0),
        }
    }
}

/// Gradient of each sample's `targets[i]` logit with respect to the input, by burn's automatic
/// differentiation through [`Backbone::forward_hooked`].
pub fn autodiff_input_gradient<B: Backbone + ?Sized>(backbone: &B, input: NasTensor<4>, targets: &[usize]) -> Result<Gradient> {
    let input = input.detach().require_grad();
    let mut collect = Collect(Vec::new());
    let scope = differentiable();
    let logits = backbone.forward_hooked(input.clone(), &mut collect);
    drop(scope);
    drop(collect);
    let grads = target_sum(&logits, targets)?.backward();
    input_gradient_from(input, &grads, logits)
}

/// The input's gradient among `grads`, with the input and the pass's `logits`.
fn input_gradient_from(input: NasTensor<4>, grads: &<Backend as AutodiffBackend>::Gradients, logits: NasTensor<2>) -> Result<Gradient> {
    let grad = input
        .grad(grads)
        .ok_or_else(|| NasError::InvalidInput("the input received no gradient".into()))?;
    Ok(Gradient {
        value: input.detach(),
        grad: NasTensor::from_inner(grad),
        logits: logits.detach(),
    })
}

/// A unit of a depth level, or a channel of it, whose value a gradient is taken of (Captum's
/// `neuron_selector` for its `Neuron*` methods).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Neuron {
    /// The activation of `channel` at position (`y`, `x`) of the level's grid.
    At {
        /// The channel.
        channel: usize,
        /// The row of the level's grid.
        y: usize,
        /// The column of the level's grid.
        x: usize,
    },
    /// The activations of a channel summed over every position.
    Channel(usize),
}

impl Neuron {
    /// Whether the neuron lies in a level of `[channels, h, w]`.
    pub fn lies_in(&self, [channels, h, w]: [usize; 3]) -> bool {
        match *self {
            Neuron::At { channel, y, x } => channel < channels && y < h && x < w,
            Neuron::Channel(channel) => channel < channels,
        }
    }

    /// Refuses a neuron outside depth level `level`, whose activations are `[channels, h, w]`,
    /// naming the level's shape.
    pub fn check_in(&self, level: usize, [channels, h, w]: [usize; 3]) -> Result<()> {
        if self.lies_in([channels, h, w]) {
            Ok(())
        } else {
            Err(NasError::InvalidInput(format!(
                "{self:?} lies outside level {level}, whose activations are {channels} channels of {h}x{w}"
            )))
        }
    }

    /// Each sample's value of the neuron in `values`, a tensor shaped like its level (the
    /// level's activations, or their gradient): `(batch, 1, 1, 1)` for a unit, `(batch, 1, h, w)`
    /// for a channel, to be summed. The neuron must lie in the level ([`Neuron::lies_in`]).
    pub fn of(&self, values: NasTensor<4>) -> NasTensor<4> {
        let [batch, _, h, w] = values.dims();
        match *self {
            Neuron::At { channel, y, x } => values.slice([0..batch, channel..channel + 1, y..y + 1, x..x + 1]),
            Neuron::Channel(channel) => values.slice([0..batch, channel..channel + 1, 0..h, 0..w]),
        }
    }
}

/// Gradient of each sample's `neuron` at depth level `level` with respect to the input, by
/// burn's automatic differentiation through [`Backbone::forward_hooked`]; refuses a neuron
/// outside the level, naming the level's shape.
pub fn neuron_input_gradient<B: Backbone + ?Sized>(backbone: &B, input: NasTensor<4>, level: usize, neuron: Neuron) -> Result<Gradient> {
    check_level(level)?;
    let input = input.detach().require_grad();
    let mut collect = Collect(Vec::new());
    let scope = differentiable();
    let logits = backbone.forward_hooked(input.clone(), &mut collect);
    drop(scope);
    let activation = collect
        .0
        .into_iter()
        .nth(level)
        .ok_or_else(|| NasError::InvalidInput(format!("the backbone never produced level {level}")))?;
    let [_, channels, h, w] = activation.dims();
    neuron.check_in(level, [channels, h, w])?;
    let grads = neuron.of(activation).sum().backward();
    input_gradient_from(input, &grads, logits)
}

/// Gradient of each sample's `objective` with respect to depth level `level`, by burn's
/// automatic differentiation through [`Backbone::forward_hooked`].
pub fn autodiff_level_gradient<B: Backbone + ?Sized>(
    backbone: &B,
    input: NasTensor<4>,
    level: usize,
    objective: Objective<'_>,
) -> Result<Gradient> {
    gradient_at_level(backbone, input, level, None, objective)
}

/// The gradient of each sample's `objective` at depth level `level` when the network continues
/// from `replacement` there instead of the level's own values (the same shape): what layer
/// attributions that move along a path in a level's space need (Captum's
/// `LayerIntegratedGradients`). Runs burn's automatic differentiation on any backbone, through
/// the layers after the level alone where the backbone starts there ([`Backbone::logits_from_level`]).
pub fn level_gradient_replaced<B: Backbone + ?Sized>(
    backbone: &B,
    input: NasTensor<4>,
    level: usize,
    replacement: NasTensor<4>,
    objective: Objective<'_>,
) -> Result<Gradient> {
    gradient_at_level(backbone, input, level, Some(replacement), objective)
}

/// Replaces one depth level by given values and nothing else.
struct Replace {
    index: usize,
    replacement: Option<NasTensor<4>>,
}

impl LevelHook for Replace {
    fn level(&mut self, index: usize, activation: NasTensor<4>) -> NasTensor<4> {
        match self.replacement.take() {
            Some(replacement) if index == self.index && replacement.dims() == activation.dims() => replacement,
            other => {
                self.replacement = other;
                activation
            }
        }
    }
}

/// The logits when the network continues from `replacement` at depth level `level` instead of
/// the level's own values (the same shape); no gradient is kept.
pub fn logits_with_level<B: Backbone + ?Sized>(
    backbone: &B,
    input: NasTensor<4>,
    level: usize,
    replacement: NasTensor<4>,
) -> Result<NasTensor<2>> {
    check_level(level)?;
    let dims = replacement.dims();
    if dims[0] != input.dims()[0] {
        return Err(mismatched_replacement(level, dims));
    }
    if let Some(logits) = backbone.logits_from_level(level, replacement.clone()) {
        return logits;
    }
    let mut hook = Replace {
        index: level,
        replacement: Some(replacement),
    };
    let logits = backbone.forward_hooked(input, &mut hook);
    match hook.replacement {
        None => Ok(logits),
        Some(_) => Err(mismatched_replacement(level, dims)),
    }
}

/// The refusal of a replacement whose shape `dims` is not that of level `level`.
fn mismatched_replacement(level: usize, dims: [usize; 4]) -> NasError {
    NasError::InvalidInput(format!(
        "a replacement of level {level} shaped {dims:?} does not match the level the backbone produced"
    ))
}

/// [`autodiff_level_gradient`], the level optionally replaced.
fn gradient_at_level<B: Backbone + ?Sized>(
    backbone: &B,
    input: NasTensor<4>,
    level: usize,
    replacement: Option<NasTensor<4>>,
    objective: Objective<'_>,
) -> Result<Gradient> {
    if let Some(replacement) = &replacement {
        check_level(level)?;
        if replacement.dims()[0] != input.dims()[0] {
            return Err(mismatched_replacement(level, replacement.dims()));
        }
        let leaf = replacement.clone().detach().require_grad();
        let scope = differentiable();
        if let Some(logits) = backbone.logits_from_level(level, leaf.clone()) {
            let logits = logits?;
            drop(scope);
            let grads = objective.batch_sum(&logits)?.backward();
            let grad = leaf
                .grad(&grads)
                .ok_or_else(|| NasError::InvalidInput(format!("level {level} received no gradient")))?;
            return Ok(Gradient {
                value: leaf.detach(),
                grad: NasTensor::from_inner(grad),
                logits: logits.detach(),
            });
        }
    }
    hooked_level_gradient(|x, hook| backbone.forward_hooked(x, hook), input, level, replacement, objective)
}

/// The gradient of each sample's `objective` at depth level `level` of the forward pass `run`
/// (a network's forward pass handing its levels to a hook, as [`Backbone::forward_hooked`]),
/// the level optionally replaced by `replacement`: [`autodiff_level_gradient`] for a pass
/// other than the backbone's own (LRP's conservative pass through a ViT, say).
pub fn hooked_level_gradient(
    run: impl FnOnce(NasTensor<4>, &mut dyn LevelHook) -> NasTensor<2>,
    input: NasTensor<4>,
    level: usize,
    replacement: Option<NasTensor<4>>,
    objective: Objective<'_>,
) -> Result<Gradient> {
    check_level(level)?;
    let expected = replacement.as_ref().map(NasTensor::dims);
    let mut hook = GradientAt {
        index: level,
        replacement,
        leaf: None,
        scope: None,
    };
    let logits = run(input.detach(), &mut hook);
    hook.scope = None;
    let leaf = hook.leaf.ok_or_else(|| match expected {
        Some(dims) => mismatched_replacement(level, dims),
        None => NasError::InvalidInput(format!("the backbone never produced level {level}")),
    })?;
    let grads = objective.batch_sum(&logits)?.backward();
    let grad = leaf
        .grad(&grads)
        .ok_or_else(|| NasError::InvalidInput(format!("level {level} received no gradient")))?;
    Ok(Gradient {
        value: leaf.detach(),
        grad: NasTensor::from_inner(grad),
        logits: logits.detach(),
    })
}

/// Refuses an activation to start the network from at depth level `level` unless it has the
/// level's channels (`info.level_channels`): what [`Backbone::logits_from_level`] checks.
pub fn check_level_start(info: &BackboneInfo, level: usize, activation: &NasTensor<4>) -> Result<()> {
    check_level(level)?;
    let dims = activation.dims();
    match info.level_channels.get(level) {
        Some(channels) if *channels == dims[1] => Ok(()),
        _ => Err(mismatched_replacement(level, dims)),
    }
}

/// Refuses a depth level that does not exist, naming the ones that do.
pub fn check_level(level: usize) -> Result<()> {
    if level >= LEVELS {
        return Err(NasError::InvalidInput(format!(
            "depth level {level} does not exist; expected 0..{}",
            LEVELS - 1
        )));
    }
    Ok(())
}

/// What a backward pass differentiates, per sample: its target logit (the usual case), or a
/// weighted sum of its logits (a target that mixes classes, as Finer-CAM's does: the weights
/// are that target's gradient with respect to the logits, so the pass gives its gradient).
#[derive(Debug, Clone, Copy)]
pub enum Objective<'a> {
    /// Sample `i`'s logit of class `targets[i]`.
    Targets(&'a [usize]),
    /// Sample `i`'s logits weighted by row `i` of `weights` (`batch x classes`, row-major).
    WeightedLogits(&'a [f32]),
}

impl Objective<'_> {
    /// Sum over the batch of each sample's objective: its gradient is the per-sample gradient,
    /// because samples do not interact in an inference-mode network.
    pub fn batch_sum(&self, logits: &NasTensor<2>) -> Result<NasTensor<1>> {
        match *self {
            Objective::Targets(targets) => target_sum(logits, targets),
            Objective::WeightedLogits(weights) => {
                let [batch, classes] = logits.dims();
                if weights.len() != batch * classes {
                    return Err(NasError::InvalidInput(format!(
                        "{} logit weights for a batch of {batch} with {classes} classes",
                        weights.len()
                    )));
                }
                let weights = Tensor::<_, 2>::from_data(TensorData::new(weights.to_vec(), [batch, classes]), &logits.device());
                Ok((logits.clone() * weights).sum())
            }
        }
    }
}

/// Sum over the batch of each sample's target logit: its gradient is the per-sample gradient,
/// because samples do not interact in an inference-mode network.
pub fn target_sum(logits: &NasTensor<2>, targets: &[usize]) -> Result<NasTensor<1>> {
    let [batch, classes] = logits.dims();
    if targets.len() != batch {
        return Err(NasError::InvalidInput(format!("{} targets for a batch of {batch}", targets.len())));
    }
    if let Some(bad) = targets.iter().find(|t| **t >= classes) {
        return Err(NasError::InvalidInput(format!(
            "target class {bad} is out of range: the backbone has {classes} classes"
        )));
    }
    let index: Vec<i64> = targets.iter().map(|t| *t as i64).collect();
    let index = Tensor::<_, 2, Int>::from_data(TensorData::new(index, [batch, 1]), &logits.device());
    Ok(logits.clone().gather(1, index).sum())
}

/// Index of the largest logit of each sample.
pub fn predicted_classes(logits: &NasTensor<2>) -> Result<Vec<usize>> {
    let idx = logits.clone().argmax(1).into_data();
    let values = idx
        .convert::<i64>()
        .to_vec::<i64>()
        .map_err(|e| NasError::InvalidInput(format!("cannot read predictions: {e:?}")))?;
    Ok(values.into_iter().map(|v| v as usize).collect())
}

/// Turns photos (already at the network's input size) into a normalised `(batch, 3, H, W)` tensor.
pub fn normalise(photos: &[&crate::photo::Photo], info: &BackboneInfo, device: &Device) -> Result<NasTensor<4>> {
    let first = photos.first().ok_or_else(|| NasError::InvalidInput("empty batch".into()))?;
    let (h, w) = (first.height(), first.width());
    let min_side = info.min_side();
    if h < min_side || w < min_side {
        let why = if min_side == info.min_input_side {
            "its unpadded layers need that much".to_string()
        } else {
            format!("its coarsest level has stride {min_side}")
        };
        return Err(NasError::InvalidInput(format!(
            "{} is {w}x{h} pixels, smaller than the {min_side}x{min_side} that {} needs ({why}); resize it (the CLI does unless --no-resize)",
            first.path.display(),
            info.name
        )));
    }
    let mut values = Vec::with_capacity(photos.len() * 3 * h * w);
    for photo in photos {
        if (photo.height(), photo.width()) != (h, w) {
            return Err(NasError::InvalidInput(format!(
                "{} is {}x{} but the batch is {w}x{h}; resize the images or use batch 1",
                photo.path.display(),
                photo.width(),
                photo.height()
            )));
        }
        for c in 0..3 {
            let (m, s) = (info.mean[c], info.std[c]);
            values.extend(photo.pixels.index_axis(ndarray::Axis(2), c).iter().map(|v| (v - m) / s));
        }
    }
    Ok(NasTensor::<4>::from_data(TensorData::new(values, [photos.len(), 3, h, w]), device))
}

/// The pixels `(h, w, 3)` in `[0, 1]` of one normalised image's values `(3, h, w)`: the inverse of
/// [`normalise`], for methods that need the photo itself (to segment it, say) but are given only
/// the network's input.
pub fn denormalise(values: &[f32], info: &BackboneInfo, [h, w]: [usize; 2]) -> ndarray::Array3<f32> {
    ndarray::Array3::from_shape_fn((h, w, 3), |(y, x, c)| values[(c * h + y) * w + x] * info.std[c] + info.mean[c])
}
