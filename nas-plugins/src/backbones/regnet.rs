//! torchvision's RegNets (Radosavovic et al. 2020), RegNetX and RegNetY from 400MF to 128GF,
//! loaded from their state dicts: a stem (3x3 convolution with stride 2, BatchNorm, ReLU), four
//! stages of residual bottleneck blocks (1x1, grouped 3x3 carrying the stage's stride, 1x1; for
//! RegNetY a squeeze-excitation after the 3x3, squeezing to a quarter of the block's input
//! width; a 1x1 projection on the shortcut where the shape changes), global average pooling and
//! a linear head.
//!
//! The stage widths, depths and group widths are torchvision's, as its `BlockParams` derives
//! them from each model's `(depth, w_0, w_a, w_m, group_width)` (bottleneck ratio 1 everywhere).
//!
//! RegNetX's blocks are ResNeXt's bottlenecks (bottleneck ratio 1), so RegNetX is built as a
//! [`ResNet`] without the stem's max pooling, and has its host backward passes (guided
//! backpropagation, FullGrad, DeepLift, LRP). RegNetY's squeeze-excitation has none: its
//! gradients run on burn's automatic differentiation.
//!
//! Depth levels: the stem's output (stride 2) and the outputs of stages 1 to 4 (strides 4, 8,
//! 16, 32).

use super::layers::{global_average, ConvBn, ConvGeometry, Linear};
use super::resnet::{self, ResNet};
use super::squeeze_excitation::{Gate, SqueezeExcitation};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_core::burn::tensor::activation::relu;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// BatchNorm epsilon of torchvision's RegNets.
const BN_EPS: f32 = 1e-5;
/// Output channels of the stem.
const STEM_WIDTH: usize = 32;
/// Squeeze-excitation width of a RegNetY block, as a fraction of the block's input width.
const SE_RATIO: f64 = 0.25;

/// A RegNet's four stages: blocks, output width and group width of each, and whether its blocks
/// squeeze and excite (RegNetY).
#[derive(Clone, Copy)]
struct Stages {
    depths: [usize; 4],
    widths: [usize; 4],
    group_widths: [usize; 4],
    squeeze_excitation: bool,
}

/// One residual bottleneck block: `relu(shortcut(x) + c(se(b(a(x)))))`.
struct Block {
    a: ConvBn,
    b: ConvBn,
    se: Option<SqueezeExcitation>,
    c: ConvBn,
    projection: Option<ConvBn>,
}

impl Block {
    fn load(sd: &mut StateDict, key: &str, inputs: usize, outputs: usize, stride: usize, group_width: usize, se: bool) -> Result<Block> {
        let conv = |sd: &mut StateDict, name: &str, shape: ConvGeometry| {
            ConvBn::load(sd, &format!("{key}.{name}.0"), &format!("{key}.{name}.1"), BN_EPS, shape)
        };
        let a = conv(sd, "f.a", ConvGeometry::symmetric(inputs, outputs, 1, 1, 0))?;
        let b = conv(
            sd,
            "f.b",
            ConvGeometry {
                groups: outputs / group_width,
                ..ConvGeometry::symmetric(outputs, outputs, 3, stride, 1)
            },
        )?;
        let se = if se {
            // Python's round, which torchvision uses, rounds halves to even.
            let squeezed = (SE_RATIO * inputs as f64).round_ties_even() as usize;
            Some(SqueezeExcitation::load(
                sd,
                &format!("{key}.f.se"),
                outputs,
                squeezed,
                Gate::ReluSigmoid,
            )?)
        } else {
            None
        };
        let c = conv(sd, "f.c", ConvGeometry::symmetric(outputs, outputs, 1, 1, 0))?;
        let projection = if inputs != outputs || stride != 1 {
            Some(conv(sd, "proj", ConvGeometry::symmetric(inputs, outputs, 1, stride, 0))?)
        } else {
            None
        };
        Ok(Block { a, b, se, c, projection })
    }

    /// The block as a ResNet bottleneck; for blocks loaded without squeeze-excitation
    /// (RegNetX), the only ones this is called on.
    fn into_residual(self) -> resnet::Block {
        resnet::Block {
            convs: vec![self.a, self.b, self.c],
            downsample: self.projection,
        }
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let shortcut = match &self.projection {
            Some(projection) => projection.forward(x.clone()),
            None => x.clone(),
        };
        let h = self.b.forward_relu(self.a.forward_relu(x));
        let h = match &self.se {
            Some(se) => se.forward(h),
            None => h,
        };
        relu(shortcut + self.c.forward(h))
    }
}

