//! `attention-rollout` (Abnar & Zuidema 2020): how much attention flows from each patch to the
//! class token through all of a vision transformer's blocks. Each block's attention
//! probabilities are fused over heads (`head_fusion`: their mean, as the paper; or their maximum
//! or minimum, as jacobgil's vit-explain offers), optionally the smallest `discard_ratio` of the
//! fused values set to zero (vit-explain's noise filter; the class token's attention to itself
//! is kept), half of each token's attention is kept on
//! itself for the residual connection (`(A + I) / 2`, rows summing to 1), and the blocks'
//! matrices are multiplied from the first to the last. The class token's row over the patches,
//! divided by its maximum, is the map on the patch grid, resized to the input as `cv2.resize`
//! does (bilinear). The map does not depend on the class: rollout explains what the network
//! attends to, not why it chose a class. Only ViTs have the attention it needs; other backbones
//! are refused by name.

use super::cam::resize_linear;
use crate::backbones::vit::Vit;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// How the heads of a block are fused into one matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadFusion {
    /// Their mean (Abnar & Zuidema).
    Mean,
    /// Their elementwise maximum.
    Max,
    /// Their elementwise minimum.
    Min,
}

const FUSIONS: &[&str] = &["mean", "max", "min"];

/// Parameters of `attention-rollout`.
pub const ATTENTION_ROLLOUT_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "head_fusion",
        kind: ParamKind::Str,
        default: "\"mean\"",
        doc: "how each block's heads are fused: \"mean\" (the paper), \"max\" or \"min\"",
    },
    ParamSpec {
        name: "discard_ratio",
        kind: ParamKind::Float,
        default: "0.0",
        doc: "share of each block's fused attention values, smallest first, set to zero before the rollout (jacobgil's vit-explain, which suggests 0.9; the class token's attention to itself is kept); 0 keeps all, as the paper",
    },
];

/// The `attention-rollout` saliency method.
pub struct AttentionRollout {
    fusion: HeadFusion,
    discard_ratio: f64,
}

impl AttentionRollout {
    /// The method fusing heads by `fusion`, keeping every value.
    pub fn new(fusion: HeadFusion) -> AttentionRollout {
        AttentionRollout {
            fusion,
            discard_ratio: 0.0,
        }
    }

    /// The same method setting the smallest `ratio` of each block's fused values to zero.
    pub fn with_discard_ratio(self, ratio: f64) -> AttentionRollout {
        AttentionRollout {
            discard_ratio: ratio,
            ..self
        }
    }

    /// The fusion of a block's `heads` matrices, handed over one at a time (`index` counts them).
    fn fuse(&self, heads: usize) -> impl Fn(&mut [f32], &[f32], usize) + '_ {
        move |fused: &mut [f32], head: &[f32], index: usize| {
            for (f, &p) in fused.iter_mut().zip(head) {
                *f = match self.fusion {
                    HeadFusion::Mean => *f + p / heads as f32,
                    HeadFusion::Max => f.max(p),
                    HeadFusion::Min if index == 0 => p,
                    HeadFusion::Min => f.min(p),
                };
            }
        }
    }
}

/// Sets the `floor(ratio * len)` smallest values of `matrix` (ties by position) to zero, except
/// the first (the class token's attention to itself), as vit-explain discards them.
pub fn discard_lowest(matrix: &mut [f32], ratio: f64) {
    let count = (ratio * matrix.len() as f64) as usize;
    if count == 0 {
        return;
    }
    let mut order: Vec<usize> = (0..matrix.len()).collect();
    order.select_nth_unstable_by(count - 1, |&a, &b| matrix[a].total_cmp(&matrix[b]).then(a.cmp(&b)));
    for &i in order[..count].iter().filter(|&&i| i != 0) {
        matrix[i] = 0.0;
    }
}

