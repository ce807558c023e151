//! What every CAM method shares, as pytorch-grad-cam does it: the `level` (one depth level or
//! several) and `eigen_smooth` parameters, the weighted activations combined over channels,
//! and the finishing of each level's map (rectified, scaled to `[0, 1]`, resized with OpenCV's
//! bilinear rule, averaged over the levels, scaled again).

use super::principal_component::principal_projection;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Forward, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, LEVELS};

/// The `level` parameter of every CAM method.
pub const LEVEL_PARAM: ParamSpec = ParamSpec {
    name: "level",
    kind: ParamKind::IntList,
    default: "4",
    doc: "depth level whose channels are weighted (4, the last, is the usual last convolutional block), or several: their CAMs averaged as pytorch-grad-cam averages its target layers",
};

/// The `eigen_smooth` parameter of the CAMs that weight channels or positions.
pub const EIGEN_SMOOTH_PARAM: ParamSpec = ParamSpec {
    name: "eigen_smooth",
    kind: ParamKind::Bool,
    default: "false",
    doc: "project the weighted activations on their first principal component instead of summing their channels (pytorch-grad-cam's eigen_smooth, sign-corrected)",
};

/// A one-level CAM method's `level` parameter: a depth level, 4 by default.
pub fn cam_level(params: &Params) -> Result<usize> {
    params.usize("level", LEVELS - 1, 0, LEVELS - 1)
}

/// The CAM methods' `level` parameter (see [`LEVEL_PARAM`]): one depth level or several, 4 by
/// default.
pub fn cam_levels(params: &Params) -> Result<Vec<usize>> {
    let top = (LEVELS - 1) as i64;
    Ok(params.int_list("level", &[top], 0, top)?.into_iter().map(|l| l as usize).collect())
}

/// The CAM methods' `eigen_smooth` parameter (see [`EIGEN_SMOOTH_PARAM`]).
pub fn eigen_smooth(params: &Params) -> Result<bool> {
    params.bool("eigen_smooth", false)
}

/// The class activation map from the weighted activations of one image (`channels x
/// positions`): their sum over channels, or with `eigen_smooth` their projection on their first
/// principal component (sign-corrected, as [`principal_projection`] makes it), as
/// pytorch-grad-cam's `get_cam_image` does.
pub fn combine_channels(weighted: &[f32], positions: usize, eigen_smooth: bool) -> Vec<f32> {
    if eigen_smooth {
        return principal_projection(weighted, weighted.len() / positions.max(1), positions);
    }
    let mut cam = vec![0f32; positions];
    for channel in weighted.chunks(positions) {
        cam.iter_mut().zip(channel).for_each(|(c, v)| *c += v);
    }
    cam
}

/// pytorch-grad-cam's guard against dividing by a zero maximum when scaling.
const SCALE_EPS: f32 = 1e-7;

/// Each channel of `activations` (`channels x positions`) times its weight.
pub fn weight_channels(activations: &[f32], weights: &[f32], positions: usize) -> Vec<f32> {
    activations
        .chunks(positions)
        .zip(weights)
        .flat_map(|(channel, weight)| channel.iter().map(move |v| weight * v))
        .collect()
}

/// Shifts `map` to a minimum of 0 and divides by `SCALE_EPS` plus its maximum, in place.
pub(crate) fn scale_to_unit(map: &mut [f32]) {
    let least = map.iter().copied().fold(f32::INFINITY, f32::min);
    map.iter_mut().for_each(|v| *v -= least);
    let most = map.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    map.iter_mut().for_each(|v| *v /= SCALE_EPS + most);
}

/// Source index and weight of the second source for each of `to` outputs resized from `from`
/// inputs, as OpenCV's `INTER_LINEAR` (half-pixel centres, clamped at the borders).
fn linear_taps(from: usize, to: usize) -> Vec<(usize, f32)> {
    let scale = from as f64 / to as f64;
    (0..to)
        .map(|d| {
            let f = ((d as f64 + 0.5) * scale - 0.5) as f32;
            let s = f.floor();
            match s as isize {
                s if s < 0 => (0, 0.0),
                s if s as usize >= from - 1 => (from - 1, 0.0),
                s => (s as usize, f - s as f32),
            }
        })
        .collect()
}

/// Resizes an `h x w` map to `out_h x out_w` as `cv2.resize(map, (out_w, out_h))`: rows first,
/// then columns.
pub(crate) fn resize_linear(map: &[f32], [h, w]: [usize; 2], [out_h, out_w]: [usize; 2]) -> Vec<f32> {
    let (cols, rows) = (linear_taps(w, out_w), linear_taps(h, out_h));
    let widened: Vec<f32> = map
        .chunks(w)
        .flat_map(|row| cols.iter().map(move |&(x, t)| row[x] * (1.0 - t) + row[(x + 1).min(w - 1)] * t))
        .collect();
    let mut out = Vec::with_capacity(out_h * out_w);
    for &(y, t) in &rows {
        let (top, bottom) = (
            &widened[y * out_w..(y + 1) * out_w],
            &widened[(y + 1).min(h - 1) * out_w..][..out_w],
        );
        out.extend(top.iter().zip(bottom).map(|(a, b)| a * (1.0 - t) + b * t));
    }
    out
}

