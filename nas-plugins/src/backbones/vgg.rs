//! torchvision's VGG-16 (without BatchNorm), loaded from its state dict. Depth levels: the
//! convolutions just before each max-pool, taken before their ReLU (`features.2`, `.7`, `.14`,
//! `.21`, `.28`; DESIGN.md, "Depth levels"). The classifier runs in inference mode (no dropout).

use super::layers::{max_pool, Conv2d, ConvGeometry, Linear};
use super::resnet::BACKBONE_PARAMS;
use super::{resolve_weights, IMAGENET_MEAN, IMAGENET_STD};
use nas_core::burn::tensor::activation::relu;
use nas_core::burn::tensor::module::adaptive_avg_pool2d;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// torchvision's file name of the ImageNet weights.
pub const WEIGHTS_FILE: &str = "vgg16-397923af.pth";

/// Output channels of the convolutions of each of the five stages (configuration "D").
const STAGES: [&[usize]; 5] = [&[64, 64], &[128, 128], &[256, 256, 256], &[512, 512, 512], &[512, 512, 512]];

/// Side of the grid the classifier's adaptive average pooling produces.
pub(crate) const POOL_SIDE: usize = 7;

/// A torchvision VGG-16 in inference mode.
pub struct Vgg16 {
    info: BackboneInfo,
    device: Device,
    /// The convolutions of each stage; a max-pool follows each stage.
    /// The convolutions of each stage; a ReLU follows each, a max-pool each stage.
    pub(crate) stages: Vec<Vec<Conv2d>>,
    /// classifier.0, .3 and .6, with a ReLU after the first two.
    pub(crate) classifier: [Linear; 3],
}

impl Vgg16 {
    /// Builds the network from a torchvision `vgg16` state dict (`features.N.*`, `classifier.{0,3,6}.*`).
    pub fn load(sd: &mut StateDict, num_classes: usize) -> Result<Vgg16> {
        let mut stages = Vec::with_capacity(STAGES.len());
        // Index in torchvision's `features` Sequential: each convolution is followed by a ReLU,
        // each stage by a max-pool.
        let mut index = 0;
        let mut in_ch = 3;
        for widths in STAGES {
            let mut convs = Vec::with_capacity(widths.len());
            for &out_ch in widths {
                convs.push(Conv2d::load(
                    sd,
                    &format!("features.{index}"),
                    ConvGeometry::symmetric(in_ch, out_ch, 3, 1, 1),
                )?);
                in_ch = out_ch;
                index += 2;
            }
            index += 1;
            stages.push(convs);
        }
        let flat = in_ch * POOL_SIDE * POOL_SIDE;
        let classifier = [
            Linear::load(sd, "classifier.0", flat, 4096)?,
            Linear::load(sd, "classifier.3", 4096, 4096)?,
            Linear::load(sd, "classifier.6", 4096, num_classes)?,
        ];
        Ok(Vgg16 {
            info: BackboneInfo {
                name: "vgg16".into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [64, 128, 256, 512, 512],
                level_strides: [1, 2, 4, 8, 16],
                num_classes,
            },
            device: sd.device().clone(),
            stages,
            classifier,
        })
    }
}

impl Backbone for Vgg16 {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn as_any(&self) -> Option<&dyn std::any::Any> {
        Some(self)
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let mut h = input;
        for (level, convs) in self.stages.iter().enumerate() {
            let last = convs.len() - 1;
            for (i, conv) in convs.iter().enumerate() {
                h = conv.forward(h);
                if i == last {
                    // The level is the convolution's output before its ReLU.
                    h = hook.level(level, h);
                }
                h = relu(h);
            }
            h = max_pool(h, 2, 2, 0);
        }
        let [batch, channels, height, width] = h.dims();
        if (height, width) != (POOL_SIDE, POOL_SIDE) {
            // Identity at 224x224; other input sizes are pooled to the classifier's 7x7 grid.
            h = adaptive_avg_pool2d(h, [POOL_SIDE, POOL_SIDE]);
        }
        let [fc0, fc1, fc2] = &self.classifier;
        let h = h.reshape([batch, channels * POOL_SIDE * POOL_SIDE]);
        let h = relu(fc0.forward(h));
        let h = relu(fc1.forward(h));
        fc2.forward(h)
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let path = resolve_weights("vgg16", WEIGHTS_FILE, params, ctx)?;
    let num_classes = params.usize("num_classes", 1000, 1, 1_000_000)?;
    let mut sd = StateDict::open(&path, &ctx.device)?;
    let net = Vgg16::load(&mut sd, num_classes)?;
    sd.finish()?;
    Ok(Box::new(net))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "vgg16",
        summary: "torchvision VGG-16 (no BatchNorm); levels: features.2, .7, .14, .21, .28 before their ReLU",
        params: BACKBONE_PARAMS,
        factory: nas_core::Factory::Backbone(build),
    }
}
