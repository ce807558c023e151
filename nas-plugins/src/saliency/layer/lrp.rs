//! `layer-lrp` (Captum's `LayerLRP`, with zennit's rules): the relevance of the target logit
//! that LRP's walk back from the logits brings to a depth level, channel by channel, before
//! it goes further. The composites, canonizers and rules are `lrp`'s; on the ViTs, CP-LRP's
//! relevance at the level's patch tokens.

use super::{LayerSettings, INTERPOLATE_PARAM, LEVEL_PARAM};
use crate::saliency::lrp::{Lrp, RULE_PARAMS};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamSpec, Params, Result, Saliency};

/// The `layer-lrp` saliency method.
pub struct LayerLrp {
    rules: Lrp,
    layer: LayerSettings,
}

/// Parameters of `layer-lrp`.
pub const LAYER_LRP_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    RULE_PARAMS[0],
    RULE_PARAMS[1],
    RULE_PARAMS[2],
    RULE_PARAMS[3],
    INTERPOLATE_PARAM,
];

impl Saliency for LayerLrp {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [_, _, h, w] = input.dims();
        let relevance = self.rules.relevance(backbone, input, targets, Some(self.layer.level))?;
        self.layer.maps(relevance, [h, w])
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(LayerLrp {
        rules: Lrp::from_params(params)?,
        layer: LayerSettings::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-lrp",
        summary: "LRP's relevance at a depth level (Captum's LayerLRP with zennit's composites and canonizers, as `lrp`; CP-LRP on the ViTs), summed over channels",
        params: LAYER_LRP_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
