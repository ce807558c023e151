//! torchvision's vision transformers, ViT-B/16, -B/32, -L/16, -L/32 and -H/14, loaded from their
//! state dicts: a patch embedding (`conv_proj`), a class token, learned position embeddings,
//! pre-LayerNorm encoder blocks (multi-head self-attention, MLP with exact GELU), a final
//! LayerNorm and a linear head on the class token. The same network in timm's layout: DeiT-Ti,
//! -S and -B (Touvron et al. 2021, ImageNet normalisation) and timm's ViT-B/16
//! `vit_base_patch16_224` (inputs normalised with mean and std 0.5, as the JAX-trained files
//! Chefer et al. explain), from files in either layout (`timm_layout`).
//!
//! Depth levels: the outputs of encoder blocks 2, 4, 6, 8 and 10 (0-based; ViT-L's 24 blocks:
//! 4, 8, 12, 16, 20; ViT-H's 32: 5, 11, 16, 21, 27, the nearest to the same sixths of its depth)
//! with the class token dropped and the patch tokens laid out as a grid (`(768, 14, 14)` for
//! ViT-B/16; DESIGN.md, "Depth levels").
//!
//! A [`LevelHook`] may replace a level: the returned grid is turned back into patch tokens and
//! joined to the class token from *before* the hook. Gradients with respect to a ViT level
//! therefore flow through the patch tokens only; the class token's own path from that block on
//! is not part of the level.
//!
//! Inputs other than 224x224 are accepted (sides are floored to whole patches): the native grid
//! of position embeddings (14x14 for 16-pixel patches) is then resized bicubically to the patch
//! grid, as timm does. At 224x224 the network is exactly torchvision's. The native grid is read
//! from the file's position embeddings, so weights trained at other sizes load unchanged
//! (torchvision's SWAG files: ViT-B/16 at 384, ViT-L/16 at 512, ViT-H/14 at 518) and are exact at
//! their own size.

mod relevance;
mod timm_layout;

use super::layers::{gelu_of, host_values, per_token, Conv2d, ConvGeometry, LayerNorm, Linear};
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_conv::{AttentionShape, ScoreTerms};
use nas_core::backbone::target_sum;
use nas_core::burn::tensor::activation::{gelu, softmax};
use nas_core::burn::tensor::module::{attention, interpolate};
use nas_core::burn::tensor::ops::{AttentionModuleOptions, InterpolateMode, InterpolateOptions};
use nas_core::burn::tensor::{Tensor, TensorData};
use nas_core::device::runs_on_host;
use nas_core::differentiable::differentiable;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasError, NasTensor, Params, Result};

/// LayerNorm epsilon of torchvision's ViTs.
const LN_EPS: f64 = 1e-6;
/// Input side the position embeddings were learned for, unless the weight file says otherwise.
const NATIVE_SIDE: usize = 224;

/// A ViT's shape: token width, attention heads, MLP width, encoder blocks, patch side, and the
/// blocks whose outputs are the depth levels.
#[derive(Clone, Copy)]
struct Shape {
    dim: usize,
    heads: usize,
    mlp_dim: usize,
    layers: usize,
    patch: usize,
    level_blocks: [usize; 5],
}

impl Shape {
    /// Patches per side at the native 224x224 input.
    fn grid(self) -> usize {
        NATIVE_SIDE / self.patch
    }

    /// Patches per side of the position embeddings in `sd`: the square its `encoder.pos_embedding`
    /// holds (class token aside), or [`Shape::grid`] where the file does not say (`random:SEED`).
    fn grid_in(self, sd: &StateDict) -> Result<usize> {
        let Some(shape) = sd.shape_of("encoder.pos_embedding") else {
            return Ok(self.grid());
        };
        let patches = shape.get(1).copied().unwrap_or(0).saturating_sub(1);
        let side = (patches as f64).sqrt().round() as usize;
        if shape.len() != 3 || side == 0 || side * side != patches {
            return Err(NasError::ShapeMismatch {
                path: sd.path().to_path_buf(),
                key: "encoder.pos_embedding".into(),
                expected: vec![1, self.grid() * self.grid() + 1, self.dim],
                found: shape.to_vec(),
            });
        }
        Ok(side)
    }
}

