//! Layer-wise Relevance Propagation (Bach et al. 2015) with zennit's `EpsilonPlusFlat`,
//! `EpsilonAlpha2Beta1Flat`, `EpsilonGammaBox`, `EpsilonPlus`, `EpsilonAlpha2Beta1` or
//! `ExcitationBackprop` composite and canonizers (`ResNetCanonizer`, BatchNorm merged into the
//! convolutions): Flat (ZBox for EpsilonGammaBox, the others' rule for EpsilonPlus,
//! EpsilonAlpha2Beta1 and ExcitationBackprop) for the first convolution, ZPlus, AlphaBeta(2, 1)
//! or Gamma for the others, Epsilon for dense layers (ZPlus for ExcitationBackprop), Norm
//! for residual sums and average pools, ReLUs and ReLU6s passed through, max pools by their
//! gradient. The relevance starts as the
//! target's one-hot vector at the logits, as zennit's attributors are usually called, and is
//! summed over colour channels. Rules are in [`rules`]; this module walks the networks it knows
//! (torchvision ResNet-18/50 and VGG-16, EfficientNet-Lite0 with its residual sums split by Norm
//! as zennit's ResNet canonizer splits them) from their logits back to the photo. On the ViTs
//! it is conservative propagation (CP-LRP, Ali et al. 2022) as LRP-eXplains-Transformers (lxt)
//! applies it to torchvision's ViT: gradient x input through a forward pass whose attention
//! softmax and LayerNorm scale carry no gradient and whose GELU takes the identity rule.

pub mod rules;

use super::gradient::{reduce_channels, ChannelReduction, REDUCE_PARAM};
use crate::backbones::inverted_residual::InvertedResidualNet;
use crate::backbones::layers::{global_average, max_pool, Conv2d, Linear};
use crate::backbones::resnet::ResNet;
use crate::backbones::vgg::Vgg;
use crate::backbones::vit::Vit;
use nas_core::backbone::hooked_level_gradient;
use nas_core::burn::tensor::activation::relu;
use nas_core::burn::tensor::module::adaptive_avg_pool2d;
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, BackboneInfo, Context, NasError, NasTensor, Objective, ParamKind, ParamSpec, Params, Result, Saliency, LEVELS};

/// The rule for convolutions after the first.
#[derive(Debug, Clone, Copy, PartialEq)]
enum ConvRule {
    /// `(alpha, beta)`: `(1, 0)` is ZPlus.
    AlphaBeta([f64; 2]),
    /// Gamma with its `gamma`.
    Gamma(f64),
}

/// The rule for dense layers.
#[derive(Debug, Clone, Copy, PartialEq)]
enum DenseRule {
    /// Epsilon with its `epsilon`.
    Epsilon(f64),
    /// ZPlus (Excitation Backprop).
    ZPlus,
}

/// The rule for the first convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
enum FirstRule {
    /// Equal shares.
    Flat,
    /// Bounded by the normalised images of black and white pixels.
    ZBox,
    /// The rule of the other convolutions.
    AsOthers,
}

/// The `lrp` saliency method.
pub struct Lrp {
    conv_rule: ConvRule,
    first_rule: FirstRule,
    dense_rule: DenseRule,
    /// The other rules' stabiliser.
    stabilizer: f64,
    reduction: ChannelReduction,
    /// Whether a CNN-only setting was given (ViT refuses them).
    composite_given: bool,
}

/// Parameters of `lrp`.
pub const LRP_PARAMS: &[ParamSpec] = &[COMPOSITE_PARAM, GAMMA_PARAM, EPSILON_PARAM, STABILIZER_PARAM, REDUCE_PARAM];

/// The parameters that choose LRP's rules, shared with `layer-lrp`.
pub const RULE_PARAMS: [ParamSpec; 4] = [COMPOSITE_PARAM, GAMMA_PARAM, EPSILON_PARAM, STABILIZER_PARAM];

const COMPOSITE_PARAM: ParamSpec = ParamSpec {
    name: "composite",
    kind: ParamKind::Str,
    default: "\"epsilon-plus-flat\"",
    doc: "zennit composite: epsilon-plus-flat (ZPlus convolutions, Flat first layer), epsilon-alpha2-beta1-flat, epsilon-gamma-box (ZBox first layer, Gamma convolutions), epsilon-plus or epsilon-alpha2-beta1 (the first layer as the others), excitation-backprop (ZPlus everywhere, dense layers included)",
};

