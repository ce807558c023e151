//! `layer-grad-cam` (Captum's `LayerGradCam`): Grad-CAM as Captum computes it, for users who
//! compare with Captum's maps. Each channel of a depth level is weighted by the mean of the
//! target logit's gradient over its positions and the weighted channels are summed; unlike
//! pytorch-grad-cam's `grad-cam`, the map is neither rectified (unless `relu`, Captum's
//! `relu_attributions`) nor scaled to `[0, 1]`, and it is resized as Captum's
//! `LayerAttribution.interpolate` (nearest by default) rather than with OpenCV's bilinear rule.

use super::{LayerSettings, INTERPOLATE_PARAM, LEVEL_PARAM};
use nas_core::burn::tensor::activation::relu;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `layer-grad-cam` saliency method.
pub struct LayerGradCam {
    layer: LayerSettings,
    relu: bool,
}

/// Parameters of `layer-grad-cam`.
pub const LAYER_GRAD_CAM_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    ParamSpec {
        name: "relu",
        kind: ParamKind::Bool,
        default: "false",
        doc: "keep only the positive part of the map (Captum's relu_attributions)",
    },
    INTERPOLATE_PARAM,
];

impl Saliency for LayerGradCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [_, _, h, w] = input.dims();
        let gradient = backbone.level_gradient(input.clone(), self.layer.level, targets)?;
        let weights = gradient.grad.mean_dim(3).mean_dim(2);
        let cam = (gradient.value * weights).sum_dim(1);
        self.layer.maps(if self.relu { relu(cam) } else { cam }, [h, w])
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(LayerGradCam {
        layer: LayerSettings::from_params(params)?,
        relu: params.bool("relu", false)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-grad-cam",
        summary: "Grad-CAM as Captum's LayerGradCam computes it: signed (relu optional), unscaled, resized as Captum's interpolate",
        params: LAYER_GRAD_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
