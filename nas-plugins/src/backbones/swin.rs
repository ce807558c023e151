//! torchvision's Swin Transformers, Swin-T, -S and -B (Liu et al. 2021), loaded from their state
//! dicts: a patch embedding (4x4 convolution with stride 4, LayerNorm), four stages of
//! transformer blocks attending within 7x7 windows (every second block's windows shifted by
//! half a window, with torchvision's mask between the regions the shift brings together, and a
//! learned relative position bias), a patch merging between stages (2x2 neighbours concatenated,
//! LayerNorm, linear reduction to twice the channels), a final LayerNorm, global average pooling
//! and a linear head. Maps stay channels-last, `(batch, h, w, channels)`, as torchvision keeps
//! them; stochastic depth and dropout are the identity at inference.
//!
//! Swin Transformer V2 (Liu et al. 2022; torchvision's Swin-V2-T, -S and -B) changes four things,
//! each a [`Version`] switch here: 8x8 windows; cosine attention (queries and keys scaled to unit
//! length, their products multiplied by a learned per-head `exp(min(logit_scale, ln 100))`, no
//! bias on the keys); a relative position bias that a small MLP computes from log-spaced
//! coordinates, `16 sigmoid(cpb_mlp(coords))`, evaluated once at load; and LayerNorms after
//! attention, MLP and patch reduction instead of before.
//!
//! Depth levels: the patch embedding's output (stride 4) and the outputs of stages 1 to 4
//! (strides 4, 8, 16, 32), as `(channels, h, w)` grids.

use super::layers::{gelu_of, host_values, Conv2d, ConvGeometry, LayerNorm, Linear};
use super::relative_position::gathered_bias;
use super::{IMAGENET_MEAN, IMAGENET_STD};
use nas_conv::{attention, AttentionShape, ScoreTerms};
use nas_core::burn::tensor::activation::softmax;
use nas_core::burn::tensor::TensorData;
use nas_core::device::runs_on_host;
use nas_core::weights::StateDict;
use nas_core::{Backbone, BackboneInfo, Context, Device, LevelHook, NasTensor, Params, Result};

/// LayerNorm epsilon of torchvision's Swin Transformers.
const LN_EPS: f64 = 1e-5;
/// Width of a block's MLP, as a multiple of its channels.
const MLP_RATIO: usize = 4;
/// What torchvision adds to the attention scores between tokens the shift brought together.
const MASKED: f32 = -100.0;

/// The hidden width of Swin V2's relative position bias MLP.
const CPB_HIDDEN: usize = 512;

/// Which Swin Transformer a network is: the first, or V2 with its cosine attention, position bias
/// MLP and LayerNorms after each residual branch.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Version {
    V1,
    V2,
}

/// A Swin Transformer's shape: channels of the first stage, blocks and heads of each stage,
/// the windows' side and the version.
#[derive(Clone, Copy)]
struct Shape {
    embed: usize,
    blocks: [usize; 4],
    heads: [usize; 4],
    window: usize,
    version: Version,
}

/// Applies `linear` to every position of a channels-last map `(batch, h, w, inputs)`.
fn per_position(linear: &Linear, x: NasTensor<4>) -> NasTensor<4> {
    let [b, h, w, c] = x.dims();
    let y = linear.forward(x.reshape([b * h * w, c]));
    let out = y.dims()[1];
    y.reshape([b, h, w, out])
}

/// `(batch, channels, h, w)` as channels-last `(batch, h, w, channels)`.
fn channels_last(x: NasTensor<4>) -> NasTensor<4> {
    x.permute([0, 2, 3, 1])
}

/// Channels-last `(batch, h, w, channels)` as `(batch, channels, h, w)`.
fn channels_first(x: NasTensor<4>) -> NasTensor<4> {
    x.permute([0, 3, 1, 2])
}

/// The range a Python slice `[start:end]` selects from `len` items (negative ends count from
/// the end, `None` is the end), as torchvision's mask is written with them.
fn python_range(start: i64, end: Option<i64>, len: usize) -> std::ops::Range<usize> {
    let at = |i: i64| {
        if i < 0 {
            (len as i64 + i).max(0) as usize
        } else {
            (i as usize).min(len)
        }
    };
    let (from, to) = (at(start), end.map_or(len, at));
    from..to.max(from)
}

