//! torchvision's MaxViT-T (Tu et al. 2022), loaded from its state dict: a stem (3x3 stride-2
//! convolution, BatchNorm, GELU; 3x3 convolution), four blocks of MaxViT layers, and a head
//! (global average, LayerNorm, linear, tanh, linear without bias). A layer is an MBConv (BatchNorm
//! first, 1x1 expansion to four times the output channels, 3x3 depthwise convolution carrying
//! the block's stride, squeeze-excitation with SiLU, 1x1 projection; the shortcut average-pooled
//! and projected where the shape changes), then attention within 7x7 windows, then attention
//! across a 7x7 grid (tokens a seventh of the map apart), each a pre-LayerNorm transformer layer
//! with a learned relative position bias and a GELU MLP. BatchNorm eps 1e-3, LayerNorm 1e-5;
//! stochastic depth and dropout are the identity at inference.
//!
//! Depth levels: the stem's output (stride 2) and the outputs of blocks 1 to 4 (strides 4 to 32).
//!
//! torchvision's MaxViT only runs at the size it is built for (224x224 for its weights), where
//! every map divides into 7x7 windows and grids. nas also accepts other sizes: each map is then
//! padded with zeros at the bottom and right to a multiple of 7 for its attention and cropped
//! back after, as torchvision's Swin Transformers pad their windows. At 224x224 nothing is padded
//! and the network is exactly torchvision's.

use super::layers::{
    avg_pool, gelu_of, global_average, host_values, per_token, BatchNorm, Conv2d, ConvBn, ConvGeometry, LayerNorm, Linear,
};
use super::relative_position::gathered_bias;
use super::squeeze_excitation::{Gate, SqueezeExcitation};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_conv::{attention, AttentionShape, ScoreTerms};
use nas_core::burn::tensor::activation::{softmax, tanh};
use nas_core::burn::tensor::TensorData;
use nas_core::device::runs_on_host;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

const BN_EPS: f32 = 1e-3;
const LN_EPS: f64 = 1e-5;
/// Side of the windows and of the grid attention looks within.
const PARTITION: usize = 7;
/// Channels per attention head.
const HEAD_DIM: usize = 32;
/// MBConv's hidden width and the MLPs', as multiples of the layer's output channels.
const EXPANSION: usize = 4;
/// torchvision's standard file of MaxViT-T's ImageNet weights.
const WEIGHTS_FILE: &str = "maxvit_t-bc5ab103.pth";
/// MaxViT-T: stem channels, then each block's channels and layers.
const STEM: usize = 64;
const BLOCKS: [(usize, usize); 4] = [(64, 2), (128, 2), (256, 5), (512, 2)];

/// MaxViT's MBConv.
struct MbConv {
    /// The shortcut's 1x1 projection, after a 3x3 stride-2 average pool when `pooled`; absent
    /// where the shape stays.
    shortcut: Option<(bool, Conv2d)>,
    pre_norm: BatchNorm,
    expand: ConvBn,
    depthwise: ConvBn,
    squeeze: SqueezeExcitation,
    project: Conv2d,
}

impl MbConv {
    fn load(sd: &mut StateDict, key: &str, inputs: usize, outputs: usize, stride: usize) -> Result<MbConv> {
        let hidden = EXPANSION * outputs;
        let shortcut = if stride != 1 || inputs != outputs {
            let conv = Conv2d::load(sd, &format!("{key}.proj.1"), ConvGeometry::symmetric(inputs, outputs, 1, 1, 0))?;
            Some((stride == 2, conv))
        } else {
            None
        };
        let layer = |name: &str| format!("{key}.layers.{name}");
        let depthwise = ConvGeometry {
            in_channels: hidden,
            out_channels: hidden,
            kernel: 3,
            stride,
            padding: [1; 4],
            groups: hidden,
        };
        Ok(MbConv {
            shortcut,
            pre_norm: BatchNorm::load(sd, &layer("pre_norm"), inputs, BN_EPS)?,
            expand: ConvBn::load(
                sd,
                &layer("conv_a.0"),
                &layer("conv_a.1"),
                BN_EPS,
                ConvGeometry::symmetric(inputs, hidden, 1, 1, 0),
            )?,
            depthwise: ConvBn::load(sd, &layer("conv_b.0"), &layer("conv_b.1"), BN_EPS, depthwise)?,
            squeeze: SqueezeExcitation::load(sd, &layer("squeeze_excitation"), hidden, outputs / 4, Gate::SiluSigmoid)?,
            project: Conv2d::load(sd, &layer("conv_c"), ConvGeometry::symmetric(hidden, outputs, 1, 1, 0))?,
        })
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let shortcut = match &self.shortcut {
            Some((true, conv)) => conv.forward(avg_pool(x.clone(), 3, 2, 1)),
            Some((false, conv)) => conv.forward(x.clone()),
            None => x.clone(),
        };
        let h = self.expand.folded().forward_gelu(self.pre_norm.forward(x));
        let h = self.squeeze.forward(self.depthwise.folded().forward_gelu(h));
        shortcut + self.project.forward(h)
    }
}

