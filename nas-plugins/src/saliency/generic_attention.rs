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
use crate::backbones::vit::{AttentionGradient, Vit};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamSpec, Params, Result, Saliency};

/// `generic-attention` has no parameters.
pub const GENERIC_ATTENTION_PARAMS: &[ParamSpec] = &[];

/// The `generic-attention` saliency method.
pub struct GenericAttention;

/// The class token's relevance for each token (its row of `R`), from every block's attention
/// and gradient for image `image`, first block first; in `f64`. `R` is the product of `I + Ā`
/// over the blocks, last block on the left, so its class token row is carried from the last
/// block back to the first, a row times a matrix per block.
pub fn class_token_relevance(blocks: &[AttentionGradient], image: usize) -> Vec<f64> {
    let Some(first) = blocks.first() else {
        return Vec::new();
    };
    let [_, heads, tokens, _] = first.dims;
    let per_image = heads * tokens * tokens;
    let mut relevance = class_token_row(tokens);
    for block in blocks.iter().rev() {
        let probabilities = &block.probabilities[image * per_image..][..per_image];
        let gradients = &block.gradients[image * per_image..][..per_image];
        let mut weighted = vec![0f64; tokens * tokens];
        for (head_a, head_g) in probabilities
            .chunks_exact(tokens * tokens)
            .zip(gradients.chunks_exact(tokens * tokens))
        {
            for ((w, &a), &g) in weighted.iter_mut().zip(head_a).zip(head_g) {
                *w += (f64::from(g) * f64::from(a)).max(0.0) / heads as f64;
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

impl Saliency for GenericAttention {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let vit = Vit::required_by(backbone, "generic-attention", "attention probabilities to weigh")?;
        let [batch, _, height, width] = input.dims();
        let (blocks, [gh, gw]) = vit.attention_gradients(input.clone(), targets)?;
        (0..batch)
            .map(|image| {
                let relevance = class_token_relevance(&blocks, image);
                let grid: Vec<f32> = relevance[1..].iter().map(|&v| v as f32).collect();
                let map = min_max_scaled(&resize_linear(&grid, [gh, gw], [height, width]));
                Array2::from_shape_vec((height, width), map).map_err(|e| NasError::InvalidInput(format!("generic-attention: {e}")))
            })
            .collect()
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