const GAMMA_PARAM: ParamSpec = ParamSpec {
    name: "gamma",
    kind: ParamKind::Float,
    default: "0.25",
    doc: "the Gamma rule's gamma (epsilon-gamma-box; zennit's default)",
};

const EPSILON_PARAM: ParamSpec = ParamSpec {
    name: "epsilon",
    kind: ParamKind::Float,
    default: "1e-6",
    doc: "the Epsilon rule's epsilon, for dense layers (zennit's default)",
};

const STABILIZER_PARAM: ParamSpec = ParamSpec {
    name: "stabilizer",
    kind: ParamKind::Float,
    default: "1e-6",
    doc: "the other rules' stabiliser (zennit's default)",
};

impl Lrp {
    /// Builds from `lrp` parameters (see [`LRP_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<Lrp> {
        let composite = params.choice(
            "composite",
            "epsilon-plus-flat",
            &[
                "epsilon-plus-flat",
                "epsilon-alpha2-beta1-flat",
                "epsilon-gamma-box",
                "epsilon-plus",
                "epsilon-alpha2-beta1",
                "excitation-backprop",
            ],
        )?;
        let gamma = params.float("gamma", 0.25, 0.0, 1e6)?;
        if params.contains("gamma") && composite != "epsilon-gamma-box" {
            return Err(params.error("gamma", gamma.to_string(), "only used with composite = \"epsilon-gamma-box\""));
        }
        let epsilon = params.float("epsilon", 1e-6, 0.0, 1e6)?;
        if params.contains("epsilon") && composite == "excitation-backprop" {
            return Err(params.error(
                "epsilon",
                epsilon.to_string(),
                "not used with composite = \"excitation-backprop\", whose dense layers take ZPlus",
            ));
        }
        let (conv_rule, first_rule) = match composite.as_str() {
            "epsilon-alpha2-beta1-flat" => (ConvRule::AlphaBeta([2.0, 1.0]), FirstRule::Flat),
            "epsilon-gamma-box" => (ConvRule::Gamma(gamma), FirstRule::ZBox),
            "epsilon-plus" => (ConvRule::AlphaBeta([1.0, 0.0]), FirstRule::AsOthers),
            "epsilon-alpha2-beta1" => (ConvRule::AlphaBeta([2.0, 1.0]), FirstRule::AsOthers),
            "excitation-backprop" => (ConvRule::AlphaBeta([1.0, 0.0]), FirstRule::AsOthers),
            _ => (ConvRule::AlphaBeta([1.0, 0.0]), FirstRule::Flat),
        };
        Ok(Lrp {
            conv_rule,
            first_rule,
            dense_rule: if composite == "excitation-backprop" {
                DenseRule::ZPlus
            } else {
                DenseRule::Epsilon(epsilon)
            },
            stabilizer: params.float("stabilizer", 1e-6, 0.0, 1e6)?,
            reduction: ChannelReduction::from_params(params)?,
            composite_given: ["composite", "gamma", "epsilon", "stabilizer"]
                .iter()
                .any(|key| params.contains(key)),
        })
    }

    /// Relevance at the input of a dense layer.
    fn dense(&self, layer: &Linear, x: NasTensor<2>, relevance: NasTensor<2>) -> Result<NasTensor<2>> {
        match self.dense_rule {
            DenseRule::Epsilon(epsilon) => rules::dense_epsilon(layer, x, relevance, epsilon),
            DenseRule::ZPlus => rules::dense_zplus(layer, x, relevance, self.stabilizer),
        }
    }

    /// Relevance at the input of a convolution after the first.
    fn conv(&self, conv: &Conv2d, x: NasTensor<4>, relevance: NasTensor<4>) -> Result<NasTensor<4>> {
        match self.conv_rule {
            ConvRule::AlphaBeta(ab) => rules::conv_alpha_beta(conv, x, relevance, ab, self.stabilizer),
            ConvRule::Gamma(gamma) => rules::conv_gamma(conv, x, relevance, gamma, self.stabilizer),
        }
    }

    /// Relevance at the photo, from the first convolution; ZBox's bounds are the normalised
    /// values of black and white, channel by channel.
    fn first(&self, conv: &Conv2d, x: NasTensor<4>, relevance: NasTensor<4>, info: &BackboneInfo) -> Result<NasTensor<4>> {
        match self.first_rule {
            FirstRule::Flat => rules::conv_flat(conv, &x, relevance, self.stabilizer),
            FirstRule::AsOthers => self.conv(conv, x, relevance),
            FirstRule::ZBox => {
                let bound = |pixel: f32| crate::saliency::colour_tensor(info, pixel, &x.device());
                rules::conv_zbox(conv, x.clone(), [bound(0.0), bound(1.0)], relevance, self.stabilizer)
            }
        }
    }

    /// Relevance at the input of a ResNet, or at depth level `stop`, from `relevance` at its
    /// logits.
    fn resnet(
        &self,
        net: &ResNet,
        input: NasTensor<4>,
        relevance: NasTensor<2>,
        info: &BackboneInfo,
        stop: Option<usize>,
    ) -> Result<NasTensor<4>> {
        // The forward pass, keeping what each rule needs: every block's input, the inputs of its
        // branch's convolutions, the branch's output and the shortcut.
        struct Trace {
            input: NasTensor<4>,
            branch_inputs: Vec<NasTensor<4>>,
            branch: NasTensor<4>,
            shortcut: NasTensor<4>,
        }
        let stem = net.stem.forward_relu(input.clone());
        let mut h = net.pool_stem(stem.clone());
        let mut traces = Vec::new();
        for block in net.layers.iter().flatten() {
            let (x, last) = (h.clone(), block.convs.len() - 1);
            let mut branch = x.clone();
            let mut branch_inputs = Vec::with_capacity(block.convs.len());
            for (i, conv) in block.convs.iter().enumerate() {
                branch_inputs.push(branch.clone());
                branch = if i < last {
                    conv.forward_relu(branch)
                } else {
                    conv.forward(branch)
                };
            }
            let shortcut = block.downsample.as_ref().map_or_else(|| x.clone(), |d| d.forward(x.clone()));
            h = relu(branch.clone() + shortcut.clone());
            traces.push(Trace {
                input: x,
                branch_inputs,
                branch,
                shortcut,
            });
        }
        let pooled = global_average(h.clone());
        // Back from the logits.
        let r = self.dense(&net.fc, pooled, relevance)?;
        let mut r = rules::norm(&[h], |_, x| global_average(x), r, self.stabilizer)?.remove(0);
        let blocks: Vec<_> = net.layers.iter().flatten().collect();
        // Level l + 1 is the output of the last block of layer l.
        let level_ends: Vec<usize> = net
            .layers
            .iter()
            .scan(0, |count, layer| {
                *count += layer.len();
                Some(*count)
            })
            .collect();
        for (i, (block, trace)) in blocks.iter().zip(&traces).enumerate().rev() {
            if stop.is_some_and(|level| level > 0 && level_ends.get(level - 1) == Some(&(i + 1))) {
                return Ok(r);
            }
            let mut split = rules::norm(&[trace.branch.clone(), trace.shortcut.clone()], |_, x| x, r, self.stabilizer)?;
            let (mut branch, shortcut) = (split.remove(0), split.remove(0));
            for (conv, x) in block.convs.iter().zip(&trace.branch_inputs).rev() {
                branch = self.conv(conv.folded(), x.clone(), branch)?;
            }
            let shortcut = match &block.downsample {
                Some(d) => self.conv(d.folded(), trace.input.clone(), shortcut)?,
                None => shortcut,
            };
            r = branch + shortcut;
        }
        if stop == Some(0) {
            return Ok(r);
        }
        let r = match net.stem_pool {
            Some(pool) => rules::max_pool_gradient(stem, pool.kernel, pool.stride, pool.padding, r)?,
            None => r,
        };
        self.first(net.stem.folded(), input, r, info)
    }

    /// Relevance at the input of an inverted-residual network (EfficientNet-Lite0, MobileNetV2,
    /// MNASNet), or at depth level `stop`, from `relevance` at its logits.
    fn efficientnet(
        &self,
        net: &InvertedResidualNet,
        input: NasTensor<4>,
        relevance: NasTensor<2>,
        info: &BackboneInfo,
        stop: Option<usize>,
    ) -> Result<NasTensor<4>> {
        // The forward pass, keeping each convolution's input and, for residual blocks, the
        // branch's output (the projection) beside the block's input.
        struct Trace {
            input: NasTensor<4>,
            expanded: NasTensor<4>,
            filtered: NasTensor<4>,
            projected: NasTensor<4>,
        }
        let mut h = net.stem.forward_activated(input.clone(), net.activation());
        let mut traces = Vec::with_capacity(net.blocks.len());
        for block in &net.blocks {
            let expanded = block
                .expand
                .as_ref()
                .map_or_else(|| h.clone(), |e| e.forward_activated(h.clone(), net.activation()));
            let filtered = block.depthwise.forward_activated(expanded.clone(), net.activation());
            let projected = block.project.forward(filtered.clone());
            let output = if block.residual {
                projected.clone() + h.clone()
            } else {
                projected.clone()
            };
            traces.push(Trace {
                input: h,
                expanded,
                filtered,
                projected,
            });
            h = output;
        }
        let features = net.head.forward_activated(h.clone(), net.activation());
        let pooled = global_average(features.clone());
        // Back from the logits; ReLU6 and ReLU pass relevance through, as zennit's Pass rule.
        let r = self.dense(&net.fc, pooled, relevance)?;
        let r = rules::norm(&[features], |_, x| global_average(x), r, self.stabilizer)?.remove(0);
        if stop == Some(LEVELS - 1) {
            return Ok(r);
        }
        let mut r = self.conv(net.head.folded(), h, r)?;
        for (i, (block, trace)) in net.blocks.iter().zip(traces).enumerate().rev() {
            if stop.is_some_and(|level| net.level_block(level) == Some(i)) {
                return Ok(r);
            }
            let (branch, skip) = if block.residual {
                let mut split = rules::norm(&[trace.projected, trace.input.clone()], |_, x| x, r, self.stabilizer)?;
                (split.remove(0), Some(split.remove(0)))
            } else {
                (r, None)
            };
            let branch = self.conv(block.project.folded(), trace.filtered, branch)?;
            let mut branch = self.conv(block.depthwise.folded(), trace.expanded, branch)?;
            if let Some(expand) = &block.expand {
                branch = self.conv(expand.folded(), trace.input, branch)?;
            }
            r = match skip {
                Some(skip) => branch + skip,
                None => branch,
            };
        }
        self.first(net.stem.folded(), input, r, info)
    }

    /// Relevance at the input of a VGG (or AlexNet), or at depth level `stop` (a stage's last
    /// convolution, whose ReLU passes relevance on), from `relevance` at its logits.
    fn vgg(
        &self,
        net: &Vgg,
        input: NasTensor<4>,
        relevance: NasTensor<2>,
        info: &BackboneInfo,
        stop: Option<usize>,
    ) -> Result<NasTensor<4>> {
        // Per stage, the inputs of its convolutions, and the input of its max pool.
        let mut stages = Vec::with_capacity(net.stages.len());
        let mut h = input;
        for (convs, pool) in net.stages.iter().zip(&net.stage_pools) {
            let mut inputs = Vec::with_capacity(convs.len());
            for conv in convs {
                inputs.push(h.clone());
                h = relu(conv.forward(h));
            }
            stages.push((inputs, h.clone()));
            if let Some(pool) = pool {
                h = max_pool(h, pool.kernel, pool.stride, pool.padding);
            }
        }
        let [batch, channels, height, width] = h.dims();
        let side = net.pool_side;
        let adaptive = move |_: usize, x: NasTensor<4>| {
            if (height, width) == (side, side) {
                x
            } else {
                adaptive_avg_pool2d(x, [side, side])
            }
        };
        let features = adaptive(0, h.clone()).reshape([batch, channels * side * side]);
        let [fc0, fc1, fc2] = &net.classifier;
        let hidden0 = relu(fc0.forward(features.clone()));
        let hidden1 = relu(fc1.forward(hidden0.clone()));
        let r = self.dense(fc2, hidden1, relevance)?;
        let r = self.dense(fc1, hidden0, r)?;
        let r = self.dense(fc0, features, r)?;
        let r = r.reshape([batch, channels, side, side]);
        let mut r = rules::norm(&[h], adaptive, r, self.stabilizer)?.remove(0);
        for (s, ((convs, pool), (inputs, pool_input))) in net.stages.iter().zip(&net.stage_pools).zip(stages).enumerate().rev() {
            if let Some(pool) = pool {
                r = rules::max_pool_gradient(pool_input, pool.kernel, pool.stride, pool.padding, r)?;
            }
            if stop == Some(s) {
                return Ok(r);
            }
            for (c, (conv, x)) in convs.iter().zip(inputs).enumerate().rev() {
                r = if (s, c) == (0, 0) {
                    self.first(conv, x, r, info)?
                } else {
                    self.conv(conv, x, r)?
                };
            }
        }
        Ok(r)
    }
}

