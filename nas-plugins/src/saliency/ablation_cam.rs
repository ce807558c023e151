//! Ablation-CAM (Desai and Ramaswamy 2020), as pytorch-grad-cam's `AblationCAM`: each channel of a
//! depth level is ablated in turn (set to zero, or far below the level's minimum when the level
//! holds negative values) while the network runs on from that level, and the relative drop of the
//! target logit, `(y - y_c) / y`, weights the channel. No gradients: one forward pass per channel.

use super::cam::{combine_channels, level_of, multi_level_cams, weight_channels, LevelCam, EIGEN_SMOOTH_PARAM, LEVEL_PARAM};
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, LevelHook, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// pytorch-grad-cam's `ABLATION_VALUE`: how far below the level's minimum an ablated channel is
/// set when the minimum is not zero.
const ABLATION_DEPTH: f32 = 1e7;

/// The `ablation-cam` saliency method.
pub struct AblationCam {
    levels: Vec<usize>,
    batch: usize,
    eigen_smooth: bool,
}

/// Parameters of `ablation-cam`.
pub const ABLATION_CAM_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    EIGEN_SMOOTH_PARAM,
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "32",
        doc: "ablated copies per forward pass (pytorch-grad-cam's batch_size)",
    },
];

/// Replaces level `level` of copy `i` of a batch by `activation` with channel `channels[i]` set
/// to `value`.
struct AblateChannels<'a> {
    level: usize,
    activation: &'a NasTensor<4>,
    channels: &'a [usize],
    value: f32,
}

impl LevelHook for AblateChannels<'_> {
    fn level(&mut self, index: usize, activation: NasTensor<4>) -> NasTensor<4> {
        if index != self.level {
            return activation;
        }
        let [_, channels, h, w] = self.activation.dims();
        let n = self.channels.len();
        let keep: Vec<f32> = self
            .channels
            .iter()
            .flat_map(|&ablated| (0..channels).map(move |c| if c == ablated { 0.0 } else { 1.0 }))
            .collect();
        let keep = NasTensor::<4>::from_data(TensorData::new(keep, [n, channels, 1, 1]), &activation.device()).expand([n, channels, h, w]);
        let copies = self.activation.clone().expand([n, channels, h, w]);
        copies * keep.clone() + (keep.neg() + 1.0) * self.value
    }
}

impl AblationCam {
    /// Builds from `ablation-cam` parameters (see [`ABLATION_CAM_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<AblationCam> {
        Ok(AblationCam {
            levels: super::cam::cam_levels(params)?,
            batch: params.usize("batch", 32, 1, 4096)?,
            eigen_smooth: super::cam::eigen_smooth(params)?,
        })
    }

    /// The target logit of `photo` `(1, 3, H, W)` with each channel of `level` (whose values
    /// are `activation`) ablated.
    fn ablated_scores(
        &self,
        backbone: &dyn Backbone,
        photo: &NasTensor<4>,
        (level, activation): (usize, &NasTensor<4>),
        target: usize,
        value: f32,
    ) -> Result<Vec<f32>> {
        let channels = activation.dims()[1];
        let task = nas_core::progress::task("ablation-cam", channels as u64);
        let all: Vec<usize> = (0..channels).collect();
        let mut scores = Vec::with_capacity(channels);
        for chunk in all.chunks(self.batch) {
            task.check()?;
            let mut hook = AblateChannels {
                level,
                activation,
                channels: chunk,
                value,
            };
            let logits = backbone.forward_hooked(photo.clone().repeat_dim(0, chunk.len()), &mut hook);
            let [n, classes] = logits.dims();
            if target >= classes {
                return Err(NasError::InvalidInput(format!(
                    "target class {target} is out of range: the backbone has {classes} classes"
                )));
            }
            scores.extend(to_host(logits.slice([0..n, target..target + 1]).reshape([n, 1, 1, 1]))?);
            task.advance(chunk.len() as u64);
        }
        Ok(scores)
    }
}

impl AblationCam {
    /// The CAM of `photo` `(1, 3, H, W)` for class `target` at `level`.
    fn level_cam(&self, backbone: &dyn Backbone, photo: &NasTensor<4>, target: usize, level: usize) -> Result<LevelCam> {
        let forward = backbone.forward(photo.clone());
        let activation = level_of("ablation-cam", &forward, level)?;
        let original = to_host(forward.logits)?
            .get(target)
            .copied()
            .ok_or_else(|| NasError::InvalidInput(format!("ablation-cam: target class {target} out of range")))?;
        let [_, _, h, w] = activation.dims();
        let values = to_host(activation.clone())?;
        let least = values.iter().copied().fold(f32::INFINITY, f32::min);
        let value = if least == 0.0 { 0.0 } else { least - ABLATION_DEPTH };
        let ablated = self.ablated_scores(backbone, photo, (level, &activation), target, value)?;
        let weights: Vec<f32> = ablated.iter().map(|score| (original - score) / original).collect();
        let weighted = weight_channels(&values, &weights, h * w);
        Ok(LevelCam {
            values: combine_channels(&weighted, h * w, self.eigen_smooth),
            grid: [h, w],
        })
    }
}

impl Saliency for AblationCam {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let photos = super::photos_with_targets("ablation-cam", input, targets)?;
        multi_level_cams(&self.levels, input.dims(), |level| {
            photos
                .iter()
                .map(|(photo, target)| self.level_cam(backbone, photo, *target, level))
                .collect()
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(AblationCam::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "ablation-cam",
        summary: "Ablation-CAM on a depth level: channels weighted by the relative drop of the target's logit when each is ablated (pytorch-grad-cam's AblationCAM), scaled to [0, 1]",
        params: ABLATION_CAM_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
