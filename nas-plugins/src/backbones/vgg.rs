//! torchvision's VGG-11, -13, -16 and -19, without BatchNorm or with it (`_bn`, folded into the
//! convolutions), and AlexNet (Krizhevsky et al. 2012, torchvision's one-GPU variant), loaded
//! from their state dicts: plain convolutions with ReLUs, max pools, an adaptive average pooling
//! to a fixed grid and a three-layer classifier.
//! Depth levels: the convolutions just before each max-pool, taken before their ReLU (VGG-16's
//! `features.2`, `.7`, `.14`, `.21`, `.28`; DESIGN.md, "Depth levels"); for AlexNet, whose five
//! convolutions meet only three pools, each convolution before its ReLU (`features.0`, `.3`,
//! `.6`, `.8`, `.10`). The classifier runs in inference mode (no dropout).

use super::host_gradient::{self, conv_backward, GradientOf, HostDifferentiable, HostMap, Rectified, Rule, Start, Watch};
use super::layers::{max_pool, Conv2d, ConvBn, ConvGeometry, Linear};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_conv::{Activation, PoolGeometry};
use nas_core::backbone::check_level_start;
use nas_core::burn::tensor::activation::relu;
use nas_core::burn::tensor::module::adaptive_avg_pool2d;
use nas_core::burn::tensor::TensorData;
use nas_core::upsampled_batch::to_host;
use nas_core::weights::StateDict;
use nas_core::{
    Backbone, BackboneInfo, Context, Device, Gradient, LevelHook, NasError, NasTensor, Objective, Params, ReluGradient, Result,
};