/// ViT-B (12 blocks of 768, 12 heads): levels after blocks 2, 4, 6, 8, 10.
const BASE: Shape = Shape {
    dim: 768,
    heads: 12,
    mlp_dim: 3072,
    layers: 12,
    patch: 16,
    level_blocks: [2, 4, 6, 8, 10],
};
/// DeiT-Ti (12 blocks of 192, 3 heads): levels as ViT-B's.
const TINY: Shape = Shape {
    dim: 192,
    heads: 3,
    mlp_dim: 768,
    ..BASE
};
/// DeiT-S (12 blocks of 384, 6 heads): levels as ViT-B's.
const SMALL: Shape = Shape {
    dim: 384,
    heads: 6,
    mlp_dim: 1536,
    ..BASE
};
/// ViT-L (24 blocks of 1024, 16 heads): levels at the same relative depths, blocks 4 to 20.
const LARGE: Shape = Shape {
    dim: 1024,
    heads: 16,
    mlp_dim: 4096,
    layers: 24,
    patch: 16,
    level_blocks: [4, 8, 12, 16, 20],
};
/// ViT-H/14 (32 blocks of 1280, 16 heads): levels at the blocks nearest the same sixths.
const HUGE: Shape = Shape {
    dim: 1280,
    heads: 16,
    mlp_dim: 5120,
    layers: 32,
    patch: 14,
    level_blocks: [5, 11, 16, 21, 27],
};

/// Folds a block's attention heads into one matrix, one head at a time: `fuse(fused, head,
/// index)` with head `index`'s `tokens x tokens` probabilities, `fused` starting as zeros.
pub type HeadFuser<'a> = &'a dyn Fn(&mut [f32], &[f32], usize);

/// One block's fused attention: per image, `tokens x tokens` values, row-major.
pub type BlockAttention = Vec<Vec<f32>>;

