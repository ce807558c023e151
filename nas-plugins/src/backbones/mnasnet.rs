//! torchvision's MNASNet-B1 (Tan et al. 2019) at widths 0.5, 0.75, 1.0 and 1.3, loaded from
//! their state dicts: a 3x3 stem, a depthwise-separable block, 16 inverted-residual blocks in
//! six stacks (3x3 and 5x5 depthwise kernels, expansion 3 or 6), a 1x1 head to 1280 channels
//! and a linear classifier, ReLU throughout, BatchNorm eps 1e-5, padding `kernel / 2`.
//!
//! Depth levels, chosen as MobileNetV2's: the last block at strides 2, 4, 8 and 16 (the
//! separable block, then `layers.8`, `.9` and `.11`), then the head's activation at stride 32
//! (`layers.16`).
//!
//! torchvision's own MNASNet-0.5 file predates its width-scaled stem: its stem is 32 and 16
//! channels wide whatever the width (the "version 1" layout, which torchvision patches in on
//! loading). The loader reads the stem's widths from the file, so both layouts load unchanged.

use super::inverted_residual::{BlockKeys, BlockSpec, InvertedResidualNet, MbConv};
use super::layers::{ConvBn, ConvGeometry, Linear};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_conv::Activation;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Params, Result};

const BN_EPS: f32 = 1e-5;
/// Blocks after which a depth level is taken (0 is the separable block, 1-16 the stacks').
const LEVEL_BLOCKS: [usize; 4] = [0, 3, 6, 11];
/// The head's width, whatever the network's.
const HEAD_CHANNELS: usize = 1280;
/// Channels of the stem, the separable block and the six stacks at width 1.0.
const DEPTHS: [usize; 8] = [32, 16, 24, 40, 80, 96, 192, 320];
/// The six stacks: (kernel, first stride, expansion ratio, blocks), `layers.8` to `layers.13`.
const STACKS: [(usize, usize, usize, usize); 6] = [(3, 2, 3, 3), (5, 2, 3, 3), (5, 2, 6, 3), (3, 1, 6, 2), (5, 2, 6, 4), (3, 1, 6, 1)];

/// torchvision's MNASNets: name, width multiplier, the standard file's name.
const MNASNETS: [(&str, f64, &str); 4] = [
    ("mnasnet0_5", 0.5, "mnasnet0.5_top1_67.823-3ffadce67e.pth"),
    ("mnasnet0_75", 0.75, "mnasnet0_75-7090bc5f.pth"),
    ("mnasnet1_0", 1.0, "mnasnet1.0_top1_73.512-f206786ef8.pth"),
    ("mnasnet1_3", 1.3, "mnasnet1_3-a4c69d6f.pth"),
];

/// `depth * alpha` rounded to a multiple of 8 as torchvision rounds it: to the nearest, but up
/// when the nearest is more than 10% below.
fn scaled_depth(depth: usize, alpha: f64) -> usize {
    let value = depth as f64 * alpha;
    let nearest = (((value + 4.0) as usize) / 8 * 8).max(8);
    if nearest as f64 >= 0.9 * value {
        nearest
    } else {
        nearest + 8
    }
}

/// The output channels of the convolution `key` in the file, or `default` when the file does
/// not say (`random:SEED`).
fn width_in_file(sd: &StateDict, key: &str, default: usize) -> usize {
    sd.shape_of(&format!("{key}.weight"))
        .and_then(|shape| shape.first().copied())
        .unwrap_or(default)
}

/// Block `index` of stack `stack` (`layers.{8 + stack}.{index}.layers`): expansion at 0 and 1,
/// depthwise convolution at 3 and 4, projection at 6 and 7 (ReLUs between).
fn load_stacked(sd: &mut StateDict, stack: usize, index: usize, spec: BlockSpec) -> Result<MbConv> {
    let p = format!("layers.{}.{index}.layers", 8 + stack);
    let pair = |conv: usize| (format!("{p}.{conv}"), format!("{p}.{}", conv + 1));
    let keys = BlockKeys {
        expand: Some(pair(0)),
        depthwise: pair(3),
        project: pair(6),
    };
    MbConv::load(sd, spec, keys, [spec.0 / 2; 4], BN_EPS)
}

