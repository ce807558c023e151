//! torchvision's ResNet-18, -34, -50, -101 and -152, Wide ResNet-50-2 and -101-2, and
//! ResNeXt-50 32x4d, -101 32x8d and -101 64x4d (grouped 3x3 bottleneck convolutions), loaded from
//! their state dicts. Depth levels: the stem max-pool, then layer1..layer4 (DESIGN.md, "Depth
//! levels").

use super::host_gradient::{self, conv_backward, GradientOf, HostDifferentiable, HostMap, Rectified, Rule, Start, Watch};
use super::layers::{global_average, max_pool, ConvBn, ConvGeometry, Linear};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_conv::{Activation, PoolGeometry};
use nas_core::backbone::check_level_start;
use nas_core::burn::tensor::activation::relu;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, Gradient, LevelHook, NasTensor, Params, Result};

const BN_EPS: f32 = 1e-5;

/// The stem's max pooling: 3x3, stride 2, padding 1.
const STEM_POOL: PoolGeometry = PoolGeometry {
    kernel: 3,
    stride: 2,
    padding: 1,
};

/// A residual block: two 3x3 convolutions (basic) or 1x1-3x3-1x1 (bottleneck), plus a shortcut.
pub(crate) struct Block {
    /// The branch's convolutions, a ReLU after each but the last.
    pub(crate) convs: Vec<ConvBn>,
    /// The shortcut's projection, when the block changes shape.
    pub(crate) downsample: Option<ConvBn>,
}

impl Block {
    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let shortcut = match &self.downsample {
            Some(d) => d.forward(x.clone()),
            None => x.clone(),
        };
        let last = self.convs.len() - 1;
        let mut h = x;
        for (i, conv) in self.convs.iter().enumerate() {
            h = if i < last { conv.forward_relu(h) } else { conv.forward(h) };
        }
        relu(h + shortcut)
    }

    /// The block on host values, keeping what its backward pass by `rule` needs.
    fn host_forward(&self, x: &HostMap, rule: Rule) -> Result<BlockTrace> {
        let projected = match &self.downsample {
            Some(d) => Some(d.folded().host_forward(x, Activation::Identity)?),
            None => None,
        };
        let last = self.convs.len() - 1;
        let mut hidden: Vec<Rectified> = Vec::with_capacity(last);
        for conv in &self.convs[..last] {
            let h = hidden.last().map_or(x, |r| &r.values);
            hidden.push(Rectified::after(conv.folded(), h, Activation::Relu, rule)?);
        }
        let h = hidden.last().map_or(x, |r| &r.values);
        let sum = self.convs[last]
            .folded()
            .host_forward(h, Activation::Identity)?
            .plus(projected.as_ref().unwrap_or(x));
        Ok(BlockTrace {
            input_size: x.size(),
            hidden,
            output: Rectified::of(sum, Activation::Relu, rule),
        })
    }

    /// The gradient with respect to the block's input of the gradient `grad` of its output.
    fn host_backward(&self, trace: &BlockTrace, grad: HostMap, rule: Rule, watch: &mut Watch<'_>) -> Result<HostMap> {
        let grad = grad.through(&trace.output, rule)?;
        let mut branch: Option<HostMap> = None;
        for (i, conv) in self.convs.iter().enumerate().rev() {
            let input_size = if i == 0 {
                trace.input_size
            } else {
                trace.hidden[i - 1].values.size()
            };
            let mut g = conv_backward(conv.folded(), branch.as_ref().unwrap_or(&grad), input_size, watch)?;
            if i > 0 {
                g = g.through(&trace.hidden[i - 1], rule)?;
            }
            branch = Some(g);
        }
        let shortcut = match &self.downsample {
            Some(d) => conv_backward(d.folded(), &grad, trace.input_size, watch)?,
            None => grad,
        };
        Ok(match branch {
            Some(branch) => branch.plus(&shortcut),
            None => shortcut,
        })
    }
}

/// What a block's host forward pass keeps for the backward pass.
struct BlockTrace {
    /// Height and width of the block's input.
    input_size: (usize, usize),
    /// The branch's convolutions but the last, after their ReLU.
    hidden: Vec<Rectified>,
    /// The block's output (after the final ReLU).
    output: Rectified,
}

