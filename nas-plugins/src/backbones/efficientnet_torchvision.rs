//! torchvision's EfficientNets, B0 to B7 (Tan & Le 2019) and V2-S, -M, -L (Tan & Le 2021),
//! loaded from their state dicts: a 3x3 stem with stride 2, stages of blocks, a 1x1 head,
//! global average pooling and a linear classifier. A block is an MBConv (1x1 expansion,
//! depthwise convolution, squeeze-excitation, 1x1 projection) or, in V2's first stages, a
//! fused MBConv (one full convolution in place of expansion and depthwise convolution, then a
//! 1x1 projection when it expands, no squeeze-excitation); the input is added when shapes
//! allow. Every convolution has its BatchNorm folded in and SiLU after all but the projections;
//! stochastic depth and dropout are the identity at inference. Padding is symmetric,
//! `(kernel - 1) / 2`, as torchvision pads.
//!
//! Depth levels, as EfficientNet-Lite0's: the output of the last stage before each stride-2
//! stage (strides 2, 4, 8, 16), then the head's activation (stride 32).

use super::layers::{global_average, ConvBn, ConvGeometry, Linear};
use super::squeeze_excitation::{Gate, SqueezeExcitation};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// One stage: fused blocks or not, expansion ratio, kernel, stride of its first block, output
/// channels and blocks.
#[derive(Clone, Copy)]
struct Stage {
    fused: bool,
    ratio: usize,
    kernel: usize,
    stride: usize,
    channels: usize,
    blocks: usize,
}

/// An MBConv stage.
const fn mb(ratio: usize, kernel: usize, stride: usize, channels: usize, blocks: usize) -> Stage {
    Stage {
        fused: false,
        ratio,
        kernel,
        stride,
        channels,
        blocks,
    }
}

/// A fused-MBConv stage.
const fn fused(ratio: usize, kernel: usize, stride: usize, channels: usize, blocks: usize) -> Stage {
    Stage {
        fused: true,
        ..mb(ratio, kernel, stride, channels, blocks)
    }
}

/// EfficientNet-B's seven stages with a variant's blocks and channels (the expansions, kernels
/// and strides are B0's for every variant).
const fn b_stages(blocks: [usize; 7], channels: [usize; 7]) -> [Stage; 7] {
    let [b0, b1, b2, b3, b4, b5, b6] = blocks;
    let [c0, c1, c2, c3, c4, c5, c6] = channels;
    [
        mb(1, 3, 1, c0, b0),
        mb(6, 3, 2, c1, b1),
        mb(6, 5, 2, c2, b2),
        mb(6, 3, 2, c3, b3),
        mb(6, 5, 1, c4, b4),
        mb(6, 5, 2, c5, b5),
        mb(6, 3, 1, c6, b6),
    ]
}

/// One variant's shape: stem channels, stages, head channels, BatchNorm epsilon and the input
/// normalisation of its weights' transforms.
#[derive(Clone, Copy)]
struct Shape {
    stem: usize,
    stages: &'static [Stage],
    head: usize,
    eps: f32,
    mean: [f32; 3],
    std: [f32; 3],
}

/// An MBConv block's layers: expansion (absent at ratio 1), depthwise convolution,
/// squeeze-excitation, projection.
struct MbConv {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    excitation: SqueezeExcitation,
    project: ConvBn,
}

/// A fused MBConv block's layers: a full convolution (SiLU), then a projection when it
/// expands.
struct FusedMbConv {
    conv: ConvBn,
    project: Option<ConvBn>,
}

/// A block of a stage, and whether its input is added to its output.
enum Block {
    /// An MBConv block.
    MbConv(Box<MbConv>, bool),
    /// A fused MBConv block.
    Fused(Box<FusedMbConv>, bool),
}

