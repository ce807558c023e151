//! torchvision's ViT-B/16, loaded from its state dict: a 16x16 patch embedding (`conv_proj`), a
//! class token, learned position embeddings, 12 pre-LayerNorm encoder blocks (12-head
//! self-attention, MLP with exact GELU), a final LayerNorm and a linear head on the class token.
//!
//! Depth levels: the outputs of encoder blocks 2, 4, 6, 8 and 10 (0-based) with the class token
//! dropped and the 196 patch tokens laid out as a `(768, 14, 14)` grid (DESIGN.md, "Depth levels").
//!
//! A [`LevelHook`] may replace a level: the returned grid is turned back into patch tokens and
//! joined to the class token from *before* the hook. Gradients with respect to a ViT level
//! therefore flow through the patch tokens only; the class token's own path from that block on
//! is not part of the level.
//!
//! Inputs other than 224x224 are accepted (sides are floored to whole patches): the 14x14 grid of
//! position embeddings is then resized bicubically to the patch grid, as timm does. At 224x224 the
//! network is exactly torchvision's.

use super::layers::{Conv2d, ConvGeometry, LayerNorm, Linear};
use super::BACKBONE_PARAMS;
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_core::burn::tensor::activation::{gelu, softmax};
use nas_core::burn::tensor::module::{attention, interpolate};
use nas_core::burn::tensor::ops::{AttentionModuleOptions, InterpolateMode, InterpolateOptions};
use nas_core::burn::tensor::Tensor;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// torchvision's file name of the ImageNet weights.
pub const WEIGHTS_FILE: &str = "vit_b_16-c867db91.pth";

/// Token width.
const DIM: usize = 768;
/// Attention heads.
const HEADS: usize = 12;
/// Hidden width of the MLP.
const MLP_DIM: usize = 3072;
/// Encoder blocks.
const LAYERS: usize = 12;
/// Side of a square patch, in pixels.
const PATCH: usize = 16;
/// Patches per side at the native 224x224 input.
const GRID: usize = 14;
/// LayerNorm epsilon of torchvision's ViT.
const LN_EPS: f64 = 1e-6;
/// Encoder blocks whose outputs are the depth levels.
const LEVEL_BLOCKS: [usize; 5] = [2, 4, 6, 8, 10];

/// Applies `linear` to every token of `(batch, tokens, inputs)`.
fn per_token(linear: &Linear, x: NasTensor<3>) -> NasTensor<3> {
    let [b, n, d] = x.dims();
    let y = linear.forward(x.reshape([b * n, d]));
    let out = y.dims()[1];
    y.reshape([b, n, out])
}

/// How the backward pass goes through the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Propagation {
    /// The gradient.
    Gradient,
    /// Conservative propagation for LRP in the gradient x input form (lxt's CP-LRP for
    /// torchvision's ViT: Ali et al. 2022, with AttnLRP's identity rule on GELU): no gradient
    /// through the attention's softmax, LayerNorm's standard deviation held constant, GELU
    /// passing the gradient times `gelu(x) / x`.
    Conservative,
}

