//! One depth level of upsampled features: its low-resolution values and the operations that
//! carry them, or scalar maps made from them, to the output grid.

use super::taps::{blend_row, Taps};
use nas_conv::matmul::{multiply, Layout};
use nas_simd::vectorized;
use rayon::prelude::*;

/// One depth level: `channels x h x w` low-resolution values (already scaled and weighted) and
/// the taps that carry them to the output grid.
#[derive(Debug, Clone)]
pub(super) struct Level {
    pub(super) channels: usize,
    pub(super) h: usize,
    pub(super) w: usize,
    pub(super) values: Vec<f32>,
    pub(super) rows: Taps,
    pub(super) cols: Taps,
    /// `cols.prefix_sums()`, kept for the cluster sums of every k-means iteration.
    pub(super) col_prefix: Vec<f64>,
    /// The column taps as a dense `w x grid width` matrix (transposed interpolation matrix).
    pub(super) cols_t: Vec<f32>,
    /// The values position-major: `h w x channels`, each position's feature vector contiguous.
    pub(super) positions: Vec<f32>,
}

impl Level {
    /// Upsamples one scalar `h x w` map to the grid, adding it into `out` (row-major).
    pub(super) fn upsample_add(&self, map: &[f32], out: &mut [f32]) {
        let horizontal = self.widen(map);
        out.par_chunks_mut(self.cols.len()).enumerate().for_each(|(y, line)| {
            let (wt, taps) = self.source_rows(&horizontal, y);
            blend_row(&wt, &taps, line, |v, u| *v += u);
        });
    }

    /// Adds the squared norm of this level's part of every grid pixel's feature vector to `out`
    /// (row-major, `width` wide), in f64.
    ///
    /// A grid pixel blends at most 4 x 4 low-resolution pixels, so its squared norm is a
    /// quadratic form in the inner products of low-resolution pixels at most 3 apart: those are
    /// computed once (28 offsets x h x w x channels), taken along x for every pair of source
    /// rows, then along y, instead of upsampling every channel to the grid.
    pub(super) fn add_squared_norms(&self, out: &mut [f64], width: usize) {
        const REACH: usize = 3;
        const SPAN: usize = 2 * REACH + 1;
        let (h, w, hw) = (self.h, self.w, self.h * self.w);
        // gram[(da * SPAN + db + REACH) * hw + a * w + b] = <X(a, b), X(a + da, b + db)>.
        let mut gram = vec![0f64; (REACH + 1) * SPAN * hw];
        gram.par_chunks_mut(hw).enumerate().for_each(|(offset, dst)| {
            let da = offset / SPAN;
            let db = (offset % SPAN) as isize - REACH as isize;
            // Columns b with b + db inside the map.
            let (first, end) = ((-db).max(0) as usize, (w as isize - db.max(0)).max(0) as usize);
            if first >= end {
                return;
            }
            let shifted = (first as isize + db) as usize;
            for c in 0..self.channels {
                let x = &self.values[c * hw..(c + 1) * hw];
                for a in 0..h.saturating_sub(da) {
                    let row = &x[a * w + first..a * w + end];
                    let other = &x[(a + da) * w + shifted..(a + da) * w + shifted + (end - first)];
                    for ((v, p), q) in dst[a * w + first..a * w + end].iter_mut().zip(row).zip(other) {
                        *v += f64::from(*p) * f64::from(*q);
                    }
                }
            }
        });
        let inner = |a: usize, b: usize, a2: usize, b2: usize| -> f64 {
            let ((a, b), (a2, b2)) = if a2 >= a { ((a, b), (a2, b2)) } else { ((a2, b2), (a, b)) };
            let db = b2 as isize - b as isize + REACH as isize;
            gram[((a2 - a) * SPAN + db as usize) * hw + a * w + b]
        };
        // along[(a * SPAN + da + REACH) * width + x]: the x-blend of rows a and a + da.
        let mut along = vec![0f64; h * SPAN * width];
        along.par_chunks_mut(width).enumerate().for_each(|(pair, line)| {
            let (a, da) = (pair / SPAN, (pair % SPAN) as isize - REACH as isize);
            let a2 = a as isize + da;
            if a2 < 0 || a2 as usize >= h {
                return;
            }
            for (x, v) in line.iter_mut().enumerate() {
                let (idx, wt) = (self.cols.index[x], self.cols.weight[x]);
                let mut sum = 0f64;
                for j in 0..4 {
                    for j2 in 0..4 {
                        sum += f64::from(wt[j]) * f64::from(wt[j2]) * inner(a, idx[j], a2 as usize, idx[j2]);
                    }
                }
                *v = sum;
            }
        });
        out.par_chunks_mut(width).enumerate().for_each(|(y, line)| {
            let (idx, wt) = (self.rows.index[y], self.rows.weight[y]);
            for i in 0..4 {
                for i2 in 0..4 {
                    let coefficient = f64::from(wt[i]) * f64::from(wt[i2]);
                    let da = idx[i2] as isize - idx[i] as isize + REACH as isize;
                    let row = &along[(idx[i] * SPAN + da as usize) * width..][..width];
                    for (v, u) in line.iter_mut().zip(row) {
                        *v += coefficient * u;
                    }
                }
            }
        });
    }

