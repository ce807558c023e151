//! Feature maps upsampled to a pixel grid without materialising them.
//!
//! NAS clusters pixels by their bicubically upsampled, standardised and weighted activations: a
//! `(pixels x features)` matrix of 50176 x 896 floats for ResNet-18 at 224x224. Upsampling is
//! linear and standardisation is affine, so every quantity k-means needs (a pixel's features, the
//! dot product of every pixel with a centre, the sum of the features of a set of pixels, each
//! channel's mean and variance over the grid) can be computed on the low-resolution maps and then
//! upsampled as a scalar map. `UpsampledFeatures` offers those operations exactly; `dense()`
//! builds the full matrix for clusterers that need it.

use nas_simd::vectorized;
use ndarray::Array2;
use rayon::prelude::*;

/// PyTorch's bicubic convolution constant.
const CUBIC_A: f32 = -0.75;

/// The four source taps and weights of every output index along one axis, as PyTorch's
/// `interpolate(mode="bicubic", align_corners=False)` computes them (indices clamped at borders).
#[derive(Debug, Clone)]
pub struct Taps {
    index: Vec<[usize; 4]>,
    weight: Vec<[f32; 4]>,
    input: usize,
}

impl Taps {
    /// Taps mapping `input` samples to `output` samples.
    pub fn bicubic(input: usize, output: usize) -> Taps {
        let scale = input as f32 / output as f32;
        let mut index = Vec::with_capacity(output);
        let mut weight = Vec::with_capacity(output);
        for o in 0..output {
            let src = (o as f32 + 0.5) * scale - 0.5;
            let floor = src.floor();
            let t = src - floor;
            let base = floor as i64;
            let clamp = |i: i64| i.clamp(0, input as i64 - 1) as usize;
            index.push([clamp(base - 1), clamp(base), clamp(base + 1), clamp(base + 2)]);
            let far = |x: f32| ((CUBIC_A * x - 5.0 * CUBIC_A) * x + 8.0 * CUBIC_A) * x - 4.0 * CUBIC_A;
            let near = |x: f32| ((CUBIC_A + 2.0) * x - (CUBIC_A + 3.0)) * x * x + 1.0;
            weight.push([far(t + 1.0), near(t), near(1.0 - t), far(2.0 - t)]);
        }
        Taps { index, weight, input }
    }

    /// Number of output samples.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no output samples.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Running sums of the rows of [`Taps::matrix`], in f64: `(output + 1) x input`, row `o`
    /// holding the sum of rows `0..o`. The weights a run of outputs `a..b` gives each input are
    /// row `b` minus row `a`.
    fn prefix_sums(&self) -> Vec<f64> {
        let mut sums = vec![0f64; (self.len() + 1) * self.input];
        for (o, (idx, w)) in self.index.iter().zip(&self.weight).enumerate() {
            let (done, next) = sums.split_at_mut((o + 1) * self.input);
            let next = &mut next[..self.input];
            next.copy_from_slice(&done[o * self.input..]);
            for (i, wt) in idx.iter().zip(w) {
                next[*i] += f64::from(*wt);
            }
        }
        sums
    }

    /// The interpolation as a dense `output x input` matrix (row-major), for matrix products
    /// on a tensor device.
    pub fn matrix(&self) -> Vec<f32> {
        let mut m = vec![0f32; self.len() * self.input];
        for (o, (idx, w)) in self.index.iter().zip(&self.weight).enumerate() {
            for i in 0..4 {
                m[o * self.input + idx[i]] += w[i];
            }
        }
        m
    }

    /// Row `output` of [`Taps::matrix`]: the weights that produce one output sample.
    pub fn row(&self, output: usize) -> Vec<f32> {
        let mut r = vec![0f32; self.input];
        for i in 0..4 {
            r[self.index[output][i]] += self.weight[output][i];
        }
        r
    }

    /// `R^T R` as a dense `input x input` matrix (row-major).
    fn gram(&self) -> Vec<f32> {
        let n = self.input;
        let mut g = vec![0f32; n * n];
        for (idx, w) in self.index.iter().zip(&self.weight) {
            for i in 0..4 {
                for j in 0..4 {
                    g[idx[i] * n + idx[j]] += w[i] * w[j];
                }
            }
        }
        g
    }