/// A torchvision ResNet's depth: its blocks per layer and their kind.
#[derive(Clone, Copy)]
struct Depth {
    /// Blocks in layer1..layer4.
    blocks: [usize; 4],
    /// Bottleneck blocks (1x1-3x3-1x1, four times wider outputs) rather than basic ones.
    bottleneck: bool,
    /// Groups of a bottleneck's 3x3 convolution: 32 or 64 for the ResNeXts (Xie et al. 2017).
    groups: usize,
    /// Channels per group of a bottleneck's inner convolutions at the first layer, torchvision's
    /// `width_per_group`: 64 for a ResNet, 128 for the Wide ResNets (Zagoruyko & Komodakis
    /// 2016), 4 or 8 for the ResNeXts. Block outputs keep a ResNet's channels.
    width_per_group: usize,
}

impl Depth {
    const R18: Depth = Depth::basic([2, 2, 2, 2]);
    const R34: Depth = Depth::basic([3, 4, 6, 3]);
    const R50: Depth = Depth::bottleneck([3, 4, 6, 3], 1, 64);
    const R101: Depth = Depth::bottleneck([3, 4, 23, 3], 1, 64);
    const R152: Depth = Depth::bottleneck([3, 8, 36, 3], 1, 64);
    const WIDE50: Depth = Depth::bottleneck([3, 4, 6, 3], 1, 128);
    const WIDE101: Depth = Depth::bottleneck([3, 4, 23, 3], 1, 128);
    const NEXT50_32X4: Depth = Depth::bottleneck([3, 4, 6, 3], 32, 4);
    const NEXT101_32X8: Depth = Depth::bottleneck([3, 4, 23, 3], 32, 8);
    const NEXT101_64X4: Depth = Depth::bottleneck([3, 4, 23, 3], 64, 4);

    const fn basic(blocks: [usize; 4]) -> Depth {
        Depth {
            blocks,
            bottleneck: false,
            groups: 1,
            width_per_group: 64,
        }
    }

    const fn bottleneck(blocks: [usize; 4], groups: usize, width_per_group: usize) -> Depth {
        Depth {
            blocks,
            bottleneck: true,
            groups,
            width_per_group,
        }
    }

    fn expansion(self) -> usize {
        if self.bottleneck {
            4
        } else {
            1
        }
    }
}

/// A torchvision ResNet in inference mode; also RegNetX, whose blocks are ResNeXt's with
/// another stem ([`ResNet::from_parts`]).
pub struct ResNet {
    info: BackboneInfo,
    device: Device,
    /// conv1 and bn1, folded.
    pub(crate) stem: ConvBn,
    /// The max pooling after the stem's ReLU ([`STEM_POOL`]; none for RegNetX).
    pub(crate) stem_pool: Option<PoolGeometry>,
    /// layer1..layer4.
    pub(crate) layers: Vec<Vec<Block>>,
    /// The classifier.
    pub(crate) fc: Linear,
}