/// Output channels of the convolutions of each of the five stages.
type Stages = [&'static [usize]; 5];

/// Configuration "A" (VGG-11).
const A: Stages = [&[64], &[128], &[256, 256], &[512, 512], &[512, 512]];
/// Configuration "B" (VGG-13).
const B: Stages = [&[64, 64], &[128, 128], &[256, 256], &[512, 512], &[512, 512]];
/// Configuration "D" (VGG-16).
const D: Stages = [&[64, 64], &[128, 128], &[256, 256, 256], &[512, 512, 512], &[512, 512, 512]];
/// Configuration "E" (VGG-19).
const E: Stages = [
    &[64, 64],
    &[128, 128],
    &[256, 256, 256, 256],
    &[512, 512, 512, 512],
    &[512, 512, 512, 512],
];

/// torchvision's VGGs: name, configuration, whether a BatchNorm follows each convolution, and
/// the standard file's name.
const VGGS: [(&str, Stages, bool, &str); 8] = [
    ("vgg11", A, false, "vgg11-8a719046.pth"),
    ("vgg13", B, false, "vgg13-19584684.pth"),
    ("vgg16", D, false, "vgg16-397923af.pth"),
    ("vgg19", E, false, "vgg19-dcbb9e9d.pth"),
    ("vgg11_bn", A, true, "vgg11_bn-6002323d.pth"),
    ("vgg13_bn", B, true, "vgg13_bn-abd245e5.pth"),
    ("vgg16_bn", D, true, "vgg16_bn-6c64b313.pth"),
    ("vgg19_bn", E, true, "vgg19_bn-c79401a0.pth"),
];

/// torchvision's BatchNorm epsilon.
const BN_EPS: f32 = 1e-5;

/// The max pooling after each VGG stage: 2x2, stride 2.
const STAGE_POOL: PoolGeometry = PoolGeometry {
    kernel: 2,
    stride: 2,
    padding: 0,
};

/// AlexNet's max pooling: 3x3, stride 2.
const ALEXNET_POOL: PoolGeometry = PoolGeometry {
    kernel: 3,
    stride: 2,
    padding: 0,
};

/// Side of the grid VGG's classifier's adaptive average pooling produces.
const POOL_SIDE: usize = 7;
/// The same for AlexNet.
const ALEXNET_POOL_SIDE: usize = 6;

/// A torchvision VGG (or AlexNet) in inference mode.
pub struct Vgg {
    info: BackboneInfo,
    device: Device,
    /// The convolutions of each stage; a ReLU follows each; the last one's output, before its
    /// ReLU, is the stage's depth level.
    pub(crate) stages: Vec<Vec<Conv2d>>,
    /// The max pooling after each stage, where there is one.
    pub(crate) stage_pools: Vec<Option<PoolGeometry>>,
    /// Side of the grid the classifier's adaptive average pooling produces.
    pub(crate) pool_side: usize,
    /// The classifier's three linear layers (VGG's `classifier.0`, `.3`, `.6`), with a ReLU
    /// after the first two.
    pub(crate) classifier: [Linear; 3],
}

impl Vgg {
    /// Builds the network `name` with `config`'s stages, with or without BatchNorm (folded into
    /// the convolutions), from a torchvision state dict (`features.N.*`, `classifier.{0,3,6}.*`).
    fn load(name: &str, config: Stages, batch_norm: bool, sd: &mut StateDict, num_classes: usize) -> Result<Vgg> {
        let mut stages = Vec::with_capacity(config.len());
        // Index in torchvision's `features` Sequential: each convolution is followed by a
        // BatchNorm (the `_bn` networks) and a ReLU, each stage by a max-pool.
        let mut index = 0;
        let mut in_ch = 3;
        for widths in config {
            let mut convs = Vec::with_capacity(widths.len());
            for &out_ch in widths {
                let geometry = ConvGeometry::symmetric(in_ch, out_ch, 3, 1, 1);
                let conv = format!("features.{index}");
                convs.push(if batch_norm {
                    ConvBn::load_biased(sd, &conv, &format!("features.{}", index + 1), BN_EPS, geometry)?.into_folded()
                } else {
                    Conv2d::load(sd, &conv, geometry)?
                });
                in_ch = out_ch;
                index += if batch_norm { 3 } else { 2 };
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
        let stage_pools = vec![Some(STAGE_POOL); stages.len()];
        Ok(Vgg {
            info: BackboneInfo {
                name: name.into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [64, 128, 256, 512, 512],
                level_strides: [1, 2, 4, 8, 16],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            stages,
            stage_pools,
            pool_side: POOL_SIDE,
            classifier,
        })
    }

    /// Builds torchvision's AlexNet from its state dict (`features.{0,3,6,8,10}`,
    /// `classifier.{1,4,6}`): five convolutions, one per stage, max pools after the first, the
    /// second and the fifth.
    fn load_alexnet(sd: &mut StateDict, num_classes: usize) -> Result<Vgg> {
        // (key, inputs, outputs, kernel, stride, padding, pooled after)
        let convs = [
            ("features.0", 3, 64, 11, 4, 2, true),
            ("features.3", 64, 192, 5, 1, 2, true),
            ("features.6", 192, 384, 3, 1, 1, false),
            ("features.8", 384, 256, 3, 1, 1, false),
            ("features.10", 256, 256, 3, 1, 1, true),
        ];
        let mut stages = Vec::with_capacity(convs.len());
        let mut stage_pools = Vec::with_capacity(convs.len());
        for (key, inputs, outputs, kernel, stride, padding, pooled) in convs {
            stages.push(vec![Conv2d::load(
                sd,
                key,
                ConvGeometry::symmetric(inputs, outputs, kernel, stride, padding),
            )?]);
            stage_pools.push(pooled.then_some(ALEXNET_POOL));
        }
        let flat = 256 * ALEXNET_POOL_SIDE * ALEXNET_POOL_SIDE;
        Ok(Vgg {
            info: BackboneInfo {
                name: "alexnet".into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [64, 192, 384, 256, 256],
                level_strides: [4, 8, 16, 16, 16],
                // Its unpadded pools leave nothing of smaller inputs (torchvision's minimum).
                min_input_side: 63,
                num_classes,
            },
            device: sd.device().clone(),
            stages,
            stage_pools,
            pool_side: ALEXNET_POOL_SIDE,
            classifier: [
                Linear::load(sd, "classifier.1", flat, 4096)?,
                Linear::load(sd, "classifier.4", 4096, 4096)?,
                Linear::load(sd, "classifier.6", 4096, num_classes)?,
            ],
        })
    }
}

/// What a stage's host forward pass keeps for the backward pass.
struct StageTrace {
    /// Height and width of the stage's input.
    input_size: (usize, usize),
    /// The convolutions but the last, after their ReLU.
    hidden: Vec<Rectified>,
    /// The last convolution before its ReLU: the stage's depth level.
    level: HostMap,
    /// Under the Rescale rule, the level after its ReLU (which the max pool reads, torchvision's
    /// order) with its input; the other rules recompute it when going back, to hold one map less.
    rescaled: Option<Rectified>,
    /// The stage's output, `max_pool(relu(level))` (`relu(level)` without a pool).
    output: HostMap,
}

impl Vgg {
    /// The classifier head on the last stage's pooled output.
    fn head(&self, h: NasTensor<4>) -> NasTensor<2> {
        let mut h = h;
        let [batch, channels, height, width] = h.dims();
        let side = self.pool_side;
        if (height, width) != (side, side) {
            // Identity at 224x224; other input sizes are pooled to the classifier's grid.
            h = adaptive_avg_pool2d(h, [side, side]);
        }
        let [fc0, fc1, fc2] = &self.classifier;
        let h = h.reshape([batch, channels * side * side]);
        let h = relu(fc0.forward(h));
        let h = relu(fc1.forward(h));
        fc2.forward(h)
    }

    /// The classifier's logits for `features` (the classifier's grid) and the gradient of each sample's
    /// `objective` with respect to them, through the classifier's two ReLUs by `rule`, the three
    /// layers differentiated by hand (burn's automatic differentiation cannot change a ReLU's
    /// backward pass, and would transpose the largest weight in every pass). Under the Rescale
    /// rule `features` holds the references after the inputs, and the gradient covers the inputs.
    fn classifier_gradient(&self, features: &HostMap, objective: Objective<'_>, rule: Rule) -> Result<(NasTensor<2>, HostMap)> {
        let [batch, channels, height, width] = features.dims;
        let explained = rule.explained(batch);
        let side = self.pool_side;
        if (height, width) != (side, side) {
            return Err(NasError::InvalidInput(format!(
                "{}: {rule} backward passes need inputs whose last stage is {side}x{side}; got {height}x{width}",
                self.info.name
            )));
        }
        let [fc0, fc1, fc2] = &self.classifier;
        let x = features
            .clone()
            .into_tensor(&self.device)
            .reshape([batch, channels * height * width]);
        let h1 = fc0.forward(x);
        let h2 = fc1.forward(relu(h1.clone()));
        let logits = fc2.forward(relu(h2.clone()));
        let grad = fc1.input_gradient(through_relu(fc2.objective_gradient(objective, explained)?, h2, rule)?);
        let grad = fc0.input_gradient(through_relu(grad, h1, rule)?);
        let grad = HostMap::from_tensor(grad.reshape([explained, channels, height, width]))?;
        Ok((logits, grad))
    }

    /// A stage on host values, keeping what its backward pass by `rule` needs.
    fn host_stage(convs: &[Conv2d], pool: Option<PoolGeometry>, x: &HostMap, rule: Rule) -> Result<StageTrace> {
        let last = convs.len() - 1;
        let mut hidden: Vec<Rectified> = Vec::with_capacity(last);
        for conv in &convs[..last] {
            let h = hidden.last().map_or(x, |r| &r.values);
            hidden.push(Rectified::after(conv, h, Activation::Relu, rule)?);
        }
        let level = convs[last].host_forward(hidden.last().map_or(x, |r| &r.values), Activation::Identity)?;
        let activated = Rectified::of(level.clone(), Activation::Relu, rule);
        let output = match pool {
            Some(pool) => host_gradient::max_pool(&activated.values, pool)?,
            None => activated.values.clone(),
        };
        Ok(StageTrace {
            input_size: x.size(),
            hidden,
            level,
            rescaled: (rule == Rule::Rescale).then_some(activated),
            output,
        })
    }
}

/// The gradient `grad` `(explained, n)` through a ReLU whose input was `input` `(batch, n)`,
/// by `rule`.
fn through_relu(grad: NasTensor<2>, input: NasTensor<2>, rule: Rule) -> Result<NasTensor<2>> {
    let device = grad.device();
    let as_map = |t: NasTensor<2>| -> Result<HostMap> {
        let [rows, n] = t.dims();
        Ok(HostMap {
            data: to_host(t)?,
            dims: [rows, n, 1, 1],
        })
    };
    let dims = grad.dims();
    let site = Rectified::of(as_map(input)?, Activation::Relu, rule);
    let grad = as_map(grad)?.through(&site, rule)?;
    Ok(NasTensor::from_data(TensorData::new(grad.data, dims), &device))
}

impl HostDifferentiable for Vgg {
    fn host_gradient(&self, input: NasTensor<4>, start: Start<'_>, of: GradientOf, rule: Rule, watch: &mut Watch<'_>) -> Result<Gradient> {
        let x = HostMap::from_tensor(input.clone())?;
        let mut traces: Vec<StageTrace> = Vec::with_capacity(self.stages.len());
        for (level, (convs, pool)) in self.stages.iter().zip(&self.stage_pools).enumerate() {
            if !start.runs_to(level) {
                break;
            }
            let trace = Self::host_stage(convs, *pool, traces.last().map_or(&x, |t| &t.output), rule)?;
            traces.push(trace);
        }
        let features = traces.last().map_or(&x, |t| &t.output);
        let explained = rule.explained(x.dims[0]);
        // The classifier by hand where its input is its grid (224 x 224 photos for VGG: the host
        // matrix products, no transposed copy of the 4096 x 25088 weight); other sizes go
        // through the adaptive pooling, by burn's automatic differentiation.
        let by_hand = features.dims[2..] == [self.pool_side, self.pool_side] || rule != Rule::Gradient(ReluGradient::Standard);
        let (logits, mut grad) = match start {
            Start::Logits(objective) if by_hand => {
                let (logits, grad) = self.classifier_gradient(features, objective, rule)?;
                (logits, Some(grad))
            }
            _ => start.head(features, explained, &self.device, |h| self.head(h))?,
        };
        for (level, ((convs, pool), trace)) in self.stages.iter().zip(&self.stage_pools).zip(&traces).enumerate().rev() {
            // To the window maxima of the ReLU's output, then through the ReLU. Where a window
            // holds no positive value its maximum is the first of its zeros, which only
            // deconvolution (blind to the forward pass) sends a gradient through.
            grad = host_gradient::step(grad, |grad| {
                let recomputed;
                let activated = match &trace.rescaled {
                    Some(kept) => kept,
                    None => {
                        recomputed = Rectified::of(trace.level.clone(), Activation::Relu, rule);
                        &recomputed
                    }
                };
                let grad = match pool {
                    Some(pool) => host_gradient::max_pool_backward(&activated.values, &grad, *pool)?,
                    None => grad,
                };
                grad.through(activated, rule)
            })?;
            grad = start.at_level(level, &trace.level, explained, grad)?;
            if of == GradientOf::Level(level) {
                let grad = host_gradient::started(grad, start)?;
                return Ok(host_gradient::gradient(trace.level.clone().into_tensor(&self.device), grad, logits));
            }
            grad = host_gradient::step(grad, |mut grad| {
                for (i, conv) in convs.iter().enumerate().rev() {
                    let input_size = if i == 0 {
                        trace.input_size
                    } else {
                        trace.hidden[i - 1].values.size()
                    };
                    grad = conv_backward(conv, &grad, input_size, watch)?;
                    if i > 0 {
                        grad = grad.through(&trace.hidden[i - 1], rule)?;
                    }
                }
                Ok(grad)
            })?;
        }
        Ok(host_gradient::gradient(input, host_gradient::started(grad, start)?, logits))
    }

    fn has_host_kernels(&self) -> bool {
        self.stages.iter().flatten().all(Conv2d::runs_on_host_kernels)
    }
}

impl Backbone for Vgg {
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
        for (level, (convs, pool)) in self.stages.iter().zip(&self.stage_pools).enumerate() {
            let last = convs.len() - 1;
            for (i, conv) in convs.iter().enumerate() {
                h = conv.forward(h);
                if i == last {
                    // The level is the convolution's output before its ReLU.
                    h = hook.level(level, h);
                }
                h = relu(h);
            }
            if let Some(pool) = pool {
                h = max_pool(h, pool.kernel, pool.stride, pool.padding);
            }
        }
        self.head(h)
    }

    fn logits_from_level(&self, level: usize, activation: NasTensor<4>) -> Option<Result<NasTensor<2>>> {
        Some(check_level_start(&self.info, level, &activation).map(|()| {
            // The level is its stage's last convolution before the ReLU and the stage's pool.
            let mut h = relu(activation);
            for (s, (convs, pool)) in self.stages.iter().zip(&self.stage_pools).enumerate().skip(level) {
                if s > level {
                    h = convs.iter().fold(h, |h, conv| relu(conv.forward(h)));
                }
                if let Some(pool) = pool {
                    h = max_pool(h, pool.kernel, pool.stride, pool.padding);
                }
            }
            self.head(h)
        }))
    }

    host_gradient::host_gradient_methods!();
}

/// The registry entry point of VGG number `INDEX` of [`VGGS`].
fn build<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, config, batch_norm, file) = VGGS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| {
        Vgg::load(name, config, batch_norm, sd, classes)
    })
}