/// A torchvision RegNetY in inference mode (RegNetX is a [`ResNet`]).
pub struct RegNet {
    info: BackboneInfo,
    device: Device,
    stem: ConvBn,
    stages: Vec<Vec<Block>>,
    fc: Linear,
}

/// Loads RegNet `name`: a [`ResNet`] for RegNetX, a [`RegNet`] for RegNetY.
fn load(name: &str, stages: Stages, sd: &mut StateDict, num_classes: usize) -> Result<Box<dyn Backbone>> {
    let stem = ConvBn::load(sd, "stem.0", "stem.1", BN_EPS, ConvGeometry::symmetric(3, STEM_WIDTH, 3, 2, 1))?;
    let mut inputs = STEM_WIDTH;
    let mut loaded = Vec::with_capacity(4);
    for s in 0..4 {
        let outputs = stages.widths[s];
        let blocks = (0..stages.depths[s])
            .map(|i| {
                let key = format!("trunk_output.block{}.block{}-{i}", s + 1, s + 1);
                let (block_inputs, stride) = if i == 0 { (inputs, 2) } else { (outputs, 1) };
                Block::load(
                    sd,
                    &key,
                    block_inputs,
                    outputs,
                    stride,
                    stages.group_widths[s],
                    stages.squeeze_excitation,
                )
            })
            .collect::<Result<Vec<_>>>()?;
        loaded.push(blocks);
        inputs = outputs;
    }
    let w = stages.widths;
    let info = BackboneInfo {
        name: name.into(),
        mean: IMAGENET_MEAN,
        std: IMAGENET_STD,
        level_channels: [STEM_WIDTH, w[0], w[1], w[2], w[3]],
        level_strides: [2, 4, 8, 16, 32],
        min_input_side: 0,
        num_classes,
    };
    let device = sd.device().clone();
    let fc = Linear::load(sd, "fc", inputs, num_classes)?;
    Ok(if stages.squeeze_excitation {
        Box::new(RegNet {
            info,
            device,
            stem,
            stages: loaded,
            fc,
        })
    } else {
        let layers = loaded
            .into_iter()
            .map(|blocks| blocks.into_iter().map(Block::into_residual).collect())
            .collect();
        Box::new(ResNet::from_parts(info, device, stem, None, layers, fc))
    })
}

impl Backbone for RegNet {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let mut h = hook.level(0, self.stem.forward_relu(input));
        for (s, blocks) in self.stages.iter().enumerate() {
            for block in blocks {
                h = block.forward(h);
            }
            h = hook.level(s + 1, h);
        }
        self.fc.forward(global_average(h))
    }
}

/// RegNetX's stages: no squeeze-excitation.
const fn x(depths: [usize; 4], widths: [usize; 4], group_widths: [usize; 4]) -> Stages {
    Stages {
        depths,
        widths,
        group_widths,
        squeeze_excitation: false,
    }
}

/// RegNetY's stages: squeeze-excitation in every block, one group width throughout.
const fn y(depths: [usize; 4], widths: [usize; 4], group_width: usize) -> Stages {
    Stages {
        depths,
        widths,
        group_widths: [group_width; 4],
        squeeze_excitation: true,
    }
}

