//! Captum's layer attributions at a depth level: `layer-integrated-gradients`,
//! `layer-conductance`, `internal-influence`, `layer-gradient-shap`,
//! `layer-gradient-x-activation`, `layer-grad-cam`, `layer-deep-lift`, `layer-deep-lift-shap`,
//! `layer-lrp`, `layer-feature-ablation` and `layer-activation`. Each attributes to the level's activations `(channels, h, w)` as Captum
//! does for the module that produces them; the map is that attribution summed over channels
//! and resized to the photo by Captum's `LayerAttribution.interpolate` (`F.interpolate`,
//! nearest by default, or bilinear). Maps keep their sign and scale, as Captum returns them.

pub mod activation;
pub mod conductance;
pub mod deep_lift;
pub mod feature_ablation;
pub mod grad_cam;
pub mod gradient_shap;
pub mod gradient_x_activation;
pub mod integrated_gradients;
pub mod internal_influence;
pub mod lrp;

use super::cam::resize_linear;
use super::integrated_gradients::{METHOD_PARAM, PATH_BATCH_PARAM, STEPS_PARAM};
use super::quadrature::{Quadrature, QUADRATURE_NAMES};
use nas_core::ndarray::Array2;
use nas_core::progress::Task;
use nas_core::upsampled_batch::to_host;
use nas_core::{NasError, NasTensor, ParamKind, ParamSpec, Params, Result, LEVELS};

/// How a level's map is resized to the photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interpolation {
    /// `F.interpolate(mode="nearest")`: each output pixel takes the cell `floor(i * h / H)`.
    Nearest,
    /// `F.interpolate(mode="bilinear", align_corners=False)`.
    Bilinear,
}

/// Where a layer method attributes and how its map reaches the photo's size.
#[derive(Debug, Clone, Copy)]
pub struct LayerSettings {
    /// The depth level.
    pub level: usize,
    /// The resizing rule.
    pub interpolation: Interpolation,
}

/// The `level` parameter of the layer methods.
pub const LEVEL_PARAM: ParamSpec = ParamSpec {
    name: "level",
    kind: ParamKind::Int,
    default: "4",
    doc: "depth level whose activations are attributed (Captum's layer)",
};

/// The `interpolate` parameter of the layer methods.
pub const INTERPOLATE_PARAM: ParamSpec = ParamSpec {
    name: "interpolate",
    kind: ParamKind::Str,
    default: "\"nearest\"",
    doc: "how the level's map is resized to the photo: nearest (Captum's LayerAttribution.interpolate default) or bilinear",
};

/// The `steps`, `method` and `batch` parameters of the layer methods that follow a path.
pub const PATH_PARAMS: [ParamSpec; 3] = [STEPS_PARAM, METHOD_PARAM, PATH_BATCH_PARAM];

impl LayerSettings {
    /// Reads `level` and `interpolate`.
    pub fn from_params(params: &Params) -> Result<LayerSettings> {
        Ok(LayerSettings {
            level: params.usize("level", LEVELS - 1, 0, LEVELS - 1)?,
            interpolation: match params.choice("interpolate", "nearest", &["nearest", "bilinear"])?.as_str() {
                "bilinear" => Interpolation::Bilinear,
                _ => Interpolation::Nearest,
            },
        })
    }

    /// The maps of a batch of layer attributions `(batch, channels, h, w)`: summed over
    /// channels, resized to `[height, width]`.
    pub fn maps(&self, attributions: NasTensor<4>, [height, width]: [usize; 2]) -> Result<Vec<Array2<f32>>> {
        let [batch, _, h, w] = attributions.dims();
        let summed = to_host(attributions.sum_dim(1))?;
        (0..batch)
            .map(|i| {
                let map = &summed[i * h * w..(i + 1) * h * w];
                let resized = match self.interpolation {
                    Interpolation::Nearest => resize_nearest(map, [h, w], [height, width]),
                    Interpolation::Bilinear => resize_linear(map, [h, w], [height, width]),
                };
                Array2::from_shape_vec((height, width), resized).map_err(|e| NasError::InvalidInput(format!("layer map: {e}")))
            })
            .collect()
    }
}

