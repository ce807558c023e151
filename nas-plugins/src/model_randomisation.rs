//! The model parameter randomisation test (Adebayo et al. 2018, "Sanity checks for saliency
//! maps"; Quantus's `MPRT`): the trained network's modules are replaced by random ones one after
//! another, from the output towards the input (cascading; also from the input, or one module at
//! a time: [`Order`]), each photo is explained again after every step, and each map is compared
//! with the trained network's. A method whose maps stay alike while the network is destroyed does
//! not explain the network.
//!
//! Modules are the state dict's, in the file's order (torchvision's: input to output); the
//! random weights are those of `random:SEED` (He-uniform kernels, BatchNorm near the identity),
//! not PyTorch's `reset_parameters`, so the randomised networks are not Quantus's draw for draw.
//! Comparisons: Spearman's rank correlation of the maps and of their absolute values (Adebayo et
//! al.'s two), Quantus's `ssim` of the maps divided by their largest magnitude (Quantus's
//! MPRT default `normalise`), and the relative rise of the map's discrete entropy (Quantus's
//! `EfficientMPRT`, Hedström et al. 2024, whose score is this rise at the fully randomised
//! network: an explanation of a random network should look like noise, so its entropy rises).

use crate::metrics::complexity::discrete_entropy;
use crate::metrics::correlation::spearman;
use crate::metrics::normalisation::{prepared, prepared_f32};
use crate::metrics::structural_similarity::quantus_ssim;
use nas_core::backbone::normalise;
use nas_core::ndarray::Array2;
use nas_core::weights::module_order;
use nas_core::{Context, Kind, NasError, Params, Photo, Result, Saliency};
use std::path::PathBuf;

/// Which modules are randomised as the test goes on (Quantus's `layer_order`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Cascading from the output towards the input (Adebayo et al.'s cascading randomisation;
    /// Quantus's `top_down`).
    TopDown,
    /// Cascading from the input towards the output (Quantus's `bottom_up`).
    BottomUp,
    /// One module at a time, the others trained (Adebayo et al.'s independent randomisation),
    /// from the input towards the output, in Quantus's order.
    Independent,
}

/// A step of the test: which modules are random.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// How many modules are random.
    pub randomised: usize,
    /// The module this step added (for a cascade, the deepest reached), `None` for the trained
    /// network.
    pub module: Option<String>,
    /// Every module random at this step.
    pub modules: Vec<String>,
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
    /// `(H(randomised) - H(original)) / H(original)`, H the discrete entropy of the map's
    /// values in 100 bins: Quantus's EfficientMPRT score at the fully randomised network.
    pub entropy_rise: f64,
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
        entropy_rise: {
            let before = discrete_entropy(original, 100);
            (discrete_entropy(randomised, 100) - before) / before
        },
    })
}

/// The steps for a state dict of `modules` (in the file's order): the trained network, then
/// every `every`-th step of `order`; a cascade ends with every module random, the independent
/// order has one module random per step.
pub fn steps(modules: &[String], every: usize, order: Order) -> Vec<Step> {
    let (every, n) = (every.max(1), modules.len());
    let trained = Step {
        randomised: 0,
        module: None,
        modules: Vec::new(),
    };
    let cascade = |counts: Vec<usize>, top_down: bool| -> Vec<Step> {
        counts
            .into_iter()
            .map(|k| {
                let set = if top_down { &modules[n - k..] } else { &modules[..k] };
                Step {
                    randomised: k,
                    module: (k > 0).then(|| if top_down { set[0].clone() } else { set[k - 1].clone() }),
                    modules: set.to_vec(),
                }
            })
            .collect()
    };
    let mut counts: Vec<usize> = (0..=n).step_by(every).collect();
    if counts.last() != Some(&n) {
        counts.push(n);
    }
    match order {
        Order::TopDown => cascade(counts, true),
        Order::BottomUp => cascade(counts, false),
        Order::Independent => std::iter::once(trained)
            .chain((0..n).step_by(every).map(|i| Step {
                randomised: 1,
                module: Some(modules[i].clone()),
                modules: vec![modules[i].clone()],
            }))
            .collect(),
    }
}

/// What the test runs: a backbone with its weight file, and which modules are randomised how.
pub struct Randomisation<'a> {
    /// Backbone name.
    pub backbone: &'a str,
    /// Its parameters; `weights` must name a PyTorch state dict.
    pub params: &'a Params,
    /// Seed of the random weights.
    pub seed: u64,
    /// Modules randomised per step (a cascade), or every how many modules one is (independent).
    pub every: usize,
    /// Which modules each step randomises.
    pub order: Order,
    /// Photos explained per pass.
    pub batch: usize,
}