/// torchvision's attention mask of `window x window` windows for a padded `height x width` map
/// shifted by `shift` (rows, columns): `(windows, window^2, window^2)`, 0 between tokens of the
/// same region and [`MASKED`] between tokens the roll brought together from different regions.
fn shift_mask(height: usize, width: usize, window: usize, shift: [usize; 2]) -> (Vec<f32>, usize) {
    let slices = |shift: usize| {
        [
            (0, Some(-(window as i64))),
            (-(window as i64), Some(-(shift as i64))),
            (-(shift as i64), None),
        ]
    };
    let mut region = vec![0f32; height * width];
    let mut count = 0.0;
    for (h0, h1) in slices(shift[0]) {
        for (w0, w1) in slices(shift[1]) {
            for y in python_range(h0, h1, height) {
                for x in python_range(w0, w1, width) {
                    region[y * width + x] = count;
                }
            }
            count += 1.0;
        }
    }
    let (rows, cols) = (height / window, width / window);
    let tokens = window * window;
    let mut mask = vec![0f32; rows * cols * tokens * tokens];
    for wy in 0..rows {
        for wx in 0..cols {
            let labels: Vec<f32> = (0..tokens)
                .map(|t| region[(wy * window + t / window) * width + wx * window + t % window])
                .collect();
            let window = &mut mask[(wy * cols + wx) * tokens * tokens..][..tokens * tokens];
            for (i, row) in window.chunks_exact_mut(tokens).enumerate() {
                for (j, m) in row.iter_mut().enumerate() {
                    *m = if labels[i] == labels[j] { 0.0 } else { MASKED };
                }
            }
        }
    }
    (mask, rows * cols)
}

/// How a `height x width` map is cut into `window x window` windows: zero-padded at the bottom
/// and right to whole windows, then rolled by `shift` (rows, columns) towards the top left.
#[derive(Clone, Copy)]
struct WindowGrid {
    height: usize,
    width: usize,
    window: usize,
    padded: [usize; 2],
    shift: [usize; 2],
}

impl WindowGrid {
    fn new(height: usize, width: usize, window: usize, shift: usize) -> WindowGrid {
        let padded = [height, width].map(|side| side.div_ceil(window) * window);
        WindowGrid {
            height,
            width,
            window,
            padded,
            // torchvision does not shift a dimension that one window covers.
            shift: padded.map(|side| if window >= side { 0 } else { shift }),
        }
    }

    fn padding_needed(&self) -> bool {
        self.padded != [self.height, self.width]
    }

    fn shifted(&self) -> bool {
        self.shift != [0, 0]
    }

    /// Windows per image.
    fn windows(&self) -> usize {
        self.padded[0] / self.window * (self.padded[1] / self.window)
    }

    /// Tokens per window.
    fn tokens(&self) -> usize {
        self.window * self.window
    }

    /// torchvision's mask for these windows (see [`shift_mask`]), when they are shifted.
    fn mask(&self) -> Option<Vec<f32>> {
        self.shifted()
            .then(|| shift_mask(self.padded[0], self.padded[1], self.window, self.shift).0)
    }

    /// For each token of an image's windows in order (window by window, each row by row), the
    /// index of the map position it holds, or `None` for padding.
    fn token_sources(&self) -> Vec<Option<usize>> {
        let [pad_h, pad_w] = self.padded;
        let side = self.window;
        let cols = pad_w / side;
        (0..self.windows() * self.tokens())
            .map(|token| {
                let (window, within) = (token / self.tokens(), token % self.tokens());
                let y = ((window / cols) * side + within / side + self.shift[0]) % pad_h;
                let x = ((window % cols) * side + within % side + self.shift[1]) % pad_w;
                (y < self.height && x < self.width).then_some(y * self.width + x)
            })
            .collect()
    }
}

/// Swin V2's log-spaced relative coordinates (torchvision's `relative_coords_table`), `(2 window
/// - 1)^2` rows of (row, column), in `f32` as torchvision computes them.
fn log_spaced_coordinates(window: usize) -> Vec<[f32; 2]> {
    let span = 2 * window - 1;
    let scaled = |offset: usize| {
        let c = (offset as f32 - (window - 1) as f32) / (window - 1) as f32 * 8.0;
        c.signum() * (c.abs() + 1.0).log2() / 3.0
    };
    (0..span * span).map(|r| [scaled(r / span), scaled(r % span)]).collect()
}