    /// `R^T 1`: how much each input sample contributes over all outputs.
    fn column_sums(&self) -> Vec<f32> {
        let mut s = vec![0f32; self.input];
        for (idx, w) in self.index.iter().zip(&self.weight) {
            for i in 0..4 {
                s[idx[i]] += w[i];
            }
        }
        s
    }
}

/// Blends a grid row from four source rows and hands each sample to `apply` with its place in
/// `out`: `apply(&mut out[x], sum_i weight[i] * rows[i][x])`. Zipped slices, so it vectorises.
#[inline(always)]
fn blend_row(weight: &[f32; 4], rows: &[&[f32]; 4], out: &mut [f32], apply: impl Fn(&mut f32, f32)) {
    let n = out.len();
    let (r0, r1, r2, r3) = (&rows[0][..n], &rows[1][..n], &rows[2][..n], &rows[3][..n]);
    for ((((o, a), b), c), d) in out.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
        apply(o, weight[0] * a + weight[1] * b + weight[2] * c + weight[3] * d);
    }
}

/// `sum_i a[i] * b[i]` kept in 16 running partial sums, which the compiler vectorises (a plain
/// iterator sum of f32 stays one scalar chain, f32 addition not being associative). Not inlined:
/// inlined, it cost `UpsampledFeatures::new` about 1 ms per image (measured with `nas bench`).
#[inline(never)]
fn lane_dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let (whole_a, whole_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = whole_a.remainder().iter().zip(whole_b.remainder()).map(|(x, y)| x * y).sum();
    let mut lanes = [0f32; LANES];
    for (x, y) in whole_a.zip(whole_b) {
        for i in 0..LANES {
            lanes[i] += x[i] * y[i];
        }
    }
    lanes.iter().sum::<f32>() + tail
}

/// One depth level: `channels x h x w` low-resolution values (already scaled and weighted) and
/// the taps that carry them to the output grid.
#[derive(Debug, Clone)]
struct Level {
    channels: usize,
    h: usize,
    w: usize,
    values: Vec<f32>,
    rows: Taps,
    cols: Taps,
    /// `cols.prefix_sums()`, kept for the cluster sums of every k-means iteration.
    col_prefix: Vec<f64>,
}