/// torchvision's RegNets: name, stages (its `BlockParams`, printed from torchvision 0.29) and
/// the standard file's name (the IMAGENET1K_V2 weights; RegNetY-128GF has only SWAG weights,
/// of which the linear-classifier ones evaluate at 224).
const REGNETS: [(&str, Stages, &str); 15] = [
    (
        "regnet_x_400mf",
        x([1, 2, 7, 12], [32, 64, 160, 400], [16; 4]),
        "regnet_x_400mf-62229a5f.pth",
    ),
    (
        "regnet_x_800mf",
        x([1, 3, 7, 5], [64, 128, 288, 672], [16; 4]),
        "regnet_x_800mf-94a99ebd.pth",
    ),
    (
        "regnet_x_1_6gf",
        x([2, 4, 10, 2], [72, 168, 408, 912], [24; 4]),
        "regnet_x_1_6gf-a12f2b72.pth",
    ),
    (
        "regnet_x_3_2gf",
        x([2, 6, 15, 2], [96, 192, 432, 1008], [48; 4]),
        "regnet_x_3_2gf-7071aa85.pth",
    ),
    (
        "regnet_x_8gf",
        x([2, 5, 15, 1], [80, 240, 720, 1920], [80, 120, 120, 120]),
        "regnet_x_8gf-2b70d774.pth",
    ),
    (
        "regnet_x_16gf",
        x([2, 6, 13, 1], [256, 512, 896, 2048], [128; 4]),
        "regnet_x_16gf-ba3796d7.pth",
    ),
    (
        "regnet_x_32gf",
        x([2, 7, 13, 1], [336, 672, 1344, 2520], [168; 4]),
        "regnet_x_32gf-6eb8fdc6.pth",
    ),
    (
        "regnet_y_400mf",
        y([1, 3, 6, 6], [48, 104, 208, 440], 8),
        "regnet_y_400mf-e6988f5f.pth",
    ),
    (
        "regnet_y_800mf",
        y([1, 3, 8, 2], [64, 144, 320, 784], 16),
        "regnet_y_800mf-58fc7688.pth",
    ),
    (
        "regnet_y_1_6gf",
        y([2, 6, 17, 2], [48, 120, 336, 888], 24),
        "regnet_y_1_6gf-0d7bc02a.pth",
    ),
    (
        "regnet_y_3_2gf",
        y([2, 5, 13, 1], [72, 216, 576, 1512], 24),
        "regnet_y_3_2gf-9180c971.pth",
    ),
    (
        "regnet_y_8gf",
        y([2, 4, 10, 1], [224, 448, 896, 2016], 56),
        "regnet_y_8gf-dc2b1b54.pth",
    ),
    (
        "regnet_y_16gf",
        y([2, 4, 11, 1], [224, 448, 1232, 3024], 112),
        "regnet_y_16gf-3e4a00f9.pth",
    ),
    (
        "regnet_y_32gf",
        y([2, 5, 12, 1], [232, 696, 1392, 3712], 232),
        "regnet_y_32gf-8db6d4b5.pth",
    ),
    (
        "regnet_y_128gf",
        y([2, 7, 17, 1], [528, 1056, 2904, 7392], 264),
        "regnet_y_128gf_lc_swag-cbe8ce12.pth",
    ),
];

/// The registry entry point of RegNet number `INDEX` of [`REGNETS`].
fn build_regnet<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, stages, file) = REGNETS[INDEX];
    super::build_boxed_from_weights(name, file, params, ctx, |sd, classes| load(name, stages, sd, classes))
}

super::register_family! {
    build_regnet;
    0 => "regnet_x_400mf", "torchvision RegNetX-400MF; levels: stem, stages 1-4";
    1 => "regnet_x_800mf", "torchvision RegNetX-800MF; levels: stem, stages 1-4";
    2 => "regnet_x_1_6gf", "torchvision RegNetX-1.6GF; levels: stem, stages 1-4";
    3 => "regnet_x_3_2gf", "torchvision RegNetX-3.2GF; levels: stem, stages 1-4";
    4 => "regnet_x_8gf", "torchvision RegNetX-8GF; levels: stem, stages 1-4";
    5 => "regnet_x_16gf", "torchvision RegNetX-16GF; levels: stem, stages 1-4";
    6 => "regnet_x_32gf", "torchvision RegNetX-32GF; levels: stem, stages 1-4";
    7 => "regnet_y_400mf", "torchvision RegNetY-400MF; levels: stem, stages 1-4";
    8 => "regnet_y_800mf", "torchvision RegNetY-800MF; levels: stem, stages 1-4";
    9 => "regnet_y_1_6gf", "torchvision RegNetY-1.6GF; levels: stem, stages 1-4";
    10 => "regnet_y_3_2gf", "torchvision RegNetY-3.2GF; levels: stem, stages 1-4";
    11 => "regnet_y_8gf", "torchvision RegNetY-8GF; levels: stem, stages 1-4";
    12 => "regnet_y_16gf", "torchvision RegNetY-16GF; levels: stem, stages 1-4";
    13 => "regnet_y_32gf", "torchvision RegNetY-32GF; levels: stem, stages 1-4";
    14 => "regnet_y_128gf", "torchvision RegNetY-128GF; levels: stem, stages 1-4";
}
