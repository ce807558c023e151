//! Feature maps upsampled to a pixel grid without materialising them.
//!
//! NAS clusters pixels by their bicubically upsampled, standardised and weighted activations: a
//! `(pixels x features)` matrix of 50176 x 896 floats for ResNet-18 at 224x224. Upsampling is
//! linear and standardisation is affine, so every quantity k-means needs (a pixel's features, the
//! dot product of every pixel with a centre, the sum of the features of a set of pixels, each
//! channel's mean and variance over the grid) can be computed on the low-resolution maps and then
//! upsampled as a scalar map. `UpsampledFeatures` offers those operations exactly; `dense()`
//! builds the full matrix for clusterers that need it.

mod assignment;
mod cluster_sums;
mod level;
mod taps;

pub use assignment::{BoundedAssignment, Change};
pub use cluster_sums::ClusterSums;
use level::Level;
use nas_simd::vectorized;
use ndarray::Array2;
use rayon::prelude::*;
use taps::blend_row;
pub use taps::Taps;

/// How channels are scaled before weighting, when done implicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImplicitScaling {
    /// Raw upsampled activations.
    None,
    /// Zero mean, unit variance per channel over the grid.
    Standardize,
}

/// The upsampled, scaled and weighted features of one image, held at low resolution.
#[derive(Debug, Clone)]
pub struct UpsampledFeatures {
    levels: Vec<Level>,
    height: usize,
    width: usize,
    mean_variance: f64,
    total_square: f64,
}

impl UpsampledFeatures {
    /// Builds from `(channels, h, w, values)` levels, the output grid, the scaling and one weight
    /// per level.
    pub fn new(
        levels: Vec<(usize, usize, usize, Vec<f32>)>,
        grid: [usize; 2],
        scaling: ImplicitScaling,
        weights: &[f32],
    ) -> UpsampledFeatures {
        let [height, width] = grid;
        let mut out = Vec::with_capacity(levels.len());
        let mut variance_sum = 0f64;
        let mut total_square = 0f64;
        let mut features = 0usize;
        for ((channels, h, w, mut values), &weight) in levels.into_iter().zip(weights) {
            let cols = Taps::bicubic(w, width);
            let mut level = Level {
                channels,
                h,
                w,
                values: Vec::new(),
                rows: Taps::bicubic(h, height),
                col_prefix: cols.prefix_sums(),
                cols_t: transpose(&cols.matrix(), width, w),
                positions: Vec::new(),
                cols,
            };
            let moments = level.channel_moments(&values);
            for (c, (mean, square)) in moments.iter().enumerate() {
                let variance = (square - mean * mean).max(0.0);
                let (shift, scale) = match scaling {
                    ImplicitScaling::None => (0.0, weight),
                    ImplicitScaling::Standardize => {
                        let std = variance.sqrt();
                        (*mean as f32, if std > 1e-12 { weight / std as f32 } else { weight })
                    }
                };
                for v in &mut values[c * h * w..(c + 1) * h * w] {
                    *v = (*v - shift) * scale;
                }
                let s2 = f64::from(scale) * f64::from(scale);
                let new_mean = (mean - f64::from(shift)) * f64::from(scale);
                variance_sum += variance * s2;
                total_square += (variance * s2 + new_mean * new_mean) * (height * width) as f64;
            }
            features += channels;
            level.positions = transpose(&values, channels, h * w);
            level.values = values;
            out.push(level);
        }
        UpsampledFeatures {
            levels: out,
            height,
            width,
            mean_variance: variance_sum / features.max(1) as f64,
            total_square,
        }
    }

    /// Number of pixels of the grid.
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Total number of features (channels of all levels).
    pub fn dims(&self) -> usize {
        self.levels.iter().map(|l| l.channels).sum()
    }

    /// The grid `[height, width]`.
    pub fn grid(&self) -> [usize; 2] {
        [self.height, self.width]
    }

    /// Mean over features of each feature's variance across pixels (k-means' tolerance scale).
    pub fn mean_variance(&self) -> f64 {
        self.mean_variance
    }

    /// Sum over pixels of each pixel's squared feature norm.
    pub fn total_square(&self) -> f64 {
        self.total_square
    }

    /// The feature vector of pixel `p` (row-major index).
    pub fn pixel(&self, p: usize) -> Vec<f32> {
        let (y, x) = (p / self.width, p % self.width);
        let mut out = Vec::with_capacity(self.dims());
        for l in &self.levels {
            let (ri, rw) = (l.rows.index[y], l.rows.weight[y]);
            let (ci, cw) = (l.cols.index[x], l.cols.weight[x]);
            for c in 0..l.channels {
                let m = &l.values[c * l.h * l.w..(c + 1) * l.h * l.w];
                let mut v = 0f32;
                for i in 0..4 {
                    let row = &m[ri[i] * l.w..];
                    v += rw[i] * (cw[0] * row[ci[0]] + cw[1] * row[ci[1]] + cw[2] * row[ci[2]] + cw[3] * row[ci[3]]);
                }
                out.push(v);
            }
        }
        out
    }