/// One block's attention probabilities and the gradient of the target logit with respect to
/// them, both `dims` = `(batch, heads, tokens, tokens)` in row-major order.
pub struct AttentionGradient {
    /// Batch, heads, tokens, tokens.
    pub dims: [usize; 4],
    /// The softmax of the scaled products of queries and keys.
    pub probabilities: Vec<f32>,
    /// d(target logit)/d(probabilities).
    pub gradients: Vec<f32>,
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
    dim: usize,
    heads: usize,
    ln_1: LayerNorm,
    in_proj: Linear,
    out_proj: Linear,
    ln_2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl EncoderBlock {
    fn load(sd: &mut StateDict, index: usize, shape: Shape) -> Result<EncoderBlock> {
        let (dim, mlp_dim) = (shape.dim, shape.mlp_dim);
        let p = format!("encoder.layers.encoder_layer_{index}");
        // torchvision packs q, k and v into `in_proj_weight` (3 * dim, dim) and `in_proj_bias`.
        let weight = sd.take_values(&format!("{p}.self_attention.in_proj_weight"), &[3 * dim, dim])?;
        let bias = sd.take_values(&format!("{p}.self_attention.in_proj_bias"), &[3 * dim])?;
        let in_proj = Linear::token_wise(weight, bias, [3 * dim, dim], sd.device());
        Ok(EncoderBlock {
            dim,
            heads: shape.heads,
            ln_1: LayerNorm::load(sd, &format!("{p}.ln_1"), dim, LN_EPS)?,
            in_proj,
            out_proj: Linear::load_token_wise(sd, &format!("{p}.self_attention.out_proj"), dim, dim)?,
            ln_2: LayerNorm::load(sd, &format!("{p}.ln_2"), dim, LN_EPS)?,
            fc1: Linear::load_token_wise(sd, &format!("{p}.mlp.0"), dim, mlp_dim)?,
            fc2: Linear::load_token_wise(sd, &format!("{p}.mlp.3"), mlp_dim, dim)?,
        })
    }

    fn forward(&self, x: NasTensor<3>, propagation: Propagation) -> NasTensor<3> {
        let conservative = propagation == Propagation::Conservative;
        self.forward_attending(x, conservative, |qkv| match self.attention_on_host(&qkv) {
            Some(context) => context,
            None => self.attention(qkv, conservative),
        })
    }

    /// The block with its attention's context computed by `attend` from the packed queries,
    /// keys and values `(batch, tokens, 3 * dim)`.
    fn forward_attending(&self, x: NasTensor<3>, conservative: bool, attend: impl FnOnce(NasTensor<3>) -> NasTensor<3>) -> NasTensor<3> {
        let norm = |ln: &LayerNorm, x: NasTensor<3>| if conservative { ln.forward_fixed_scale(x) } else { ln.forward(x) };
        let context = attend(per_token(&self.in_proj, norm(&self.ln_1, x.clone())));
        let x = x + per_token(&self.out_proj, context);
        let pre = per_token(&self.fc1, norm(&self.ln_2, x.clone()));
        let hidden = if conservative {
            // lxt's identity rule: the gradient times gelu(x) / (x + 1e-10).
            let ratio = gelu(pre.clone()) / (pre.clone() + 1e-10);
            pre * ratio.detach()
        } else {
            gelu_of(pre)
        };
        x + per_token(&self.fc2, hidden)
    }

    /// The block's attention probabilities for its input `x` `(batch, tokens, dim)`: for each
    /// image, the heads' `tokens x tokens` matrices (softmax of the scaled products of queries
    /// and keys, in `f64`) handed to `fuse(fused, head, index)` one by one, starting from zeros.
    fn attention_probabilities(&self, x: NasTensor<3>, fuse: HeadFuser<'_>) -> Result<BlockAttention> {
        let [b, n, _] = x.dims();
        let qkv = host_values(per_token(&self.in_proj, self.ln_1.forward(x)))
            .ok_or_else(|| NasError::InvalidInput("attention matrices: the tokens are not f32 values".into()))?;
        let (dim, head_dim) = (self.dim, self.dim / self.heads);
        let scale = (head_dim as f64).powf(-0.5);
        let mut images = Vec::with_capacity(b);
        for image in qkv.chunks_exact(n * 3 * dim) {
            let mut fused = vec![0f32; n * n];
            let mut probabilities = vec![0f32; n * n];
            for head in 0..self.heads {
                let at = |token: usize, part: usize| &image[token * 3 * dim + part * dim + head * head_dim..][..head_dim];
                for (i, row) in probabilities.chunks_exact_mut(n).enumerate() {
                    let scores: Vec<f64> = (0..n)
                        .map(|j| {
                            at(i, 0)
                                .iter()
                                .zip(at(j, 1))
                                .map(|(q, k)| f64::from(*q) * f64::from(*k))
                                .sum::<f64>()
                                * scale
                        })
                        .collect();
                    let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let total: f64 = scores.iter().map(|s| (s - top).exp()).sum();
                    for (p, s) in row.iter_mut().zip(&scores) {
                        *p = ((s - top).exp() / total) as f32;
                    }
                }
                fuse(&mut fused, &probabilities, head);
            }
            images.push(fused);
        }
        Ok(images)
    }

    /// The heads' attention from the packed queries, keys and values `(batch, tokens, 3 *
    /// dim)`, as `(batch, tokens, dim)`: with no gradient through the softmax when `conservative`.
    fn attention(&self, qkv: NasTensor<3>, conservative: bool) -> NasTensor<3> {
        let [queries, keys, values] = self.split_heads(&qkv);
        let context = if conservative {
            self.probabilities(queries, keys).detach().matmul(values)
        } else {
            attention(queries, keys, values, None, None, AttentionModuleOptions::default())
        };
        self.merge_heads(context)
    }

    /// The queries, keys and values of every head, `(batch, heads, tokens, head_dim)`, from the
    /// packed projection `(batch, tokens, 3 * dim)`.
    fn split_heads(&self, qkv: &NasTensor<3>) -> [NasTensor<4>; 3] {
        [0, 1, 2].map(|i| self.by_head(qkv.clone().narrow(2, i * self.dim, self.dim)))
    }

    /// `(batch, tokens, dim)` as the heads' `(batch, heads, tokens, head_dim)`: the inverse of
    /// [`EncoderBlock::merge_heads`].
    fn by_head(&self, x: NasTensor<3>) -> NasTensor<4> {
        let [b, n, _] = x.dims();
        x.reshape([b, n, self.heads, self.dim / self.heads]).swap_dims(1, 2)
    }

    /// The heads' contexts `(batch, heads, tokens, head_dim)` side by side, `(batch, tokens, dim)`.
    fn merge_heads(&self, context: NasTensor<4>) -> NasTensor<3> {
        let [b, _, n, _] = context.dims();
        context.swap_dims(1, 2).reshape([b, n, self.dim])
    }

    /// The heads' attention probabilities `(batch, heads, tokens, tokens)` from their queries
    /// and keys `(batch, heads, tokens, head_dim)`.
    fn probabilities(&self, queries: NasTensor<4>, keys: NasTensor<4>) -> NasTensor<4> {
        let head_dim = self.dim / self.heads;
        softmax(queries.matmul(keys.swap_dims(2, 3)) / (head_dim as f64).sqrt(), 3)
    }

    /// [`EncoderBlock::attention`] with a zero tensor that records gradients added to the
    /// probabilities, so that its gradient is theirs: the context, the probabilities and that
    /// probe.
    fn probed_attention(&self, qkv: NasTensor<3>) -> (NasTensor<3>, NasTensor<4>, NasTensor<4>) {
        let [queries, keys, values] = self.split_heads(&qkv);
        let probabilities = self.probabilities(queries, keys);
        let probe = NasTensor::<4>::zeros(probabilities.dims(), &qkv.device()).require_grad();
        let context = (probabilities.clone() + probe.clone()).matmul(values);
        (self.merge_heads(context), probabilities.detach(), probe)
    }

    /// [`EncoderBlock::attention`] by [`nas_conv::attention`] on host values, where `qkv` may
    /// be computed there (no gradient needs it); `None` elsewhere.
    fn attention_on_host(&self, qkv: &NasTensor<3>) -> Option<NasTensor<3>> {
        if !runs_on_host(qkv) {
            return None;
        }
        let [b, n, _] = qkv.dims();
        let shape = AttentionShape {
            groups: b,
            tokens: n,
            heads: self.heads,
            head_dim: self.dim / self.heads,
        };
        let scale = (shape.head_dim as f32).sqrt().recip();
        let context = nas_conv::attention(&host_values(qkv.clone())?, shape, scale, ScoreTerms::default()).ok()?;
        Some(NasTensor::from_data(TensorData::new(context, [b, n, self.dim]), &qkv.device()))
    }
}

/// A torchvision vision transformer (ViT-B/16, -B/32, -L/16, -L/32, -H/14) in inference mode.
pub struct Vit {
    info: BackboneInfo,
    device: Device,
    shape: Shape,
    /// Patches per side of the stored position embeddings.
    native_grid: usize,
    patch_embed: Conv2d,
    class_token: NasTensor<3>,
    pos_embedding: NasTensor<3>,
    blocks: Vec<EncoderBlock>,
    ln: LayerNorm,
    head: Linear,
}

impl Vit {
    /// Builds the network of `spec` from a state dict in torchvision's or timm's layout.
    fn load(spec: &VitSpec, sd: &mut StateDict, num_classes: usize) -> Result<Vit> {
        sd.rename_keys(timm_layout::torchvision_key);
        let (name, shape, [mean, std]) = (spec.name, spec.shape, spec.normalisation);
        let (dim, patch, grid) = (shape.dim, shape.patch, shape.grid_in(sd)?);
        let patch_embed = Conv2d::load(sd, "conv_proj", ConvGeometry::symmetric(3, dim, patch, patch, 0))?;
        let class_token = sd.take("class_token", [1, 1, dim])?;
        let pos_embedding = sd.take("encoder.pos_embedding", [1, grid * grid + 1, dim])?;
        let blocks = (0..shape.layers)
            .map(|i| EncoderBlock::load(sd, i, shape))
            .collect::<Result<Vec<_>>>()?;
        let ln = LayerNorm::load(sd, "encoder.ln", dim, LN_EPS)?;
        let head = Linear::load(sd, "heads.head", dim, num_classes)?;
        Ok(Vit {
            info: BackboneInfo {
                name: name.into(),
                mean,
                std,
                level_channels: [dim; 5],
                level_strides: [patch; 5],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            shape,
            native_grid: grid,
            patch_embed,
            class_token,
            pos_embedding,
            blocks,
            ln,
            head,
        })
    }

    /// Position embeddings for a `gh x gw` patch grid: the stored ones at the native grid, else the patch
    /// part resized bicubically (the class token's embedding is kept).
    fn position_embedding(&self, gh: usize, gw: usize) -> NasTensor<3> {
        let (dim, grid) = (self.shape.dim, self.native_grid);
        if (gh, gw) == (grid, grid) {
            return self.pos_embedding.clone();
        }
        let pos = self.pos_embedding.clone().detach();
        let class_pos = pos.clone().narrow(1, 0, 1);
        let stored = pos.narrow(1, 1, grid * grid).swap_dims(1, 2).reshape([1, dim, grid, grid]);
        let options = InterpolateOptions {
            mode: InterpolateMode::Bicubic,
            align_corners: false,
        };
        let resized = interpolate(stored, [gh, gw], options);
        let patches = resized.reshape([1, dim, gh * gw]).swap_dims(1, 2);
        Tensor::cat(vec![class_pos, patches], 1)
    }
}

/// Patch tokens of `(batch, 1 + gh * gw, dim)` as a `(batch, dim, gh, gw)` grid.
fn tokens_to_grid(tokens: NasTensor<3>, gh: usize, gw: usize) -> NasTensor<4> {
    let [b, n, d] = tokens.dims();
    tokens.narrow(1, 1, n - 1).swap_dims(1, 2).reshape([b, d, gh, gw])
}

/// The inverse of [`tokens_to_grid`], given the class tokens `(batch, 1, dim)` to put first.
fn grid_to_tokens(grid: NasTensor<4>, class_tokens: NasTensor<3>) -> NasTensor<3> {
    let [b, d, gh, gw] = grid.dims();
    let patches = grid.reshape([b, d, gh * gw]).swap_dims(1, 2);
    Tensor::cat(vec![class_tokens, patches], 1)
}

impl Backbone for Vit {
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

impl Vit {
    /// The logits, computed so that their gradient times the input is CP-LRP's relevance
    /// (lxt's patches for torchvision's ViT; see `Propagation::Conservative`).
    pub fn forward_conservative(&self, input: NasTensor<4>) -> NasTensor<2> {
        self.forward_conservative_hooked(input, &mut Unchanged)
    }