impl Level {
    /// Upsamples one scalar `h x w` map to the grid, adding it into `out` (row-major).
    fn upsample_add(&self, map: &[f32], out: &mut [f32]) {
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
    fn add_squared_norms(&self, out: &mut [f64], width: usize) {
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
    fn source_rows<'a>(&self, block: &'a [f32], y: usize) -> ([f32; 4], [&'a [f32]; 4]) {
        let width = self.cols.len();
        (self.rows.weight[y], self.rows.index[y].map(|a| &block[a * width..(a + 1) * width]))
    }

    /// Horizontal pass of `maps` (`n x h x w`): `n x h x grid width`.
    fn widen(&self, maps: &[f32]) -> Vec<f32> {
        let width = self.cols.len();
        let mut out = vec![0f32; maps.len() / self.w * width];
        out.par_chunks_mut(width).zip(maps.par_chunks(self.w)).for_each(|(line, row)| {
            for (v, (idx, wt)) in line.iter_mut().zip(self.cols.index.iter().zip(&self.cols.weight)) {
                *v = wt[0] * row[idx[0]] + wt[1] * row[idx[1]] + wt[2] * row[idx[2]] + wt[3] * row[idx[3]];
            }
        });
        out
    }

    /// `n` maps projected from the channels: map `i` is `sum_c coefficients[i][offset + c] * X_c`.
    fn project<C: AsRef<[f32]> + Sync>(&self, coefficients: &[C], offset: usize) -> Vec<f32> {
        let hw = self.h * self.w;
        let mut out = vec![0f32; coefficients.len() * hw];
        out.par_chunks_mut(hw).zip(coefficients).for_each(|(map, coefficient)| {
            for c in 0..self.channels {
                let weight = coefficient.as_ref()[offset + c];
                if weight != 0.0 {
                    for (p, v) in map.iter_mut().zip(&self.values[c * hw..(c + 1) * hw]) {
                        *p += weight * v;
                    }
                }
            }
        });
        out
    }

    /// Mean and mean square of each upsampled channel over the grid, from the low-res values.
    fn channel_moments(&self, values: &[f32]) -> Vec<(f64, f64)> {
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
                // tr(Gy X Gx X^T) = sum over a, a' of Gy[a, a'] * (X Gx X^T)[a', a]
                let mut xg = vec![0f64; h * w];
                for a in 0..h {
                    for b in 0..w {
                        let mut s = 0f64;
                        for b2 in 0..w {
                            s += f64::from(x[a * w + b2]) * f64::from(gx[b2 * w + b]);
                        }
                        xg[a * w + b] = s;
                    }
                }
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
        let (k, width) = (centres.len(), self.width);
        let centre_norms: Vec<f32> = centres.iter().map(|c| c.iter().map(|v| v * v).sum()).collect();
        let mut offset = 0;
        let widened: Vec<Vec<f32>> = self
            .levels
            .iter()
            .map(|l| {
                let w = l.widen(&l.project(centres, offset));
                offset += l.channels;
                w
            })
            .collect();
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
                        let mut scores = vec![0f32; k * width];
                        for (l, wide) in self.levels.iter().zip(&widened) {
                            for (score, block) in scores.chunks_mut(width).zip(wide.chunks(l.h * width)) {
                                let (wt, taps) = l.source_rows(block, y);
                                blend_row(&wt, &taps, score, |v, u| *v += u);
                            }
                        }
                        // Centre by centre across the row (vectorises); ties keep the lower index.
                        let row_norms = &norms[y * width..(y + 1) * width];
                        dist.fill(f32::INFINITY);
                        labels.fill(0);
                        for (i, (score, centre_norm)) in scores.chunks(width).zip(&centre_norms).enumerate() {
                            for (((label, best), norm), s) in labels.iter_mut().zip(dist.iter_mut()).zip(row_norms).zip(score) {
                                let d = (norm - 2.0 * s + centre_norm).max(0.0);
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

    /// The sum of the feature vectors of each cluster's pixels (`labels` in `0..k`), and each
    /// cluster's size: the indicator maps taken down by the transposed interpolation, then
    /// projected on the channels.
    pub fn cluster_sums(&self, labels: &[u32], k: usize) -> (Vec<Vec<f32>>, Vec<usize>) {
        let width = self.width;
        let mut sizes = vec![0usize; k];
        for l in labels {
            sizes[*l as usize] += 1;
        }
        let mut sums = vec![Vec::with_capacity(self.dims()); k];
        for l in &self.levels {
            // Per grid row, the indicator of each cluster taken down along x: `height x k x w`.
            // Labels come in runs along a row; a run adds a difference of running sums of the
            // column taps instead of four weights per pixel.
            let prefix = &l.col_prefix;
            let mut narrow = vec![0f32; self.height * k * l.w];
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
                            *v += (a - b) as f32;
                        }
                        start = end;
                    }
                });
            // Then along y: `k x h x w`.
            let hw = l.h * l.w;
            let mut down = vec![0f32; k * hw];
            for (y, row) in narrow.chunks(k * l.w).enumerate() {
                let (idx, wt) = (l.rows.index[y], l.rows.weight[y]);
                for (i, cluster) in row.chunks(l.w).enumerate() {
                    for t in 0..4 {
                        let dst = &mut down[i * hw + idx[t] * l.w..i * hw + (idx[t] + 1) * l.w];
                        for (d, v) in dst.iter_mut().zip(cluster) {
                            *d += wt[t] * v;
                        }
                    }
                }
            }
            let projected: Vec<Vec<f32>> = (0..l.channels)
                .into_par_iter()
                .map(|c| {
                    let m = &l.values[c * hw..(c + 1) * hw];
                    down.chunks(hw).map(|d| lane_dot(m, d)).collect()
                })
                .collect();
            for (i, sum) in sums.iter_mut().enumerate() {
                sum.extend(projected.iter().map(|p: &Vec<f32>| p[i]));
            }
        }
        (sums, sizes)
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