/// The maps of every step for one batch of photos (at the network's input size).
pub struct StepMaps {
    /// The step.
    pub step: Step,
    /// One map per photo.
    pub maps: Vec<Array2<f32>>,
}

impl Randomisation<'_> {
    /// The weight file's modules, in its order, after checking that the backbone can be
    /// randomised and is not randomised already.
    pub fn modules(&self, ctx: &Context<'_>) -> Result<Vec<String>> {
        let entry = ctx.registry.entry(Kind::Backbone, self.backbone)?;
        for needed in ["randomise", "randomise_seed"] {
            if !entry.params.iter().any(|spec| spec.name == needed) {
                return Err(NasError::InvalidInput(format!(
                    "model randomisation: backbone `{}` has no `{needed}` parameter (the built-in backbones have)",
                    self.backbone
                )));
            }
        }
        for key in ["randomise_top", "randomise", "randomise_seed"] {
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
    /// when `None`) after every step over `modules` (from [`Randomisation::modules`]);
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
        if let Some(given) = targets.filter(|t| t.len() != photos.len()) {
            return Err(NasError::InvalidInput(format!(
                "model randomisation: {} targets for {} photos",
                given.len(),
                photos.len()
            )));
        }
        let mut targets: Option<Vec<usize>> = targets.map(<[usize]>::to_vec);
        let mut results = Vec::new();
        // Every step builds the network from the same file: parse it once.
        let _parsed = nas_core::weights::keep_parsed();
        for step in steps(modules, self.every, self.order) {
            let mut params = self.params.clone();
            if step.randomised > 0 {
                let listed = step.modules.iter().map(|m| toml::Value::String(m.clone())).collect();
                params.set("randomise", toml::Value::Array(listed));
                params.set("randomise_seed", toml::Value::Integer(self.seed as i64));
            }
            let net = ctx.registry.backbone(self.backbone, &params, ctx)?;
            let mut maps = Vec::with_capacity(photos.len());
            let mut classes = Vec::with_capacity(photos.len());
            for (i, chunk) in photos.chunks(self.batch.max(1)).enumerate() {
                let input = normalise(chunk, net.info(), net.device())?;
                let chunk_classes = match &targets {
                    Some(all) => all[i * self.batch.max(1)..][..chunk.len()].to_vec(),
                    None => nas_core::backbone::predicted_classes(&net.forward(input.clone()).logits)?,
                };
                if let Some(bad) = chunk_classes.iter().find(|&&c| c >= net.info().num_classes) {
                    return Err(NasError::InvalidInput(format!(
                        "model randomisation: target class {bad} of a backbone with {} classes",
                        net.info().num_classes
                    )));
                }
                maps.extend(saliency.explain_photos(net.as_ref(), &input, &chunk_classes, chunk)?);
                classes.extend(chunk_classes);
            }
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
    fn steps_start_trained_and_follow_the_order() {
        use super::Order;
        let modules: Vec<String> = ["conv1", "bn1", "layer1.0.conv1", "fc"].iter().map(|m| m.to_string()).collect();
        let top_down = steps(&modules, 1, Order::TopDown);
        assert_eq!(top_down.len(), 5);
        assert_eq!(top_down[0].module, None);
        assert!(top_down[0].modules.is_empty());
        assert_eq!(top_down[1].module.as_deref(), Some("fc"));
        assert_eq!(top_down[2].modules, ["layer1.0.conv1", "fc"]);
        assert_eq!(top_down[4].module.as_deref(), Some("conv1"));
        let every_three: Vec<usize> = steps(&modules, 3, Order::TopDown).iter().map(|s| s.randomised).collect();
        assert_eq!(every_three, [0, 3, 4]);
        let bottom_up = steps(&modules, 1, Order::BottomUp);
        assert_eq!(bottom_up[1].modules, ["conv1"]);
        assert_eq!(bottom_up[2].module.as_deref(), Some("bn1"));
        let independent = steps(&modules, 2, Order::Independent);
        let alone: Vec<Vec<String>> = independent.iter().map(|s| s.modules.clone()).collect();
        assert_eq!(alone, [vec![], vec!["conv1".to_string()], vec!["layer1.0.conv1".to_string()]]);
    }
}