impl Block {
    /// Loads block `key` (`features.S.B`) of `stage`, with `stride`, from `inputs` channels.
    fn load(sd: &mut StateDict, key: &str, stage: Stage, stride: usize, inputs: usize, eps: f32) -> Result<Block> {
        let (hidden, outputs, kernel) = (inputs * stage.ratio, stage.channels, stage.kernel);
        // torchvision numbers the block's layers from 0, without the ones ratio 1 leaves out.
        let mut layer = 0;
        let mut next = || {
            let at = format!("{key}.block.{layer}");
            layer += 1;
            at
        };
        let conv_bn = |sd: &mut StateDict, at: &str, shape| ConvBn::load(sd, &format!("{at}.0"), &format!("{at}.1"), eps, shape);
        let residual = stride == 1 && inputs == outputs;
        if stage.fused {
            let full = |outputs| ConvGeometry::symmetric(inputs, outputs, kernel, stride, (kernel - 1) / 2);
            let layers = if stage.ratio == 1 {
                FusedMbConv {
                    conv: conv_bn(sd, &next(), full(outputs))?,
                    project: None,
                }
            } else {
                FusedMbConv {
                    conv: conv_bn(sd, &next(), full(hidden))?,
                    project: Some(conv_bn(sd, &next(), ConvGeometry::symmetric(hidden, outputs, 1, 1, 0))?),
                }
            };
            return Ok(Block::Fused(Box::new(layers), residual));
        }
        let expand = if stage.ratio == 1 {
            None
        } else {
            Some(conv_bn(sd, &next(), ConvGeometry::symmetric(inputs, hidden, 1, 1, 0))?)
        };
        let depthwise_shape = ConvGeometry {
            groups: hidden,
            ..ConvGeometry::symmetric(hidden, hidden, kernel, stride, (kernel - 1) / 2)
        };
        let depthwise = conv_bn(sd, &next(), depthwise_shape)?;
        let excitation = SqueezeExcitation::load(sd, &next(), hidden, (inputs / 4).max(1), Gate::SiluSigmoid)?;
        let project = conv_bn(sd, &next(), ConvGeometry::symmetric(hidden, outputs, 1, 1, 0))?;
        let layers = MbConv {
            expand,
            depthwise,
            excitation,
            project,
        };
        Ok(Block::MbConv(Box::new(layers), residual))
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let (h, residual) = match self {
            Block::MbConv(layers, residual) => {
                let h = match &layers.expand {
                    Some(expand) => expand.forward_silu(x.clone()),
                    None => x.clone(),
                };
                let h = layers.excitation.forward(layers.depthwise.forward_silu(h));
                (layers.project.forward(h), *residual)
            }
            Block::Fused(layers, residual) => {
                let h = layers.conv.forward_silu(x.clone());
                (layers.project.as_ref().map_or(h.clone(), |p| p.forward(h)), *residual)
            }
        };
        if residual {
            h + x
        } else {
            h
        }
    }
}

/// A torchvision EfficientNet (B0-B7, V2) in inference mode.
pub struct EfficientNet {
    info: BackboneInfo,
    device: Device,
    stem: ConvBn,
    stages: Vec<Vec<Block>>,
    /// The stages whose output is a depth level 0 to 3.
    level_stages: [usize; 4],
    head: ConvBn,
    classifier: Linear,
}

