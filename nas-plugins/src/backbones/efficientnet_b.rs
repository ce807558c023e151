//! torchvision's EfficientNet-B0 to -B7 (Tan & Le 2019), loaded from their state dicts: a 3x3
//! stem with stride 2, seven stages of MBConv blocks (1x1 expansion, depthwise convolution,
//! squeeze-excitation, 1x1 projection, the input added when shapes allow), a 1x1 head, global
//! average pooling and a linear classifier. Every convolution has its BatchNorm folded in and
//! SiLU after all but the projections; stochastic depth and dropout are the identity at
//! inference. Padding is symmetric, `(kernel - 1) / 2`, as torchvision pads.
//!
//! Depth levels, as EfficientNet-Lite0's: the outputs of stages 1, 2, 3 and 5 (the last block
//! before each stride-2 stage; strides 2, 4, 8, 16), then the head's activation (stride 32).

use super::layers::{global_average, ConvBn, ConvGeometry, Linear};
use super::squeeze_excitation::{Gate, SqueezeExcitation};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// Expansion ratio, kernel and stride of the blocks of each of the seven stages (the first
/// block carries the stride).
const STAGES: [(usize, usize, usize); 7] = [(1, 3, 1), (6, 3, 2), (6, 5, 2), (6, 3, 2), (6, 5, 1), (6, 5, 2), (6, 3, 1)];
/// Stages whose last block's output is a depth level (0-based): 0, 1, 2 and 4.
const LEVEL_STAGES: [usize; 4] = [0, 1, 2, 4];

/// One variant's shape: stem channels, blocks and output channels of each stage, head channels
/// and BatchNorm epsilon.
#[derive(Clone, Copy)]
struct Shape {
    stem: usize,
    blocks: [usize; 7],
    channels: [usize; 7],
    head: usize,
    eps: f32,
}

/// An MBConv block with squeeze-excitation.
struct Block {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    excitation: SqueezeExcitation,
    project: ConvBn,
    residual: bool,
}

impl Block {
    /// Loads block `key` (`features.S.B`) turning `inputs` into `outputs` channels.
    fn load(
        sd: &mut StateDict,
        key: &str,
        (ratio, kernel, stride): (usize, usize, usize),
        inputs: usize,
        outputs: usize,
        eps: f32,
    ) -> Result<Block> {
        let hidden = inputs * ratio;
        // torchvision numbers the block's layers from 0, without the expansion at ratio 1.
        let mut layer = 0;
        let mut next = || {
            let at = format!("{key}.block.{layer}");
            layer += 1;
            at
        };
        let expand = if ratio == 1 {
            None
        } else {
            let at = next();
            Some(ConvBn::load(
                sd,
                &format!("{at}.0"),
                &format!("{at}.1"),
                eps,
                ConvGeometry::symmetric(inputs, hidden, 1, 1, 0),
            )?)
        };
        let at = next();
        let depthwise_shape = ConvGeometry {
            groups: hidden,
            ..ConvGeometry::symmetric(hidden, hidden, kernel, stride, (kernel - 1) / 2)
        };
        let depthwise = ConvBn::load(sd, &format!("{at}.0"), &format!("{at}.1"), eps, depthwise_shape)?;
        let at = next();
        let squeezed = (inputs / 4).max(1);
        let excitation = SqueezeExcitation::load(sd, &at, hidden, squeezed, Gate::SiluSigmoid)?;
        let at = next();
        let project = ConvBn::load(
            sd,
            &format!("{at}.0"),
            &format!("{at}.1"),
            eps,
            ConvGeometry::symmetric(hidden, outputs, 1, 1, 0),
        )?;
        Ok(Block {
            expand,
            depthwise,
            excitation,
            project,
            residual: stride == 1 && inputs == outputs,
        })
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let h = match &self.expand {
            Some(expand) => expand.forward_silu(x.clone()),
            None => x.clone(),
        };
        let h = self.excitation.forward(self.depthwise.forward_silu(h));
        let h = self.project.forward(h);
        if self.residual {
            h + x
        } else {
            h
        }
    }
}

/// A torchvision EfficientNet-B in inference mode.
pub struct EfficientNetB {
    info: BackboneInfo,
    device: Device,
    stem: ConvBn,
    stages: Vec<Vec<Block>>,
    head: ConvBn,
    classifier: Linear,
}