/// MNASNet at width `alpha` from a torchvision state dict.
fn load(name: &str, alpha: f64, sd: &mut StateDict, num_classes: usize) -> Result<InvertedResidualNet> {
    let mut depths = DEPTHS.map(|d| scaled_depth(d, alpha));
    depths[0] = width_in_file(sd, "layers.0", depths[0]);
    depths[1] = width_in_file(sd, "layers.6", depths[1]);
    let stem = ConvBn::load(sd, "layers.0", "layers.1", BN_EPS, ConvGeometry::symmetric(3, depths[0], 3, 2, 1))?;
    let separable_keys = BlockKeys {
        expand: None,
        depthwise: ("layers.3".into(), "layers.4".into()),
        project: ("layers.6".into(), "layers.7".into()),
    };
    let mut separable = MbConv::load(sd, (3, 1, 1, depths[0], depths[1]), separable_keys, [1; 4], BN_EPS)?;
    // torchvision's stem never adds its input, even where the widths would allow it.
    separable.residual = false;
    let mut blocks = vec![separable];
    let mut inputs = depths[1];
    for (stack, &(kernel, stride, expand_ratio, repeats)) in STACKS.iter().enumerate() {
        let outputs = depths[stack + 2];
        for index in 0..repeats {
            let spec = (kernel, if index == 0 { stride } else { 1 }, expand_ratio, inputs, outputs);
            blocks.push(load_stacked(sd, stack, index, spec)?);
            inputs = outputs;
        }
    }
    let head = ConvBn::load(
        sd,
        "layers.14",
        "layers.15",
        BN_EPS,
        ConvGeometry::symmetric(inputs, HEAD_CHANNELS, 1, 1, 0),
    )?;
    let fc = Linear::load(sd, "classifier.1", HEAD_CHANNELS, num_classes)?;
    let info = BackboneInfo {
        name: name.into(),
        mean: IMAGENET_MEAN,
        std: IMAGENET_STD,
        level_channels: [depths[1], depths[2], depths[3], depths[5], HEAD_CHANNELS],
        level_strides: [2, 4, 8, 16, 32],
        min_input_side: 0,
        num_classes,
    };
    let net = InvertedResidualNet::new(info, sd.device().clone(), stem, blocks, LEVEL_BLOCKS, head, fc);
    Ok(net.with_activation(Activation::Relu))
}

/// The registry entry point of MNASNet number `INDEX` of [`MNASNETS`].
fn build<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, alpha, file) = MNASNETS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| load(name, alpha, sd, classes))
}

super::register_family! {
    build;
    0 => "mnasnet0_5", "torchvision MNASNet-B1 0.5; levels: layers.7, .8, .9, .11 and the head (layers.16)";
    1 => "mnasnet0_75", "torchvision MNASNet-B1 0.75; levels: layers.7, .8, .9, .11 and the head (layers.16)";
    2 => "mnasnet1_0", "torchvision MNASNet-B1 1.0; levels: layers.7, .8, .9, .11 and the head (layers.16)";
    3 => "mnasnet1_3", "torchvision MNASNet-B1 1.3; levels: layers.7, .8, .9, .11 and the head (layers.16)";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// torchvision's `_get_depths` at each width (computed with torchvision 0.29).
    #[test]
    fn depths_round_as_torchvision_rounds_them() {
        let expected: [(f64, [usize; 8]); 4] = [
            (0.5, [16, 8, 16, 24, 40, 48, 96, 160]),
            (0.75, [24, 16, 24, 32, 64, 72, 144, 240]),
            (1.0, DEPTHS),
            (1.3, [40, 24, 32, 56, 104, 128, 248, 416]),
        ];
        for (alpha, depths) in expected {
            assert_eq!(DEPTHS.map(|d| scaled_depth(d, alpha)), depths, "width {alpha}");
        }
    }
}
