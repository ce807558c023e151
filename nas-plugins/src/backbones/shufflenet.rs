//! torchvision's ShuffleNet V2 (Ma et al. 2018) at widths 0.5, 1.0, 1.5 and 2.0, loaded from
//! their state dicts: a 3x3 stride-2 stem and a max pool, three stages of shuffle units, a 1x1
//! convolution and a linear classifier, BatchNorm eps 1e-5.
//!
//! A unit of stride 1 splits its channels in halves, passes the first through and sends the
//! second through a 1x1 convolution, a 3x3 depthwise one and another 1x1; a unit of stride 2
//! (each stage's first) sends the whole input down two such branches. The halves are
//! concatenated and shuffled, interleaved channel by channel as `channel_shuffle(x, 2)` does.
//!
//! Depth levels, at the places of ResNet's: the stem's max pool (stride 4), stages 2, 3 and 4
//! (strides 8, 16, 32), then the last convolution's ReLU (`conv5`, stride 32).

use super::layers::{global_average, max_pool, ConvBn, ConvGeometry, Linear};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

const BN_EPS: f32 = 1e-5;
/// Units per stage (stages 2, 3 and 4), at every width.
const STAGE_UNITS: [usize; 3] = [4, 8, 4];

/// torchvision's ShuffleNet V2s: name, channels of the stem, the three stages and `conv5`, the
/// standard file's name.
const SHUFFLENETS: [(&str, [usize; 5], &str); 4] = [
    ("shufflenet_v2_x0_5", [24, 48, 96, 192, 1024], "shufflenetv2_x0.5-f707e7126e.pth"),
    ("shufflenet_v2_x1_0", [24, 116, 232, 464, 1024], "shufflenetv2_x1-5666bf0f80.pth"),
    ("shufflenet_v2_x1_5", [24, 176, 352, 704, 1024], "shufflenetv2_x1_5-3c479a10.pth"),
    ("shufflenet_v2_x2_0", [24, 244, 488, 976, 2048], "shufflenetv2_x2_0-8be3c8ee.pth"),
];

/// A branch's three convolutions: 1x1 with ReLU, 3x3 depthwise, 1x1 with ReLU (torchvision's
/// `branch2`); `branch1` is the same without its first 1x1 convolution.
struct Branch {
    /// The leading 1x1 convolution (absent in `branch1`), a ReLU after it.
    reduce: Option<ConvBn>,
    /// The 3x3 depthwise convolution, no activation after it.
    depthwise: ConvBn,
    /// The closing 1x1 convolution, a ReLU after it.
    project: ConvBn,
}

impl Branch {
    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let h = match &self.reduce {
            Some(reduce) => reduce.forward_relu(x),
            None => x,
        };
        self.project.forward_relu(self.depthwise.forward(h))
    }
}

/// One shuffle unit: at stride 1, `branch` on the second half of the channels; at stride 2,
/// `shortcut` (torchvision's `branch1`) and `branch` both on the whole input.
struct ShuffleUnit {
    shortcut: Option<Branch>,
    branch: Branch,
}

impl ShuffleUnit {
    /// Unit `key` (such as `stage2.0`) from `inputs` to `outputs` channels at `stride`.
    fn load(sd: &mut StateDict, key: &str, inputs: usize, outputs: usize, stride: usize) -> Result<ShuffleUnit> {
        let half = outputs / 2;
        let conv = |sd: &mut StateDict, branch: usize, index: usize, shape: ConvGeometry| {
            let at = |i: usize| format!("{key}.branch{branch}.{i}");
            ConvBn::load(sd, &at(index), &at(index + 1), BN_EPS, shape)
        };
        let depthwise = |channels: usize| ConvGeometry {
            in_channels: channels,
            out_channels: channels,
            kernel: 3,
            stride,
            padding: [1; 4],
            groups: channels,
        };
        let shortcut = if stride > 1 {
            Some(Branch {
                reduce: None,
                depthwise: conv(sd, 1, 0, depthwise(inputs))?,
                project: conv(sd, 1, 2, ConvGeometry::symmetric(inputs, half, 1, 1, 0))?,
            })
        } else {
            None
        };
        let branch_inputs = if stride > 1 { inputs } else { half };
        let branch = Branch {
            reduce: Some(conv(sd, 2, 0, ConvGeometry::symmetric(branch_inputs, half, 1, 1, 0))?),
            depthwise: conv(sd, 2, 3, depthwise(half))?,
            project: conv(sd, 2, 5, ConvGeometry::symmetric(half, half, 1, 1, 0))?,
        };
        Ok(ShuffleUnit { shortcut, branch })
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let (kept, processed) = match &self.shortcut {
            Some(shortcut) => (shortcut.forward(x.clone()), self.branch.forward(x)),
            None => {
                let half = x.dims()[1] / 2;
                (x.clone().narrow(1, 0, half), self.branch.forward(x.narrow(1, half, half)))
            }
        };
        interleave(kept, processed)
    }
}

