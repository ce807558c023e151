//! torchvision's GoogLeNet (Inception v1, Szegedy et al. 2015), loaded from its state dict: a
//! stem (7x7 convolution with stride 2, max pool, 1x1 and 3x3 convolutions, max pool), nine
//! Inception modules in three groups separated by max pools, global average pooling and a
//! linear head. Every convolution is torchvision's `BasicConv2d` (no bias, BatchNorm with
//! epsilon 1e-3, ReLU); an Inception module concatenates a 1x1 branch, two 1x1-then-3x3 branches
//! (torchvision's "5x5" branch has a 3x3 kernel, as its weights do) and a 3x3 max pool followed
//! by a 1x1 projection. The max pools round their output size up (`ceil_mode=True`).
//!
//! The weight file's auxiliary classifiers (`aux1`, `aux2`) serve training only and are not
//! loaded. torchvision's weights expect `transform_input=True`, which maps ImageNet-normalised
//! inputs to `(x - 0.5) / 0.5`; nas normalises with mean and standard deviation 0.5 directly.
//!
//! Depth levels: the stem's first max pool (stride 4), its 3x3 convolution (stride 4), and the
//! outputs of Inception 3b, 4e and 5b (strides 8, 16, 32).

use super::layers::{global_average, max_pool_ceil, ConvBn, ConvGeometry, Linear};
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// BatchNorm epsilon of torchvision's `BasicConv2d`.
const BN_EPS: f32 = 1e-3;
/// Mean and standard deviation of the inputs torchvision's weights expect (`transform_input`).
const HALF: [f32; 3] = [0.5; 3];

/// A `BasicConv2d` at `key` (`key.conv`, `key.bn`).
fn basic(sd: &mut StateDict, key: &str, inputs: usize, outputs: usize, kernel: usize, stride: usize) -> Result<ConvBn> {
    let geometry = ConvGeometry::symmetric(inputs, outputs, kernel, stride, kernel / 2);
    ConvBn::load(sd, &format!("{key}.conv"), &format!("{key}.bn"), BN_EPS, geometry)
}

/// An Inception module's widths: input, 1x1 branch, the two reduced branches (reduction,
/// output), and the pooled branch's projection.
#[derive(Clone, Copy)]
struct Widths {
    inputs: usize,
    single: usize,
    reduced: [[usize; 2]; 2],
    pooled: usize,
}

impl Widths {
    const fn new(inputs: usize, single: usize, r3: usize, c3: usize, r5: usize, c5: usize, pooled: usize) -> Widths {
        Widths {
            inputs,
            single,
            reduced: [[r3, c3], [r5, c5]],
            pooled,
        }
    }

    fn outputs(&self) -> usize {
        self.single + self.reduced[0][1] + self.reduced[1][1] + self.pooled
    }
}

/// One Inception module.
struct Inception {
    single: ConvBn,
    reduced: [[ConvBn; 2]; 2],
    pooled: ConvBn,
}

impl Inception {
    fn load(sd: &mut StateDict, key: &str, w: Widths) -> Result<Inception> {
        let branch = |sd: &mut StateDict, b: usize, [reduction, outputs]: [usize; 2]| -> Result<[ConvBn; 2]> {
            Ok([
                basic(sd, &format!("{key}.branch{b}.0"), w.inputs, reduction, 1, 1)?,
                basic(sd, &format!("{key}.branch{b}.1"), reduction, outputs, 3, 1)?,
            ])
        };
        Ok(Inception {
            single: basic(sd, &format!("{key}.branch1"), w.inputs, w.single, 1, 1)?,
            reduced: [branch(sd, 2, w.reduced[0])?, branch(sd, 3, w.reduced[1])?],
            pooled: basic(sd, &format!("{key}.branch4.1"), w.inputs, w.pooled, 1, 1)?,
        })
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let [three, five] = self
            .reduced
            .each_ref()
            .map(|[reduce, conv]| conv.forward_relu(reduce.forward_relu(x.clone())));
        let single = self.single.forward_relu(x.clone());
        let pooled = self.pooled.forward_relu(max_pool_ceil(x, 3, 1, 1));
        NasTensor::cat(vec![single, three, five, pooled], 1)
    }
}

