//! FEM, the Feature Explanation Method (Fuad et al. 2020), as pytorch-grad-cam's `FEM`: each
//! channel of a depth level is weighted by the share of its positions that stand out, above the
//! channel's mean plus `k` standard deviations, and the weighted channels are summed, then
//! rectified, scaled to `[0, 1]` and resized as the other CAMs. Class-agnostic and forward-only,
//! so it runs on any backbone and device.

use super::cam::{cam_levels, level_cams};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `fem` saliency method.
pub struct Fem {
    levels: Vec<usize>,
    k: f32,
}

/// Parameters of `fem`.
pub const FEM_PARAMS: &[ParamSpec] = &[
    super::cam::LEVEL_PARAM,
    ParamSpec {
        name: "k",
        kind: ParamKind::Float,
        default: "2.0",
        doc: "a position stands out in a channel above the channel's mean plus k standard deviations (pytorch-grad-cam's k)",
    },
];

/// The FEM map of one image's level `(channels, positions)`: channels weighted by the share of
/// their positions above mean + `k` std (population std, as NumPy's), summed.
pub fn feature_explanation(values: &[f32], channels: usize, positions: usize, k: f32) -> Vec<f32> {
    let mut cam = vec![0f32; positions];
    if positions == 0 {
        return cam;
    }
    for channel in values.chunks_exact(positions).take(channels) {
        let n = positions as f64;
        let mean = channel.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let variance = channel.iter().map(|&v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n;
        let threshold = (mean + f64::from(k) * variance.sqrt()) as f32;
        let weight = channel.iter().filter(|&&v| v > threshold).count() as f32 / positions as f32;
        for (c, v) in cam.iter_mut().zip(channel) {
            *c += weight * v;
        }
    }
    cam
}

impl Saliency for Fem {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        level_cams("FEM", backbone, input, &self.levels, |_, values, channels, positions| {
            Ok(feature_explanation(values, channels, positions, self.k))
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(Fem {
        levels: cam_levels(params)?,
        k: params.float("k", 2.0, f64::MIN, f64::MAX)? as f32,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "fem",
        summary: "FEM: a depth level's channels weighted by the share of their positions above mean + k std, class-agnostic (pytorch-grad-cam's FEM), scaled to [0, 1]",
        params: FEM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
