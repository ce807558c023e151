//! Networks of inverted-residual (MBConv) blocks without squeeze-excitation, as EfficientNet-Lite0
//! and torchvision's MobileNetV2 and MNASNet build them: a stem convolution, the blocks (1x1
//! expansion, depthwise convolution, 1x1 projection, the input added when shapes allow), a 1x1
//! head and a linear classifier, every convolution with its BatchNorm folded in and one
//! activation (ReLU6, or ReLU for MNASNet) after all but the projections. Levels 0 to 3 are the outputs of chosen blocks, level 4 the head's activation.
//! The loaders of each network (key names, padding, configuration) are in their own modules.

use super::host_gradient::{self, conv_backward, GradientOf, HostDifferentiable, HostMap, Rectified, Rule, Start, Watch};
use super::layers::{global_average, ConvBn, ConvGeometry, Linear};
use nas_conv::Activation;
use nas_core::backbone::check_level_start;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Device, Gradient, LevelHook, NasTensor, Result};

/// An inverted-residual (MBConv) block without squeeze-excitation.
pub(crate) struct MbConv {
    /// The 1x1 expansion (absent when the block does not expand), the activation after it.
    pub(crate) expand: Option<ConvBn>,
    /// The depthwise convolution, the activation after it.
    pub(crate) depthwise: ConvBn,
    /// The 1x1 projection (no activation).
    pub(crate) project: ConvBn,
    /// Whether the block's input is added to its output.
    pub(crate) residual: bool,
}

/// A block's shape: (kernel, stride, expansion ratio, input channels, output channels).
pub(crate) type BlockSpec = (usize, usize, usize, usize, usize);

/// Where a block's three convolutions and their BatchNorms are in a state dict: (convolution
/// key, BatchNorm key) of the expansion (absent at ratio 1), the depthwise convolution and the
/// projection.
pub(crate) struct BlockKeys {
    pub(crate) expand: Option<(String, String)>,
    pub(crate) depthwise: (String, String),
    pub(crate) project: (String, String),
}

impl MbConv {
    /// Loads a block shaped by `spec` from `keys`, its depthwise convolution padded by
    /// `padding` (top, left, bottom, right), BatchNorms with `eps`.
    pub(crate) fn load(sd: &mut StateDict, spec: BlockSpec, keys: BlockKeys, padding: [usize; 4], eps: f32) -> Result<MbConv> {
        let (kernel, stride, expand_ratio, inputs, outputs) = spec;
        let hidden = inputs * expand_ratio;
        let expand = match &keys.expand {
            Some((conv, bn)) => Some(ConvBn::load(sd, conv, bn, eps, ConvGeometry::symmetric(inputs, hidden, 1, 1, 0))?),
            None => None,
        };
        let depthwise_shape = ConvGeometry {
            in_channels: hidden,
            out_channels: hidden,
            kernel,
            stride,
            padding,
            groups: hidden,
        };
        let (conv, bn) = &keys.depthwise;
        let depthwise = ConvBn::load(sd, conv, bn, eps, depthwise_shape)?;
        let (conv, bn) = &keys.project;
        let project = ConvBn::load(sd, conv, bn, eps, ConvGeometry::symmetric(hidden, outputs, 1, 1, 0))?;
        Ok(MbConv {
            expand,
            depthwise,
            project,
            residual: stride == 1 && inputs == outputs,
        })
    }

    fn forward(&self, x: NasTensor<4>, activation: Activation) -> NasTensor<4> {
        let h = match &self.expand {
            Some(e) => e.forward_activated(x.clone(), activation),
            None => x.clone(),
        };
        let h = self.project.forward(self.depthwise.forward_activated(h, activation));
        if self.residual {
            h + x
        } else {
            h
        }
    }