/// How a layer's attention groups the tokens of a map.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Partition {
    /// 7x7 windows of neighbouring tokens.
    Window,
    /// 7x7 tokens spread over the whole map, a seventh of it apart (torchvision's "grid").
    Grid,
}

impl Partition {
    /// The tokens of a `(batch, channels, 7 rows, 7 columns)`-divisible map as `(groups, 49,
    /// channels)`, in torchvision's order of groups and of tokens within them.
    fn split(self, x: NasTensor<4>) -> NasTensor<3> {
        let [b, c, h, w] = x.dims();
        let tokens = PARTITION * PARTITION;
        match self {
            Partition::Window => x
                .reshape([b, c, h / PARTITION, PARTITION, w / PARTITION, PARTITION])
                .permute([0, 2, 4, 3, 5, 1])
                .reshape([b * h * w / tokens, tokens, c]),
            Partition::Grid => x
                .reshape([b, c, PARTITION, h / PARTITION, PARTITION, w / PARTITION])
                .permute([0, 3, 5, 2, 4, 1])
                .reshape([b * h * w / tokens, tokens, c]),
        }
    }

    /// The inverse of [`Partition::split`] for a `batch x channels x height x width` map.
    fn merge(self, tokens: NasTensor<3>, [b, c, h, w]: [usize; 4]) -> NasTensor<4> {
        let (rows, cols) = (h / PARTITION, w / PARTITION);
        match self {
            Partition::Window => tokens
                .reshape([b, rows, cols, PARTITION, PARTITION, c])
                .permute([0, 5, 1, 3, 2, 4])
                .reshape([b, c, h, w]),
            Partition::Grid => tokens
                .reshape([b, rows, cols, PARTITION, PARTITION, c])
                .permute([0, 5, 3, 1, 4, 2])
                .reshape([b, c, h, w]),
        }
    }
}

/// A pre-LayerNorm transformer layer over the windows or the grid of a map: `x + attn(ln(x))`,
/// then `+ mlp(ln(.))`.
struct PartitionAttention {
    partition: Partition,
    heads: usize,
    attention_norm: LayerNorm,
    qkv: Linear,
    merge: Linear,
    /// The relative position bias of every head between the 49 tokens, `(1, heads, 49, 49)`.
    bias: NasTensor<4>,
    /// The same values on the host, for [`nas_conv::attention`].
    host_bias: Vec<f32>,
    mlp_norm: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl PartitionAttention {
    fn load(sd: &mut StateDict, key: &str, dim: usize, partition: Partition) -> Result<PartitionAttention> {
        let heads = dim / HEAD_DIM;
        let span = 2 * PARTITION - 1;
        let tokens = PARTITION * PARTITION;
        let table = sd.take_values(&format!("{key}.attn_layer.1.relative_position_bias_table"), &[span * span, heads])?;
        let bias = gathered_bias(&table, heads, PARTITION, |v| v);
        Ok(PartitionAttention {
            partition,
            heads,
            attention_norm: LayerNorm::load(sd, &format!("{key}.attn_layer.0"), dim, LN_EPS)?,
            qkv: Linear::load_token_wise(sd, &format!("{key}.attn_layer.1.to_qkv"), dim, 3 * dim)?,
            merge: Linear::load_token_wise(sd, &format!("{key}.attn_layer.1.merge"), dim, dim)?,
            bias: NasTensor::from_data(TensorData::new(bias.clone(), [1, heads, tokens, tokens]), sd.device()),
            host_bias: bias,
            mlp_norm: LayerNorm::load(sd, &format!("{key}.mlp_layer.0"), dim, LN_EPS)?,
            fc1: Linear::load_token_wise(sd, &format!("{key}.mlp_layer.1"), dim, EXPANSION * dim)?,
            fc2: Linear::load_token_wise(sd, &format!("{key}.mlp_layer.3"), EXPANSION * dim, dim)?,
        })
    }

    /// torchvision's scale, `channels^-1/2` (of the layer's width, not of a head's).
    fn scale(channels: usize) -> f64 {
        (channels as f64).powf(-0.5)
    }

    /// The layer on a `(batch, channels, h, w)` map.
    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let [b, c, h, w] = x.dims();
        let padded = [h, w].map(|side| side.div_ceil(PARTITION) * PARTITION);
        let x = if padded == [h, w] {
            x
        } else {
            x.pad([(0, 0), (0, 0), (0, padded[0] - h), (0, padded[1] - w)], 0.0)
        };
        let tokens = self.partition.split(x);
        let tokens = tokens.clone() + self.attend(self.attention_norm.forward(tokens));
        let hidden = gelu_of(per_token(&self.fc1, self.mlp_norm.forward(tokens.clone())));
        let tokens = tokens + per_token(&self.fc2, hidden);
        let y = self.partition.merge(tokens, [b, c, padded[0], padded[1]]);
        if padded == [h, w] {
            y
        } else {
            y.narrow(2, 0, h).narrow(3, 0, w)
        }
    }

