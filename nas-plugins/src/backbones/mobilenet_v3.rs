//! torchvision's MobileNetV3-Large and -Small (Howard et al. 2019), loaded from their state
//! dicts: a 3x3 stem with stride 2 and hard swish, inverted-residual blocks (1x1 expansion when
//! it widens, depthwise convolution, squeeze-excitation with a hard-sigmoid gate in some, 1x1
//! projection, the input added when shapes allow) with ReLU or hard swish, a 1x1 head with hard
//! swish, global average pooling and a two-layer classifier (hard swish between, dropout the
//! identity at inference). BatchNorms (eps 1e-3) are folded into their convolutions.
//!
//! Depth levels, as MobileNetV2's: the output before each stride-2 block (the stem's for
//! MobileNetV3-Small, whose first block has stride 2; strides 2, 4, 8, 16), then the head's
//! activation (stride 32).

use super::layers::{global_average, hardswish, ConvBn, ConvGeometry, Linear};
use super::squeeze_excitation::{Gate, SqueezeExcitation};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

const BN_EPS: f32 = 1e-3;

/// A block as torchvision's `InvertedResidualConfig`: input channels, kernel, expanded channels,
/// output channels, squeeze-excitation, hard swish (else ReLU), stride.
type BlockSpec = (usize, usize, usize, usize, bool, bool, usize);

/// torchvision's `_make_divisible(value, 8)`: the nearest multiple of 8, at least 8 and not
/// below 90% of `value`.
fn make_divisible(value: usize) -> usize {
    let rounded = ((value + 4) / 8 * 8).max(8);
    if (rounded as f64) < 0.9 * value as f64 {
        rounded + 8
    } else {
        rounded
    }
}

/// A ConvBn followed by hard swish or ReLU.
fn activate(conv: &ConvBn, x: NasTensor<4>, hard_swish: bool) -> NasTensor<4> {
    if hard_swish {
        conv.forward_hardswish(x)
    } else {
        conv.forward_relu(x)
    }
}

/// One inverted-residual block.
struct Block {
    expand: Option<ConvBn>,
    depthwise: ConvBn,
    excitation: Option<SqueezeExcitation>,
    project: ConvBn,
    hard_swish: bool,
    residual: bool,
    stride: usize,
}

impl Block {
    fn load(sd: &mut StateDict, key: &str, spec: BlockSpec) -> Result<Block> {
        let (inputs, kernel, expanded, outputs, squeeze, hard_swish, stride) = spec;
        // torchvision numbers the block's layers from 0, without the expansion when it would
        // not widen.
        let mut layer = 0;
        let mut next = || {
            let at = format!("{key}.block.{layer}");
            layer += 1;
            at
        };
        let conv_bn = |sd: &mut StateDict, at: &str, shape| ConvBn::load(sd, &format!("{at}.0"), &format!("{at}.1"), BN_EPS, shape);
        let expand = if expanded == inputs {
            None
        } else {
            Some(conv_bn(sd, &next(), ConvGeometry::symmetric(inputs, expanded, 1, 1, 0))?)
        };
        let depthwise_shape = ConvGeometry {
            groups: expanded,
            ..ConvGeometry::symmetric(expanded, expanded, kernel, stride, (kernel - 1) / 2)
        };
        let depthwise = conv_bn(sd, &next(), depthwise_shape)?;
        let excitation = if squeeze {
            Some(SqueezeExcitation::load(
                sd,
                &next(),
                expanded,
                make_divisible(expanded / 4),
                Gate::ReluHardSigmoid,
            )?)
        } else {
            None
        };
        let project = conv_bn(sd, &next(), ConvGeometry::symmetric(expanded, outputs, 1, 1, 0))?;
        Ok(Block {
            expand,
            depthwise,
            excitation,
            project,
            hard_swish,
            residual: stride == 1 && inputs == outputs,
            stride,
        })
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let h = match &self.expand {
            Some(expand) => activate(expand, x.clone(), self.hard_swish),
            None => x.clone(),
        };
        let h = activate(&self.depthwise, h, self.hard_swish);
        let h = match &self.excitation {
            Some(excitation) => excitation.forward(h),
            None => h,
        };
        let h = self.project.forward(h);
        if self.residual {
            h + x
        } else {
            h
        }
    }
}

/// A torchvision MobileNetV3 in inference mode.
pub struct MobileNetV3 {
    info: BackboneInfo,
    device: Device,
    stem: ConvBn,
    blocks: Vec<Block>,
    /// The outputs taken as levels 0 to 3: 0 for the stem's, `i + 1` for block `i`'s.
    level_outputs: [usize; 4],
    head: ConvBn,
    hidden: Linear,
    classifier: Linear,
}