impl EfficientNet {
    fn load(name: &str, shape: Shape, sd: &mut StateDict, num_classes: usize) -> Result<EfficientNet> {
        let eps = shape.eps;
        let stem = ConvBn::load(
            sd,
            "features.0.0",
            "features.0.1",
            eps,
            ConvGeometry::symmetric(3, shape.stem, 3, 2, 1),
        )?;
        let mut stages = Vec::with_capacity(shape.stages.len());
        let mut inputs = shape.stem;
        for (s, &stage) in shape.stages.iter().enumerate() {
            let blocks = (0..stage.blocks)
                .map(|b| {
                    let (stride, block_inputs) = if b == 0 { (stage.stride, inputs) } else { (1, stage.channels) };
                    Block::load(sd, &format!("features.{}.{b}", s + 1), stage, stride, block_inputs, eps)
                })
                .collect::<Result<Vec<_>>>()?;
            stages.push(blocks);
            inputs = stage.channels;
        }
        // A stage is a level when the next one starts with stride 2.
        let mut level_stages = [0; 4];
        let starts = shape.stages.windows(2).enumerate().filter(|(_, pair)| pair[1].stride > 1);
        for (slot, (s, _)) in level_stages.iter_mut().zip(starts) {
            *slot = s;
        }
        let head_key = format!("features.{}", shape.stages.len() + 1);
        let head = ConvBn::load(
            sd,
            &format!("{head_key}.0"),
            &format!("{head_key}.1"),
            eps,
            ConvGeometry::symmetric(inputs, shape.head, 1, 1, 0),
        )?;
        let classifier = Linear::load(sd, "classifier.1", shape.head, num_classes)?;
        let channels = level_stages.map(|s| shape.stages[s].channels);
        Ok(EfficientNet {
            info: BackboneInfo {
                name: name.into(),
                mean: shape.mean,
                std: shape.std,
                level_channels: [channels[0], channels[1], channels[2], channels[3], shape.head],
                level_strides: [2, 4, 8, 16, 32],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            stages,
            level_stages,
            head,
            classifier,
        })
    }
}

impl Backbone for EfficientNet {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let mut h = self.stem.forward_silu(input);
        for (s, blocks) in self.stages.iter().enumerate() {
            for block in blocks {
                h = block.forward(h);
            }
            if let Some(level) = self.level_stages.iter().position(|&l| l == s) {
                h = hook.level(level, h);
            }
        }
        let h = hook.level(4, self.head.forward_silu(h));
        self.classifier.forward(global_average(h))
    }
}

/// A B-variant's shape.
const fn b(stem: usize, stages: &'static [Stage], head: usize, eps: f32) -> Shape {
    Shape {
        stem,
        stages,
        head,
        eps,
        mean: IMAGENET_MEAN,
        std: IMAGENET_STD,
    }
}

const B0: [Stage; 7] = b_stages([1, 2, 2, 3, 3, 4, 1], [16, 24, 40, 80, 112, 192, 320]);
const B1: [Stage; 7] = b_stages([2, 3, 3, 4, 4, 5, 2], [16, 24, 40, 80, 112, 192, 320]);
const B2: [Stage; 7] = b_stages([2, 3, 3, 4, 4, 5, 2], [16, 24, 48, 88, 120, 208, 352]);
const B3: [Stage; 7] = b_stages([2, 3, 3, 5, 5, 6, 2], [24, 32, 48, 96, 136, 232, 384]);
const B4: [Stage; 7] = b_stages([2, 4, 4, 6, 6, 8, 2], [24, 32, 56, 112, 160, 272, 448]);
const B5: [Stage; 7] = b_stages([3, 5, 5, 7, 7, 9, 3], [24, 40, 64, 128, 176, 304, 512]);
const B6: [Stage; 7] = b_stages([3, 6, 6, 8, 8, 11, 3], [32, 40, 72, 144, 200, 344, 576]);
const B7: [Stage; 7] = b_stages([4, 7, 7, 10, 10, 13, 4], [32, 48, 80, 160, 224, 384, 640]);
/// torchvision's `_efficientnet_conf("efficientnet_v2_s")`.
const V2_S: [Stage; 6] = [
    fused(1, 3, 1, 24, 2),
    fused(4, 3, 2, 48, 4),
    fused(4, 3, 2, 64, 4),
    mb(4, 3, 2, 128, 6),
    mb(6, 3, 1, 160, 9),
    mb(6, 3, 2, 256, 15),
];
const V2_M: [Stage; 7] = [
    fused(1, 3, 1, 24, 3),
    fused(4, 3, 2, 48, 5),
    fused(4, 3, 2, 80, 5),
    mb(4, 3, 2, 160, 7),
    mb(6, 3, 1, 176, 14),
    mb(6, 3, 2, 304, 18),
    mb(6, 3, 1, 512, 5),
];
const V2_L: [Stage; 7] = [
    fused(1, 3, 1, 32, 4),
    fused(4, 3, 2, 64, 7),
    fused(4, 3, 2, 96, 7),
    mb(4, 3, 2, 192, 10),
    mb(6, 3, 1, 224, 19),
    mb(6, 3, 2, 384, 25),
    mb(6, 3, 1, 640, 7),
];