    /// Multi-head attention within each group of `(groups, 49, channels)` tokens.
    fn attend(&self, x: NasTensor<3>) -> NasTensor<3> {
        if let Some(y) = self.attend_on_host(&x) {
            return y;
        }
        let [groups, tokens, c] = x.dims();
        let head_dim = c / self.heads;
        let qkv = self.qkv.forward(x.reshape([groups * tokens, c]));
        let qkv = qkv.reshape([groups, tokens, 3, self.heads, head_dim]).permute([2, 0, 3, 1, 4]);
        let part = |i: usize| qkv.clone().narrow(0, i, 1).reshape([groups, self.heads, tokens, head_dim]);
        let scores = (part(0) * Self::scale(c)).matmul(part(1).swap_dims(2, 3)) + self.bias.clone();
        let context = softmax(scores, 3).matmul(part(2)).swap_dims(1, 2).reshape([groups * tokens, c]);
        self.merge.forward(context).reshape([groups, tokens, c])
    }

    /// [`PartitionAttention::attend`] on host values ([`nas_conv::attention`]: one task per
    /// group and head), where `x` may be computed there; `None` elsewhere.
    fn attend_on_host(&self, x: &NasTensor<3>) -> Option<NasTensor<3>> {
        if !runs_on_host(x) {
            return None;
        }
        let [groups, tokens, c] = x.dims();
        let device = x.device();
        let qkv = host_values(self.qkv.forward(x.clone().reshape([groups * tokens, c])))?;
        let shape = AttentionShape {
            groups,
            tokens,
            heads: self.heads,
            head_dim: c / self.heads,
        };
        let terms = ScoreTerms {
            per_head: Some(&self.host_bias),
            per_group: None,
        };
        let context = attention(&qkv, shape, Self::scale(c) as f32, terms).ok()?;
        let context = NasTensor::<2>::from_data(TensorData::new(context, [groups * tokens, c]), &device);
        Some(self.merge.forward(context).reshape([groups, tokens, c]))
    }
}

/// One MaxViT layer: MBConv, window attention, grid attention.
struct Layer {
    mbconv: MbConv,
    window: PartitionAttention,
    grid: PartitionAttention,
}

impl Layer {
    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        self.grid.forward(self.window.forward(self.mbconv.forward(x)))
    }
}

/// torchvision's MaxViT-T in inference mode.
pub struct MaxVit {
    info: BackboneInfo,
    device: Device,
    stem: ConvBn,
    stem_out: Conv2d,
    blocks: Vec<Vec<Layer>>,
    head_norm: LayerNorm,
    pre_logits: Linear,
    classifier: Linear,
}

impl MaxVit {
    fn load(sd: &mut StateDict, num_classes: usize) -> Result<MaxVit> {
        let stem = ConvBn::load(sd, "stem.0.0", "stem.0.1", BN_EPS, ConvGeometry::symmetric(3, STEM, 3, 2, 1))?;
        let stem_out = Conv2d::load(sd, "stem.1.0", ConvGeometry::symmetric(STEM, STEM, 3, 1, 1))?;
        let mut inputs = STEM;
        let mut blocks = Vec::with_capacity(BLOCKS.len());
        for (b, &(outputs, layers)) in BLOCKS.iter().enumerate() {
            let block = (0..layers)
                .map(|l| {
                    let key = format!("blocks.{b}.layers.{l}.layers");
                    let (from, stride) = if l == 0 { (inputs, 2) } else { (outputs, 1) };
                    Ok(Layer {
                        mbconv: MbConv::load(sd, &format!("{key}.MBconv"), from, outputs, stride)?,
                        window: PartitionAttention::load(sd, &format!("{key}.window_attention"), outputs, Partition::Window)?,
                        grid: PartitionAttention::load(sd, &format!("{key}.grid_attention"), outputs, Partition::Grid)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            blocks.push(block);
            inputs = outputs;
        }
        Ok(MaxVit {
            info: BackboneInfo {
                name: "maxvit_t".into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [STEM, BLOCKS[0].0, BLOCKS[1].0, BLOCKS[2].0, BLOCKS[3].0],
                level_strides: [2, 4, 8, 16, 32],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            stem,
            stem_out,
            blocks,
            head_norm: LayerNorm::load(sd, "classifier.2", inputs, LN_EPS)?,
            pre_logits: Linear::load(sd, "classifier.3", inputs, inputs)?,
            classifier: Linear::load_unbiased(sd, "classifier.5", inputs, num_classes)?,
        })
    }
}

impl Backbone for MaxVit {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let stem = self.stem_out.forward(self.stem.folded().forward_gelu(input));
        let mut h = hook.level(0, stem);
        for (b, block) in self.blocks.iter().enumerate() {
            for layer in block {
                h = layer.forward(h);
            }
            h = hook.level(b + 1, h);
        }
        let pooled = self.head_norm.forward(global_average(h));
        self.classifier.forward(tanh(self.pre_logits.forward(pooled)))
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    super::build_from_weights("maxvit_t", WEIGHTS_FILE, params, ctx, MaxVit::load)
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "maxvit_t",
        summary: "torchvision MaxViT-T (MBConv, window and grid attention); levels: stem, blocks 1-4",
        params: super::BACKBONE_PARAMS,
        factory: nas_core::Factory::Backbone(build),
    }
}
