//! Built-in saliency methods.

pub mod ablation;
pub mod ablation_cam;
pub mod attention_rollout;
pub mod aug_smooth;
pub mod baseline_set;
pub mod cam;
pub mod deep_lift;
pub mod eigen_cam;
pub mod fem;
pub mod finer_cam;
pub mod full_grad;
pub mod generic_attention;
pub mod grad_cam;
pub mod gradient;
pub mod gradient_shap;
pub mod guided;
pub mod integrated_gradients;
pub mod kpca_cam;
pub mod layer;
pub mod lrp;
pub mod neuron;
pub mod noise;
pub mod noise_tunnel;
pub mod opencv;
pub mod precomputed;
pub mod principal_component;
pub mod quadrature;
pub mod random_cam;
pub mod refine_cam;
pub mod rise;
pub mod score_cam;
pub mod sess;
pub mod shapley_cam;
pub mod smoothgrad;
pub mod sobel_cam;
pub mod transformer_attribution;
pub mod transformer_lrp;
pub mod xrai;

use nas_core::{Context, NasError, NasTensor, Params, Result, Saliency};

/// A flat colour (`pixel` in `[0, 1]` on every channel) in `info`'s normalised space, as a
/// `(1, 3, 1, 1)` tensor to expand over a photo.
pub(crate) fn colour_tensor(info: &nas_core::BackboneInfo, pixel: f32, device: &nas_core::Device) -> NasTensor<4> {
    NasTensor::<4>::from_data(
        nas_core::burn::tensor::TensorData::new(info.normalised_colour(pixel).to_vec(), [1, 3, 1, 1]),
        device,
    )
}

/// The photos `(1, c, h, w)` of a batch `(b, c, h, w)` with their targets, for methods that
/// explain one photo at a time; `method` names the caller when the target count is wrong.
pub(crate) fn photos_with_targets(method: &str, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<(NasTensor<4>, usize)>> {
    let [batch, channels, h, w] = input.dims();
    if targets.len() != batch {
        return Err(NasError::InvalidInput(format!(
            "{method}: {} targets for a batch of {batch}",
            targets.len()
        )));
    }
    Ok(targets
        .iter()
        .enumerate()
        .map(|(i, target)| (input.clone().slice([i..i + 1, 0..channels, 0..h, 0..w]), *target))
        .collect())
}

/// The maps of a method that attributes one photo at a time: `attribute(photo, target, task)`
/// gives each photo's input-shaped attribution `(1, 3, H, W)`, reporting `steps` units of work
/// per photo to a progress bar named `method`; colour channels reduced by `reduction`.
pub(crate) fn attribute_each(
    method: &str,
    input: &NasTensor<4>,
    targets: &[usize],
    steps: usize,
    reduction: gradient::ChannelReduction,
    attribute: impl Fn(NasTensor<4>, usize, &nas_core::progress::Task) -> Result<NasTensor<4>>,
) -> Result<Vec<nas_core::ndarray::Array2<f32>>> {
    let photos = photos_with_targets(method, input, targets)?;
    let task = nas_core::progress::task(method, (photos.len() * steps) as u64);
    let attributions = photos
        .into_iter()
        .map(|(photo, target)| attribute(photo, target, &task))
        .collect::<Result<Vec<_>>>()?;
    gradient::reduce_channels(NasTensor::cat(attributions, 0), reduction)
}

/// The saliency method a wrapper runs (`noise-tunnel`, `aug-smooth`): parameter `key` (a name,
/// or a table with a name and its parameters; `default` when absent), built and checked to be a
/// method that computes its maps; returns its name too.
pub(crate) fn inner_method(params: &Params, key: &str, default: &str, ctx: &Context<'_>) -> Result<(String, Box<dyn Saliency>)> {
    let (name, inner_params) = params.component_param(key, default)?;
    let inner = ctx.registry.saliency(&name, &inner_params, ctx)?;
    if !inner.remakes() {
        return Err(params.error(
            key,
            format!("\"{name}\""),
            "a method that computes its maps (not maps read from files)",
        ));
    }
    Ok((name, inner))
}