/// Swin V2's relative position bias: `16 sigmoid(cpb_mlp(coords))` gathered per head and pair.
fn continuous_position_bias(sd: &mut StateDict, key: &str, heads: usize, window: usize) -> Result<Vec<f32>> {
    let hidden_weight = sd.take_values(&format!("{key}.cpb_mlp.0.weight"), &[CPB_HIDDEN, 2])?;
    let hidden_bias = sd.take_values(&format!("{key}.cpb_mlp.0.bias"), &[CPB_HIDDEN])?;
    let out_weight = sd.take_values(&format!("{key}.cpb_mlp.2.weight"), &[heads, CPB_HIDDEN])?;
    let table: Vec<f32> = log_spaced_coordinates(window)
        .iter()
        .flat_map(|[y, x]| {
            let hidden: Vec<f32> = (0..CPB_HIDDEN)
                .map(|u| (hidden_weight[2 * u] * y + hidden_weight[2 * u + 1] * x + hidden_bias[u]).max(0.0))
                .collect();
            (0..heads)
                .map(|h| {
                    hidden
                        .iter()
                        .zip(&out_weight[h * CPB_HIDDEN..][..CPB_HIDDEN])
                        .map(|(a, w)| a * w)
                        .sum::<f32>()
                })
                .collect::<Vec<f32>>()
        })
        .collect();
    Ok(gathered_bias(&table, heads, window, |v| 16.0 / (1.0 + (-v).exp())))
}

/// Window attention with a relative position bias, its windows shifted by `shift` or not.
struct WindowAttention {
    heads: usize,
    window: usize,
    shift: usize,
    qkv: Linear,
    proj: Linear,
    /// The relative position bias of every head between the tokens of a window, `(1, heads,
    /// window^2, window^2)`, gathered once from the learned table (or computed by V2's MLP).
    bias: NasTensor<4>,
    /// The same values on the host, for [`nas_conv::attention`].
    host_bias: Vec<f32>,
    /// Swin V2's cosine attention: each head's factor `exp(min(logit_scale, ln 100))` of the
    /// products of unit-length queries and keys. `None` for V1's scaled dot products.
    cosine_scales: Option<Vec<f32>>,
}

impl WindowAttention {
    fn load(
        sd: &mut StateDict,
        key: &str,
        dim: usize,
        heads: usize,
        window: usize,
        shift: usize,
        version: Version,
    ) -> Result<WindowAttention> {
        let tokens = window * window;
        let (bias, cosine_scales, qkv) = match version {
            Version::V1 => {
                let span = 2 * window - 1;
                let table = sd.take_values(&format!("{key}.relative_position_bias_table"), &[span * span, heads])?;
                let qkv = Linear::load_token_wise(sd, &format!("{key}.qkv"), dim, 3 * dim)?;
                (gathered_bias(&table, heads, window, |v| v), None, qkv)
            }
            Version::V2 => {
                let logits = sd.take_values(&format!("{key}.logit_scale"), &[heads, 1, 1])?;
                let scales = logits.iter().map(|l| l.min(100f32.ln()).exp()).collect();
                let bias = continuous_position_bias(sd, key, heads, window)?;
                let weight = sd.take_values(&format!("{key}.qkv.weight"), &[3 * dim, dim])?;
                let mut qkv_bias = sd.take_values(&format!("{key}.qkv.bias"), &[3 * dim])?;
                // torchvision zeroes the keys' bias in every forward pass.
                qkv_bias[dim..2 * dim].fill(0.0);
                let qkv = Linear::token_wise(weight, qkv_bias, [3 * dim, dim], sd.device());
                (bias, Some(scales), qkv)
            }
        };
        Ok(WindowAttention {
            heads,
            window,
            shift,
            qkv,
            proj: Linear::load_token_wise(sd, &format!("{key}.proj"), dim, dim)?,
            bias: NasTensor::from_data(TensorData::new(bias.clone(), [1, heads, tokens, tokens]), sd.device()),
            host_bias: bias,
            cosine_scales,
        })
    }

