//! The relevance of every block's attention probabilities by Chefer, Gur & Wolf's Layer-wise
//! Relevance Propagation for transformers (CVPR 2021, "Transformer Interpretability Beyond
//! Attention Visualization"; the rules of their repository's `layers_ours.py`), what their
//! transformer attribution weighs by the attention gradient; and the pixels' relevance, the
//! same rules carried through the patch embedding (their `full` method).
//!
//! The relevance starts as the target's one-hot vector at the logits. Linear layers take the
//! `alpha = 1, beta = 0` rule without their bias (positive inputs through positive weights plus
//! negative inputs through negative weights); GELU, LayerNorm and the softmax pass relevance
//! through unchanged; a residual sum splits it in proportion to each branch's input times its
//! share of the sum, rescaled so that the branches keep the shares of their absolute totals;
//! the two products of the attention (queries by keys, probabilities by values) give each factor
//! its input times the gradient share, halved. The attention probabilities' relevance is the
//! halved share of the second product. Every division is by the denominator plus `1e-9`, zero
//! where the denominator is zero, as theirs.
//!
//! The forward pass and the rules run in `f64`: the residual and product rules divide by sums
//! that can nearly cancel, so `f32` rounding grows block by block (the authors' own code in
//! `float32` is up to 0.32 from its `float64` run on a map scaled to [0, 1], on ViT-B/16 with
//! random weights); in `f64` the maps are reproducible. The authors sum the residual shares over the whole
//! batch; here they are summed per image, so a batch explains each photo as alone (the same for
//! one photo).

use super::{EncoderBlock, Vit};
use crate::backbones::layers::{as_f64, Linear};
use nas_core::burn::tensor::activation::gelu;
use nas_core::burn::tensor::module::conv_transpose2d;
use nas_core::burn::tensor::ops::ConvTransposeOptions;
use nas_core::burn::tensor::Tensor;
use nas_core::burn::tensor::TensorData;
use nas_core::{NasError, NasTensor, Result};

/// The values of one block's forward pass that its relevance rules read.
struct BlockTrace {
    /// The block's input `(batch, tokens, dim)`, the first residual branch.
    input: NasTensor<3>,
    /// `ln_1(input)`, the input of the packed projection.
    normed: NasTensor<3>,
    /// Queries, keys and values `(batch, heads, tokens, head_dim)`.
    qkv: [NasTensor<4>; 3],
    /// Attention probabilities `(batch, heads, tokens, tokens)`.
    probabilities: NasTensor<4>,
    /// The heads' contexts side by side `(batch, tokens, dim)`, the output projection's input.
    context: NasTensor<3>,
    /// The attention's output, the second residual branch.
    attended: NasTensor<3>,
    /// `input + attended`, the MLP's residual branch.
    middle: NasTensor<3>,
    /// `ln_2(middle)`, the first MLP layer's input.
    normed_middle: NasTensor<3>,
    /// GELU's output, the second MLP layer's input.
    hidden: NasTensor<3>,
    /// The MLP's output.
    mlp: NasTensor<3>,
}

impl EncoderBlock {
    /// The block's output for `input` and the values its relevance rules need, in `f64`.
    fn traced(&self, input: NasTensor<3>) -> (NasTensor<3>, BlockTrace) {
        let normed = self.ln_1.forward_f64(input.clone());
        let qkv = self.split_heads(&tokens_f64(&self.in_proj, normed.clone()));
        let probabilities = self.probabilities(qkv[0].clone(), qkv[1].clone());
        let context = self.merge_heads(probabilities.clone().matmul(qkv[2].clone()));
        let attended = tokens_f64(&self.out_proj, context.clone());
        let middle = input.clone() + attended.clone();
        let normed_middle = self.ln_2.forward_f64(middle.clone());
        let hidden = gelu(tokens_f64(&self.fc1, normed_middle.clone()));
        let mlp = tokens_f64(&self.fc2, hidden.clone());
        let output = middle.clone() + mlp.clone();
        let trace = BlockTrace {
            input,
            normed,
            qkv,
            probabilities,
            context,
            attended,
            middle,
            normed_middle,
            hidden,
            mlp,
        };
        (output, trace)
    }

