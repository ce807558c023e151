//! `transformer-lrp`: Chefer, Gur & Wolf's Layer-wise Relevance Propagation for transformers
//! (CVPR 2021) carried all the way to the pixels, the `full` method of their ViT code and the
//! LRP baseline of their paper: the rules of `Vit::attention_relevance` through every block, the
//! position embeddings' sum split as a residual sum, the class token dropped, and the patch
//! embedding's convolution by the z^B rule bounded by the photo's smallest and largest input
//! value; summed over colour channels, unscaled. Only ViTs are accepted; other backbones are
//! refused by name.

use crate::backbones::vit::Vit;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamSpec, Params, Result, Saliency};

/// `transformer-lrp` has no parameters.
pub const TRANSFORMER_LRP_PARAMS: &[ParamSpec] = &[];

/// The `transformer-lrp` saliency method.
pub struct TransformerLrp;

impl Saliency for TransformerLrp {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let vit = Vit::required_by(backbone, "transformer-lrp", "attention to propagate relevance through")?;
        let [_, _, height, width] = input.dims();
        let values = vit.pixel_relevance(input.clone(), targets)?;
        values
            .chunks_exact((height * width).max(1))
            .map(|map| {
                Array2::from_shape_vec((height, width), map.to_vec()).map_err(|e| NasError::InvalidInput(format!("transformer-lrp: {e}")))
            })
            .collect()
    }
}

fn build(_params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(TransformerLrp))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "transformer-lrp",
        summary: "Chefer et al.'s LRP for transformers carried to the pixels on ViTs (their full method, their paper's LRP baseline)",
        params: TRANSFORMER_LRP_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
