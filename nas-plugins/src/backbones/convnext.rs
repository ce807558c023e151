//! torchvision's ConvNeXt-Tiny, -Small, -Base and -Large (Liu et al. 2022), loaded from their
//! state dicts: a patchify stem (4x4 convolution with stride 4, LayerNorm over channels), four
//! stages of ConvNeXt blocks with a downsampling layer (LayerNorm, 2x2 convolution with stride
//! 2) before each of the last three, global average pooling, a LayerNorm and a linear
//! classifier. A block is a 7x7 depthwise convolution, LayerNorm, a pixel-wise MLP (expansion
//! 4, exact GELU) and a learned per-channel layer scale, added to its input; stochastic depth
//! is the identity at inference.
//!
//! Depth levels: the stem's output (stride 4) and the outputs of stages 1 to 4 (strides 4, 8,
//! 16, 32), as ResNet's stem and `layer1`-`layer4`.

use super::layers::{global_average, Conv2d, ConvGeometry, LayerNorm, Linear};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// LayerNorm epsilon of torchvision's ConvNeXts.
const LN_EPS: f64 = 1e-6;
/// Width of a block's MLP, as a multiple of its channels.
const EXPANSION: usize = 4;
/// Side of the depthwise kernel.
const DEPTHWISE_KERNEL: usize = 7;

/// A ConvNeXt's shape: channels and blocks of each stage.
#[derive(Clone, Copy)]
struct Shape {
    channels: [usize; 4],
    blocks: [usize; 4],
}

/// One ConvNeXt block: `x + scale * mlp(norm(depthwise(x)))`.
struct Block {
    depthwise: Conv2d,
    norm: LayerNorm,
    expand: Conv2d,
    project: Conv2d,
    layer_scale: NasTensor<4>,
}

impl Block {
    fn load(sd: &mut StateDict, key: &str, channels: usize) -> Result<Block> {
        let depthwise = ConvGeometry {
            groups: channels,
            ..ConvGeometry::symmetric(channels, channels, DEPTHWISE_KERNEL, 1, DEPTHWISE_KERNEL / 2)
        };
        let wide = EXPANSION * channels;
        Ok(Block {
            depthwise: Conv2d::load(sd, &format!("{key}.block.0"), depthwise)?,
            norm: LayerNorm::load(sd, &format!("{key}.block.2"), channels, LN_EPS)?,
            expand: Conv2d::load_pixel_wise_linear(sd, &format!("{key}.block.3"), channels, wide)?,
            project: Conv2d::load_pixel_wise_linear(sd, &format!("{key}.block.5"), wide, channels)?,
            layer_scale: sd.take::<3>(&format!("{key}.layer_scale"), [channels, 1, 1])?.unsqueeze::<4>(),
        })
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let h = self.norm.forward_channels(self.depthwise.forward(x.clone()));
        let h = self.project.forward(self.expand.forward_gelu(h));
        x + h * self.layer_scale.clone()
    }
}

/// A downsampling layer between stages: LayerNorm over channels, then a 2x2 convolution with
/// stride 2.
struct Downsample {
    norm: LayerNorm,
    conv: Conv2d,
}

/// A torchvision ConvNeXt in inference mode.
pub struct ConvNext {
    info: BackboneInfo,
    device: Device,
    stem: Conv2d,
    stem_norm: LayerNorm,
    downsamples: Vec<Downsample>,
    stages: Vec<Vec<Block>>,
    head_norm: LayerNorm,
    classifier: Linear,
}

impl ConvNext {
    fn load(name: &str, shape: Shape, sd: &mut StateDict, num_classes: usize) -> Result<ConvNext> {
        let first = shape.channels[0];
        let stem = Conv2d::load(sd, "features.0.0", ConvGeometry::symmetric(3, first, 4, 4, 0))?;
        let stem_norm = LayerNorm::load(sd, "features.0.1", first, LN_EPS)?;
        let (mut stages, mut downsamples) = (Vec::new(), Vec::new());
        for (s, (&channels, &count)) in shape.channels.iter().zip(&shape.blocks).enumerate() {
            // torchvision's `features`: 0 the stem, then each stage (1, 3, 5, 7) after its
            // downsampling layer (2, 4, 6).
            if s > 0 {
                let (key, before) = (format!("features.{}", 2 * s), shape.channels[s - 1]);
                downsamples.push(Downsample {
                    norm: LayerNorm::load(sd, &format!("{key}.0"), before, LN_EPS)?,
                    conv: Conv2d::load(sd, &format!("{key}.1"), ConvGeometry::symmetric(before, channels, 2, 2, 0))?,
                });
            }
            let blocks = (0..count)
                .map(|b| Block::load(sd, &format!("features.{}.{b}", 2 * s + 1), channels))
                .collect::<Result<Vec<_>>>()?;
            stages.push(blocks);
        }
        let last = shape.channels[3];
        let head_norm = LayerNorm::load(sd, "classifier.0", last, LN_EPS)?;
        let classifier = Linear::load(sd, "classifier.2", last, num_classes)?;
        let [c1, c2, c3, c4] = shape.channels;
        Ok(ConvNext {
            info: BackboneInfo {
                name: name.into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [c1, c1, c2, c3, c4],
                level_strides: [4, 4, 8, 16, 32],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            stem_norm,
            downsamples,
            stages,
            head_norm,
            classifier,
        })
    }
}

impl Backbone for ConvNext {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let mut h = hook.level(0, self.stem_norm.forward_channels(self.stem.forward(input)));
        for (s, blocks) in self.stages.iter().enumerate() {
            if let Some(down) = s.checked_sub(1).and_then(|d| self.downsamples.get(d)) {
                h = down.conv.forward(down.norm.forward_channels(h));
            }
            for block in blocks {
                h = block.forward(h);
            }
            h = hook.level(s + 1, h);
        }
        let pooled = global_average(h);
        self.classifier.forward(self.head_norm.forward(pooled))
    }
}

/// torchvision's ConvNeXts: name, shape and the standard file's name.
const CONVNEXTS: [(&str, Shape, &str); 4] = [
    (
        "convnext_tiny",
        Shape {
            channels: [96, 192, 384, 768],
            blocks: [3, 3, 9, 3],
        },
        "convnext_tiny-983f1562.pth",
    ),
    (
        "convnext_small",
        Shape {
            channels: [96, 192, 384, 768],
            blocks: [3, 3, 27, 3],
        },
        "convnext_small-0c510722.pth",
    ),
    (
        "convnext_base",
        Shape {
            channels: [128, 256, 512, 1024],
            blocks: [3, 3, 27, 3],
        },
        "convnext_base-6075fbad.pth",
    ),
    (
        "convnext_large",
        Shape {
            channels: [192, 384, 768, 1536],
            blocks: [3, 3, 27, 3],
        },
        "convnext_large-ea097f82.pth",
    ),
];

/// The registry entry point of ConvNeXt number `INDEX` of [`CONVNEXTS`].
fn build_convnext<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, shape, file) = CONVNEXTS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| ConvNext::load(name, shape, sd, classes))
}

super::register_family! {
    build_convnext;
    0 => "convnext_tiny", "torchvision ConvNeXt-Tiny; levels: stem, stages 1-4";
    1 => "convnext_small", "torchvision ConvNeXt-Small; levels: stem, stages 1-4";
    2 => "convnext_base", "torchvision ConvNeXt-Base; levels: stem, stages 1-4";
    3 => "convnext_large", "torchvision ConvNeXt-Large; levels: stem, stages 1-4";
}