/// One pre-LayerNorm transformer block: `x + attn(ln_1(x))`, then `+ mlp(ln_2(.))`.
struct EncoderBlock {
    ln_1: LayerNorm,
    in_proj: Linear,
    out_proj: Linear,
    ln_2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl EncoderBlock {
    fn load(sd: &mut StateDict, index: usize) -> Result<EncoderBlock> {
        let p = format!("encoder.layers.encoder_layer_{index}");
        // torchvision packs q, k and v into `in_proj_weight` (3 * DIM, DIM) and `in_proj_bias`.
        let weight = sd.take_values(&format!("{p}.self_attention.in_proj_weight"), &[3 * DIM, DIM])?;
        let bias = sd.take_values(&format!("{p}.self_attention.in_proj_bias"), &[3 * DIM])?;
        let in_proj = Linear::token_wise(weight, bias, [3 * DIM, DIM], sd.device());
        Ok(EncoderBlock {
            ln_1: LayerNorm::load(sd, &format!("{p}.ln_1"), DIM, LN_EPS)?,
            in_proj,
            out_proj: Linear::load_token_wise(sd, &format!("{p}.self_attention.out_proj"), DIM, DIM)?,
            ln_2: LayerNorm::load(sd, &format!("{p}.ln_2"), DIM, LN_EPS)?,
            fc1: Linear::load_token_wise(sd, &format!("{p}.mlp.0"), DIM, MLP_DIM)?,
            fc2: Linear::load_token_wise(sd, &format!("{p}.mlp.3"), MLP_DIM, DIM)?,
        })
    }

    fn forward(&self, x: NasTensor<3>, propagation: Propagation) -> NasTensor<3> {
        let [b, n, _] = x.dims();
        let head_dim = DIM / HEADS;
        let conservative = propagation == Propagation::Conservative;
        let norm = |ln: &LayerNorm, x: NasTensor<3>| if conservative { ln.forward_fixed_scale(x) } else { ln.forward(x) };
        let qkv = per_token(&self.in_proj, norm(&self.ln_1, x.clone()));
        let split = |i: usize| qkv.clone().narrow(2, i * DIM, DIM).reshape([b, n, HEADS, head_dim]).swap_dims(1, 2);
        let context = if conservative {
            let scores = split(0).matmul(split(1).swap_dims(2, 3)) / (head_dim as f64).sqrt();
            softmax(scores, 3).detach().matmul(split(2))
        } else {
            attention(split(0), split(1), split(2), None, None, AttentionModuleOptions::default())
        };
        let context = context.swap_dims(1, 2).reshape([b, n, DIM]);
        let x = x + per_token(&self.out_proj, context);
        let pre = per_token(&self.fc1, norm(&self.ln_2, x.clone()));
        let hidden = if conservative {
            // lxt's identity rule: the gradient times gelu(x) / (x + 1e-10).
            let ratio = gelu(pre.clone()) / (pre.clone() + 1e-10);
            pre * ratio.detach()
        } else {
            gelu(pre)
        };
        x + per_token(&self.fc2, hidden)
    }
}

/// A torchvision ViT-B/16 in inference mode.
pub struct VitB16 {
    info: BackboneInfo,
    device: Device,
    patch_embed: Conv2d,
    class_token: NasTensor<3>,
    pos_embedding: NasTensor<3>,
    blocks: Vec<EncoderBlock>,
    ln: LayerNorm,
    head: Linear,
}

impl VitB16 {
    /// Builds the network from a torchvision `vit_b_16` state dict.
    pub fn load(sd: &mut StateDict, num_classes: usize) -> Result<VitB16> {
        let patch_embed = Conv2d::load(sd, "conv_proj", ConvGeometry::symmetric(3, DIM, PATCH, PATCH, 0))?;
        let class_token = sd.take("class_token", [1, 1, DIM])?;
        let pos_embedding = sd.take("encoder.pos_embedding", [1, GRID * GRID + 1, DIM])?;
        let blocks = (0..LAYERS).map(|i| EncoderBlock::load(sd, i)).collect::<Result<Vec<_>>>()?;
        let ln = LayerNorm::load(sd, "encoder.ln", DIM, LN_EPS)?;
        let head = Linear::load(sd, "heads.head", DIM, num_classes)?;
        Ok(VitB16 {
            info: BackboneInfo {
                name: "vit_b_16".into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [DIM; 5],
                level_strides: [PATCH; 5],
                num_classes,
            },
            device: sd.device().clone(),
            patch_embed,
            class_token,
            pos_embedding,
            blocks,
            ln,
            head,
        })
    }