    /// [`Vit::forward_conservative`], handing each depth level to `hook`.
    pub fn forward_conservative_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        self.run(input, hook, Propagation::Conservative)
    }

    /// The encoder's input tokens `(batch, 1 + gh * gw, dim)`: the class token, then the patch
    /// embeddings, with position embeddings added; and the patch grid `[gh, gw]`.
    fn embed(&self, input: NasTensor<4>) -> (NasTensor<3>, [usize; 2]) {
        let batch = input.dims()[0];
        let patches = self.patch_embed.forward(input);
        let [_, _, gh, gw] = patches.dims();
        let dim = self.shape.dim;
        let patches = patches.reshape([batch, dim, gh * gw]).swap_dims(1, 2);
        let class = self.class_token.clone().expand([batch, 1, dim]);
        (Tensor::cat(vec![class, patches], 1) + self.position_embedding(gh, gw), [gh, gw])
    }

    /// `backbone` as a ViT, for methods that read its attention; otherwise an error that names
    /// the backbone, `method`, and what it lacks (`missing`).
    pub fn required_by<'a>(backbone: &'a dyn Backbone, method: &str, missing: &str) -> Result<&'a Vit> {
        backbone.as_any().and_then(|a| a.downcast_ref::<Vit>()).ok_or_else(|| {
            NasError::InvalidInput(format!(
                "{method} needs a vision transformer ({}); {} has no {missing}",
                VITS.map(|spec| spec.name).join(", "),
                backbone.info().name
            ))
        })
    }