    /// `F(p) . center` for every pixel `p` (row-major).
    pub fn dot(&self, center: &[f32]) -> Vec<f32> {
        let mut out = vec![0f32; self.pixels()];
        let mut offset = 0;
        for l in &self.levels {
            let projected = l.project(&[center], offset);
            offset += l.channels;
            l.upsample_add(&projected, &mut out);
        }
        out
    }

    /// Squared feature norm of every pixel (row-major).
    pub fn squared_norms(&self) -> Vec<f32> {
        let mut norms = vec![0f64; self.pixels()];
        for l in &self.levels {
            l.add_squared_norms(&mut norms, self.width);
        }
        norms.into_iter().map(|v| v as f32).collect()
    }

    /// The closest of `centres` to every pixel and the squared distance to it, with `norms` from
    /// [`UpsampledFeatures::squared_norms`]; ties go to the lower index. The same numbers as
    /// [`UpsampledFeatures::dot`] per centre, in one pass over the grid for all centres.
    pub fn nearest(&self, centres: &[Vec<f32>], norms: &[f32]) -> (Vec<u32>, Vec<f32>) {
        let width = self.width;
        let centre_norms = centre_norms(centres);
        let widened = self.widened_centres(centres);
        let mut labels = vec![0u32; self.pixels()];
        let mut dist = vec![0f32; self.pixels()];
        labels
            .par_chunks_mut(width)
            .zip(dist.par_chunks_mut(width))
            .enumerate()
            .for_each(|(y, (labels, dist))| {
                // Rows of the grid are long: AVX-512 where the CPU has it (13% off k-means).
                vectorized(
                    #[inline(always)]
                    || {
                        let mut scores = vec![0f32; centres.len() * width];
                        self.row_scores(&widened, y, &mut scores);
                        // Centre by centre across the row (vectorises); ties keep the lower index.
                        let row_norms = &norms[y * width..(y + 1) * width];
                        dist.fill(f32::INFINITY);
                        labels.fill(0);
                        for (i, (score, centre_norm)) in scores.chunks(width).zip(&centre_norms).enumerate() {
                            for (((label, best), norm), s) in labels.iter_mut().zip(dist.iter_mut()).zip(row_norms).zip(score) {
                                let d = squared_distance(*norm, *s, *centre_norm);
                                let closer = d < *best;
                                *best = if closer { d } else { *best };
                                *label = if closer { i as u32 } else { *label };
                            }
                        }
                    },
                )
            });
        (labels, dist)
    }

    /// Each level's projection of `centres` on its channels, widened to the grid's width
    /// (`k x h x width` per level): what the scores of grid rows are blended from.
    fn widened_centres(&self, centres: &[Vec<f32>]) -> Vec<Vec<f32>> {
        let mut offset = 0;
        self.levels
            .iter()
            .map(|l| {
                let w = l.widen(&l.project(centres, offset));
                offset += l.channels;
                w
            })
            .collect()
    }

    /// `F(p) . c_i` for every pixel `p` of grid row `y` and every centre `i`, from
    /// [`UpsampledFeatures::widened_centres`]: `scores` is `k x width`, zeroed by the caller.
    #[inline(always)]
    fn row_scores(&self, widened: &[Vec<f32>], y: usize, scores: &mut [f32]) {
        let width = self.width;
        for (l, wide) in self.levels.iter().zip(widened) {
            for (score, block) in scores.chunks_mut(width).zip(wide.chunks(l.h * width)) {
                let (wt, taps) = l.source_rows(block, y);
                blend_row(&wt, &taps, score, |v, u| *v += u);
            }
        }
    }

    /// The scores of [`UpsampledFeatures::row_scores`] for the pixels `xs` of row `y`, with
    /// the same operations in the same order, so the same bits: `scores` is `xs.len() x k`.
    fn pixel_scores(&self, widened: &[Vec<f32>], y: usize, xs: &[usize], scores: &mut [f32]) {
        let (width, k) = (self.width, scores.len() / xs.len().max(1));
        scores.fill(0.0);
        for (l, wide) in self.levels.iter().zip(widened) {
            let (wt, idx) = (l.rows.weight[y], l.rows.index[y]);
            let block = l.h * width;
            for (&x, pixel) in xs.iter().zip(scores.chunks_mut(k)) {
                let at = idx.map(|a| a * width + x);
                for (i, score) in pixel.iter_mut().enumerate() {
                    let centre = &wide[i * block..(i + 1) * block];
                    *score += wt[0] * centre[at[0]] + wt[1] * centre[at[1]] + wt[2] * centre[at[2]] + wt[3] * centre[at[3]];
                }
            }
        }
    }