    /// Position embeddings for a `gh x gw` patch grid: the stored ones at 14x14, else the patch
    /// part resized bicubically (the class token's embedding is kept).
    fn position_embedding(&self, gh: usize, gw: usize) -> NasTensor<3> {
        if (gh, gw) == (GRID, GRID) {
            return self.pos_embedding.clone();
        }
        let pos = self.pos_embedding.clone().detach();
        let class_pos = pos.clone().narrow(1, 0, 1);
        let grid = pos.narrow(1, 1, GRID * GRID).swap_dims(1, 2).reshape([1, DIM, GRID, GRID]);
        let options = InterpolateOptions {
            mode: InterpolateMode::Bicubic,
            align_corners: false,
        };
        let grid = interpolate(grid, [gh, gw], options);
        let patches = grid.reshape([1, DIM, gh * gw]).swap_dims(1, 2);
        Tensor::cat(vec![class_pos, patches], 1)
    }
}

/// Patch tokens of `(batch, 1 + gh * gw, DIM)` as a `(batch, DIM, gh, gw)` grid.
fn tokens_to_grid(tokens: NasTensor<3>, gh: usize, gw: usize) -> NasTensor<4> {
    let [b, n, d] = tokens.dims();
    tokens.narrow(1, 1, n - 1).swap_dims(1, 2).reshape([b, d, gh, gw])
}

/// The inverse of [`tokens_to_grid`], given the class tokens `(batch, 1, DIM)` to put first.
fn grid_to_tokens(grid: NasTensor<4>, class_tokens: NasTensor<3>) -> NasTensor<3> {
    let [b, d, gh, gw] = grid.dims();
    let patches = grid.reshape([b, d, gh * gw]).swap_dims(1, 2);
    Tensor::cat(vec![class_tokens, patches], 1)
}

impl Backbone for VitB16 {
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
        self.run(input, hook, Propagation::Gradient)
    }
}

/// A hook that leaves every level as it is.
struct Unchanged;

impl LevelHook for Unchanged {
    fn level(&mut self, _index: usize, activation: NasTensor<4>) -> NasTensor<4> {
        activation
    }
}

impl VitB16 {
    /// The logits, computed so that their gradient times the input is CP-LRP's relevance
    /// (lxt's patches for torchvision's ViT; see `Propagation::Conservative`).
    pub fn forward_conservative(&self, input: NasTensor<4>) -> NasTensor<2> {
        self.run(input, &mut Unchanged, Propagation::Conservative)
    }

    fn run(&self, input: NasTensor<4>, hook: &mut dyn LevelHook, propagation: Propagation) -> NasTensor<2> {
        let batch = input.dims()[0];
        let patches = self.patch_embed.forward(input);
        let [_, _, gh, gw] = patches.dims();
        let patches = patches.reshape([batch, DIM, gh * gw]).swap_dims(1, 2);
        let class = self.class_token.clone().expand([batch, 1, DIM]);
        let mut h = Tensor::cat(vec![class, patches], 1) + self.position_embedding(gh, gw);
        let mut level = 0;
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(h, propagation);
            if LEVEL_BLOCKS.contains(&i) {
                let class_tokens = h.clone().narrow(1, 0, 1);
                let grid = hook.level(level, tokens_to_grid(h, gh, gw));
                h = grid_to_tokens(grid, class_tokens);
                level += 1;
            }
        }
        let class_tokens = h.narrow(1, 0, 1);
        let class_out = match propagation {
            Propagation::Gradient => self.ln.forward(class_tokens),
            Propagation::Conservative => self.ln.forward_fixed_scale(class_tokens),
        };
        self.head.forward(class_out.reshape([batch, DIM]))
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    super::build_from_weights("vit_b_16", WEIGHTS_FILE, params, ctx, VitB16::load)
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "vit_b_16",
        summary: "torchvision ViT-B/16; levels: encoder blocks 2, 4, 6, 8, 10 as 14x14 patch grids",
        params: BACKBONE_PARAMS,
        factory: nas_core::Factory::Backbone(build),
    }
}
