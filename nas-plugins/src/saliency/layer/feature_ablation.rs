//! `layer-feature-ablation` (Captum's `LayerFeatureAblation`): each unit of a depth level is set
//! to a baseline value, alone (Captum's default, no `layer_mask`) or with every channel at its
//! position, and the drop of the target's logit is its attribution. The network continues from
//! the ablated level (`nas_core::backbone::logits_with_level`), running only the layers after it
//! where the backbone can start there.

use super::{explain_each, LayerSettings, INTERPOLATE_PARAM, LEVEL_PARAM};
use nas_core::backbone::logits_with_level;
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::progress::Task;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// Which units of the level are ablated together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerGroups {
    /// Every unit alone (Captum's default).
    Neuron,
    /// Every channel at one position of the level's grid (a `layer_mask` of one id per position).
    Position,
}

/// The `layer-feature-ablation` saliency method.
pub struct LayerFeatureAblation {
    layer: LayerSettings,
    groups: LayerGroups,
    baseline: f32,
    batch: usize,
}

/// Parameters of `layer-feature-ablation`.
pub const LAYER_FEATURE_ABLATION_PARAMS: &[ParamSpec] = &[
    LEVEL_PARAM,
    ParamSpec {
        name: "groups",
        kind: ParamKind::Str,
        default: "\"neuron\"",
        doc: "units ablated together: neuron (each alone, Captum's default) or position (every channel at a position of the grid)",
    },
    ParamSpec {
        name: "baseline",
        kind: ParamKind::Float,
        default: "0.0",
        doc: "the value ablated units take (Captum's layer_baselines)",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "64",
        doc: "ablated copies of the level per forward pass (Captum's perturbations_per_eval)",
    },
    INTERPOLATE_PARAM,
];

impl LayerFeatureAblation {
    /// The level's attribution `(1, channels, h, w)` for one photo and its target.
    fn attribute(&self, backbone: &dyn Backbone, photo: NasTensor<4>, target: usize, task: &Task) -> Result<NasTensor<4>> {
        let forward = backbone.forward(photo.clone());
        let activation = forward
            .levels
            .into_iter()
            .nth(self.layer.level)
            .ok_or_else(|| NasError::InvalidInput(format!("{}: no level {}", backbone.info().name, self.layer.level)))?;
        let dims = activation.dims();
        let [_, channels, h, w] = dims;
        let values = to_host(activation)?;
        let score = |logits: NasTensor<2>| -> Result<Vec<f32>> {
            let [n, classes] = logits.dims();
            if target >= classes {
                return Err(NasError::InvalidInput(format!(
                    "target class {target} is out of range: the backbone has {classes} classes"
                )));
            }
            to_host(logits.slice([0..n, target..target + 1]).reshape([n]))
        };
        let original = score(forward.logits)?[0];
        let (units, plane) = (channels * h * w, h * w);
        let groups = match self.groups {
            LayerGroups::Neuron => units,
            LayerGroups::Position => plane,
        };
        let ablated = |group: usize, unit: usize| match self.groups {
            LayerGroups::Neuron => unit == group,
            LayerGroups::Position => unit % plane == group,
        };
        let mut drops = Vec::with_capacity(groups);
        for first in (0..groups).step_by(self.batch) {
            task.check()?;
            let count = self.batch.min(groups - first);
            let mut copies = Vec::with_capacity(count * units);
            for group in first..first + count {
                copies.extend(
                    values
                        .iter()
                        .enumerate()
                        .map(|(unit, v)| if ablated(group, unit) { self.baseline } else { *v }),
                );
            }
            let replacement = NasTensor::<4>::from_data(TensorData::new(copies, [count, channels, h, w]), &photo.device());
            // The photo's copies are only needed where the network cannot start at the level.
            let logits = match backbone.logits_from_level(self.layer.level, replacement.clone()) {
                Some(logits) => logits?,
                None => logits_with_level(backbone, photo.clone().repeat_dim(0, count), self.layer.level, replacement)?,
            };
            drops.extend(score(logits)?.into_iter().map(|s| original - s));
            task.advance(count as u64);
        }
        let attribution: Vec<f32> = (0..units)
            .map(|unit| match self.groups {
                LayerGroups::Neuron => drops[unit],
                LayerGroups::Position => drops[unit % plane],
            })
            .collect();
        Ok(NasTensor::from_data(TensorData::new(attribution, dims), &photo.device()))
    }

    /// Ablated copies of the level per position of its grid, for progress.
    fn copies_per_position(&self, backbone: &dyn Backbone) -> usize {
        let info = backbone.info();
        let channels = info.level_channels[self.layer.level];
        match self.groups {
            LayerGroups::Neuron => channels.max(1),
            LayerGroups::Position => 1,
        }
    }
}

impl Saliency for LayerFeatureAblation {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let [_, _, h, w] = input.dims();
        let stride = backbone.info().level_strides[self.layer.level].max(1);
        // The grid's size is known after the forward pass; its strides give it ahead, for progress.
        let steps = self.copies_per_position(backbone) * h.div_ceil(stride) * w.div_ceil(stride);
        explain_each(
            &self.layer,
            "layer-feature-ablation",
            "layer feature ablation",
            steps,
            input,
            targets,
            |photo, target, task| self.attribute(backbone, photo, target, task),
        )
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(LayerFeatureAblation {
        layer: LayerSettings::from_params(params)?,
        groups: match params.choice("groups", "neuron", &["neuron", "position"])?.as_str() {
            "position" => LayerGroups::Position,
            _ => LayerGroups::Neuron,
        },
        baseline: params.float("baseline", 0.0, f64::from(f32::MIN), f64::from(f32::MAX))? as f32,
        batch: params.usize("batch", 64, 1, 65_536)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "layer-feature-ablation",
        summary: "the target's logit drop when each unit of a depth level (or every channel at a position) is set to a baseline (Captum's LayerFeatureAblation)",
        params: LAYER_FEATURE_ABLATION_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