    /// From the relevance of the block's output, the relevance of its attention probabilities
    /// and, unless `last` (the first block, where nothing further is needed), of its input.
    fn relevance(&self, trace: &BlockTrace, relevance: NasTensor<3>, last: bool) -> (NasTensor<4>, Option<NasTensor<3>>) {
        let [residual, branch] = residual_relevance(relevance, &trace.middle, &trace.mlp);
        let branch = tokens_z_plus(&self.fc2, &trace.hidden, branch);
        let branch = tokens_z_plus(&self.fc1, &trace.normed_middle, branch);
        let relevance = copy_relevance(&trace.middle, [residual, branch]);
        let [residual, branch] = residual_relevance(relevance, &trace.input, &trace.attended);
        let branch = tokens_z_plus(&self.out_proj, &trace.context, branch);
        let by_head = self.by_head(branch);
        let [queries, keys, values] = &trace.qkv;
        let [probabilities, values] = product_relevance(&trace.probabilities, values, by_head);
        if last {
            return (probabilities, None);
        }
        let [queries, keys] = product_relevance(queries, &keys.clone().swap_dims(2, 3), probabilities.clone());
        let packed = Tensor::cat(
            vec![
                self.merge_heads(queries),
                self.merge_heads(keys.swap_dims(2, 3)),
                self.merge_heads(values),
            ],
            2,
        );
        let branch = tokens_z_plus(&self.in_proj, &trace.normed, packed);
        (probabilities, Some(copy_relevance(&trace.input, [residual, branch])))
    }
}

impl Vit {
    /// The relevance of every encoder block's attention probabilities for each image's
    /// `targets[i]` under Chefer et al.'s LRP rules (see this module), first block first, each
    /// `(batch, heads, tokens, tokens)` in row-major order.
    pub fn attention_relevance(&self, input: NasTensor<4>, targets: &[usize]) -> Result<Vec<Vec<f32>>> {
        let (attention, _) = self.relevance_pass(input, targets, false)?;
        attention
            .into_iter()
            .map(|r| {
                r.into_data()
                    .to_vec::<f64>()
                    .map(|values| values.into_iter().map(|v| v as f32).collect())
                    .map_err(|e| NasError::InvalidInput(format!("attention relevance: {e:?}")))
            })
            .collect()
    }

    /// The relevance of every input pixel `(batch, H, W)` (summed over colour channels, row-major)
    /// under the same rules carried through the first block, the position embeddings' sum and
    /// the patch embedding, whose convolution takes the z^B rule bounded by each photo's
    /// smallest and largest input value (the authors' `full` method).
    pub fn pixel_relevance(&self, input: NasTensor<4>, targets: &[usize]) -> Result<Vec<f32>> {
        let (_, pixels) = self.relevance_pass(input, targets, true)?;
        let pixels = pixels.ok_or_else(|| NasError::InvalidInput("pixel relevance: the pass stopped early".into()))?;
        let [b, _, h, w] = pixels.dims();
        pixels
            .sum_dim(1)
            .reshape([b * h * w])
            .into_data()
            .to_vec::<f64>()
            .map(|values| values.into_iter().map(|v| v as f32).collect())
            .map_err(|e| NasError::InvalidInput(format!("pixel relevance: {e:?}")))
    }

    /// The attention probabilities' relevance of every block, first block first, and, when
    /// `to_pixels`, the input's relevance `(batch, 3, H, W)`.
    fn relevance_pass(&self, input: NasTensor<4>, targets: &[usize], to_pixels: bool) -> Result<(Vec<NasTensor<4>>, Option<NasTensor<4>>)> {
        let batch = input.dims()[0];
        let classes = self.info.num_classes;
        if targets.len() != batch {
            return Err(NasError::InvalidInput(format!("{} targets for {batch} photos", targets.len())));
        }
        if let Some(bad) = targets.iter().find(|&&t| t >= classes) {
            return Err(NasError::InvalidInput(format!(
                "target class {bad} is out of range: the backbone has {classes} classes"
            )));
        }
        let input = as_f64(input.detach());
        let embedded = self.embed_f64(input.clone());
        let mut h = embedded.tokens.clone();
        let mut traces = Vec::with_capacity(self.blocks.len());
        for block in &self.blocks {
            let (output, trace) = block.traced(h);
            traces.push(trace);
            h = output;
        }
        let [_, tokens, dim] = h.dims();
        let class_out = self.ln.forward_f64(h.narrow(1, 0, 1)).reshape([batch, dim]);
        let mut one_hot = vec![0f32; batch * classes];
        for (image, &target) in targets.iter().enumerate() {
            one_hot[image * classes + target] = 1.0;
        }
        let device = class_out.device();
        let one_hot = as_f64(NasTensor::<2>::from_data(TensorData::new(one_hot, [batch, classes]), &device));
        let class_relevance = z_plus(&self.head, class_out.clone(), one_hot);
        // Selecting the class token: its input times the relevance over it.
        let class_relevance = class_out.clone() * safe_divide(class_relevance, class_out);
        let zeros = as_f64(NasTensor::<3>::zeros([batch, tokens - 1, dim], &device));
        let mut relevance = Tensor::cat(vec![class_relevance.reshape([batch, 1, dim]), zeros], 1);
        let mut attention = Vec::with_capacity(self.blocks.len());
        for (index, (block, trace)) in self.blocks.iter().zip(&traces).enumerate().rev() {
            let (probabilities, below) = block.relevance(trace, relevance.clone(), index == 0 && !to_pixels);
            attention.push(probabilities);
            if let Some(below) = below {
                relevance = below;
            }
        }
        attention.reverse();
        if !to_pixels {
            return Ok((attention, None));
        }
        Ok((attention, Some(self.patch_relevance(&embedded, &input, relevance))))
    }