    /// Attention heads per block.
    pub fn heads(&self) -> usize {
        self.shape.heads
    }

    /// Every encoder block's attention probabilities for `input` `(batch, 3, H, W)`, its heads
    /// fused by `fuse` (applied to each head's `tokens x tokens` matrix in turn): per block,
    /// `batch` matrices, row-major. And the patch grid `[gh, gw]` (tokens `1 + gh * gw`, the class
    /// token first). What attention rollout multiplies.
    pub fn attention_matrices(&self, input: NasTensor<4>, fuse: HeadFuser<'_>) -> Result<(Vec<BlockAttention>, [usize; 2])> {
        let (mut h, grid) = self.embed(input);
        let mut blocks = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            blocks.push(block.attention_probabilities(h.clone(), fuse)?);
            h = block.forward(h, Propagation::Gradient);
        }
        Ok((blocks, grid))
    }

    /// Every encoder block's attention probabilities for `input` `(batch, 3, H, W)` together
    /// with the gradient of each image's `targets[i]` logit with respect to them (what Chefer et
    /// al.'s generic attention explainability weighs), first block first; and the patch grid
    /// `[gh, gw]`.
    pub fn attention_gradients(&self, input: NasTensor<4>, targets: &[usize]) -> Result<(Vec<AttentionGradient>, [usize; 2])> {
        let scope = differentiable();
        let (mut h, grid) = self.embed(input.detach());
        let mut probed = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let mut recorded = None;
            h = block.forward_attending(h, false, |qkv| {
                let (context, probabilities, probe) = block.probed_attention(qkv);
                recorded = Some((probabilities, probe));
                context
            });
            probed.extend(recorded);
        }
        let logits = self.classify(h, Propagation::Gradient);
        drop(scope);
        let grads = target_sum(&logits, targets)?.backward();
        let values = |t: NasTensor<4>| {
            t.into_data()
                .to_vec::<f32>()
                .map_err(|e| NasError::InvalidInput(format!("attention gradients: {e:?}")))
        };
        let blocks = probed
            .into_iter()
            .map(|(probabilities, probe)| {
                let gradient = probe
                    .grad(&grads)
                    .ok_or_else(|| NasError::InvalidInput("the attention probabilities received no gradient".into()))?;
                Ok(AttentionGradient {
                    dims: probabilities.dims(),
                    probabilities: values(probabilities)?,
                    gradients: values(NasTensor::from_inner(gradient))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok((blocks, grid))
    }

    /// The logits from the encoder's output tokens.
    fn classify(&self, h: NasTensor<3>, propagation: Propagation) -> NasTensor<2> {
        let batch = h.dims()[0];
        let class_tokens = h.narrow(1, 0, 1);
        let class_out = match propagation {
            Propagation::Gradient => self.ln.forward(class_tokens),
            Propagation::Conservative => self.ln.forward_fixed_scale(class_tokens),
        };
        self.head.forward(class_out.reshape([batch, self.shape.dim]))
    }

    fn run(&self, input: NasTensor<4>, hook: &mut dyn LevelHook, propagation: Propagation) -> NasTensor<2> {
        let (mut h, [gh, gw]) = self.embed(input);
        let mut level = 0;
        for (i, block) in self.blocks.iter().enumerate() {
            h = block.forward(h, propagation);
            if self.shape.level_blocks.contains(&i) {
                let class_tokens = h.clone().narrow(1, 0, 1);
                let grid = hook.level(level, tokens_to_grid(h, gh, gw));
                h = grid_to_tokens(grid, class_tokens);
                level += 1;
            }
        }
        self.classify(h, propagation)
    }
}

/// A registered ViT: its name, shape, standard file and input normalisation (mean, std).
struct VitSpec {
    name: &'static str,
    shape: Shape,
    file: &'static str,
    normalisation: [[f32; 3]; 2],
}

/// The mean and standard deviation timm's JAX-trained ViTs were trained with.
const HALF: [[f32; 3]; 2] = [[0.5; 3], [0.5; 3]];
/// ImageNet's, which torchvision's and DeiT's files expect.
const IMAGENET: [[f32; 3]; 2] = [IMAGENET_MEAN, IMAGENET_STD];

/// The ViTs: torchvision's, then DeiT's and timm's (files in timm's layout).
const VITS: [VitSpec; 9] = [
    VitSpec {
        name: "vit_b_16",
        shape: BASE,
        file: "vit_b_16-c867db91.pth",
        normalisation: IMAGENET,
    },
    VitSpec {
        name: "vit_b_32",
        shape: Shape { patch: 32, ..BASE },
        file: "vit_b_32-d86f8d99.pth",
        normalisation: IMAGENET,
    },
    VitSpec {
        name: "vit_l_16",
        shape: LARGE,
        file: "vit_l_16-852ce7e3.pth",
        normalisation: IMAGENET,
    },
    VitSpec {
        name: "vit_l_32",
        shape: Shape { patch: 32, ..LARGE },
        file: "vit_l_32-c7638314.pth",
        normalisation: IMAGENET,
    },
    VitSpec {
        name: "vit_h_14",
        shape: HUGE,
        file: "vit_h_14_lc_swag-c1eb923e.pth",
        normalisation: IMAGENET,
    },
    VitSpec {
        name: "deit_tiny_patch16_224",
        shape: TINY,
        file: "deit_tiny_patch16_224-a1311bcf.pth",
        normalisation: IMAGENET,
    },
    VitSpec {
        name: "deit_small_patch16_224",
        shape: SMALL,
        file: "deit_small_patch16_224-cd65a155.pth",
        normalisation: IMAGENET,
    },
    VitSpec {
        name: "deit_base_patch16_224",
        shape: BASE,
        file: "deit_base_patch16_224-b5f2ef4d.pth",
        normalisation: IMAGENET,
    },
    VitSpec {
        name: "vit_base_patch16_224",
        shape: BASE,
        file: "jx_vit_base_p16_224-80ecf9dd.pth",
        normalisation: HALF,
    },
];

/// The registry entry point of ViT number `INDEX` of [`VITS`].
fn build_vit<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let spec = &VITS[INDEX];
    super::build_from_weights(spec.name, spec.file, params, ctx, |sd, classes| Vit::load(spec, sd, classes))
}

super::register_family! {
    build_vit;
    0 => "vit_b_16", "torchvision ViT-B/16; levels: encoder blocks 2, 4, 6, 8, 10 as 14x14 patch grids";
    1 => "vit_b_32", "torchvision ViT-B/32; levels: encoder blocks 2, 4, 6, 8, 10 as 7x7 patch grids";
    2 => "vit_l_16", "torchvision ViT-L/16; levels: encoder blocks 4, 8, 12, 16, 20 as 14x14 patch grids";
    3 => "vit_l_32", "torchvision ViT-L/32; levels: encoder blocks 4, 8, 12, 16, 20 as 7x7 patch grids";
    4 => "vit_h_14", "torchvision ViT-H/14; levels: encoder blocks 5, 11, 16, 21, 27 as 16x16 patch grids";
    5 => "deit_tiny_patch16_224", "DeiT-Ti (timm or torchvision layout); levels: encoder blocks 2, 4, 6, 8, 10 as 14x14 patch grids";
    6 => "deit_small_patch16_224", "DeiT-S (timm or torchvision layout); levels: encoder blocks 2, 4, 6, 8, 10 as 14x14 patch grids";
    7 => "deit_base_patch16_224", "DeiT-B (timm or torchvision layout); levels: encoder blocks 2, 4, 6, 8, 10 as 14x14 patch grids";
    8 => "vit_base_patch16_224", "timm's ViT-B/16 (inputs normalised with 0.5, 0.5: the JAX-trained files Chefer et al. explain); levels: encoder blocks 2, 4, 6, 8, 10 as 14x14 patch grids";
}
