//! torchvision's MobileNetV2 (width 1.0), loaded from its state dict: a 3x3 stem, 17
//! inverted-residual blocks, a 1x1 head to 1280 channels and a linear classifier, padding
//! `(kernel - 1) / 2` as PyTorch's layers have it, BatchNorm eps 1e-5. Depth levels, chosen as
//! EfficientNet-Lite0's: the last block at strides 2, 4, 8 and 16 (blocks 0, 2, 5, 12, i.e.
//! `features.1`, `.3`, `.6`, `.13`), then the head activation at stride 32 (`features.18`).

use super::inverted_residual::{BlockKeys, BlockSpec, InvertedResidualNet, MbConv};
use super::layers::{ConvBn, ConvGeometry, Linear};
use super::{BACKBONE_PARAMS, IMAGENET_MEAN, IMAGENET_STD};
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Params, Result};

const BN_EPS: f32 = 1e-5;
/// Blocks after which a depth level is taken.
const LEVEL_BLOCKS: [usize; 4] = [0, 2, 5, 12];
/// torchvision's file name of the ImageNet weights.
const WEIGHTS_FILE: &str = "mobilenet_v2-b0353104.pth";

/// (kernel, stride, expand ratio, input channels, output channels) of each of the 17 blocks:
/// torchvision's inverted-residual settings (t, c, n, s) = (1, 16, 1, 1), (6, 24, 2, 2),
/// (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1), written out.
const BLOCKS: [BlockSpec; 17] = [
    (3, 1, 1, 32, 16),
    (3, 2, 6, 16, 24),
    (3, 1, 6, 24, 24),
    (3, 2, 6, 24, 32),
    (3, 1, 6, 32, 32),
    (3, 1, 6, 32, 32),
    (3, 2, 6, 32, 64),
    (3, 1, 6, 64, 64),
    (3, 1, 6, 64, 64),
    (3, 1, 6, 64, 64),
    (3, 1, 6, 64, 96),
    (3, 1, 6, 96, 96),
    (3, 1, 6, 96, 96),
    (3, 2, 6, 96, 160),
    (3, 1, 6, 160, 160),
    (3, 1, 6, 160, 160),
    (3, 1, 6, 160, 320),
];

/// Block `index` (`features.{index + 1}`): its `conv` Sequential holds, in order, the expansion
/// (a Conv2dNormActivation, absent at ratio 1), the depthwise one, then the projection and its
/// BatchNorm as two plain entries.
fn load_block(sd: &mut StateDict, index: usize, spec: BlockSpec) -> Result<MbConv> {
    let (kernel, _, expand_ratio, ..) = spec;
    let p = format!("features.{}.conv", index + 1);
    let activated = |i: usize| (format!("{p}.{i}.0"), format!("{p}.{i}.1"));
    let expands = usize::from(expand_ratio != 1);
    let keys = BlockKeys {
        expand: (expands == 1).then(|| activated(0)),
        depthwise: activated(expands),
        project: (format!("{p}.{}", expands + 1), format!("{p}.{}", expands + 2)),
    };
    let pad = (kernel - 1) / 2;
    MbConv::load(sd, spec, keys, [pad; 4], BN_EPS)
}

/// MobileNetV2 from a torchvision state dict.
fn load(sd: &mut StateDict, num_classes: usize) -> Result<InvertedResidualNet> {
    let stem = ConvBn::load(sd, "features.0.0", "features.0.1", BN_EPS, ConvGeometry::symmetric(3, 32, 3, 2, 1))?;
    let blocks = BLOCKS
        .iter()
        .enumerate()
        .map(|(i, spec)| load_block(sd, i, *spec))
        .collect::<Result<Vec<_>>>()?;
    let head = ConvBn::load(
        sd,
        "features.18.0",
        "features.18.1",
        BN_EPS,
        ConvGeometry::symmetric(320, 1280, 1, 1, 0),
    )?;
    let fc = Linear::load(sd, "classifier.1", 1280, num_classes)?;
    let info = BackboneInfo {
        name: "mobilenet_v2".into(),
        mean: IMAGENET_MEAN,
        std: IMAGENET_STD,
        level_channels: [16, 24, 32, 96, 1280],
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
    super::build_from_weights("mobilenet_v2", WEIGHTS_FILE, params, ctx, load)
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "mobilenet_v2",
        summary: "torchvision MobileNetV2; levels: features.1, .3, .6, .13 and the head (features.18)",
        params: BACKBONE_PARAMS,
        factory: nas_core::Factory::Backbone(build),
    }
}
