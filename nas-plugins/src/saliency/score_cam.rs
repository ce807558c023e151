//! Score-CAM (Wang et al. 2020), as pytorch-grad-cam's `ScoreCAM`: each channel of a depth level,
//! upsampled to the input and min-max scaled, masks the photo; the softmax over channels of the
//! target logits of the masked photos weights the channels. No gradients: one forward pass per
//! channel (512 for resnet18's level 4).

use super::cam::{combine_channels, level_of, multi_level_cams, weight_channels, LevelCam, EIGEN_SMOOTH_PARAM, LEVEL_PARAM};
use nas_core::burn::tensor::TensorData;
use nas_core::deletion::class_scores;
use nas_core::ndarray::Array2;
use nas_core::progress::Task;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// pytorch-grad-cam's guard in the channels' min-max scaling.
const MASK_EPS: f32 = 1e-8;

/// The `score-cam` saliency method.
pub struct ScoreCam {
    levels: Vec<usize>,
    batch: usize,
    eigen_smooth: bool,
}

/// Parameters of `score-cam`.
pub const SCORE_CAM_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    EIGEN_SMOOTH_PARAM,
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "16",
        doc: "masked photos per forward pass (pytorch-grad-cam's batch_size)",
    },
];

impl ScoreCam {
    /// Builds from `score-cam` parameters (see [`SCORE_CAM_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<ScoreCam> {
        Ok(ScoreCam {
            levels: super::cam::cam_levels(params)?,
            batch: params.usize("batch", 16, 1, 4096)?,
            eigen_smooth: super::cam::eigen_smooth(params)?,
        })
    }
}

/// Source index and weight of the next source for each of `to` outputs resized from `from`
/// inputs with corners aligned (torch's `UpsamplingBilinear2d`).
fn aligned_taps(from: usize, to: usize) -> Vec<(usize, f32)> {
    let scale = if to > 1 { (from - 1) as f32 / (to - 1) as f32 } else { 0.0 };
    (0..to)
        .map(|d| {
            let source = scale * d as f32;
            let index = (source as usize).min(from - 1);
            (index, source - index as f32)
        })
        .collect()
}

/// One `h x w` channel upsampled to `out_h x out_w` with corners aligned, then scaled to `[0, 1]`.
fn channel_mask(channel: &[f32], [h, w]: [usize; 2], rows: &[(usize, f32)], cols: &[(usize, f32)]) -> Vec<f32> {
    let at = |y: usize, x: usize| channel[y * w + x];
    let mut mask: Vec<f32> = rows
        .iter()
        .flat_map(|&(y, ty)| {
            let below = (y + 1).min(h - 1);
            cols.iter().map(move |&(x, tx)| {
                let right = (x + 1).min(w - 1);
                (1.0 - ty) * ((1.0 - tx) * at(y, x) + tx * at(y, right)) + ty * ((1.0 - tx) * at(below, x) + tx * at(below, right))
            })
        })
        .collect();
    let least = mask.iter().copied().fold(f32::INFINITY, f32::min);
    let most = mask.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    mask.iter_mut().for_each(|v| *v = (*v - least) / (most - least + MASK_EPS));
    mask
}

impl ScoreCam {
    /// The CAM of `photo` `(1, 3, H, W)` for class `target` at `level`, each channel's mask
    /// scored in batches, reported to `task`.
    fn level_cam(&self, backbone: &dyn Backbone, photo: &NasTensor<4>, target: usize, level: usize, task: &Task) -> Result<LevelCam> {
        let [_, colours, in_h, in_w] = photo.dims();
        let plane = in_h * in_w;
        let activation = level_of("score-cam", &backbone.forward(photo.clone()), level)?;
        let [_, channels, h, w] = activation.dims();
        let (activations, values) = (to_host(activation)?, to_host(photo.clone())?);
        let (rows, cols) = (aligned_taps(h, in_h), aligned_taps(w, in_w));
        let mut scores = Vec::with_capacity(channels);
        for first in (0..channels).step_by(self.batch) {
            task.check()?;
            let chunk = first..(first + self.batch).min(channels);
            let mut masked = Vec::with_capacity(chunk.len() * values.len());
            for channel in chunk.clone() {
                let mask = channel_mask(&activations[channel * h * w..][..h * w], [h, w], &rows, &cols);
                for colour in values.chunks(plane) {
                    masked.extend(colour.iter().zip(&mask).map(|(v, m)| v * m));
                }
            }
            let images = NasTensor::<4>::from_data(TensorData::new(masked, [chunk.len(), colours, in_h, in_w]), &photo.device());
            scores.extend(class_scores(backbone, images, target, &|logits| logits)?);
            task.advance(chunk.len() as u64);
        }
        // Softmax over the channels.
        let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let exp: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
        let total: f64 = exp.iter().sum();
        let weights: Vec<f32> = exp.iter().map(|e| (e / total) as f32).collect();
        let weighted = weight_channels(&activations, &weights, h * w);
        Ok(LevelCam {
            values: combine_channels(&weighted, h * w, self.eigen_smooth),
            grid: [h, w],
        })
    }
}

impl Saliency for ScoreCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let photos = super::photos_with_targets("score-cam", input, targets)?;
        multi_level_cams(&self.levels, input.dims(), |level| {
            let channels = backbone.info().level_channels.get(level).copied().unwrap_or(0);
            let task = nas_core::progress::task(&format!("score-cam level {level}"), (photos.len() * channels) as u64);
            photos
                .iter()
                .map(|(photo, target)| self.level_cam(backbone, photo, *target, level, &task))
                .collect()
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(ScoreCam::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "score-cam",
        summary: "Score-CAM on a depth level: channels weighted by the target's logits of the photo masked by each (pytorch-grad-cam's ScoreCAM), scaled to [0, 1]",
        params: SCORE_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
