//! torchvision's SqueezeNet 1.0 and 1.1 (Iandola et al. 2016), loaded from their state dicts: a
//! stem convolution, Fire modules (a 1x1 squeeze, then 1x1 and 3x3 expansions side by side,
//! concatenated, each followed by a ReLU) between max pools that round their output size up,
//! and a classifier that is a 1x1 convolution to the classes, a ReLU and a global average.
//!
//! Depth levels: the stem's output (stride 2), the last Fire module before the second and the
//! third max pool (strides 4 and 8), the last Fire module (stride 16), and the classifier's
//! class maps after their ReLU (stride 16, one channel per class).

use super::layers::{global_average, max_pool_ceil, Conv2d, ConvGeometry};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_core::burn::tensor::activation::relu;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// One Fire module: squeeze, then the two expansions concatenated.
struct Fire {
    squeeze: Conv2d,
    expand1x1: Conv2d,
    expand3x3: Conv2d,
}

impl Fire {
    fn load(sd: &mut StateDict, index: usize, inputs: usize, squeeze: usize, expand: usize) -> Result<Fire> {
        let key = |part: &str| format!("features.{index}.{part}");
        Ok(Fire {
            squeeze: Conv2d::load(sd, &key("squeeze"), ConvGeometry::symmetric(inputs, squeeze, 1, 1, 0))?,
            expand1x1: Conv2d::load(sd, &key("expand1x1"), ConvGeometry::symmetric(squeeze, expand, 1, 1, 0))?,
            expand3x3: Conv2d::load(sd, &key("expand3x3"), ConvGeometry::symmetric(squeeze, expand, 3, 1, 1))?,
        })
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let squeezed = self.squeeze.forward_relu(x);
        NasTensor::cat(
            vec![self.expand1x1.forward_relu(squeezed.clone()), self.expand3x3.forward_relu(squeezed)],
            1,
        )
    }
}

/// A SqueezeNet version's shape.
#[derive(Clone, Copy)]
struct Version {
    /// Stem: output channels, kernel (stride 2, no padding).
    stem: (usize, usize),
    /// The Fire modules' `features` indices, squeeze and expansion widths.
    fires: [(usize, usize, usize); 8],
    /// `features` indices of the max pools after the stem's ReLU.
    pools: [usize; 3],
    /// Smallest input side (torchvision's `min_size`).
    min_side: usize,
}

/// torchvision's SqueezeNets: name, shape, the standard file's name.
const SQUEEZENETS: [(&str, Version, &str); 2] = [
    (
        "squeezenet1_0",
        Version {
            stem: (96, 7),
            fires: [
                (3, 16, 64),
                (4, 16, 64),
                (5, 32, 128),
                (7, 32, 128),
                (8, 48, 192),
                (9, 48, 192),
                (10, 64, 256),
                (12, 64, 256),
            ],
            pools: [2, 6, 11],
            min_side: 21,
        },
        "squeezenet1_0-b66bff10.pth",
    ),
    (
        "squeezenet1_1",
        Version {
            stem: (64, 3),
            fires: [
                (3, 16, 64),
                (4, 16, 64),
                (6, 32, 128),
                (7, 32, 128),
                (9, 48, 192),
                (10, 48, 192),
                (11, 64, 256),
                (12, 64, 256),
            ],
            pools: [2, 5, 8],
            min_side: 17,
        },
        "squeezenet1_1-b8a52dc0.pth",
    ),
];

/// A torchvision SqueezeNet in inference mode.
pub struct SqueezeNet {
    info: BackboneInfo,
    device: Device,
    stem: Conv2d,
    /// Each Fire module with whether a max pool comes before it.
    fires: Vec<(bool, Fire)>,
    classifier: Conv2d,
}

impl SqueezeNet {
    fn load(name: &str, version: Version, sd: &mut StateDict, num_classes: usize) -> Result<SqueezeNet> {
        let (stem_width, kernel) = version.stem;
        let stem = Conv2d::load(sd, "features.0", ConvGeometry::symmetric(3, stem_width, kernel, 2, 0))?;
        let mut fires = Vec::with_capacity(version.fires.len());
        let mut inputs = stem_width;
        for (index, squeeze, expand) in version.fires {
            let pooled = version.pools.contains(&(index - 1));
            fires.push((pooled, Fire::load(sd, index, inputs, squeeze, expand)?));
            inputs = 2 * expand;
        }
        let classifier = Conv2d::load(sd, "classifier.1", ConvGeometry::symmetric(inputs, num_classes, 1, 1, 0))?;
        let before_pool = |p: usize| version.fires.iter().rev().find(|f| f.0 < version.pools[p]).map_or(0, |f| 2 * f.2);
        Ok(SqueezeNet {
            info: BackboneInfo {
                name: name.into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [stem_width, before_pool(1), before_pool(2), inputs, num_classes],
                level_strides: [2, 4, 8, 16, 16],
                min_input_side: version.min_side,
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            fires,
            classifier,
        })
    }
}

impl Backbone for SqueezeNet {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let mut h = hook.level(0, self.stem.forward_relu(input));
        let mut level = 1;
        for (i, (pooled, fire)) in self.fires.iter().enumerate() {
            if *pooled {
                // The module before a pool (but the first) ends a stage: a depth level.
                if i > 0 {
                    h = hook.level(level, h);
                    level += 1;
                }
                h = max_pool_ceil(h, 3, 2, 0);
            }
            h = fire.forward(h);
        }
        let h = hook.level(level, h);
        let classes = hook.level(level + 1, relu(self.classifier.forward(h)));
        global_average(classes)
    }
}

/// The registry entry point of SqueezeNet number `INDEX` of [`SQUEEZENETS`].
fn build<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, version, file) = SQUEEZENETS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| SqueezeNet::load(name, version, sd, classes))
}

super::register_family! {
    build;
    0 => "squeezenet1_0", "torchvision SqueezeNet 1.0; levels: stem ReLU, features.5, .10, .12, class maps";
    1 => "squeezenet1_1", "torchvision SqueezeNet 1.1; levels: stem ReLU, features.4, .7, .12, class maps";
}