/// Relevance at the input of a ViT, or at depth level `stop` (its patch tokens), from
/// `relevance` at its logits: CP-LRP (Ali et al. 2022) as lxt 2.1 applies it to torchvision's
/// ViT, the values times the gradient of the target logit through
/// [`Vit::forward_conservative`]. The CNN composites do not apply; linear layers take the basic
/// (epsilon 0) rule that gradient x input gives.
fn vit(net: &Vit, input: NasTensor<4>, targets: &[usize], stop: Option<usize>) -> Result<NasTensor<4>> {
    let objective = Objective::Targets(targets);
    let gradient = match stop {
        Some(level) => hooked_level_gradient(|x, hook| net.forward_conservative_hooked(x, hook), input, level, None, objective)?,
        None => {
            let input = input.detach().require_grad();
            let logits = net.forward_conservative(input.clone());
            let grads = objective.batch_sum(&logits)?.backward();
            let grad = input
                .grad(&grads)
                .ok_or_else(|| NasError::InvalidInput("lrp: the input received no relevance".into()))?;
            return Ok(input.detach() * NasTensor::from_inner(grad));
        }
    };
    Ok(gradient.value * gradient.grad)
}

/// The one-hot relevance `(batch, classes)` of each photo's target.
fn one_hot(targets: &[usize], classes: usize, like: &NasTensor<4>) -> Result<NasTensor<2>> {
    if let Some(bad) = targets.iter().find(|t| **t >= classes) {
        return Err(NasError::InvalidInput(format!(
            "target class {bad} is out of range: the backbone has {classes} classes"
        )));
    }
    let mut values = vec![0f32; targets.len() * classes];
    for (i, t) in targets.iter().enumerate() {
        values[i * classes + t] = 1.0;
    }
    Ok(NasTensor::from_data(
        TensorData::new(values, [targets.len(), classes]),
        &like.device(),
    ))
}