/// torchvision's EfficientNets: name, shape and the standard file's name.
const EFFICIENTNETS: [(&str, Shape, &str); 11] = [
    ("efficientnet_b0", b(32, &B0, 1280, 1e-5), "efficientnet_b0_rwightman-7f5810bc.pth"),
    ("efficientnet_b1", b(32, &B1, 1280, 1e-5), "efficientnet_b1_rwightman-bac287d4.pth"),
    ("efficientnet_b2", b(32, &B2, 1408, 1e-5), "efficientnet_b2_rwightman-c35c1473.pth"),
    ("efficientnet_b3", b(40, &B3, 1536, 1e-5), "efficientnet_b3_rwightman-b3899882.pth"),
    ("efficientnet_b4", b(48, &B4, 1792, 1e-5), "efficientnet_b4_rwightman-23ab8bcd.pth"),
    ("efficientnet_b5", b(48, &B5, 2048, 1e-3), "efficientnet_b5_lukemelas-1a07897c.pth"),
    ("efficientnet_b6", b(56, &B6, 2304, 1e-3), "efficientnet_b6_lukemelas-24a108a5.pth"),
    ("efficientnet_b7", b(64, &B7, 2560, 1e-3), "efficientnet_b7_lukemelas-c5b4e57e.pth"),
    ("efficientnet_v2_s", b(24, &V2_S, 1280, 1e-3), "efficientnet_v2_s-dd5fe13b.pth"),
    ("efficientnet_v2_m", b(24, &V2_M, 1280, 1e-3), "efficientnet_v2_m-dc08266a.pth"),
    (
        "efficientnet_v2_l",
        // Its weights' transforms normalise with 0.5 and 0.5, not ImageNet's statistics.
        Shape {
            mean: [0.5; 3],
            std: [0.5; 3],
            ..b(32, &V2_L, 1280, 1e-3)
        },
        "efficientnet_v2_l-59c71312.pth",
    ),
];

/// The registry entry point of EfficientNet number `INDEX` of [`EFFICIENTNETS`].
fn build_efficientnet<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, shape, file) = EFFICIENTNETS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| EfficientNet::load(name, shape, sd, classes))
}

super::register_family! {
    build_efficientnet;
    0 => "efficientnet_b0", "torchvision EfficientNet-B0 (SiLU, squeeze-excitation); levels: stages 1, 2, 3, 5, head";
    1 => "efficientnet_b1", "torchvision EfficientNet-B1; levels: stages 1, 2, 3, 5, head";
    2 => "efficientnet_b2", "torchvision EfficientNet-B2; levels: stages 1, 2, 3, 5, head";
    3 => "efficientnet_b3", "torchvision EfficientNet-B3; levels: stages 1, 2, 3, 5, head";
    4 => "efficientnet_b4", "torchvision EfficientNet-B4; levels: stages 1, 2, 3, 5, head";
    5 => "efficientnet_b5", "torchvision EfficientNet-B5; levels: stages 1, 2, 3, 5, head";
    6 => "efficientnet_b6", "torchvision EfficientNet-B6; levels: stages 1, 2, 3, 5, head";
    7 => "efficientnet_b7", "torchvision EfficientNet-B7; levels: stages 1, 2, 3, 5, head";
    8 => "efficientnet_v2_s", "torchvision EfficientNetV2-S (fused MBConv first); levels: stages 1, 2, 3, 5, head";
    9 => "efficientnet_v2_m", "torchvision EfficientNetV2-M; levels: stages 1, 2, 3, 5, head";
    10 => "efficientnet_v2_l", "torchvision EfficientNetV2-L (inputs normalised with 0.5, 0.5); levels: stages 1, 2, 3, 5, head";
}
