//! `generic-attention` (Chefer, Gur & Wolf, ICCV 2021, "Generic Attention-model Explainability
//! for Interpreting Bi-Modal and Encoder-Decoder Transformers"): attention rollout made
//! class-specific by the gradient. Each block's attention probabilities `A` are weighted by the
//! gradient of the target logit with respect to them, `G`; the heads' rectified products are
//! averaged, `Ā = mean_h (G ⊙ A)+`, and accumulated from the first block to the last as
//! `R ← R + Ā R`, starting from the identity. The class token's row of `R` over the patches is
//! the map on the patch grid, resized to the input bilinearly and scaled to [0, 1] by its
//! minimum and maximum, as the ViT example of the authors' repository does. Only ViTs have the
//! attention it needs; other backbones are refused by name.

use super::attention_rollout::{class_token_row, row_times};
use super::cam::resize_linear;
use crate::backbones::vit::Vit;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamSpec, Params, Result, Saliency};

/// `generic-attention` has no parameters.
pub const GENERIC_ATTENTION_PARAMS: &[ParamSpec] = &[];

/// The `generic-attention` saliency method.
pub struct GenericAttention;

/// One block's attention weights and the gradient of the target logit with respect to the
/// attention probabilities, both `(batch, heads, tokens, tokens)` row-major: what a
/// class-specific rollout multiplies.
struct WeightedBlock<'a> {
    /// The probabilities themselves (generic attention) or their relevance (transformer
    /// attribution).
    pub weights: &'a [f32],
    /// d(target logit)/d(probabilities).
    pub gradients: &'a [f32],
}

/// The class token's relevance for each token (its row of `R`), from every block's weights and
/// gradients for image `image` of `heads` heads over `tokens` tokens, first block first; in
/// `f64`. `R` is the product of `I + Ā` over the blocks, `Ā = mean_h (G ⊙ W)+`, last block on the
/// left, so its class token row is carried from the last block back to the first, a row times a
/// matrix per block.
fn class_token_relevance(blocks: &[WeightedBlock<'_>], [heads, tokens]: [usize; 2], image: usize) -> Vec<f64> {
    let per_image = heads * tokens * tokens;
    let mut relevance = class_token_row(tokens);
    for block in blocks.iter().rev() {
        let weights = &block.weights[image * per_image..][..per_image];
        let gradients = &block.gradients[image * per_image..][..per_image];
        let mut weighted = vec![0f64; tokens * tokens];
        for (head_w, head_g) in weights.chunks_exact(tokens * tokens).zip(gradients.chunks_exact(tokens * tokens)) {
            for ((m, &w), &g) in weighted.iter_mut().zip(head_w).zip(head_g) {
                *m += (f64::from(g) * f64::from(w)).max(0.0) / heads as f64;
            }
        }
        let added = row_times(&relevance, &weighted, tokens);
        relevance.iter_mut().zip(&added).for_each(|(r, a)| *r += a);
    }
    relevance
}

/// `values` scaled to [0, 1] by their minimum and maximum; all zeros when they are equal.
fn min_max_scaled(values: &[f32]) -> Vec<f32> {
    let low = values.iter().copied().fold(f32::INFINITY, f32::min);
    let high = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let range = high - low;
    values.iter().map(|v| if range > 0.0 { (v - low) / range } else { 0.0 }).collect()
}

/// Each image's map of a class-specific rollout for `input` `(batch, 3, H, W)` on `vit`: every
/// block's attention gradient for `targets` weighs `weights[block]` (each `(batch, heads, tokens,
/// tokens)`, row-major), or the attention probabilities themselves when `weights` is `None`; the
/// class token's row over the patches, resized bilinearly to the input and scaled to [0, 1], as
/// the ViT examples of Chefer et al.'s repositories show their maps. `method` names errors.
pub fn gradient_weighted_maps(
    vit: &Vit,
    input: &NasTensor<4>,
    targets: &[usize],
    weights: Option<&[Vec<f32>]>,
    method: &str,
) -> Result<Vec<Array2<f32>>> {
    let [_, _, height, width] = input.dims();
    let (blocks, [gh, gw]) = vit.attention_gradients(input.clone(), targets)?;
    let [batch, heads, tokens, _] = blocks
        .first()
        .map(|b| b.dims)
        .ok_or_else(|| NasError::InvalidInput(format!("{method}: the ViT has no encoder blocks")))?;
    if let Some(weights) = weights.filter(|w| w.len() != blocks.len()) {
        return Err(NasError::InvalidInput(format!(
            "{method}: weights for {} blocks, the ViT has {}",
            weights.len(),
            blocks.len()
        )));
    }
    let weighted: Vec<WeightedBlock<'_>> = blocks
        .iter()
        .enumerate()
        .map(|(index, b)| WeightedBlock {
            weights: weights.map_or(&b.probabilities, |w| &w[index]),
            gradients: &b.gradients,
        })
        .collect();
    (0..batch)
        .map(|image| {
            let relevance = class_token_relevance(&weighted, [heads, tokens], image);
            let grid: Vec<f32> = relevance[1..].iter().map(|&v| v as f32).collect();
            let map = min_max_scaled(&resize_linear(&grid, [gh, gw], [height, width]));
            Array2::from_shape_vec((height, width), map).map_err(|e| NasError::InvalidInput(format!("{method}: {e}")))
        })
        .collect()
}

impl Saliency for GenericAttention {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let vit = Vit::required_by(backbone, "generic-attention", "attention probabilities to weigh")?;
        gradient_weighted_maps(vit, input, targets, None, "generic-attention")
    }
}

fn build(_params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(GenericAttention))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "generic-attention",
        summary: "Chefer et al.'s generic attention explainability on ViTs: attention weighted by its gradient for the target, rolled out from the class token (class-specific)",
        params: GENERIC_ATTENTION_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