    /// The factor of the queries, `head_dim^-1/2` (1 for cosine attention, whose queries carry
    /// their head's scale).
    fn scale(&self, channels: usize) -> f64 {
        match self.cosine_scales {
            Some(_) => 1.0,
            None => ((channels / self.heads) as f64).powf(-0.5),
        }
    }

    /// Cosine attention's queries and keys in `qkv` (`(tokens, 3, heads, head_dim)` rows) made
    /// unit length (`F.normalize`), the queries then multiplied by their head's scale.
    fn normalise_on_host(&self, qkv: &mut [f32], channels: usize, scales: &[f32]) {
        let head_dim = channels / self.heads;
        for row in qkv.chunks_exact_mut(3 * channels) {
            for (part, factor) in [(0, None), (1, Some(1.0))] {
                for (h, vector) in row[part * channels..][..channels].chunks_exact_mut(head_dim).enumerate() {
                    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
                    let scale = factor.unwrap_or(scales[h]) / norm;
                    vector.iter_mut().for_each(|v| *v *= scale);
                }
            }
        }
    }

    /// Attention within the (shifted) windows of a channels-last map.
    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        if let Some(y) = self.forward_on_host(&x) {
            return y;
        }
        let [b, h, w, c] = x.dims();
        let device = x.device();
        let grid = WindowGrid::new(h, w, self.window, self.shift);
        let [pad_h, pad_w] = grid.padded;
        let x = if grid.padding_needed() {
            x.pad([(0, 0), (0, pad_h - h), (0, pad_w - w), (0, 0)], 0.0)
        } else {
            x
        };
        let shift = grid.shift;
        // burn's `roll` moves elements towards lower indices for a positive shift, the opposite
        // of `torch.roll`: torchvision's roll by `-shift` is burn's by `+shift`.
        let x = if grid.shifted() {
            x.roll(&[shift[0] as i64, shift[1] as i64], &[1, 2])
        } else {
            x
        };
        let side = self.window;
        let (rows, cols) = (pad_h / side, pad_w / side);
        let tokens = grid.tokens();
        let windows = b * rows * cols;
        let x = x
            .reshape([b, rows, side, cols, side, c])
            .permute([0, 1, 3, 2, 4, 5])
            .reshape([windows, tokens, c]);
        let head_dim = c / self.heads;
        let qkv = self.qkv.forward(x.reshape([windows * tokens, c]));
        let qkv = qkv.reshape([windows, tokens, 3, self.heads, head_dim]).permute([2, 0, 3, 1, 4]);
        let part = |i: usize| qkv.clone().narrow(0, i, 1).reshape([windows, self.heads, tokens, head_dim]);
        let (q, k) = match &self.cosine_scales {
            Some(scales) => {
                let unit = |t: NasTensor<4>| t.clone() / t.powi_scalar(2).sum_dim(3).sqrt().clamp_min(1e-12);
                let scales = NasTensor::<4>::from_data(TensorData::new(scales.clone(), [1, self.heads, 1, 1]), &device);
                (unit(part(0)) * scales, unit(part(1)))
            }
            None => (part(0) * self.scale(c), part(1)),
        };
        let scores = q.matmul(k.swap_dims(2, 3)) + self.bias.clone();
        let scores = match grid.mask() {
            Some(mask) => {
                let per_image = grid.windows();
                let mask = NasTensor::<5>::from_data(TensorData::new(mask, [1, per_image, 1, tokens, tokens]), &device);
                (scores.reshape([b, per_image, self.heads, tokens, tokens]) + mask).reshape([windows, self.heads, tokens, tokens])
            }
            None => scores,
        };
        let context = softmax(scores, 3).matmul(part(2)).swap_dims(1, 2).reshape([windows * tokens, c]);
        let out = self.proj.forward(context).reshape([b, rows, cols, side, side, c]);
        let out = out.permute([0, 1, 3, 2, 4, 5]).reshape([b, pad_h, pad_w, c]);
        let out = if grid.shifted() {
            out.roll(&[-(shift[0] as i64), -(shift[1] as i64)], &[1, 2])
        } else {
            out
        };
        if grid.padding_needed() {
            out.narrow(1, 0, h).narrow(2, 0, w)
        } else {
            out
        }
    }

    /// [`WindowAttention::forward`] on host values, where `x` may be computed there: the
    /// padding, roll and window partition as one gather of tokens, the attention of every window
    /// and head in one pass ([`nas_conv::attention`]), and one scatter back. `None` elsewhere.
    fn forward_on_host(&self, x: &NasTensor<4>) -> Option<NasTensor<4>> {
        if !runs_on_host(x) {
            return None;
        }
        let [b, h, w, c] = x.dims();
        let device = x.device();
        let grid = WindowGrid::new(h, w, self.window, self.shift);
        let sources = grid.token_sources();
        let values = host_values(x.clone())?;
        let mut tokens = vec![0f32; b * sources.len() * c];
        for (image, image_tokens) in tokens.chunks_exact_mut(sources.len() * c).enumerate() {
            for (token, source) in image_tokens.chunks_exact_mut(c).zip(&sources) {
                if let Some(at) = source {
                    token.copy_from_slice(&values[(image * h * w + at) * c..][..c]);
                }
            }
        }
        let rows = tokens.len() / c;
        let mut qkv = host_values(self.qkv.forward(NasTensor::from_data(TensorData::new(tokens, [rows, c]), &device)))?;
        if let Some(scales) = &self.cosine_scales {
            self.normalise_on_host(&mut qkv, c, scales);
        }
        let shape = AttentionShape {
            groups: b * grid.windows(),
            tokens: grid.tokens(),
            heads: self.heads,
            head_dim: c / self.heads,
        };
        let mask = grid.mask();
        let terms = ScoreTerms {
            per_head: Some(&self.host_bias),
            per_group: mask.as_deref(),
        };
        let context = attention(&qkv, shape, self.scale(c) as f32, terms).ok()?;
        let out = host_values(
            self.proj
                .forward(NasTensor::from_data(TensorData::new(context, [rows, c]), &device)),
        )?;
        let mut y = vec![0f32; b * h * w * c];
        for (image, image_out) in out.chunks_exact(sources.len() * c).enumerate() {
            for (token, source) in image_out.chunks_exact(c).zip(&sources) {
                if let Some(at) = source {
                    y[(image * h * w + at) * c..][..c].copy_from_slice(token);
                }
            }
        }
        Some(NasTensor::from_data(TensorData::new(y, [b, h, w, c]), &device))
    }
}