/// The class token's row of the rollout of `blocks` (`tokens x tokens` matrices, first block
/// first): of the product of `(A + I) / 2`, each row normalised to sum 1, last block on the
/// left; in `f64`. Only that row is wanted, so it is carried from the last block back to the
/// first, a row times a matrix per block.
pub fn class_token_rollout(blocks: &[&[f32]], tokens: usize) -> Vec<f64> {
    let mut flow = class_token_row(tokens);
    for attention in blocks.iter().rev() {
        let mut mixed: Vec<f64> = attention.iter().map(|&a| f64::from(a) / 2.0).collect();
        for (i, row) in mixed.chunks_exact_mut(tokens).enumerate() {
            row[i] += 0.5;
            let total: f64 = row.iter().sum();
            row.iter_mut().for_each(|v| *v /= total);
        }
        flow = row_times(&flow, &mixed, tokens);
    }
    flow
}

/// The class token's row of the identity: where a rollout starts.
pub(crate) fn class_token_row(tokens: usize) -> Vec<f64> {
    let mut row = vec![0f64; tokens];
    row[0] = 1.0;
    row
}

/// `row` times `matrix` (`tokens x tokens`, row-major).
pub(crate) fn row_times(row: &[f64], matrix: &[f64], tokens: usize) -> Vec<f64> {
    let mut out = vec![0f64; tokens];
    for (&r, line) in row.iter().zip(matrix.chunks_exact(tokens)) {
        if r != 0.0 {
            out.iter_mut().zip(line).for_each(|(o, m)| *o += r * m);
        }
    }
    out
}

impl Saliency for AttentionRollout {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let vit = Vit::required_by(backbone, "attention-rollout", "class token attention to roll out")?;
        let [batch, _, height, width] = input.dims();
        let heads = vit.heads();
        let fuse = self.fuse(heads);
        let (mut blocks, [gh, gw]) = vit.attention_matrices(input.clone(), &fuse)?;
        if self.discard_ratio > 0.0 {
            blocks.iter_mut().flatten().for_each(|m| discard_lowest(m, self.discard_ratio));
        }
        let tokens = 1 + gh * gw;
        (0..batch)
            .map(|image| {
                let matrices: Vec<&[f32]> = blocks.iter().map(|b| b[image].as_slice()).collect();
                let flow = class_token_rollout(&matrices, tokens);
                let mask: Vec<f32> = flow[1..tokens].iter().map(|&v| v as f32).collect();
                let top = mask.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let scaled: Vec<f32> = mask.iter().map(|v| v / top).collect();
                let map = resize_linear(&scaled, [gh, gw], [height, width]);
                Array2::from_shape_vec((height, width), map).map_err(|e| NasError::InvalidInput(format!("attention-rollout: {e}")))
            })
            .collect()
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    let fusion = match params.choice("head_fusion", FUSIONS[0], FUSIONS)?.as_str() {
        "max" => HeadFusion::Max,
        "min" => HeadFusion::Min,
        _ => HeadFusion::Mean,
    };
    let discard_ratio = params.float("discard_ratio", 0.0, 0.0, 0.999)?;
    Ok(Box::new(AttentionRollout::new(fusion).with_discard_ratio(discard_ratio)))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "attention-rollout",
        summary: "Abnar & Zuidema's attention rollout on ViTs: the class token's attention to each patch through every block (class-agnostic)",
        params: ATTENTION_ROLLOUT_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}

#[cfg(test)]
mod tests {
    use super::discard_lowest;

    #[test]
    fn the_smallest_values_are_discarded_but_the_first() {
        // 10 values, ratio 0.45: the 4 smallest go (ties by position), the first stays.
        let mut matrix = vec![0.1, 0.9, 0.1, 0.5, 0.3, 0.1, 0.8, 0.7, 0.2, 0.6];
        discard_lowest(&mut matrix, 0.45);
        assert_eq!(matrix, vec![0.1, 0.9, 0.0, 0.5, 0.3, 0.0, 0.8, 0.7, 0.0, 0.6]);
        let mut kept = vec![0.3, 0.1, 0.2];
        discard_lowest(&mut kept, 0.3);
        assert_eq!(kept, vec![0.3, 0.1, 0.2], "floor(0.9) = 0 values go");
    }
}
