//! The model parameter randomisation test (Adebayo et al. 2018, "Sanity checks for saliency
//! maps"; Quantus's `MPRT`): the trained network's modules are replaced by random ones one after
//! another from the output towards the input (cascading), each photo is explained again after
//! every step, and each map is compared with the trained network's. A method whose maps stay
//! alike while the network is destroyed does not explain the network.
//!
//! Modules are the state dict's, in the file's order (torchvision's: input to output); the
//! random weights are those of `random:SEED` (He-uniform kernels, BatchNorm near the identity),
//! not PyTorch's `reset_parameters`, so the randomised networks are not Quantus's draw for draw.
//! Comparisons: Spearman's rank correlation of the maps and of their absolute values (Adebayo et
//! al.'s two), and Quantus's `ssim` of the maps divided by their largest magnitude (Quantus's
//! MPRT default `normalise`).

use crate::metrics::correlation::spearman;
use crate::metrics::normalisation::{prepared, prepared_f32};
use crate::metrics::structural_similarity::quantus_ssim;
use nas_core::backbone::normalise;
use nas_core::ndarray::Array2;
use nas_core::weights::module_order;
use nas_core::{Context, Kind, NasError, Params, Photo, Result, Saliency};
use std::path::PathBuf;

/// A step of the cascade: how many modules, counted from the output, are random.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Modules randomised.
    pub randomised: usize,
    /// The last (deepest towards the input) module randomised, `None` for the trained network.
    pub module: Option<String>,
}

/// How the map after a step compares with the trained network's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    /// Spearman's rank correlation.
    pub spearman: f64,
    /// Spearman's rank correlation of the absolute values.
    pub spearman_abs: f64,
    /// Quantus's structural similarity of the maps divided by their largest magnitude.
    pub ssim: f64,
}

/// The comparisons of `randomised` with `original`.
pub fn similarity(original: &Array2<f32>, randomised: &Array2<f32>) -> Result<Similarity> {
    if original.dim() != randomised.dim() {
        return Err(NasError::InvalidInput(format!(
            "model randomisation: maps of {:?} and {:?}",
            original.dim(),
            randomised.dim()
        )));
    }
    let values = |map: &Array2<f32>, absolute: bool| prepared(map, false, absolute);
    Ok(Similarity {
        spearman: spearman(&values(original, false), &values(randomised, false)),
        spearman_abs: spearman(&values(original, true), &values(randomised, true)),
        ssim: quantus_ssim(&prepared_f32(original, true, false), &prepared_f32(randomised, true, false))?,
    })
}

/// The cascade's steps for a state dict of `modules` (in the file's order): the trained network,
/// then every `every` more modules randomised from the output, ending with all of them.
pub fn steps(modules: &[String], every: usize) -> Vec<Step> {
    let every = every.max(1);
    let mut counts: Vec<usize> = (0..=modules.len()).step_by(every).collect();
    if counts.last() != Some(&modules.len()) {
        counts.push(modules.len());
    }
    counts
        .into_iter()
        .map(|randomised| Step {
            randomised,
            module: randomised.checked_sub(1).map(|_| modules[modules.len() - randomised].clone()),
        })
        .collect()
}

/// What the test runs: a backbone with its weight file, and how the modules are randomised.
pub struct Cascade<'a> {
    /// Backbone name.
    pub backbone: &'a str,
    /// Its parameters; `weights` must name a PyTorch state dict.
    pub params: &'a Params,
    /// Seed of the random weights.
    pub seed: u64,
    /// Modules randomised per step.
    pub every: usize,
}

/// The maps of every step for one batch of photos (at the network's input size).
pub struct StepMaps {
    /// The step.
    pub step: Step,
    /// One map per photo.
    pub maps: Vec<Array2<f32>>,
}

impl Cascade<'_> {
    /// The weight file's modules, in its order, after checking that the backbone can be
    /// randomised and is not randomised already.
    pub fn modules(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let entry = ctx.registry.entry(Kind::Backbone, self.backbone)?;
        if !entry.params.iter().any(|spec| spec.name == "randomise_top") {
            return Err(NasError::InvalidInput(format!(
                "model randomisation: backbone `{}` has no `randomise_top` parameter (the built-in backbones have)",
                self.backbone
            )));
        }
        for key in ["randomise_top", "randomise_seed"] {
            if self.params.contains(key) {
                return Err(self.params.error(
                    key,
                    "given",
                    "nothing: model randomisation sets it for each step (the seed is its own option)",
                ));
            }
        }
        let weights = self.params.string("weights")?.ok_or_else(|| {
            NasError::InvalidInput(format!(
                "model randomisation needs the trained weight file of {} (--weights PATH.pth)",
                self.backbone
            ))
        })?;
        module_order(&PathBuf::from(weights))
    }

    /// Explains `photos` with `saliency` for `targets` (the trained network's predicted classes
    /// when `None`) after every step of the cascade over `modules` (from [`Cascade::modules`]);
    /// `progress` is told each step's end and may stop the run.
    pub fn run(
        &self,
        ctx: &Context<'_>,
        modules: &[String],
        saliency: &dyn Saliency,
        photos: &[&Photo],
        targets: Option<&[usize]>,
        progress: &mut dyn FnMut(&Step) -> Result<()>,
    ) -> Result<Vec<StepMaps>> {
        let mut targets: Option<Vec<usize>> = targets.map(<[usize]>::to_vec);
        let mut results = Vec::new();
        for step in steps(modules, self.every) {
            let mut params = self.params.clone();
            if step.randomised > 0 {
                params.set("randomise_top", toml::Value::Integer(step.randomised as i64));
                params.set("randomise_seed", toml::Value::Integer(self.seed as i64));
            }
            let net = ctx.registry.backbone(self.backbone, &params, ctx)?;
            let input = normalise(photos, net.info(), net.device())?;
            let classes = match &targets {
                Some(classes) => classes.clone(),
                None => nas_core::backbone::predicted_classes(&net.forward(input.clone()).logits)?,
            };
            if let Some(bad) = classes.iter().find(|&&c| c >= net.info().num_classes) {
                return Err(NasError::InvalidInput(format!(
                    "model randomisation: target class {bad} of a backbone with {} classes",
                    net.info().num_classes
                )));
            }
            let maps = saliency.explain_photos(net.as_ref(), &input, &classes, photos)?;
            targets = Some(classes);
            progress(&step)?;
            results.push(StepMaps { step, maps });
        }
        Ok(results)
    }
}

#[cfg(test)]
mod tests {
    use super::steps;

    #[test]
    fn steps_start_trained_and_end_fully_random() {
        let modules: Vec<String> = ["conv1", "bn1", "layer1.0.conv1", "fc"].iter().map(|m| m.to_string()).collect();
        let every_one = steps(&modules, 1);
        assert_eq!(every_one.len(), 5);
        assert_eq!(every_one[0].module, None);
        assert_eq!(every_one[1].module.as_deref(), Some("fc"));
        assert_eq!(every_one[4].module.as_deref(), Some("conv1"));
        let every_three: Vec<usize> = steps(&modules, 3).iter().map(|s| s.randomised).collect();
        assert_eq!(every_three, [0, 3, 4]);
    }
}