/// The maps of a method that attributes one photo at a time: `attribute(photo, target, task)`
/// gives each photo's layer attribution `(1, channels, h, w)`, reporting `steps` units of work
/// per photo to a progress bar labelled `label`; `method` names the method in errors.
pub fn explain_each(
    layer: &LayerSettings,
    method: &str,
    label: &str,
    steps: usize,
    input: &NasTensor<4>,
    targets: &[usize],
    attribute: impl Fn(NasTensor<4>, usize, &Task) -> Result<NasTensor<4>>,
) -> Result<Vec<Array2<f32>>> {
    let [_, _, h, w] = input.dims();
    let photos = super::photos_with_targets(method, input, targets)?;
    let task = nas_core::progress::task(label, (photos.len() * steps) as u64);
    let attributions = photos
        .into_iter()
        .map(|(photo, target)| attribute(photo, target, &task))
        .collect::<Result<Vec<_>>>()?;
    layer.maps(NasTensor::cat(attributions, 0), [h, w])
}

/// The path methods' quadrature and step count, checked together, and their batch.
#[derive(Debug, Clone, Copy)]
pub struct PathSettings {
    /// Gradient evaluations.
    pub steps: usize,
    /// The quadrature rule.
    pub quadrature: Quadrature,
    /// Path points per backward pass.
    pub batch: usize,
}

impl PathSettings {
    /// Reads `steps`, `method` and `batch`; `method` names the caller in errors, and `extra`
    /// nodes beyond `steps` are what it will ask the rule for (conductance needs one more).
    pub fn from_params(params: &Params, method: &str, extra: usize) -> Result<PathSettings> {
        let quadrature = Quadrature::from_name(&params.choice("method", "gausslegendre", QUADRATURE_NAMES)?)?;
        let steps = params.usize("steps", 50, 1, 100_000)?;
        quadrature
            .nodes(steps + extra)
            .map_err(|e| NasError::InvalidInput(format!("{method}: parameter `steps` = {steps}: {e}")))?;
        Ok(PathSettings {
            steps,
            quadrature,
            batch: params.usize("batch", 10, 1, 10_000)?,
        })
    }
}

/// `start + alpha * (end - start)` for each of `alphas`, stacked along the batch.
pub fn path_points(start: &NasTensor<4>, end: &NasTensor<4>, alphas: &[f64]) -> NasTensor<4> {
    let delta = end.clone() - start.clone();
    NasTensor::cat(alphas.iter().map(|&a| start.clone() + delta.clone() * a as f32).collect(), 0)
}

/// Resizes an `h x w` map to `out_h x out_w` as `F.interpolate(mode="nearest")`: output row
/// `i` takes input row `floor(i * h / out_h)`, columns likewise.
pub fn resize_nearest(map: &[f32], [h, w]: [usize; 2], [out_h, out_w]: [usize; 2]) -> Vec<f32> {
    // PyTorch's CPU kernel computes the scale and the product in float32.
    let source = |i: usize, from: usize, to: usize| ((i as f32 * (from as f32 / to as f32)).floor() as usize).min(from - 1);
    (0..out_h)
        .flat_map(|y| {
            let row = &map[source(y, h, out_h) * w..][..w];
            (0..out_w).map(move |x| row[source(x, w, out_w)])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::resize_nearest;

    #[test]
    fn nearest_takes_the_cell_under_each_pixel() {
        let map = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(
            resize_nearest(&map, [2, 3], [4, 6]),
            vec![1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0, 4.0, 4.0, 5.0, 5.0, 6.0, 6.0]
        );
        // torch: F.interpolate(torch.arange(1., 7.).reshape(1, 1, 2, 3), size=(3, 2)) = [[1, 2], [1, 2], [4, 5]]
        assert_eq!(resize_nearest(&map, [2, 3], [3, 2]), vec![1.0, 2.0, 1.0, 2.0, 4.0, 5.0]);
    }
}