/// One image's class activation map over a level's `grid` positions, before rectifying.
pub struct LevelCam {
    /// One value per position, row-major.
    pub values: Vec<f32>,
    /// The level's `[h, w]`.
    pub grid: [usize; 2],
}

/// One image's CAMs, one per level, made into a map of the input's size as pytorch-grad-cam
/// finishes those of its target layers: each rectified, scaled to `[0, 1]` and resized; their
/// mean rectified and scaled again.
pub(crate) fn finish_cams(cams: Vec<LevelCam>, [in_h, in_w]: [usize; 2]) -> Result<Array2<f32>> {
    let count = cams.len();
    let mut mean = vec![0f32; in_h * in_w];
    for LevelCam { mut values, grid } in cams {
        values.iter_mut().for_each(|v| *v = v.max(0.0));
        scale_to_unit(&mut values);
        let resized = resize_linear(&values, grid, [in_h, in_w]);
        mean.iter_mut().zip(&resized).for_each(|(m, v)| *m += v.max(0.0));
    }
    mean.iter_mut().for_each(|m| *m /= count.max(1) as f32);
    scale_to_unit(&mut mean);
    Array2::from_shape_vec((in_h, in_w), mean).map_err(|e| NasError::InvalidInput(e.to_string()))
}

/// The finished map of every image of an input of `input_dims` from its CAMs at `levels`:
/// `per_level(level)` gives one [`LevelCam`] per image.
pub(crate) fn multi_level_cams(
    levels: &[usize],
    input_dims: [usize; 4],
    mut per_level: impl FnMut(usize) -> Result<Vec<LevelCam>>,
) -> Result<Vec<Array2<f32>>> {
    let [batch, _, in_h, in_w] = input_dims;
    let mut per_image: Vec<Vec<LevelCam>> = (0..batch).map(|_| Vec::with_capacity(levels.len())).collect();
    for &level in levels {
        let cams = per_level(level)?;
        if cams.len() != batch {
            return Err(NasError::InvalidInput(format!(
                "level {level} gave {} CAMs for a batch of {batch}",
                cams.len()
            )));
        }
        per_image.iter_mut().zip(cams).for_each(|(image, cam)| image.push(cam));
    }
    per_image.into_iter().map(|cams| finish_cams(cams, [in_h, in_w])).collect()
}

/// A class-agnostic CAM for every image of `input`: `cam` of the image's depth levels `levels`
/// (called with the level, its values `channels x positions`, the channel count, the position
/// count), finished as [`finish_cams`]; `method` names the caller when a level is empty.
pub(crate) fn level_cams(
    method: &str,
    backbone: &dyn Backbone,
    input: &NasTensor<4>,
    levels: &[usize],
    cam: impl Fn(usize, &[f32], usize, usize) -> Result<Vec<f32>>,
) -> Result<Vec<Array2<f32>>> {
    let forward = backbone.forward(input.clone());
    multi_level_cams(levels, input.dims(), |level| {
        let values = level_of(method, &forward, level)?;
        cams_of(method, level, values, |values, channels, positions| {
            cam(level, values, channels, positions)
        })
    })
}

/// Each image's CAM from given level values `(batch, channels, h, w)` (activations, or
/// activations times gradients) by `cam` (see [`level_cams`]).
pub(crate) fn cams_of(
    method: &str,
    level: usize,
    values: NasTensor<4>,
    cam: impl Fn(&[f32], usize, usize) -> Result<Vec<f32>>,
) -> Result<Vec<LevelCam>> {
    let [batch, channels, h, w] = values.dims();
    non_empty(method, level, [channels, h, w])?;
    to_host(values)?
        .chunks_exact(channels * h * w)
        .take(batch)
        .map(|one| {
            Ok(LevelCam {
                values: cam(one, channels, h * w)?,
                grid: [h, w],
            })
        })
        .collect()
}

/// Level `level` of a forward pass, or an error naming `method` when the backbone has none.
pub(crate) fn level_of(method: &str, forward: &Forward, level: usize) -> Result<NasTensor<4>> {
    forward
        .levels
        .get(level)
        .cloned()
        .ok_or_else(|| NasError::InvalidInput(format!("{method}: the backbone has no level {level}")))
}

/// Refuses a level without values (`[channels, h, w]` with a zero), naming `method`.
pub(crate) fn non_empty(method: &str, level: usize, [channels, h, w]: [usize; 3]) -> Result<()> {
    if channels * h * w == 0 {
        return Err(NasError::InvalidInput(format!(
            "{method}: level {level} is empty ({channels} channels of {h}x{w})"
        )));
    }
    Ok(())
}