impl MobileNetV3 {
    fn load(name: &str, specs: &[BlockSpec], last: usize, sd: &mut StateDict, num_classes: usize) -> Result<MobileNetV3> {
        let stem_channels = specs.first().map_or(16, |s| s.0);
        let stem = ConvBn::load(
            sd,
            "features.0.0",
            "features.0.1",
            BN_EPS,
            ConvGeometry::symmetric(3, stem_channels, 3, 2, 1),
        )?;
        let blocks = specs
            .iter()
            .enumerate()
            .map(|(i, &spec)| Block::load(sd, &format!("features.{}", i + 1), spec))
            .collect::<Result<Vec<_>>>()?;
        // Output `o` (0: the stem, i + 1: block i) is a level when the block after it has stride 2.
        let mut level_outputs = [0; 4];
        let mut found = 0;
        for (output, block) in blocks.iter().enumerate() {
            if block.stride > 1 && found < 4 {
                level_outputs[found] = output;
                found += 1;
            }
        }
        let channels_of = |output: usize| if output == 0 { stem_channels } else { specs[output - 1].3 };
        let features = specs.last().map_or(stem_channels, |s| s.3);
        let head_key = format!("features.{}", specs.len() + 1);
        let head_channels = 6 * features;
        let head = ConvBn::load(
            sd,
            &format!("{head_key}.0"),
            &format!("{head_key}.1"),
            BN_EPS,
            ConvGeometry::symmetric(features, head_channels, 1, 1, 0),
        )?;
        Ok(MobileNetV3 {
            info: BackboneInfo {
                name: name.into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [
                    channels_of(level_outputs[0]),
                    channels_of(level_outputs[1]),
                    channels_of(level_outputs[2]),
                    channels_of(level_outputs[3]),
                    head_channels,
                ],
                level_strides: [2, 4, 8, 16, 32],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            blocks,
            level_outputs,
            head,
            hidden: Linear::load(sd, "classifier.0", head_channels, last)?,
            classifier: Linear::load(sd, "classifier.3", last, num_classes)?,
        })
    }

    /// `h` handed to the hook when output `output` is a level.
    fn maybe_level(&self, output: usize, h: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<4> {
        match self.level_outputs.iter().position(|&o| o == output) {
            Some(level) => hook.level(level, h),
            None => h,
        }
    }
}

impl Backbone for MobileNetV3 {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let mut h = self.maybe_level(0, self.stem.forward_hardswish(input), hook);
        for (i, block) in self.blocks.iter().enumerate() {
            h = self.maybe_level(i + 1, block.forward(h), hook);
        }
        let h = hook.level(4, self.head.forward_hardswish(h));
        self.classifier.forward(hardswish(self.hidden.forward(global_average(h))))
    }
}

/// MobileNetV3-Large's blocks (torchvision's `_mobilenet_v3_conf`).
const LARGE: [BlockSpec; 15] = [
    (16, 3, 16, 16, false, false, 1),
    (16, 3, 64, 24, false, false, 2),
    (24, 3, 72, 24, false, false, 1),
    (24, 5, 72, 40, true, false, 2),
    (40, 5, 120, 40, true, false, 1),
    (40, 5, 120, 40, true, false, 1),
    (40, 3, 240, 80, false, true, 2),
    (80, 3, 200, 80, false, true, 1),
    (80, 3, 184, 80, false, true, 1),
    (80, 3, 184, 80, false, true, 1),
    (80, 3, 480, 112, true, true, 1),
    (112, 3, 672, 112, true, true, 1),
    (112, 5, 672, 160, true, true, 2),
    (160, 5, 960, 160, true, true, 1),
    (160, 5, 960, 160, true, true, 1),
];

/// MobileNetV3-Small's blocks.
const SMALL: [BlockSpec; 11] = [
    (16, 3, 16, 16, true, false, 2),
    (16, 3, 72, 24, false, false, 2),
    (24, 3, 88, 24, false, false, 1),
    (24, 5, 96, 40, true, true, 2),
    (40, 5, 240, 40, true, true, 1),
    (40, 5, 240, 40, true, true, 1),
    (40, 5, 120, 48, true, true, 1),
    (48, 5, 144, 48, true, true, 1),
    (48, 5, 288, 96, true, true, 2),
    (96, 5, 576, 96, true, true, 1),
    (96, 5, 576, 96, true, true, 1),
];

/// torchvision's MobileNetV3s: name, blocks, classifier width and the standard file's name.
const MOBILENETS_V3: [(&str, &[BlockSpec], usize, &str); 2] = [
    ("mobilenet_v3_large", &LARGE, 1280, "mobilenet_v3_large-5c1a4163.pth"),
    ("mobilenet_v3_small", &SMALL, 1024, "mobilenet_v3_small-047dcff4.pth"),
];

/// The registry entry point of MobileNetV3 number `INDEX` of [`MOBILENETS_V3`].
fn build_mobilenet_v3<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, specs, last, file) = MOBILENETS_V3[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| {
        MobileNetV3::load(name, specs, last, sd, classes)
    })
}

super::register_family! {
    build_mobilenet_v3;
    0 => "mobilenet_v3_large", "torchvision MobileNetV3-Large; levels: the last block before each stride-2 block, head";
    1 => "mobilenet_v3_small", "torchvision MobileNetV3-Small; levels: the stem, the last block before each stride-2 block, head";
}

#[cfg(test)]
mod tests {
    use super::make_divisible;

    /// torchvision's squeeze widths for the expansions of both networks.
    #[test]
    fn squeeze_widths_are_torchvisions() {
        let widths: Vec<usize> = [16, 72, 120, 480, 672, 960, 96, 240, 144, 288, 576]
            .iter()
            .map(|e| make_divisible(e / 4))
            .collect();
        assert_eq!(widths, [8, 24, 32, 120, 168, 240, 24, 64, 40, 72, 144]);
    }
}
