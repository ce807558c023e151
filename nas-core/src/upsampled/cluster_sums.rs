//! The sum of the upsampled feature vectors of each cluster's pixels, kept up to date as pixels
//! move between clusters.
//!
//! A cluster's sum is its indicator map taken down to each level by the transposed bicubic
//! interpolation, then projected on the level's channels. A pixel that moves changes the
//! taken-down maps of two clusters at 4 x 4 low-resolution positions per level, so an update costs
//! the touched positions times the channels instead of the whole grid (the levels keep each
//! position's feature vector contiguous for this). Sums are kept in f64, so they do not drift
//! over hundreds of updates.

use super::assignment::Change;
use super::level::Level;
use super::UpsampledFeatures;
use nas_simd::vectorized;
use rayon::prelude::*;

/// Per-cluster sizes and feature sums for a labelling of the grid.
#[derive(Debug, Clone)]
pub struct ClusterSums {
    sizes: Vec<usize>,
    /// `k x features`.
    sums: Vec<Vec<f64>>,
}

impl ClusterSums {
    /// Sums for `labels` (one per grid pixel, row-major, in `0..k`).
    pub fn new(features: &UpsampledFeatures, labels: &[u32], k: usize) -> ClusterSums {
        let mut sizes = vec![0usize; k];
        for l in labels {
            sizes[*l as usize] += 1;
        }
        let mut sums = vec![vec![0.0; features.dims()]; k];
        let mut offset = 0;
        for l in &features.levels {
            let hw = l.h * l.w;
            let down = take_down(l, labels, k, features.width);
            sums.par_iter_mut()
                .zip(down.par_chunks(hw))
                .for_each(|(sum, down)| add_positions(&mut sum[offset..offset + l.channels], l, down));
            offset += l.channels;
        }
        ClusterSums { sizes, sums }
    }

    /// Moves the pixels of `changes` (from an assignment step) between clusters.
    pub fn apply(&mut self, features: &UpsampledFeatures, changes: &[Change]) {
        if changes.is_empty() {
            return;
        }
        for change in changes {
            self.sizes[change.from as usize] -= 1;
            self.sizes[change.to as usize] += 1;
        }
        let k = self.sizes.len();
        let mut offset = 0;
        for l in &features.levels {
            let hw = l.h * l.w;
            // The change of each cluster's taken-down map.
            let mut delta = vec![0f64; k * hw];
            for change in changes {
                let (y, x) = (change.pixel / features.width, change.pixel % features.width);
                let (ri, rw) = (l.rows.index[y], l.rows.weight[y]);
                let (ci, cw) = (l.cols.index[x], l.cols.weight[x]);
                for (a, wa) in ri.iter().zip(rw) {
                    for (b, wb) in ci.iter().zip(cw) {
                        let weight = f64::from(wa) * f64::from(wb);
                        let position = a * l.w + b;
                        delta[change.to as usize * hw + position] += weight;
                        delta[change.from as usize * hw + position] -= weight;
                    }
                }
            }
            for (sum, delta) in self.sums.iter_mut().zip(delta.chunks(hw)) {
                add_positions(&mut sum[offset..offset + l.channels], l, delta);
            }
            offset += l.channels;
        }
    }

    /// Number of pixels in each cluster.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Each cluster's feature sum.
    pub fn sums(&self) -> &[Vec<f64>] {
        &self.sums
    }
}

/// Adds to `sum` (level `l`'s part of a cluster sum) each low-resolution position's feature
/// vector times its weight in `weights` (one per position; zeros are skipped). Compiled for
/// AVX-512 where the CPU has it: 8 f64 lanes instead of 2.
fn add_positions(sum: &mut [f64], l: &Level, weights: &[f64]) {
    vectorized(
        #[inline(always)]
        || {
            for (values, weight) in l.positions.chunks(l.channels).zip(weights) {
                if *weight != 0.0 {
                    for (s, v) in sum.iter_mut().zip(values) {
                        *s += weight * f64::from(*v);
                    }
                }
            }
        },
    )
}

/// Each cluster's indicator map over the grid, taken down to level `l` by the transposed
/// interpolation: `k x h x w`. Labels come in runs along a grid row; a run adds a difference of
/// running sums of the column taps instead of four weights per pixel.
fn take_down(l: &Level, labels: &[u32], k: usize, width: usize) -> Vec<f64> {
    let prefix = &l.col_prefix;
    // Per grid row, along x first: `height x k x w`.
    let mut narrow = vec![0f64; labels.len() / width * k * l.w];
    narrow
        .par_chunks_mut(k * l.w)
        .zip(labels.par_chunks(width))
        .for_each(|(row, labels)| {
            let mut start = 0;
            while start < labels.len() {
                let label = labels[start] as usize;
                let end = labels[start..]
                    .iter()
                    .position(|&v| v as usize != label)
                    .map_or(labels.len(), |n| start + n);
                let (before, after) = (&prefix[start * l.w..(start + 1) * l.w], &prefix[end * l.w..(end + 1) * l.w]);
                for ((v, a), b) in row[label * l.w..(label + 1) * l.w].iter_mut().zip(after).zip(before) {
                    *v += a - b;
                }
                start = end;
            }
        });
    // Then along y.
    let hw = l.h * l.w;
    let mut down = vec![0f64; k * hw];
    for (y, row) in narrow.chunks(k * l.w).enumerate() {
        let (idx, wt) = (l.rows.index[y], l.rows.weight[y]);
        for (i, cluster) in row.chunks(l.w).enumerate() {
            for (a, weight) in idx.iter().zip(wt) {
                let dst = &mut down[i * hw + a * l.w..i * hw + (a + 1) * l.w];
                for (d, v) in dst.iter_mut().zip(cluster) {
                    *d += f64::from(weight) * v;
                }
            }
        }
    }
    down
}
