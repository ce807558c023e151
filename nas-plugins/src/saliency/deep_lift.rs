//! DeepLift (Shrikumar et al. 2017) with the Rescale rule, as Captum's `DeepLift`, and its
//! average over a set of baselines, as Captum's `DeepLiftShap`: for each baseline, the photo's
//! difference from it times the multipliers of the target logit (the backward pass with every
//! rectifier's derivative replaced by its secant slope between photo and baseline; max pools
//! pass the gradient, DeepLIFT's default for them), summed over colour channels. Where every
//! nonlinearity takes the Rescale rule (no max pool), each baseline's attribution adds up to the
//! change of the logit from the baseline to the photo. The backward pass is the backbone's own
//! (CPU host kernels: the ResNets and VGGs at 224 x 224, efficientnet-lite0).

use super::baseline_set::BaselineSet;
use super::gradient::{reduce_channels, ChannelReduction, REDUCE_PARAM};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, Gradient, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `deep-lift` and `deep-lift-shap` saliency methods.
pub struct DeepLift {
    baselines: BaselineSet,
    reduction: ChannelReduction,
}

/// Parameters of `deep-lift`.
pub const DEEP_LIFT_PARAMS: &[ParamSpec] = &[BASELINES_PARAM, REDUCE_PARAM];

/// The `baselines` parameter of `deep-lift` and `layer-deep-lift`.
pub const BASELINES_PARAM: ParamSpec = ParamSpec {
    name: "baselines",
    kind: ParamKind::Str,
    default: "\"zero\"",
    doc: "the reference photo: zero (normalised space, the mean colour; Captum's default), black, white, or black-white (the mean of both: DeepLiftShap)",
};

/// Parameters of `deep-lift-shap`.
pub const DEEP_LIFT_SHAP_PARAMS: &[ParamSpec] = &[SHAP_BASELINES_PARAM, REDUCE_PARAM];

/// The `baselines` parameter of `deep-lift-shap` and `layer-deep-lift-shap`.
pub const SHAP_BASELINES_PARAM: ParamSpec = ParamSpec {
    name: "baselines",
    kind: ParamKind::Str,
    default: "\"black-white\"",
    doc: "the baselines averaged over: black-white (a black and a white photo), zero (normalised space, the mean colour), black or white",
};

impl DeepLift {
    /// Builds from parameters, with `default` baselines when none are named.
    pub fn from_params(params: &Params, default: &str) -> Result<DeepLift> {
        Ok(DeepLift {
            baselines: BaselineSet::from_params(params, default)?,
            reduction: ChannelReduction::from_params(params)?,
        })
    }
}

impl Saliency for DeepLift {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        reduce_channels(attribution(backbone, input, targets, self.baselines, None)?, self.reduction)
    }
}

/// DeepLift's attribution of each photo's target at the input (`level` `None`) or at depth
/// level `level`, averaged over `baselines`: DeepLiftShap where there are several.
pub fn attribution(
    backbone: &dyn Backbone,
    input: &NasTensor<4>,
    targets: &[usize],
    baselines: BaselineSet,
    level: Option<usize>,
) -> Result<NasTensor<4>> {
    averaged(backbone, input, baselines, |reference| {
        backbone.deep_lift_multipliers(input.clone(), reference, level, targets)
    })
}

/// The product of `multipliers` (DeepLift's, against a reference photo) and their change from
/// the reference, averaged over the references of `baselines`.
pub fn averaged(
    backbone: &dyn Backbone,
    input: &NasTensor<4>,
    baselines: BaselineSet,
    multipliers: impl Fn(NasTensor<4>) -> Result<Gradient>,
) -> Result<NasTensor<4>> {
    let references = baselines.tensors(backbone.info(), input);
    let count = references.len();
    let task = nas_core::progress::task("deep lift", count as u64);
    let mut total: Option<NasTensor<4>> = None;
    for reference in references {
        task.check()?;
        let multipliers = multipliers(reference)?;
        let attribution = multipliers.value * multipliers.grad;
        total = Some(match total {
            Some(sum) => sum + attribution,
            None => attribution,
        });
        task.advance(1);
    }
    total
        .map(|t| t * (1.0 / count as f32))
        .ok_or_else(|| NasError::InvalidInput("DeepLift: no baselines".into()))
}

fn build_deep_lift(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(DeepLift::from_params(params, "zero")?))
}

fn build_deep_lift_shap(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(DeepLift::from_params(params, "black-white")?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "deep-lift",
        summary: "DeepLift with the Rescale rule: (photo - baseline) x multipliers, every rectifier's derivative replaced by its secant slope (Captum's DeepLift; CPU), summed over colour channels",
        params: DEEP_LIFT_PARAMS,
        factory: nas_core::Factory::Saliency(build_deep_lift),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "deep-lift-shap",
        summary: "DeepLiftShap: DeepLift averaged over a set of baselines, a black and a white photo by default (Captum's DeepLiftShap; CPU), summed over colour channels",
        params: DEEP_LIFT_SHAP_PARAMS,
        factory: nas_core::Factory::Saliency(build_deep_lift_shap),
    }
}