/// The registry entry point of AlexNet.
fn build_alexnet(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    super::build_from_weights("alexnet", "alexnet-owt-7be5be79.pth", params, ctx, Vgg::load_alexnet)
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "alexnet",
        summary: "torchvision AlexNet; levels: features.0, .3, .6, .8, .10 before their ReLU",
        params: super::BACKBONE_PARAMS,
        factory: nas_core::Factory::Backbone(build_alexnet),
    }
}

super::register_family! {
    build;
    0 => "vgg11", "torchvision VGG-11 (no BatchNorm); levels: features.0, .3, .8, .13, .18 before their ReLU";
    1 => "vgg13", "torchvision VGG-13 (no BatchNorm); levels: features.2, .7, .12, .17, .22 before their ReLU";
    2 => "vgg16", "torchvision VGG-16 (no BatchNorm); levels: features.2, .7, .14, .21, .28 before their ReLU";
    3 => "vgg19", "torchvision VGG-19 (no BatchNorm); levels: features.2, .7, .16, .25, .34 before their ReLU";
    4 => "vgg11_bn", "torchvision VGG-11 with BatchNorm (folded); levels: features.1, .5, .12, .19, .26 (BatchNorm outputs) before their ReLU";
    5 => "vgg13_bn", "torchvision VGG-13 with BatchNorm (folded); levels: features.4, .11, .18, .25, .32 (BatchNorm outputs) before their ReLU";
    6 => "vgg16_bn", "torchvision VGG-16 with BatchNorm (folded); levels: features.4, .11, .21, .31, .41 (BatchNorm outputs) before their ReLU";
    7 => "vgg19_bn", "torchvision VGG-19 with BatchNorm (folded); levels: features.4, .11, .24, .37, .50 (BatchNorm outputs) before their ReLU";
}