impl Lrp {
    /// The relevance of each photo's target at the input (`stop` `None`) or at depth level
    /// `stop`, channel by channel.
    pub fn relevance(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize], stop: Option<usize>) -> Result<NasTensor<4>> {
        let [batch, ..] = input.dims();
        if targets.len() != batch {
            return Err(NasError::InvalidInput(format!(
                "lrp: {} targets for a batch of {batch}",
                targets.len()
            )));
        }
        let relevance = one_hot(targets, backbone.info().num_classes, input)?;
        // burn's convolutions for the forward pass too: the host kernels' Winograd transforms
        // round differently from PyTorch's, which sends the relevance of max-pool windows whose
        // values are that close to another pixel (VGG-16: 1.6e-3 from zennit, against 2.6e-4).
        let _scope = nas_core::differentiable::differentiable();
        let any = backbone.as_any();
        if let Some(net) = any.and_then(|a| a.downcast_ref::<ResNet>()) {
            self.resnet(net, input.clone(), relevance, backbone.info(), stop)
        } else if let Some(net) = any.and_then(|a| a.downcast_ref::<Vgg>()) {
            self.vgg(net, input.clone(), relevance, backbone.info(), stop)
        } else if let Some(net) = any.and_then(|a| a.downcast_ref::<InvertedResidualNet>()) {
            self.efficientnet(net, input.clone(), relevance, backbone.info(), stop)
        } else if let Some(net) = any.and_then(|a| a.downcast_ref::<Vit>()) {
            if self.composite_given {
                return Err(NasError::InvalidInput(
                    "lrp: the ViTs take conservative propagation (CP-LRP); `composite`, `gamma`, `epsilon` and `stabilizer` are for the convolutional networks".into(),
                ));
            }
            vit(net, input.clone(), targets, stop)
        } else {
            Err(NasError::InvalidInput(format!(
                "lrp: no relevance walk for backbone `{}`; lrp supports the ResNets, RegNetX, the VGGs, AlexNet, efficientnet-lite0, mobilenet_v2 and the ViTs",
                backbone.info().name
            )))
        }
    }
}

impl Saliency for Lrp {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        reduce_channels(self.relevance(backbone, input, targets, None)?, self.reduction)
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(Lrp::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "lrp",
        summary: "LRP with zennit's EpsilonPlusFlat, EpsilonAlpha2Beta1Flat, EpsilonGammaBox, EpsilonPlus, EpsilonAlpha2Beta1 or ExcitationBackprop composite and canonizers (ResNets, VGGs, efficientnet-lite0), CP-LRP on the ViTs (lxt's)",
        params: LRP_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