    /// The block on host values, keeping what its backward pass by `rule` needs.
    fn host_forward(&self, x: &HostMap, activation: Activation, rule: Rule) -> Result<MbConvTrace> {
        let expanded = match &self.expand {
            Some(e) => Some(Rectified::after(e.folded(), x, activation, rule)?),
            None => None,
        };
        let filtered = Rectified::after(
            self.depthwise.folded(),
            expanded.as_ref().map_or(x, |e| &e.values),
            activation,
            rule,
        )?;
        let mut output = self.project.folded().host_forward(&filtered.values, Activation::Identity)?;
        if self.residual {
            output = output.plus(x);
        }
        Ok(MbConvTrace {
            input_size: x.size(),
            expanded,
            filtered,
            output,
        })
    }

    /// The gradient with respect to the block's input of the gradient `grad` of its output.
    fn host_backward(&self, trace: &MbConvTrace, grad: HostMap, rule: Rule, watch: &mut Watch<'_>) -> Result<HostMap> {
        let filtered = &trace.filtered;
        let g = conv_backward(self.project.folded(), &grad, filtered.values.size(), watch)?.through(filtered, rule)?;
        let expanded_size = trace.expanded.as_ref().map_or(trace.input_size, |e| e.values.size());
        let mut g = conv_backward(self.depthwise.folded(), &g, expanded_size, watch)?;
        if let (Some(expand), Some(expanded)) = (&self.expand, &trace.expanded) {
            g = conv_backward(expand.folded(), &g.through(expanded, rule)?, trace.input_size, watch)?;
        }
        Ok(if self.residual { g.plus(&grad) } else { g })
    }
}

/// What a block's host forward pass keeps for the backward pass.
struct MbConvTrace {
    /// Height and width of the block's input.
    input_size: (usize, usize),
    /// The expansion's output after its activation (absent when the block does not expand).
    expanded: Option<Rectified>,
    /// The depthwise convolution's output after its activation.
    filtered: Rectified,
    /// The block's output.
    output: HostMap,
}

/// A network of inverted-residual blocks (EfficientNet-Lite0, MobileNetV2, MNASNet) in inference
/// mode: a stem, the blocks, a 1x1 head (level 4) and a linear classifier, one activation
/// throughout.
pub struct InvertedResidualNet {
    info: BackboneInfo,
    device: Device,
    /// The activation after every convolution but the projections: ReLU6 unless
    /// [`InvertedResidualNet::with_activation`] says otherwise.
    activation: Activation,
    /// The stem convolution, the activation after it.
    pub(crate) stem: ConvBn,
    /// The MBConv blocks.
    pub(crate) blocks: Vec<MbConv>,
    /// The blocks after which levels 0 to 3 are taken.
    level_blocks: [usize; 4],
    /// The head's 1x1 convolution, the activation after it (level 4).
    pub(crate) head: ConvBn,
    /// The classifier.
    pub(crate) fc: Linear,
}

impl InvertedResidualNet {
    /// The network from its parts; `info` names it and gives its levels' channels and strides.
    pub(crate) fn new(
        info: BackboneInfo,
        device: Device,
        stem: ConvBn,
        blocks: Vec<MbConv>,
        level_blocks: [usize; 4],
        head: ConvBn,
        fc: Linear,
    ) -> InvertedResidualNet {
        InvertedResidualNet {
            info,
            device,
            activation: Activation::Relu6,
            stem,
            blocks,
            level_blocks,
            head,
            fc,
        }
    }

    /// The network with `activation` instead of ReLU6 (MNASNet's ReLU).
    pub(crate) fn with_activation(self, activation: Activation) -> InvertedResidualNet {
        InvertedResidualNet { activation, ..self }
    }

    /// The block whose output is depth level `level` (levels 0 to 3; level 4 is the head's).
    pub(crate) fn level_block(&self, level: usize) -> Option<usize> {
        self.level_blocks.get(level).copied()
    }

    /// The activation after every convolution but the projections.
    pub(crate) fn activation(&self) -> Activation {
        self.activation
    }

    /// The classifier on the head convolution's output (level 4).
    fn classify(&self, features: NasTensor<4>) -> NasTensor<2> {
        self.fc.forward(global_average(features))
    }
}