/// The channels of `first` and `second` interleaved (`first[0], second[0], first[1], ...`):
/// concatenation followed by torchvision's `channel_shuffle(x, 2)`, in one copy.
fn interleave(first: NasTensor<4>, second: NasTensor<4>) -> NasTensor<4> {
    let [batch, channels, height, width] = first.dims();
    NasTensor::stack::<5>(vec![first, second], 2).reshape([batch, 2 * channels, height, width])
}

/// A torchvision ShuffleNet V2 in inference mode.
pub struct ShuffleNetV2 {
    info: BackboneInfo,
    device: Device,
    /// `conv1`, a ReLU after it; a 3x3 stride-2 max pool follows.
    stem: ConvBn,
    /// Stages 2, 3 and 4.
    stages: Vec<Vec<ShuffleUnit>>,
    /// `conv5`, a ReLU after it.
    head: ConvBn,
    fc: Linear,
}

impl ShuffleNetV2 {
    fn load(name: &str, widths: [usize; 5], sd: &mut StateDict, num_classes: usize) -> Result<ShuffleNetV2> {
        let stem = ConvBn::load(sd, "conv1.0", "conv1.1", BN_EPS, ConvGeometry::symmetric(3, widths[0], 3, 2, 1))?;
        let mut stages = Vec::with_capacity(STAGE_UNITS.len());
        let mut inputs = widths[0];
        for (stage, units) in STAGE_UNITS.iter().enumerate() {
            let outputs = widths[stage + 1];
            let loaded = (0..*units)
                .map(|i| {
                    let key = format!("stage{}.{i}", stage + 2);
                    let (from, stride) = if i == 0 { (inputs, 2) } else { (outputs, 1) };
                    ShuffleUnit::load(sd, &key, from, outputs, stride)
                })
                .collect::<Result<Vec<_>>>()?;
            stages.push(loaded);
            inputs = outputs;
        }
        let head = ConvBn::load(
            sd,
            "conv5.0",
            "conv5.1",
            BN_EPS,
            ConvGeometry::symmetric(inputs, widths[4], 1, 1, 0),
        )?;
        let fc = Linear::load(sd, "fc", widths[4], num_classes)?;
        Ok(ShuffleNetV2 {
            info: BackboneInfo {
                name: name.into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [widths[0], widths[1], widths[2], widths[3], widths[4]],
                level_strides: [4, 8, 16, 32, 32],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            stages,
            head,
            fc,
        })
    }
}

impl Backbone for ShuffleNetV2 {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let mut h = hook.level(0, max_pool(self.stem.forward_relu(input), 3, 2, 1));
        for (level, stage) in self.stages.iter().enumerate() {
            for unit in stage {
                h = unit.forward(h);
            }
            h = hook.level(level + 1, h);
        }
        let h = hook.level(4, self.head.forward_relu(h));
        self.fc.forward(global_average(h))
    }
}

/// The registry entry point of ShuffleNet V2 number `INDEX` of [`SHUFFLENETS`].
fn build<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, widths, file) = SHUFFLENETS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| ShuffleNetV2::load(name, widths, sd, classes))
}

super::register_family! {
    build;
    0 => "shufflenet_v2_x0_5", "torchvision ShuffleNet V2 x0.5; levels: stem max pool, stages 2-4, conv5";
    1 => "shufflenet_v2_x1_0", "torchvision ShuffleNet V2 x1.0; levels: stem max pool, stages 2-4, conv5";
    2 => "shufflenet_v2_x1_5", "torchvision ShuffleNet V2 x1.5; levels: stem max pool, stages 2-4, conv5";
    3 => "shufflenet_v2_x2_0", "torchvision ShuffleNet V2 x2.0; levels: stem max pool, stages 2-4, conv5";
}