impl ResNet {
    fn load(depth: Depth, name: &str, sd: &mut StateDict, num_classes: usize) -> Result<ResNet> {
        let stem = ConvBn::load(sd, "conv1", "bn1", BN_EPS, ConvGeometry::symmetric(3, 64, 7, 2, 3))?;
        let mut layers = Vec::new();
        let mut in_ch = 64;
        for (l, &count) in depth.blocks.iter().enumerate() {
            let planes = 64 << l;
            // torchvision: int(planes * (width_per_group / 64.)) * groups.
            let width = planes * depth.width_per_group / 64 * depth.groups;
            let out_ch = planes * depth.expansion();
            let mut blocks = Vec::new();
            for b in 0..count {
                let stride = if l > 0 && b == 0 { 2 } else { 1 };
                let p = format!("layer{}.{b}", l + 1);
                let conv = |sd: &mut StateDict, i: usize, shape: ConvGeometry| {
                    ConvBn::load(sd, &format!("{p}.conv{i}"), &format!("{p}.bn{i}"), BN_EPS, shape)
                };
                let convs = if depth.bottleneck {
                    vec![
                        conv(sd, 1, ConvGeometry::symmetric(in_ch, width, 1, 1, 0))?,
                        conv(
                            sd,
                            2,
                            ConvGeometry {
                                groups: depth.groups,
                                ..ConvGeometry::symmetric(width, width, 3, stride, 1)
                            },
                        )?,
                        conv(sd, 3, ConvGeometry::symmetric(width, out_ch, 1, 1, 0))?,
                    ]
                } else {
                    vec![
                        conv(sd, 1, ConvGeometry::symmetric(in_ch, width, 3, stride, 1))?,
                        conv(sd, 2, ConvGeometry::symmetric(width, width, 3, 1, 1))?,
                    ]
                };
                let downsample = if stride != 1 || in_ch != out_ch {
                    Some(ConvBn::load(
                        sd,
                        &format!("{p}.downsample.0"),
                        &format!("{p}.downsample.1"),
                        BN_EPS,
                        ConvGeometry::symmetric(in_ch, out_ch, 1, stride, 0),
                    )?)
                } else {
                    None
                };
                blocks.push(Block { convs, downsample });
                in_ch = out_ch;
            }
            layers.push(blocks);
        }
        let fc = Linear::load(sd, "fc", in_ch, num_classes)?;
        let e = depth.expansion();
        Ok(ResNet {
            info: BackboneInfo {
                name: name.to_string(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [64, 64 * e, 128 * e, 256 * e, 512 * e],
                level_strides: [4, 4, 8, 16, 32],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            stem_pool: Some(STEM_POOL),
            layers,
            fc,
        })
    }

    /// A network of this shape from its parts: a stem (convolution, BatchNorm, ReLU), an
    /// optional max pooling after it, four stages of residual blocks and a linear head on their
    /// global average.
    pub(crate) fn from_parts(
        info: BackboneInfo,
        device: Device,
        stem: ConvBn,
        stem_pool: Option<PoolGeometry>,
        layers: Vec<Vec<Block>>,
        fc: Linear,
    ) -> ResNet {
        ResNet {
            info,
            device,
            stem,
            stem_pool,
            layers,
            fc,
        }
    }

    /// The stem's output after its max pooling, if it has one.
    pub(crate) fn pool_stem(&self, stem: NasTensor<4>) -> NasTensor<4> {
        match self.stem_pool {
            Some(pool) => max_pool(stem, pool.kernel, pool.stride, pool.padding),
            None => stem,
        }
    }
}

impl ResNet {
    /// The classifier head: global average pooling and the fully connected layer.
    fn head(&self, features: NasTensor<4>) -> NasTensor<2> {
        self.fc.forward(global_average(features))
    }
}

impl HostDifferentiable for ResNet {
    fn host_gradient(&self, input: NasTensor<4>, start: Start<'_>, of: GradientOf, rule: Rule, watch: &mut Watch<'_>) -> Result<Gradient> {
        let stem = self.stem.folded();
        let x = HostMap::from_tensor(input.clone())?;
        let stem_out = Rectified::after(stem, &x, Activation::Relu, rule)?;
        let pooled = match self.stem_pool {
            Some(pool) => host_gradient::max_pool(&stem_out.values, pool)?,
            None => stem_out.values.clone(),
        };
        let mut traces: Vec<Vec<BlockTrace>> = Vec::with_capacity(self.layers.len());
        for (l, blocks) in self.layers.iter().enumerate() {
            // Layer l gives level l + 1.
            if !start.runs_to(l + 1) {
                break;
            }
            let mut layer: Vec<BlockTrace> = Vec::with_capacity(blocks.len());
            for block in blocks {
                let h = layer
                    .last()
                    .or(traces.last().and_then(|t| t.last()))
                    .map_or(&pooled, |t| &t.output.values);
                layer.push(block.host_forward(h, rule)?);
            }
            traces.push(layer);
        }
        let features = traces.last().and_then(|t| t.last()).map_or(&pooled, |t| &t.output.values);
        // The head is linear: its gradient is the same for the inputs and their references.
        let explained = rule.explained(x.dims[0]);
        let (logits, mut grad) = start.head(features, explained, &self.device, |h| self.head(h))?;
        for (l, (blocks, layer)) in self.layers.iter().zip(&traces).enumerate().rev() {
            let value = layer.last().map_or(&pooled, |t| &t.output.values);
            grad = start.at_level(l + 1, value, explained, grad)?;
            if of == GradientOf::Level(l + 1) {
                let grad = host_gradient::started(grad, start)?;
                return Ok(host_gradient::gradient(value.clone().into_tensor(&self.device), grad, logits));
            }
            for (block, trace) in blocks.iter().zip(layer).rev() {
                grad = host_gradient::step(grad, |g| block.host_backward(trace, g, rule, watch))?;
            }
        }
        let grad = host_gradient::started(start.at_level(0, &pooled, explained, grad)?, start)?;
        if of == GradientOf::Level(0) {
            return Ok(host_gradient::gradient(pooled.into_tensor(&self.device), grad, logits));
        }
        let grad = match self.stem_pool {
            Some(pool) => host_gradient::max_pool_backward(&stem_out.values, &grad, pool)?,
            None => grad,
        };
        let grad = grad.through(&stem_out, rule)?;
        let grad = conv_backward(stem, &grad, x.size(), watch)?;
        Ok(host_gradient::gradient(input, grad, logits))
    }

    fn has_host_kernels(&self) -> bool {
        self.stem.folded().runs_on_host_kernels()
    }
}

impl Backbone for ResNet {
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
        let mut h = hook.level(0, self.pool_stem(self.stem.forward_relu(input)));
        for (l, blocks) in self.layers.iter().enumerate() {
            for block in blocks {
                h = block.forward(h);
            }
            h = hook.level(l + 1, h);
        }
        self.head(h)
    }

    fn logits_from_level(&self, level: usize, activation: NasTensor<4>) -> Option<Result<NasTensor<2>>> {
        Some(check_level_start(&self.info, level, &activation).map(|()| {
            // Level 0 feeds the first layer; level l + 1 is layer l's output.
            let blocks = self.layers.iter().skip(level).flatten();
            self.head(blocks.fold(activation, |h, block| block.forward(h)))
        }))
    }

    host_gradient::host_gradient_methods!();
}

/// torchvision's ResNets: name, depth and the standard file's name.
const RESNETS: [(&str, Depth, &str); 10] = [
    ("resnet18", Depth::R18, "resnet18-f37072fd.pth"),
    ("resnet34", Depth::R34, "resnet34-b627a593.pth"),
    ("resnet50", Depth::R50, "resnet50-11ad3fa6.pth"),
    ("resnet101", Depth::R101, "resnet101-cd907fc2.pth"),
    ("resnet152", Depth::R152, "resnet152-f82ba261.pth"),
    ("wide_resnet50_2", Depth::WIDE50, "wide_resnet50_2-9ba9bcbe.pth"),
    ("wide_resnet101_2", Depth::WIDE101, "wide_resnet101_2-d733dc28.pth"),
    ("resnext50_32x4d", Depth::NEXT50_32X4, "resnext50_32x4d-1a0047aa.pth"),
    ("resnext101_32x8d", Depth::NEXT101_32X8, "resnext101_32x8d-110c445d.pth"),
    ("resnext101_64x4d", Depth::NEXT101_64X4, "resnext101_64x4d-173b62eb.pth"),
];

/// The registry entry point of ResNet number `INDEX` of [`RESNETS`].
fn build_resnet<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, depth, file) = RESNETS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| ResNet::load(depth, name, sd, classes))
}

super::register_family! {
    build_resnet;
    0 => "resnet18", "torchvision ResNet-18; levels: stem max-pool, layer1..layer4";
    1 => "resnet34", "torchvision ResNet-34; levels: stem max-pool, layer1..layer4";
    2 => "resnet50", "torchvision ResNet-50; levels: stem max-pool, layer1..layer4";
    3 => "resnet101", "torchvision ResNet-101; levels: stem max-pool, layer1..layer4";
    4 => "resnet152", "torchvision ResNet-152; levels: stem max-pool, layer1..layer4";
    5 => "wide_resnet50_2", "torchvision Wide ResNet-50-2; levels: stem max-pool, layer1..layer4";
    6 => "wide_resnet101_2", "torchvision Wide ResNet-101-2; levels: stem max-pool, layer1..layer4";
    7 => "resnext50_32x4d", "torchvision ResNeXt-50 32x4d; levels: stem max-pool, layer1..layer4";
    8 => "resnext101_32x8d", "torchvision ResNeXt-101 32x8d; levels: stem max-pool, layer1..layer4";
    9 => "resnext101_64x4d", "torchvision ResNeXt-101 64x4d; levels: stem max-pool, layer1..layer4";
}