    /// The sum of the feature vectors of each cluster's pixels (`labels` in `0..k`), and each
    /// cluster's size: the indicator maps taken down by the transposed interpolation, then
    /// projected on the channels.
    pub fn cluster_sums(&self, labels: &[u32], k: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
        let sums = ClusterSums::new(self, labels, k);
        let as_f32 = sums.sums().iter().map(|s| s.iter().map(|v| *v as f32).collect()).collect();
        (as_f32, sums.sizes().to_vec())
    }

    /// The full `(pixels, features)` matrix, for clusterers that need it.
    pub fn dense(&self) -> Array2<f32> {
        let (n, d) = (self.pixels(), self.dims());
        let mut out = Array2::<f32>::zeros((n, d));
        let mut offset = 0;
        for l in &self.levels {
            let hw = l.h * l.w;
            for c in 0..l.channels {
                let mut grid = vec![0f32; n];
                l.upsample_add(&l.values[c * hw..(c + 1) * hw], &mut grid);
                for (p, v) in grid.into_iter().enumerate() {
                    out[[p, offset + c]] = v;
                }
            }
            offset += l.channels;
        }
        out
    }
}

/// `rows x cols` row-major values, transposed.
fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0f32; values.len()];
    for (r, row) in values.chunks(cols).enumerate() {
        for (c, v) in row.iter().enumerate() {
            out[c * rows + r] = *v;
        }
    }
    out
}

/// Squared norm of each centre, as the assignment steps use it.
fn centre_norms(centres: &[Vec<f32>]) -> Vec<f32> {
    centres.iter().map(|c| c.iter().map(|v| v * v).sum()).collect()
}

