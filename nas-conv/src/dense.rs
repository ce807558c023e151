//! Fully connected layers on host values, `y = x W^T + b` with `W` as PyTorch stores it (`(out,
//! in)`, row-major), and their input gradient `g W`. Each photo's result is computed alone, in a
//! fixed order, whatever else is in the batch, so a batch gives exactly the single runs' values
//! (a matrix product picks other kernels, and other summation orders, for other batch sizes);
//! `W` is still read once per call, which is what a classifier's large matrix costs.

use rayon::prelude::*;

/// Values summed side by side in the dot products (wide enough for the compiler to vectorise).
const LANES: usize = 16;

/// Outputs per parallel task in [`forward`].
const OUTPUTS_PER_TASK: usize = 64;

/// Inputs per parallel task in [`input_gradient`].
const INPUTS_PER_TASK: usize = 2048;

/// `x` `(rows, inputs)` times `W^T` plus `bias`: `(rows, outputs)`, row-major. `weight` is
/// `(outputs, inputs)`.
pub fn forward(x: &[f32], rows: usize, weight: &[f32], bias: &[f32], outputs: usize) -> Vec<f32> {
    let inputs = weight.len().checked_div(outputs).unwrap_or(0);
    assert!(
        x.len() == rows * inputs && weight.len() == outputs * inputs && bias.len() == outputs,
        "dense layer of mismatched shapes"
    );
    let mut y = vec![0f32; rows * outputs];
    let blocks: Vec<Vec<f32>> = (0..outputs)
        .into_par_iter()
        .step_by(OUTPUTS_PER_TASK)
        .map(|first| {
            let last = (first + OUTPUTS_PER_TASK).min(outputs);
            let mut block = Vec::with_capacity(rows * (last - first));
            for o in first..last {
                let w = &weight[o * inputs..][..inputs];
                block.extend(x.chunks_exact(inputs.max(1)).take(rows).map(|row| dot(w, row) + bias[o]));
            }
            block
        })
        .collect();
    for (b, block) in blocks.iter().enumerate() {
        let first = b * OUTPUTS_PER_TASK;
        for (k, value) in block.iter().enumerate() {
            let (o, r) = (first + k / rows.max(1), k % rows.max(1));
            y[r * outputs + o] = *value;
        }
    }
    y
}

/// The gradient with respect to the input `(rows, inputs)` of `grad` `(rows, outputs)`, the
/// gradient with respect to the output: `grad W`.
pub fn input_gradient(grad: &[f32], rows: usize, weight: &[f32], outputs: usize) -> Vec<f32> {
    let inputs = weight.len().checked_div(outputs).unwrap_or(0);
    assert!(
        grad.len() == rows * outputs && weight.len() == outputs * inputs,
        "dense layer gradient of mismatched shapes"
    );
    let blocks: Vec<Vec<f32>> = (0..inputs)
        .into_par_iter()
        .step_by(INPUTS_PER_TASK)
        .map(|first| {
            let width = INPUTS_PER_TASK.min(inputs - first);
            let mut block = vec![0f32; rows * width];
            for o in 0..outputs {
                let w = &weight[o * inputs + first..][..width];
                for (r, out) in block.chunks_exact_mut(width).enumerate() {
                    let g = grad[r * outputs + o];
                    if g != 0.0 {
                        out.iter_mut().zip(w).for_each(|(v, w)| *v += g * w);
                    }
                }
            }
            block
        })
        .collect();
    let mut x = vec![0f32; rows * inputs];
    for (b, block) in blocks.iter().enumerate() {
        let first = b * INPUTS_PER_TASK;
        let width = INPUTS_PER_TASK.min(inputs - first);
        for (r, values) in block.chunks_exact(width).enumerate() {
            x[r * inputs + first..][..width].copy_from_slice(values);
        }
    }
    x
}

/// `a . b` summed in `LANES` lanes, then the lanes in order: the same order for every call.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks.remainder().iter().zip(b_chunks.remainder()).map(|(x, y)| x * y).sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::{forward, input_gradient};

    fn values(n: usize, seed: u32) -> Vec<f32> {
        (0..n)
            .map(|i| (((i as u32).wrapping_mul(2_654_435_761) ^ seed) % 1000) as f32 / 500.0 - 1.0)
            .collect()
    }

    /// Against the sums written out, and a batch of three against each row alone, bit for bit.
    #[test]
    fn rows_are_computed_alone_and_right() {
        let (rows, inputs, outputs) = (3, 37, 70);
        let (x, w, b) = (values(rows * inputs, 1), values(outputs * inputs, 2), values(outputs, 3));
        let y = forward(&x, rows, &w, &b, outputs);
        for r in 0..rows {
            for o in 0..outputs {
                let expected: f32 = (0..inputs).map(|i| x[r * inputs + i] * w[o * inputs + i]).sum::<f32>() + b[o];
                assert!((y[r * outputs + o] - expected).abs() < 1e-4, "{r} {o}");
            }
            let alone = forward(&x[r * inputs..][..inputs], 1, &w, &b, outputs);
            assert_eq!(alone, y[r * outputs..][..outputs].to_vec());
        }
        let g = values(rows * outputs, 4);
        let gx = input_gradient(&g, rows, &w, outputs);
        for r in 0..rows {
            for i in 0..inputs {
                let expected: f32 = (0..outputs).map(|o| g[r * outputs + o] * w[o * inputs + i]).sum();
                assert!((gx[r * inputs + i] - expected).abs() < 1e-4, "{r} {i}");
            }
            let alone = input_gradient(&g[r * outputs..][..outputs], 1, &w, outputs);
            assert_eq!(alone, gx[r * inputs..][..inputs].to_vec());
        }
    }
}
