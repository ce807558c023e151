//! RISE (Petsiuk et al. 2018): the photo is masked by thousands of random soft masks (see
//! [`masks`]), each masked photo is scored, and the map is the score-weighted average of the
//! masks, `sum_i score_i M_i / (N keep)`. Defaults are the authors' (8 x 8 cells, cells kept with
//! probability 0.1, softmax probabilities); masking multiplies the normalised input, so hidden
//! pixels take the dataset's mean colour, as in their code.

pub mod masks;

use masks::{MaskGrid, MaskSpec};
use nas_core::burn::tensor::activation::softmax;
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// What each masked photo contributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RiseScore {
    /// The target's softmax probability (the authors' choice).
    Probability,
    /// The target's logit.
    Logit,
}

/// Where the masks come from.
#[derive(Debug, Clone, PartialEq)]
pub enum MaskSource {
    /// `count` masks of a seeded sequence.
    Seeded { count: usize, seed: u64 },
    /// Masks given cell by cell, e.g. to reproduce another implementation's.
    Given(Vec<MaskSpec>),
}

/// The `rise` saliency method.
pub struct Rise {
    masks: MaskSource,
    cells: usize,
    keep: f64,
    score: RiseScore,
    batch: usize,
}

/// Parameters of `rise`.
pub const RISE_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "masks",
        kind: ParamKind::Int,
        default: "4000",
        doc: "number of random masks (one forward pass each)",
    },
    ParamSpec {
        name: "cells",
        kind: ParamKind::Int,
        default: "8",
        doc: "mask cells per side",
    },
    ParamSpec {
        name: "keep",
        kind: ParamKind::Float,
        default: "0.1",
        doc: "probability that a cell is kept (the authors' p1)",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of the masks",
    },
    ParamSpec {
        name: "score",
        kind: ParamKind::Str,
        default: "\"probability\"",
        doc: "what a masked photo contributes: probability (softmax) or logit",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "32",
        doc: "masked photos per forward pass",
    },
];

impl Rise {
    /// Builds from `rise` parameters (see [`RISE_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<Rise> {
        Ok(Rise {
            masks: MaskSource::Seeded {
                count: params.usize("masks", 4000, 1, 10_000_000)?,
                seed: params.int("seed", 0, 0, i64::MAX)? as u64,
            },
            cells: params.usize("cells", 8, 1, 1024)?,
            keep: params.float("keep", 0.1, f64::MIN_POSITIVE, 1.0)?,
            score: match params.choice("score", "probability", &["probability", "logit"])?.as_str() {
                "logit" => RiseScore::Logit,
                _ => RiseScore::Probability,
            },
            batch: params.usize("batch", 32, 1, 4096)?,
        })
    }

    /// RISE with the given masks (`cells` per side, cells kept with probability `keep`).
    pub fn with_masks(masks: Vec<MaskSpec>, cells: usize, keep: f64, score: RiseScore, batch: usize) -> Rise {
        Rise {
            masks: MaskSource::Given(masks),
            cells,
            keep,
            score,
            batch: batch.max(1),
        }
    }

    /// How many masks there are.
    fn count(&self) -> usize {
        match &self.masks {
            MaskSource::Seeded { count, .. } => *count,
            MaskSource::Given(specs) => specs.len(),
        }
    }

    /// Mask `index`.
    fn spec(&self, grid: &MaskGrid, index: usize) -> Result<MaskSpec> {
        match &self.masks {
            MaskSource::Seeded { seed, .. } => Ok(grid.random_spec(*seed, index as u64, self.keep)),
            MaskSource::Given(specs) => {
                let spec = specs[index].clone();
                let [ch, cw] = grid.cell();
                if spec.kept.len() != self.cells * self.cells || spec.shift.0 >= ch || spec.shift.1 >= cw {
                    return Err(NasError::InvalidInput(format!(
                        "rise: mask {index} has {} cells and shift {:?}; expected {} cells and shifts below {ch}x{cw}",
                        spec.kept.len(),
                        spec.shift,
                        self.cells * self.cells
                    )));
                }
                Ok(spec)
            }
        }
    }

    /// The map of one photo `(1, 3, h, w)` for class `target`.
    fn explain_one(
        &self,
        backbone: &dyn Backbone,
        input: &NasTensor<4>,
        target: usize,
        task: &nas_core::progress::Task,
    ) -> Result<Array2<f32>> {
        let [_, channels, h, w] = input.dims();
        let grid = MaskGrid {
            cells: self.cells,
            size: [h, w],
        };
        let count = self.count();
        let mut sum = vec![0f64; h * w];
        for start in (0..count).step_by(self.batch) {
            task.check()?;
            let end = (start + self.batch).min(count);
            let masks: Vec<Vec<f32>> = (start..end).map(|i| Ok(grid.mask(&self.spec(&grid, i)?))).collect::<Result<_>>()?;
            let values: Vec<f32> = masks.iter().flatten().copied().collect();
            let stacked = NasTensor::<4>::from_data(TensorData::new(values, [end - start, 1, h, w]), &input.device());
            let masked = stacked.expand([end - start, channels, h, w]) * input.clone();
            let logits = backbone.forward(masked).logits;
            let scores = match self.score {
                RiseScore::Probability => softmax(logits, 1),
                RiseScore::Logit => logits,
            };
            let classes = scores.dims()[1];
            let scores = to_host(scores)?;
            for (mask, row) in masks.iter().zip(scores.chunks(classes)) {
                let score = f64::from(row[target]);
                sum.iter_mut().zip(mask).for_each(|(s, m)| *s += score * f64::from(*m));
            }
            task.advance((end - start) as u64);
        }
        let scale = 1.0 / (count as f64 * self.keep);
        let map = sum.into_iter().map(|v| (v * scale) as f32).collect();
        Array2::from_shape_vec((h, w), map).map_err(|e| NasError::InvalidInput(e.to_string()))
    }
}

impl Saliency for Rise {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let photos = super::photos_with_targets("rise", input, targets)?;
        let task = nas_core::progress::task("RISE masks", (photos.len() * self.count()) as u64);
        photos
            .into_iter()
            .map(|(one, target)| self.explain_one(backbone, &one, target, &task))
            .collect()
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(Rise::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "rise",
        summary: "RISE: the score-weighted average of random soft masks (the authors' defaults, seeded)",
        params: RISE_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