impl HostDifferentiable for InvertedResidualNet {
    fn host_gradient(&self, input: NasTensor<4>, start: Start<'_>, of: GradientOf, rule: Rule, watch: &mut Watch<'_>) -> Result<Gradient> {
        let x = HostMap::from_tensor(input.clone())?;
        let stem_out = Rectified::after(self.stem.folded(), &x, self.activation, rule)?;
        let mut traces: Vec<MbConvTrace> = Vec::with_capacity(self.blocks.len());
        // Blocks after a neuron's level (levels 0 to 3 are block outputs) are left out.
        let blocks = match start {
            Start::Neuron { level, .. } => self.level_blocks.get(level).map_or(self.blocks.len(), |b| b + 1),
            Start::Logits(_) => self.blocks.len(),
        };
        for block in &self.blocks[..blocks.min(self.blocks.len())] {
            let trace = block.host_forward(traces.last().map_or(&stem_out.values, |t| &t.output), self.activation, rule)?;
            traces.push(trace);
        }
        let last = traces.last().map_or(&stem_out.values, |t| &t.output);
        // The classifier is linear: its gradient is the same for the inputs and their references.
        let explained = rule.explained(x.dims[0]);
        let (logits, mut grad) = if start.runs_to(4) {
            let features = Rectified::after(self.head.folded(), last, self.activation, rule)?;
            let (logits, grad) = start.head(&features.values, explained, &self.device, |h| self.classify(h))?;
            let grad = start.at_level(4, &features.values, explained, grad)?;
            if of == GradientOf::Level(4) {
                // The whole batch: under the Rescale rule, the references' level too.
                let grad = host_gradient::started(grad, start)?;
                return Ok(host_gradient::gradient(features.values.into_tensor(&self.device), grad, logits));
            }
            let grad = host_gradient::step(grad, |grad| {
                conv_backward(self.head.folded(), &grad.through(&features, rule)?, last.size(), watch)
            })?;
            (logits, grad)
        } else {
            // A neuron before the head: the forward pass stopped at it.
            start.head(last, explained, &self.device, |h| self.classify(h))?
        };
        for (i, (block, trace)) in self.blocks.iter().zip(&traces).enumerate().rev() {
            if let Some(level) = self.level_blocks.iter().position(|b| *b == i) {
                grad = start.at_level(level, &trace.output, explained, grad)?;
                if of == GradientOf::Level(level) {
                    let grad = host_gradient::started(grad, start)?;
                    return Ok(host_gradient::gradient(
                        trace.output.clone().into_tensor(&self.device),
                        grad,
                        logits,
                    ));
                }
            }
            grad = host_gradient::step(grad, |grad| block.host_backward(trace, grad, rule, watch))?;
        }
        let grad = host_gradient::started(grad, start)?;
        let grad = conv_backward(self.stem.folded(), &grad.through(&stem_out, rule)?, x.size(), watch)?;
        Ok(host_gradient::gradient(input, grad, logits))
    }

    fn has_host_kernels(&self) -> bool {
        self.stem.folded().runs_on_host_kernels()
    }
}

impl Backbone for InvertedResidualNet {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let mut h = self.stem.forward_activated(input, self.activation);
        let mut level = 0;
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(h, self.activation);
            if self.level_blocks.contains(&i) {
                h = hook.level(level, h);
                level += 1;
            }
        }
        let h = hook.level(4, self.head.forward_activated(h, self.activation));
        self.classify(h)
    }

    fn logits_from_level(&self, level: usize, activation: NasTensor<4>) -> Option<Result<NasTensor<2>>> {
        Some(check_level_start(&self.info, level, &activation).map(|()| {
            let features = match self.level_blocks.get(level) {
                // Levels 0 to 3 are block outputs; level 4 is the head's.
                Some(block) => {
                    let blocks = self.blocks.iter().skip(block + 1);
                    let h = blocks.fold(activation, |h, block| block.forward(h, self.activation));
                    self.head.forward_activated(h, self.activation)
                }
                None => activation,
            };
            self.classify(features)
        }))
    }

    host_gradient::host_gradient_methods!();
}