impl EfficientNetB {
    fn load(name: &str, shape: Shape, sd: &mut StateDict, num_classes: usize) -> Result<EfficientNetB> {
        let eps = shape.eps;
        let stem = ConvBn::load(
            sd,
            "features.0.0",
            "features.0.1",
            eps,
            ConvGeometry::symmetric(3, shape.stem, 3, 2, 1),
        )?;
        let mut stages = Vec::with_capacity(STAGES.len());
        let mut inputs = shape.stem;
        for (s, &(ratio, kernel, stride)) in STAGES.iter().enumerate() {
            let outputs = shape.channels[s];
            let blocks = (0..shape.blocks[s])
                .map(|b| {
                    let (block_stride, block_inputs) = if b == 0 { (stride, inputs) } else { (1, outputs) };
                    Block::load(
                        sd,
                        &format!("features.{}.{b}", s + 1),
                        (ratio, kernel, block_stride),
                        block_inputs,
                        outputs,
                        eps,
                    )
                })
                .collect::<Result<Vec<_>>>()?;
            stages.push(blocks);
            inputs = outputs;
        }
        let head_key = format!("features.{}", STAGES.len() + 1);
        let head = ConvBn::load(
            sd,
            &format!("{head_key}.0"),
            &format!("{head_key}.1"),
            eps,
            ConvGeometry::symmetric(inputs, shape.head, 1, 1, 0),
        )?;
        let classifier = Linear::load(sd, "classifier.1", shape.head, num_classes)?;
        let c = shape.channels;
        Ok(EfficientNetB {
            info: BackboneInfo {
                name: name.into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [c[0], c[1], c[2], c[4], shape.head],
                level_strides: [2, 4, 8, 16, 32],
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            stages,
            head,
            classifier,
        })
    }
}

impl Backbone for EfficientNetB {
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
            if let Some(level) = LEVEL_STAGES.iter().position(|&l| l == s) {
                h = hook.level(level, h);
            }
        }
        let h = hook.level(4, self.head.forward_silu(h));
        self.classifier.forward(global_average(h))
    }
}

/// torchvision's EfficientNet-B0 to -B7: name, shape and the standard file's name.
const EFFICIENTNETS: [(&str, Shape, &str); 8] = [
    (
        "efficientnet_b0",
        Shape {
            stem: 32,
            blocks: [1, 2, 2, 3, 3, 4, 1],
            channels: [16, 24, 40, 80, 112, 192, 320],
            head: 1280,
            eps: 1e-5,
        },
        "efficientnet_b0_rwightman-7f5810bc.pth",
    ),
    (
        "efficientnet_b1",
        Shape {
            stem: 32,
            blocks: [2, 3, 3, 4, 4, 5, 2],
            channels: [16, 24, 40, 80, 112, 192, 320],
            head: 1280,
            eps: 1e-5,
        },
        "efficientnet_b1_rwightman-bac287d4.pth",
    ),
    (
        "efficientnet_b2",
        Shape {
            stem: 32,
            blocks: [2, 3, 3, 4, 4, 5, 2],
            channels: [16, 24, 48, 88, 120, 208, 352],
            head: 1408,
            eps: 1e-5,
        },
        "efficientnet_b2_rwightman-c35c1473.pth",
    ),
    (
        "efficientnet_b3",
        Shape {
            stem: 40,
            blocks: [2, 3, 3, 5, 5, 6, 2],
            channels: [24, 32, 48, 96, 136, 232, 384],
            head: 1536,
            eps: 1e-5,
        },
        "efficientnet_b3_rwightman-b3899882.pth",
    ),
    (
        "efficientnet_b4",
        Shape {
            stem: 48,
            blocks: [2, 4, 4, 6, 6, 8, 2],
            channels: [24, 32, 56, 112, 160, 272, 448],
            head: 1792,
            eps: 1e-5,
        },
        "efficientnet_b4_rwightman-23ab8bcd.pth",
    ),
    (
        "efficientnet_b5",
        Shape {
            stem: 48,
            blocks: [3, 5, 5, 7, 7, 9, 3],
            channels: [24, 40, 64, 128, 176, 304, 512],
            head: 2048,
            eps: 1e-3,
        },
        "efficientnet_b5_lukemelas-1a07897c.pth",
    ),
    (
        "efficientnet_b6",
        Shape {
            stem: 56,
            blocks: [3, 6, 6, 8, 8, 11, 3],
            channels: [32, 40, 72, 144, 200, 344, 576],
            head: 2304,
            eps: 1e-3,
        },
        "efficientnet_b6_lukemelas-24a108a5.pth",
    ),
    (
        "efficientnet_b7",
        Shape {
            stem: 64,
            blocks: [4, 7, 7, 10, 10, 13, 4],
            channels: [32, 48, 80, 160, 224, 384, 640],
            head: 2560,
            eps: 1e-3,
        },
        "efficientnet_b7_lukemelas-c5b4e57e.pth",
    ),
];

/// The registry entry point of EfficientNet number `INDEX` of [`EFFICIENTNETS`].
fn build_efficientnet<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, shape, file) = EFFICIENTNETS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| EfficientNetB::load(name, shape, sd, classes))
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
}