/// One Swin Transformer block: `x + attn(norm1(x))`, then `+ mlp(norm2(.))`; in V2,
/// `x + norm1(attn(x))`, then `+ norm2(mlp(.))`.
struct Block {
    norm1: LayerNorm,
    attention: WindowAttention,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
    version: Version,
}

impl Block {
    fn load(sd: &mut StateDict, key: &str, dim: usize, heads: usize, shape: &Shape, shift: usize) -> Result<Block> {
        Ok(Block {
            norm1: LayerNorm::load(sd, &format!("{key}.norm1"), dim, LN_EPS)?,
            attention: WindowAttention::load(sd, &format!("{key}.attn"), dim, heads, shape.window, shift, shape.version)?,
            norm2: LayerNorm::load(sd, &format!("{key}.norm2"), dim, LN_EPS)?,
            fc1: Linear::load_token_wise(sd, &format!("{key}.mlp.0"), dim, MLP_RATIO * dim)?,
            fc2: Linear::load_token_wise(sd, &format!("{key}.mlp.3"), MLP_RATIO * dim, dim)?,
            version: shape.version,
        })
    }

    fn mlp(&self, x: NasTensor<4>) -> NasTensor<4> {
        per_position(&self.fc2, gelu_of(per_position(&self.fc1, x)))
    }

    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        match self.version {
            Version::V1 => {
                let x = x.clone() + self.attention.forward(self.norm1.forward(x));
                x.clone() + self.mlp(self.norm2.forward(x))
            }
            Version::V2 => {
                let x = x.clone() + self.norm1.forward(self.attention.forward(x));
                x.clone() + self.norm2.forward(self.mlp(x))
            }
        }
    }
}