    /// The input's relevance from the relevance of the encoder's input tokens: the sum with the
    /// position embeddings split as a residual sum, the class token dropped, and the patch
    /// embedding's z^B rule.
    fn patch_relevance(&self, embedded: &Embedded, input: &NasTensor<4>, relevance: NasTensor<3>) -> NasTensor<4> {
        let [batch, tokens, dim] = relevance.dims();
        let [gh, gw] = embedded.grid;
        let positions = embedded.positions.clone().expand([batch, tokens, dim]);
        let [joined, _] = residual_relevance(relevance, &embedded.joined, &positions);
        let patches = joined.narrow(1, 1, tokens - 1).swap_dims(1, 2).reshape([batch, dim, gh, gw]);
        let (weight, _, _) = self.patch_embed.parts();
        let weight = as_f64(weight.clone());
        let [_, _, height, width] = input.dims();
        let image_bound = |x: NasTensor<4>, pick: fn(NasTensor<2>) -> NasTensor<2>| {
            pick(x.reshape([batch, 3 * height * width]))
                .reshape([batch, 1, 1, 1])
                .expand([batch, 3, height, width])
        };
        let low = image_bound(input.clone(), |x| x.min_dim(1));
        let high = image_bound(input.clone(), |x| x.max_dim(1));
        let (positive, negative) = (weight.clone().clamp_min(0.0), weight.clone().clamp_max(0.0));
        let convolve = |x: NasTensor<4>, w: NasTensor<4>| self.patch_embed.convolve(x, w, None);
        let z =
            convolve(input.clone(), weight.clone()) - convolve(low.clone(), positive.clone()) - convolve(high.clone(), negative.clone())
                + 1e-9;
        let share = patches / z;
        let stride = self.shape.patch;
        let back = |w: NasTensor<4>| {
            let out = conv_transpose2d(
                share.clone(),
                w,
                None,
                ConvTransposeOptions::new([stride; 2], [0; 2], [0; 2], [1; 2], 1),
            );
            // Pixels past the last whole patch (sides not a multiple of it) get none. (burn's
            // `pad` fills in f32, which an f64 tensor refuses.)
            let [_, _, oh, ow] = out.dims();
            let device = out.device();
            let zeros = |dims: [usize; 4]| as_f64(NasTensor::<4>::zeros(dims, &device));
            let out = if ow < width {
                Tensor::cat(vec![out, zeros([batch, 3, oh, width - ow])], 3)
            } else {
                out
            };
            if oh < height {
                Tensor::cat(vec![out, zeros([batch, 3, height - oh, width])], 2)
            } else {
                out
            }
        };
        input.clone() * back(weight) - low * back(positive) - high * back(negative)
    }

    /// [`Vit::embed`] in `f64`: the encoder's input tokens and what their relevance rule reads.
    fn embed_f64(&self, input: NasTensor<4>) -> Embedded {
        let batch = input.dims()[0];
        let (weight, bias, _) = self.patch_embed.parts();
        let patches = self.patch_embed.convolve(input, as_f64(weight.clone()), Some(as_f64(bias.clone())));
        let [_, dim, gh, gw] = patches.dims();
        let patches = patches.reshape([batch, dim, gh * gw]).swap_dims(1, 2);
        let class = as_f64(self.class_token.clone()).expand([batch, 1, dim]);
        let joined = Tensor::cat(vec![class, patches], 1);
        let positions = as_f64(self.position_embedding(gh, gw));
        Embedded {
            tokens: joined.clone() + positions.clone(),
            joined,
            positions,
            grid: [gh, gw],
        }
    }
}