    /// The four rows of a widened `h x grid width` block, and their weights, that make grid row `y`.
    pub(super) fn source_rows<'a>(&self, block: &'a [f32], y: usize) -> ([f32; 4], [&'a [f32]; 4]) {
        let width = self.cols.len();
        (self.rows.weight[y], self.rows.index[y].map(|a| &block[a * width..(a + 1) * width]))
    }

    /// Horizontal pass of `maps` (`n x h x w`): `n x h x grid width`, as one matrix product
    /// with the transposed column taps.
    pub(super) fn widen(&self, maps: &[f32]) -> Vec<f32> {
        let (rows, width) = (maps.len() / self.w, self.cols.len());
        let mut out = vec![0f32; rows * width];
        multiply(
            &mut out,
            Layout::dense(rows, width),
            maps,
            Layout::dense(rows, self.w),
            &self.cols_t,
            Layout::dense(self.w, width),
            1,
        );
        out
    }

    /// `n` maps projected from the channels: map `i` is `sum_c coefficients[i][offset + c] * X_c`,
    /// as one matrix product (`n x channels` by `channels x h w`).
    pub(super) fn project<C: AsRef<[f32]>>(&self, coefficients: &[C], offset: usize) -> Vec<f32> {
        let (n, hw) = (coefficients.len(), self.h * self.w);
        let lhs: Vec<f32> = coefficients
            .iter()
            .flat_map(|c| c.as_ref()[offset..offset + self.channels].iter().copied())
            .collect();
        let mut out = vec![0f32; n * hw];
        multiply(
            &mut out,
            Layout::dense(n, hw),
            &lhs,
            Layout::dense(n, self.channels),
            &self.values,
            Layout::dense(self.channels, hw),
            1,
        );
        out
    }

    /// The largest squared norm of a low-resolution position's feature vector.
    pub(super) fn largest_squared_norm(&self) -> f64 {
        let hw = self.h * self.w;
        let mut squares = vec![0f64; hw];
        for channel in self.values.chunks(hw) {
            for (s, v) in squares.iter_mut().zip(channel) {
                *s += f64::from(*v) * f64::from(*v);
            }
        }
        squares.into_iter().fold(0.0, f64::max)
    }

    /// Mean and mean square of each upsampled channel over the grid, from the low-res values.
    pub(super) fn channel_moments(&self, values: &[f32]) -> Vec<(f64, f64)> {
        let (gy, gx) = (self.rows.gram(), self.cols.gram());
        let (sy, sx) = (self.rows.column_sums(), self.cols.column_sums());
        let n = (self.rows.len() * self.cols.len()) as f64;
        let (h, w) = (self.h, self.w);
        (0..self.channels)
            .into_par_iter()
            .map(|c| {
                let x = &values[c * h * w..(c + 1) * h * w];
                let mut sum = 0f64;
                for a in 0..h {
                    for b in 0..w {
                        sum += f64::from(sy[a]) * f64::from(sx[b]) * f64::from(x[a * w + b]);
                    }
                }
                // tr(Gy X Gx X^T) = sum over a, a' of Gy[a, a'] * (X Gx X^T)[a', a]. X Gx row by
                // row as a sum of scaled rows of Gx (vectorises; each entry adds its terms in
                // the order of b2, as a dot product would).
                let mut xg = vec![0f64; h * w];
                vectorized(
                    #[inline(always)]
                    || {
                        for (xg_row, x_row) in xg.chunks_mut(w).zip(x.chunks(w)) {
                            for (value, gx_row) in x_row.iter().zip(gx.chunks(w)) {
                                for (out, g) in xg_row.iter_mut().zip(gx_row) {
                                    *out += f64::from(*value) * f64::from(*g);
                                }
                            }
                        }
                    },
                );
                let mut square = 0f64;
                for a in 0..h {
                    for a2 in 0..h {
                        let g = f64::from(gy[a * h + a2]);
                        if g == 0.0 {
                            continue;
                        }
                        let mut s = 0f64;
                        for b in 0..w {
                            s += xg[a2 * w + b] * f64::from(x[a * w + b]);
                        }
                        square += g * s;
                    }
                }
                (sum / n, square / n)
            })
            .collect()
    }
}
