//! `transformer-attribution` (Chefer, Gur & Wolf, CVPR 2021, "Transformer Interpretability
//! Beyond Attention Visualization"): each block's attention relevance `R(A)` from their
//! Layer-wise Relevance Propagation for transformers (see `Vit::attention_relevance`) is weighted
//! by the gradient of the target logit with respect to the attention probabilities, `G`; the
//! heads' rectified products are averaged, `Ā = mean_h (G ⊙ R(A))+`, and rolled out over the
//! blocks as the product of `I + Ā` (their `start_layer` 0). The class token's row over the
//! patches is the map on the patch grid, resized to the input bilinearly and scaled to [0, 1] by
//! its minimum and maximum, as the ViT example of the authors' repository shows it. Only ViTs
//! have the attention it needs; other backbones are refused by name.

use super::generic_attention::gradient_weighted_maps;
use crate::backbones::vit::Vit;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// `transformer-attribution` has no parameters.
pub const TRANSFORMER_ATTRIBUTION_PARAMS: &[ParamSpec] = &[];

/// The `transformer-attribution` saliency method.
pub struct TransformerAttribution;

impl Saliency for TransformerAttribution {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let vit = Vit::required_by(backbone, "transformer-attribution", "attention to propagate relevance through")?;
        let relevances = vit.attention_relevance(input.clone(), targets)?;
        gradient_weighted_maps(vit, input, targets, Some(&relevances), "transformer-attribution")
    }
}

fn build(_params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(TransformerAttribution))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "transformer-attribution",
        summary: "Chefer et al.'s transformer attribution on ViTs (CVPR 2021): the attention's LRP relevance weighted by its gradient for the target, rolled out from the class token (class-specific)",
        params: TRANSFORMER_ATTRIBUTION_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