/// `|F|^2 - 2 F.c + |c|^2` from a pixel's squared norm, its score and the centre's squared norm,
/// clamped at 0 (rounding can take it below).
#[inline(always)]
fn squared_distance(norm: f32, score: f32, centre_norm: f32) -> f32 {
    (norm - 2.0 * score + centre_norm).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_levels() -> Vec<(usize, usize, usize, Vec<f32>)> {
        let make = |c: usize, h: usize, w: usize, seed: u32| {
            let values = (0..c * h * w)
                .map(|i| (((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) % 1000) as f32 / 100.0 - 5.0)
                .collect();
            (c, h, w, values)
        };
        vec![make(3, 5, 4, 1), make(2, 3, 3, 7)]
    }

    #[test]
    fn implicit_operations_match_the_dense_matrix() {
        let f = UpsampledFeatures::new(sample_levels(), [11, 9], ImplicitScaling::Standardize, &[1.0, 0.5]);
        let dense = f.dense();
        let (n, d) = dense.dim();
        assert_eq!((n, d), (99, 5));
        // Standardised columns: mean 0, variance weight^2.
        for c in 0..d {
            let col = dense.column(c);
            let mean = col.iter().map(|v| f64::from(*v)).sum::<f64>() / n as f64;
            let var = col.iter().map(|v| (f64::from(*v) - mean).powi(2)).sum::<f64>() / n as f64;
            let expected = if c < 3 { 1.0 } else { 0.25 };
            assert!(mean.abs() < 1e-4, "column {c} mean {mean}");
            assert!((var - expected).abs() < 1e-3, "column {c} variance {var}");
        }
        let total: f64 = dense.iter().map(|v| f64::from(*v).powi(2)).sum();
        assert!((total - f.total_square()).abs() < 1e-3 * total, "{total} vs {}", f.total_square());
        let center = vec![0.3, -1.0, 2.0, 0.5, -0.25];
        let dots = f.dot(&center);
        let norms = f.squared_norms();
        let labels: Vec<u32> = (0..n as u32).map(|p| p % 3).collect();
        let (sums, sizes) = f.cluster_sums(&labels, 4);
        assert_eq!(sizes, vec![33, 33, 33, 0]);
        let centres = vec![center.clone(), vec![0.0; d], vec![-0.5, 0.2, 0.1, 1.0, 0.0]];
        let (nearest, dist) = f.nearest(&centres, &norms);
        for p in 0..n {
            let row = dense.row(p);
            let expected: f32 = row.iter().zip(&center).map(|(a, b)| a * b).sum();
            assert!((dots[p] - expected).abs() < 1e-4, "dot at {p}");
            let norm: f64 = row.iter().map(|v| f64::from(*v).powi(2)).sum();
            assert!(
                (f64::from(norms[p]) - norm).abs() <= 1e-5 * norm.max(1.0),
                "norm at {p}: {} vs {norm}",
                norms[p]
            );
            let distances: Vec<f32> = centres
                .iter()
                .map(|c| row.iter().zip(c).map(|(a, b)| (a - b).powi(2)).sum())
                .collect();
            let closest = (0..3).fold(0, |b, i| if distances[i] < distances[b] { i } else { b });
            assert!((dist[p] - distances[closest]).abs() < 1e-3, "distance at {p}");
            assert!(distances[nearest[p] as usize] <= distances[closest] + 1e-4, "nearest at {p}");
            let pixel = f.pixel(p);
            for c in 0..d {
                assert!((pixel[c] - row[c]).abs() < 1e-5);
            }
        }
        for (i, sum) in sums.iter().enumerate().take(3) {
            for c in 0..d {
                let expected: f32 = (i..n).step_by(3).map(|p| dense[[p, c]]).sum();
                assert!((sum[c] - expected).abs() < 1e-3, "sum of column {c} over cluster {i}");
            }
        }
        assert!(sums[3].iter().all(|v| *v == 0.0), "an empty cluster sums to zero");

        // Labels in runs along the rows, as superpixels give (sums add whole runs at once).
        let blocky: Vec<u32> = (0..n as u32).map(|p| (p / 4 + p / 33) % 3).collect();
        let (sums, sizes) = f.cluster_sums(&blocky, 3);
        for (i, (sum, size)) in sums.iter().zip(&sizes).enumerate() {
            let members: Vec<usize> = (0..n).filter(|p| blocky[*p] as usize == i).collect();
            assert_eq!(*size, members.len());
            for c in 0..d {
                let expected: f32 = members.iter().map(|p| dense[[*p, c]]).sum();
                assert!((sum[c] - expected).abs() < 1e-3, "run sums: column {c}, cluster {i}");
            }
        }
    }

    #[test]
    fn bounded_assignment_follows_moving_centres() {
        let f = UpsampledFeatures::new(sample_levels(), [11, 9], ImplicitScaling::Standardize, &[1.0, 0.5]);
        let norms = f.squared_norms();
        let centres = |shift: f32, k: usize| -> Vec<Vec<f32>> {
            (0..k)
                .map(|i| f.pixel(i * 31 % 99).iter().map(|v| v + shift * i as f32).collect())
                .collect()
        };
        let mut assignment = BoundedAssignment::new(&f, centres(0.0, 3), &norms);
        assert_eq!(assignment.labels(), f.nearest(assignment.centres(), &norms).0);
        // Small moves, a large one, then fewer centres: always the labels of a full assignment,
        // and the reported changes lead from the old labels to the new ones.
        for (shift, k) in [(0.01, 3), (0.02, 3), (2.0, 3), (0.5, 2)] {
            let before = assignment.labels().to_vec();
            let changes = assignment.update(&f, centres(shift, k), &norms);
            let (full, _) = f.nearest(assignment.centres(), &norms);
            assert_eq!(assignment.labels(), full, "shift {shift}, k {k}");
            let mut replayed = before;
            for c in &changes {
                assert_eq!(replayed[c.pixel], c.from);
                replayed[c.pixel] = c.to;
            }
            assert_eq!(replayed, full);
        }
    }

    #[test]
    fn upsampling_matches_pytorch_bicubic() {
        // torch.nn.functional.interpolate((torch.arange(12.) ** 2).reshape(1, 1, 3, 4), size=(7, 5),
        // mode="bicubic", align_corners=False), torch 2.15.
        let expected = [
            -1.756884f32,
            -1.8931997,
            -0.936218,
            1.8867624,
            4.877446,
            1.192982,
            2.2234764,
            4.7256336,
            9.093792,
            13.251286,
            3.9532003,
            6.9570775,
            12.072531,
            19.05399,
            25.184864,
            15.453254,
            21.276257,
            30.125,
            40.839752,
            49.78975,
            37.029106,
            45.67123,
            58.253258,
            72.7013,
            84.47042,
            57.42201,
            68.03752,
            83.23285,
            100.294205,
            114.036705,
            68.16196,
            79.94428,
            96.68478,
            115.2913,
            130.2006,
        ];
        let input: Vec<f32> = (0..12).map(|i| (i * i) as f32).collect();
        let f = UpsampledFeatures::new(vec![(1, 3, 4, input)], [7, 5], ImplicitScaling::None, &[1.0]);
        let dense = f.dense();
        for (a, b) in dense.iter().zip(expected) {
            assert!((a - b).abs() < 1e-4 * b.abs().max(1.0), "{a} vs {b}");
        }
    }
}
