//! torchvision's VGG-16 (without BatchNorm), loaded from its state dict. Depth levels: the
//! convolutions just before each max-pool, taken before their ReLU (`features.2`, `.7`, `.14`,
//! `.21`, `.28`; DESIGN.md, "Depth levels"). The classifier runs in inference mode (no dropout).

use super::host_gradient::{self, GradientOf, HostDifferentiable, HostMap};
use super::layers::{max_pool, Conv2d, ConvGeometry, Linear};
use super::BACKBONE_PARAMS;
use super::{open_weights, IMAGENET_MEAN, IMAGENET_STD};
use nas_conv::{Activation, PoolGeometry};
use nas_core::burn::tensor::activation::relu;
use nas_core::burn::tensor::module::adaptive_avg_pool2d;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, Gradient, LevelHook, NasTensor, Params, Result};

/// torchvision's file name of the ImageNet weights.
pub const WEIGHTS_FILE: &str = "vgg16-397923af.pth";

/// Output channels of the convolutions of each of the five stages (configuration "D").
const STAGES: [&[usize]; 5] = [&[64, 64], &[128, 128], &[256, 256, 256], &[512, 512, 512], &[512, 512, 512]];

/// The max pooling after each stage: 2x2, stride 2.
const STAGE_POOL: PoolGeometry = PoolGeometry {
    kernel: 2,
    stride: 2,
    padding: 0,
};

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

/// What a stage's host forward pass keeps for the backward pass.
struct StageTrace {
    /// Height and width of the stage's input.
    input_size: (usize, usize),
    /// The convolutions but the last, after their ReLU.
    hidden: Vec<HostMap>,
    /// The last convolution before its ReLU: the stage's depth level.
    level: HostMap,
    /// The stage's output, `relu(max_pool(level))` (the same as pooling after the ReLU).
    output: HostMap,
}

impl Vgg16 {
    /// The classifier head on the last stage's pooled output.
    fn head(&self, h: NasTensor<4>) -> NasTensor<2> {
        let mut h = h;
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

    /// A stage on host values, keeping what its backward pass needs.
    fn host_stage(convs: &[Conv2d], x: &HostMap) -> Result<StageTrace> {
        let last = convs.len() - 1;
        let mut hidden: Vec<HostMap> = Vec::with_capacity(last);
        for conv in &convs[..last] {
            let h = hidden.last().unwrap_or(x);
            hidden.push(conv.host_forward(h, Activation::Relu)?);
        }
        let level = convs[last].host_forward(hidden.last().unwrap_or(x), Activation::Identity)?;
        let output = host_gradient::max_pool(&level, STAGE_POOL)?.relu();
        Ok(StageTrace {
            input_size: x.size(),
            hidden,
            level,
            output,
        })
    }
}

impl HostDifferentiable for Vgg16 {
    fn host_gradient(&self, input: NasTensor<4>, targets: &[usize], of: GradientOf) -> Result<Gradient> {
        let x = HostMap::from_tensor(input.clone())?;
        let mut traces: Vec<StageTrace> = Vec::with_capacity(self.stages.len());
        for convs in &self.stages {
            let trace = Self::host_stage(convs, traces.last().map_or(&x, |t| &t.output))?;
            traces.push(trace);
        }
        let features = traces.last().map_or(&x, |t| &t.output);
        let (logits, mut grad) = host_gradient::head_gradient(features, &self.device, targets, |h| self.head(h))?;
        for (level, (convs, trace)) in self.stages.iter().zip(&traces).enumerate().rev() {
            // Through the ReLU after the pooling, then to the window maxima.
            grad = host_gradient::max_pool_backward(&trace.level, &grad.through_relu(&trace.output), STAGE_POOL)?;
            if of == GradientOf::Level(level) {
                return Ok(host_gradient::gradient(trace.level.clone().into_tensor(&self.device), grad, logits));
            }
            for (i, conv) in convs.iter().enumerate().rev() {
                let input_size = if i == 0 { trace.input_size } else { trace.hidden[i - 1].size() };
                grad = conv.host_input_gradient(&grad, input_size)?;
                if i > 0 {
                    grad = grad.through_relu(&trace.hidden[i - 1]);
                }
            }
        }
        Ok(host_gradient::gradient(input, grad, logits))
    }

    fn has_host_kernels(&self) -> bool {
        self.stages.iter().flatten().all(Conv2d::runs_on_host_kernels)
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
        self.head(h)
    }

    fn input_gradient(&self, input: NasTensor<4>, targets: &[usize]) -> Result<Gradient> {
        host_gradient::input_gradient(self, input, targets)
    }

    fn level_gradient(&self, input: NasTensor<4>, level: usize, targets: &[usize]) -> Result<Gradient> {
        host_gradient::level_gradient(self, input, level, targets)
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let num_classes = params.usize("num_classes", 1000, 1, 1_000_000)?;
    let mut sd = open_weights("vgg16", WEIGHTS_FILE, params, ctx)?;
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