/// Patch merging: each 2x2 neighbourhood's channels concatenated (torchvision's order: top
/// left, bottom left, top right, bottom right), normalised, and reduced to twice the channels;
/// in V2 reduced, then normalised.
struct PatchMerging {
    norm: LayerNorm,
    reduction: Linear,
    version: Version,
}

impl PatchMerging {
    fn forward(&self, x: NasTensor<4>) -> NasTensor<4> {
        let [b, h, w, c] = x.dims();
        let x = if h % 2 == 0 && w % 2 == 0 {
            x
        } else {
            x.pad([(0, 0), (0, h % 2), (0, w % 2), (0, 0)], 0.0)
        };
        let (rows, cols) = (h.div_ceil(2), w.div_ceil(2));
        let grid = x.reshape([b, rows, 2, cols, 2, c]);
        let pick = |dy: usize, dx: usize| grid.clone().narrow(2, dy, 1).narrow(4, dx, 1).reshape([b, rows, cols, c]);
        let merged = NasTensor::cat(vec![pick(0, 0), pick(1, 0), pick(0, 1), pick(1, 1)], 3);
        match self.version {
            Version::V1 => per_position(&self.reduction, self.norm.forward(merged)),
            Version::V2 => self.norm.forward(per_position(&self.reduction, merged)),
        }
    }
}

/// A torchvision Swin Transformer in inference mode.
pub struct Swin {
    info: BackboneInfo,
    device: Device,
    patch_embed: Conv2d,
    patch_norm: LayerNorm,
    stages: Vec<Vec<Block>>,
    mergings: Vec<PatchMerging>,
    norm: LayerNorm,
    head: Linear,
}

impl Swin {
    fn load(name: &str, shape: Shape, sd: &mut StateDict, num_classes: usize) -> Result<Swin> {
        let embed = shape.embed;
        let patch_embed = Conv2d::load(sd, "features.0.0", ConvGeometry::symmetric(3, embed, 4, 4, 0))?;
        let patch_norm = LayerNorm::load(sd, "features.0.2", embed, LN_EPS)?;
        let (mut stages, mut mergings) = (Vec::new(), Vec::new());
        for s in 0..4 {
            let dim = embed << s;
            let blocks = (0..shape.blocks[s])
                .map(|i| {
                    let shift = if i % 2 == 0 { 0 } else { shape.window / 2 };
                    Block::load(sd, &format!("features.{}.{i}", 2 * s + 1), dim, shape.heads[s], &shape, shift)
                })
                .collect::<Result<Vec<_>>>()?;
            stages.push(blocks);
            if s < 3 {
                let key = format!("features.{}", 2 * s + 2);
                let weight = sd.take_values(&format!("{key}.reduction.weight"), &[2 * dim, 4 * dim])?;
                let normalised = if shape.version == Version::V1 { 4 * dim } else { 2 * dim };
                mergings.push(PatchMerging {
                    norm: LayerNorm::load(sd, &format!("{key}.norm"), normalised, LN_EPS)?,
                    reduction: Linear::token_wise(weight, vec![0.0; 2 * dim], [2 * dim, 4 * dim], sd.device()),
                    version: shape.version,
                });
            }
        }
        let last = embed << 3;
        Ok(Swin {
            info: BackboneInfo {
                name: name.into(),
                mean: IMAGENET_MEAN,
                std: IMAGENET_STD,
                level_channels: [embed, embed, 2 * embed, 4 * embed, last],
                level_strides: [4, 4, 8, 16, 32],
                min_input_side: 0,
                num_classes,
            },
            device: sd.device().clone(),
            patch_embed,
            patch_norm,
            stages,
            mergings,
            norm: LayerNorm::load(sd, "norm", last, LN_EPS)?,
            head: Linear::load(sd, "head", last, num_classes)?,
        })
    }
}

impl Backbone for Swin {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, hook: &mut dyn LevelHook) -> NasTensor<2> {
        let embedded = self.patch_norm.forward(channels_last(self.patch_embed.forward(input)));
        let mut h = channels_last(hook.level(0, channels_first(embedded)));
        for (s, blocks) in self.stages.iter().enumerate() {
            if let Some(merging) = s.checked_sub(1).and_then(|m| self.mergings.get(m)) {
                h = merging.forward(h);
            }
            for block in blocks {
                h = block.forward(h);
            }
            h = channels_last(hook.level(s + 1, channels_first(h)));
        }
        let [b, height, width, c] = h.dims();
        let pooled = self.norm.forward(h).reshape([b, height * width, c]).mean_dim(1).reshape([b, c]);
        self.head.forward(pooled)
    }
}