/// torchvision's Inception modules, by group (3a-3b, 4a-4e, 5a-5b).
const GROUPS: [&[(&str, Widths)]; 3] = [
    &[
        ("inception3a", Widths::new(192, 64, 96, 128, 16, 32, 32)),
        ("inception3b", Widths::new(256, 128, 128, 192, 32, 96, 64)),
    ],
    &[
        ("inception4a", Widths::new(480, 192, 96, 208, 16, 48, 64)),
        ("inception4b", Widths::new(512, 160, 112, 224, 24, 64, 64)),
        ("inception4c", Widths::new(512, 128, 128, 256, 24, 64, 64)),
        ("inception4d", Widths::new(512, 112, 144, 288, 32, 64, 64)),
        ("inception4e", Widths::new(528, 256, 160, 320, 32, 128, 128)),
    ],
    &[
        ("inception5a", Widths::new(832, 256, 160, 320, 32, 128, 128)),
        ("inception5b", Widths::new(832, 384, 192, 384, 48, 128, 128)),
    ],
];

/// torchvision's GoogLeNet in inference mode.
pub struct GoogLeNet {
    info: BackboneInfo,
    device: Device,
    conv1: ConvBn,
    conv2: ConvBn,
    conv3: ConvBn,
    groups: Vec<Vec<Inception>>,
    fc: Linear,
}

impl GoogLeNet {
    fn load(sd: &mut StateDict, num_classes: usize) -> Result<GoogLeNet> {
        let conv1 = basic(sd, "conv1", 3, 64, 7, 2)?;
        let conv2 = basic(sd, "conv2", 64, 64, 1, 1)?;
        let conv3 = basic(sd, "conv3", 64, 192, 3, 1)?;
        let groups = GROUPS
            .iter()
            .map(|group| group.iter().map(|(key, widths)| Inception::load(sd, key, *widths)).collect())
            .collect::<Result<Vec<Vec<_>>>>()?;
        sd.drop_module("aux1");
        sd.drop_module("aux2");
        let last = |g: usize| GROUPS[g].last().map_or(0, |(_, w)| w.outputs());
        Ok(GoogLeNet {
            info: BackboneInfo {
                name: "googlenet".into(),
                mean: HALF,
                std: HALF,
                level_channels: [64, 192, last(0), last(1), last(2)],
                level_strides: [4, 4, 8, 16, 32],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            conv1,
            conv2,
            conv3,
            groups,
            fc: Linear::load(sd, "fc", last(2), num_classes)?,
        })
    }
}

impl Backbone for GoogLeNet {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let h = hook.level(0, max_pool_ceil(self.conv1.forward_relu(input), 3, 2, 0));
        let h = hook.level(1, self.conv3.forward_relu(self.conv2.forward_relu(h)));
        let mut h = max_pool_ceil(h, 3, 2, 0);
        for (g, group) in self.groups.iter().enumerate() {
            if g == 2 {
                h = max_pool_ceil(h, 2, 2, 0);
            } else if g == 1 {
                h = max_pool_ceil(h, 3, 2, 0);
            }
            for module in group {
                h = module.forward(h);
            }
            h = hook.level(g + 2, h);
        }
        self.fc.forward(global_average(h))
    }
}

/// The registry entry point of GoogLeNet.
fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    super::build_from_weights("googlenet", "googlenet-1378be20.pth", params, ctx, GoogLeNet::load)
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "googlenet",
        summary: "torchvision GoogLeNet (Inception v1); levels: stem max-pool, conv3, inception 3b, 4e, 5b",
        params: super::BACKBONE_PARAMS,
        factory: nas_core::Factory::Backbone(build),
    }
}