/// The encoder's input tokens in `f64` and their parts.
struct Embedded {
    /// The class token and the patch embeddings, with position embeddings added.
    tokens: NasTensor<3>,
    /// The class token and the patch embeddings.
    joined: NasTensor<3>,
    /// The position embeddings `(1, tokens, dim)`.
    positions: NasTensor<3>,
    /// The patch grid.
    grid: [usize; 2],
}

/// `linear` applied to every token of `f64` values `(batch, tokens, in)`.
fn tokens_f64(linear: &Linear, x: NasTensor<3>) -> NasTensor<3> {
    let [b, n, d] = x.dims();
    let y = linear.forward_f64(x.reshape([b * n, d]));
    let out = y.dims()[1];
    y.reshape([b, n, out])
}

/// `a / (b + 1e-9)` where `b` is not zero, else zero: the authors' `safe_divide` (a zero
/// denominator becomes `1e-9`). The masks are signs, so that they stay float tensors of the
/// operands' kind.
fn safe_divide<const D: usize>(a: NasTensor<D>, b: NasTensor<D>) -> NasTensor<D> {
    let shifted = b.clone() + 1e-9;
    let zero = shifted.clone().sign().abs().neg() + 1.0;
    a / (shifted + zero * 1e-9) * b.sign().abs()
}

/// The `alpha = 1, beta = 0` rule through `linear` (its bias left out) for its input `x`
/// `(rows, in)` and the relevance of its output `(rows, out)`.
fn z_plus(linear: &Linear, x: NasTensor<2>, relevance: NasTensor<2>) -> NasTensor<2> {
    let weight_t = as_f64(linear.transposed_weight_and_bias().0.clone());
    let (positive_w, negative_w) = (weight_t.clone().clamp_min(0.0), weight_t.clamp_max(0.0));
    let (positive_x, negative_x) = (x.clone().clamp_min(0.0), x.clamp_max(0.0));
    let z = positive_x.clone().matmul(positive_w.clone()) + negative_x.clone().matmul(negative_w.clone());
    let share = safe_divide(relevance, z);
    positive_x * share.clone().matmul(positive_w.transpose()) + negative_x * share.matmul(negative_w.transpose())
}

/// [`z_plus`] applied to every token of `(batch, tokens, in)`.
fn tokens_z_plus(linear: &Linear, x: &NasTensor<3>, relevance: NasTensor<3>) -> NasTensor<3> {
    let [b, n, d] = x.dims();
    let out = relevance.dims()[2];
    z_plus(linear, x.clone().reshape([b * n, d]), relevance.reshape([b * n, out])).reshape([b, n, d])
}

/// The relevance of a residual sum `first + second` split between its terms: each term times
/// the relevance over the sum, then rescaled per image so that the terms' totals are the total
/// relevance shared in proportion to their absolute totals.
fn residual_relevance(relevance: NasTensor<3>, first: &NasTensor<3>, second: &NasTensor<3>) -> [NasTensor<3>; 2] {
    let share = safe_divide(relevance.clone(), first.clone() + second.clone());
    let (a, b) = (first.clone() * share.clone(), second.clone() * share);
    let image_sum = |t: &NasTensor<3>| t.clone().sum_dim(2).sum_dim(1);
    let (a_sum, b_sum, total) = (image_sum(&a), image_sum(&b), image_sum(&relevance));
    let both = a_sum.clone().abs() + b_sum.clone().abs();
    let a_factor = safe_divide(a_sum.clone().abs(), both.clone()) * total.clone();
    let b_factor = safe_divide(b_sum.clone().abs(), both) * total;
    [a * safe_divide(a_factor, a_sum), b * safe_divide(b_factor, b_sum)]
}

/// The relevance of a tensor `x` used twice, from the relevance of each use.
fn copy_relevance(x: &NasTensor<3>, [first, second]: [NasTensor<3>; 2]) -> NasTensor<3> {
    x.clone() * (safe_divide(first, x.clone()) + safe_divide(second, x.clone()))
}

/// The relevance of both factors of the product `left · right` (batched matrices) from the
/// relevance of the product: each factor times the gradient of the relevance share, halved.
fn product_relevance(left: &NasTensor<4>, right: &NasTensor<4>, relevance: NasTensor<4>) -> [NasTensor<4>; 2] {
    let share = safe_divide(relevance, left.clone().matmul(right.clone()));
    let to_left = share.clone().matmul(right.clone().swap_dims(2, 3));
    let to_right = left.clone().swap_dims(2, 3).matmul(share);
    [left.clone() * to_left / 2.0, right.clone() * to_right / 2.0]
}