/// The first Swin Transformers' shape: 7x7 windows.
const fn v1(embed: usize, blocks: [usize; 4], heads: [usize; 4]) -> Shape {
    Shape {
        embed,
        blocks,
        heads,
        window: 7,
        version: Version::V1,
    }
}

/// Swin V2's shape: 8x8 windows.
const fn v2(embed: usize, blocks: [usize; 4], heads: [usize; 4]) -> Shape {
    Shape {
        window: 8,
        version: Version::V2,
        ..v1(embed, blocks, heads)
    }
}

/// torchvision's Swin Transformers: name, shape and the standard file's name.
const SWINS: [(&str, Shape, &str); 6] = [
    ("swin_t", v1(96, [2, 2, 6, 2], [3, 6, 12, 24]), "swin_t-704ceda3.pth"),
    ("swin_s", v1(96, [2, 2, 18, 2], [3, 6, 12, 24]), "swin_s-5e29d889.pth"),
    ("swin_b", v1(128, [2, 2, 18, 2], [4, 8, 16, 32]), "swin_b-68c6b09e.pth"),
    ("swin_v2_t", v2(96, [2, 2, 6, 2], [3, 6, 12, 24]), "swin_v2_t-b137f0e2.pth"),
    ("swin_v2_s", v2(96, [2, 2, 18, 2], [3, 6, 12, 24]), "swin_v2_s-637d8ceb.pth"),
    ("swin_v2_b", v2(128, [2, 2, 18, 2], [4, 8, 16, 32]), "swin_v2_b-781e5279.pth"),
];

/// The registry entry point of Swin Transformer number `INDEX` of [`SWINS`].
fn build_swin<const INDEX: usize>(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Backbone>> {
    let (name, shape, file) = SWINS[INDEX];
    super::build_from_weights(name, file, params, ctx, |sd, classes| Swin::load(name, shape, sd, classes))
}

super::register_family! {
    build_swin;
    0 => "swin_t", "torchvision Swin-T; levels: patch embedding, stages 1-4";
    1 => "swin_s", "torchvision Swin-S; levels: patch embedding, stages 1-4";
    2 => "swin_b", "torchvision Swin-B; levels: patch embedding, stages 1-4";
    3 => "swin_v2_t", "torchvision Swin-V2-T (8x8 windows, cosine attention); levels: patch embedding, stages 1-4";
    4 => "swin_v2_s", "torchvision Swin-V2-S (8x8 windows, cosine attention); levels: patch embedding, stages 1-4";
    5 => "swin_v2_b", "torchvision Swin-V2-B (8x8 windows, cosine attention); levels: patch embedding, stages 1-4";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// torchvision's mask for a 14x14 map shifted by 3: four windows; the first has one region,
    /// the last four (its rows and columns split 4 + 3).
    #[test]
    fn shifted_window_mask_separates_the_rolled_regions() {
        const WINDOW: usize = 7;
        let (mask, windows) = shift_mask(14, 14, WINDOW, [3, 3]);
        let tokens = WINDOW * WINDOW;
        assert_eq!((windows, mask.len()), (4, 4 * tokens * tokens));
        assert!(mask[..tokens * tokens].iter().all(|&m| m == 0.0), "window 0 lies in one region");
        let last = &mask[3 * tokens * tokens..];
        let at = |i: usize, j: usize| last[i * tokens + j];
        // Tokens (0, 0) and (0, 3) share a region; (0, 4) and (4, 0) lie across the split.
        assert_eq!(
            (at(0, 3), at(0, 4), at(0, 4 * WINDOW), at(4 * WINDOW + 4, 6 * WINDOW + 6)),
            (0.0, MASKED, MASKED, 0.0)
        );
        assert_eq!(python_range(-7, Some(-3), 14), 7..11);
        assert_eq!(python_range(-3, None, 14), 11..14);
        assert_eq!(python_range(0, Some(-7), 14), 0..7);
    }
}
