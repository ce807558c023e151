//! NAS features of a whole batch, held implicitly on the tensor device.
//!
//! The tensor twin of [`crate::upsampled::UpsampledFeatures`]: the same algebra (bicubic
//! upsampling is linear, standardisation affine, so k-means can work on the low-resolution
//! levels), written as batched matrix products so that a GPU runs every image of a batch at
//! once. Interpolation is a product with the dense `grid x level` matrices of PyTorch's bicubic
//! taps, so the results equal the host version up to float rounding.

use crate::device::{plain, plain_device, Device, NasTensor};
use crate::error::{NasError, Result};
use crate::upsampled::{ImplicitScaling, Taps};
use burn::tensor::{Int, Tensor, TensorData};

/// One depth level of the batch: values already scaled and weighted, and its interpolation.
struct LevelTensors {
    /// `(batch, channels, h * w)`.
    values: NasTensor<3>,
    channels: usize,
    h: usize,
    w: usize,
    /// `(grid height, h)`: rows of the bicubic interpolation.
    rows: NasTensor<2>,
    /// `(w, grid width)`: transposed column interpolation.
    cols_t: NasTensor<2>,
    row_taps: Taps,
    col_taps: Taps,
}

impl LevelTensors {
    /// `(n, h, w)` maps to `(n, grid height, grid width)`.
    fn upsample(&self, maps: NasTensor<3>) -> NasTensor<3> {
        let n = maps.dims()[0];
        let wide = maps.reshape([n * self.h, self.w]).matmul(self.cols_t.clone());
        let width = wide.dims()[1];
        self.rows.clone().unsqueeze::<3>().matmul(wide.reshape([n, self.h, width]))
    }

    /// Every channel of the images `range` upsampled once: their moments give the scaling,
    /// then the pixels' squared norms after scaling. These are the same products as k-means
    /// uses later, so a GPU compiles and tunes fewer kernels.
    fn statistics(
        &self,
        range: std::ops::Range<usize>,
        [height, width]: [usize; 2],
        scaling: ImplicitScaling,
        weight: f32,
    ) -> LevelStatistics {
        let n = range.len();
        let values = self.values.clone().slice([range, 0..self.channels, 0..self.h * self.w]);
        let dense = self
            .upsample(values.reshape([n * self.channels, self.h, self.w]))
            .reshape([n, self.channels, height * width]);
        let mean = dense.clone().mean_dim(2);
        let variance = (dense.clone().square().mean_dim(2) - mean.clone().square()).clamp_min(0.0);
        let (shift, scale) = match scaling {
            ImplicitScaling::None => (mean.zeros_like(), mean.ones_like() * weight),
            ImplicitScaling::Standardize => {
                let std = variance.clone().sqrt();
                let tiny = std.clone().lower_equal_elem(1e-12);
                (mean, (std.mask_fill(tiny, 1.0)).recip() * weight)
            }
        };
        LevelStatistics {
            weighted_variance: (variance * scale.clone().square()).sum_dim(1).reshape([n, 1]),
            norms: ((dense - shift.clone()) * scale.clone())
                .square()
                .sum_dim(1)
                .reshape([n, height * width]),
            shift,
            scale,
        }
    }

    /// The transpose of [`LevelTensors::upsample`]: `(n, grid height, grid width)` to `(n, h, w)`.
    fn downsample(&self, grid: NasTensor<3>) -> NasTensor<3> {
        let [n, height, width] = grid.dims();
        let narrow = grid.reshape([n * height, width]).matmul(self.cols_t.clone().transpose());
        self.rows
            .clone()
            .transpose()
            .unsqueeze::<3>()
            .matmul(narrow.reshape([n, height, self.w]))
    }
}

/// The most floats upsampled densely at once (1 GiB of f32) when channel moments and pixel norms
/// are computed; larger batches are taken a group of images at a time.
const DENSE_BLOCK_FLOATS: usize = 1 << 28;

/// Scaling and statistics of one level for a group of images.
struct LevelStatistics {
    /// `(images, channels, 1)`: subtracted from each channel.
    shift: NasTensor<3>,
    /// `(images, channels, 1)`: then multiplied (standardisation and level weight).
    scale: NasTensor<3>,
    /// `(images, 1)`: sum over channels of the scaled channel variances.
    weighted_variance: NasTensor<2>,
    /// `(images, pixels)`: this level's part of each pixel's squared norm after scaling.
    norms: NasTensor<2>,
}

/// The upsampled, scaled and weighted features of every image of a batch, on one device.
pub struct UpsampledBatch {
    levels: Vec<LevelTensors>,
    batch: usize,
    height: usize,
    width: usize,
    mean_variance: Vec<f64>,
    squared_norms: NasTensor<2>,
    device: Device,
}

/// A dense row-major matrix as a tensor.
fn matrix(values: Vec<f32>, rows: usize, cols: usize, device: &Device) -> NasTensor<2> {
    NasTensor::<2>::from_data(TensorData::new(values, [rows, cols]), device)
}

/// Reads a float tensor back to the host.
pub fn to_host<const D: usize>(tensor: NasTensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .convert::<f32>()
        .to_vec()
        .map_err(|e| NasError::InvalidInput(format!("cannot read a tensor back from the device: {e:?}")))
}

/// Reads an integer tensor back to the host.
pub fn to_host_int<const D: usize>(tensor: Tensor<crate::device::Backend, D, Int>) -> Result<Vec<i64>> {
    tensor
        .into_data()
        .convert::<i64>()
        .to_vec()
        .map_err(|e| NasError::InvalidInput(format!("cannot read a tensor back from the device: {e:?}")))
}

impl UpsampledBatch {
    /// Builds from the chosen levels `(batch, channels, h, w)` of one forward pass, the output
    /// grid, the scaling and one weight per level. Channel moments are computed on the device.
    pub fn new(levels: Vec<NasTensor<4>>, grid: [usize; 2], scaling: ImplicitScaling, weights: &[f32]) -> Result<UpsampledBatch> {
        Self::with_block_limit(levels, grid, scaling, weights, DENSE_BLOCK_FLOATS)
    }

    /// [`UpsampledBatch::new`] with at most `block_floats` floats upsampled densely at once.
    fn with_block_limit(
        levels: Vec<NasTensor<4>>,
        grid: [usize; 2],
        scaling: ImplicitScaling,
        weights: &[f32],
        block_floats: usize,
    ) -> Result<UpsampledBatch> {
        let [height, width] = grid;
        let device = levels
            .first()
            .map(|l| plain_device(&l.device()))
            .ok_or_else(|| NasError::InvalidInput("nas needs at least one level".into()))?;
        let batch = levels[0].dims()[0];
        let mut out = Vec::with_capacity(levels.len());
        let mut norms: Option<NasTensor<2>> = None;
        let mut variance_sums = Vec::with_capacity(levels.len());
        let mut dims = 0usize;
        for (level, &weight) in levels.into_iter().zip(weights) {
            let [b, channels, h, w] = level.dims();
            let (row_taps, col_taps) = (Taps::bicubic(h, height), Taps::bicubic(w, width));
            let mut level = LevelTensors {
                values: plain(level.detach()).reshape([b, channels, h * w]),
                channels,
                h,
                w,
                rows: matrix(row_taps.matrix(), height, h, &device),
                cols_t: matrix(col_taps.matrix(), width, w, &device).transpose(),
                row_taps,
                col_taps,
            };
            let group = (block_floats / (channels * height * width).max(1)).clamp(1, b.max(1));
            let parts: Vec<LevelStatistics> = (0..b)
                .step_by(group)
                .map(|start| level.statistics(start..(start + group).min(b), [height, width], scaling, weight))
                .collect();
            let join2 = |f: fn(&LevelStatistics) -> NasTensor<2>| Tensor::cat(parts.iter().map(f).collect(), 0);
            let join3 = |f: fn(&LevelStatistics) -> NasTensor<3>| Tensor::cat(parts.iter().map(f).collect(), 0);
            let (shift, scale) = (join3(|p| p.shift.clone()), join3(|p| p.scale.clone()));
            variance_sums.push(join2(|p| p.weighted_variance.clone()).reshape([b]));
            let level_norms = join2(|p| p.norms.clone());
            norms = Some(match norms {
                Some(n) => n + level_norms,
                None => level_norms,
            });
            level.values = (level.values - shift) * scale;
            dims += channels;
            out.push(level);
        }
        let total = Tensor::stack::<2>(variance_sums, 0).sum_dim(0).reshape([batch]);
        let mean_variance = to_host(total)?.into_iter().map(|v| f64::from(v) / dims.max(1) as f64).collect();
        Ok(UpsampledBatch {
            levels: out,
            batch,
            height,
            width,
            mean_variance,
            squared_norms: norms.unwrap_or_else(|| NasTensor::<2>::zeros([batch, height * width], &device)),
            device,
        })
    }

    /// Number of images.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Number of pixels of the grid.
    pub fn pixels(&self) -> usize {
        self.height * self.width
    }

    /// Total number of features (channels of all levels).
    pub fn dims(&self) -> usize {
        self.levels.iter().map(|l| l.channels).sum()
    }

    /// The device holding the features.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Per image, the mean over features of each feature's variance across pixels.
    pub fn mean_variance(&self) -> &[f64] {
        &self.mean_variance
    }

    /// Squared feature norm of every pixel: `(batch, pixels)`.
    pub fn squared_norms(&self) -> NasTensor<2> {
        self.squared_norms.clone()
    }

    /// `F(p) . c` for every pixel and every centre: centres `(batch, k, dims)` to `(batch, k, pixels)`.
    pub fn dot(&self, centres: &NasTensor<3>) -> NasTensor<3> {
        let [b, k, _] = centres.dims();
        let n = self.pixels();
        let mut offset = 0;
        let mut total: Option<NasTensor<3>> = None;
        for l in &self.levels {
            let part = centres.clone().slice([0..b, 0..k, offset..offset + l.channels]);
            offset += l.channels;
            let projected = part.matmul(l.values.clone()).reshape([b * k, l.h, l.w]);
            let up = l.upsample(projected).reshape([b, k, n]);
            total = Some(match total {
                Some(t) => t + up,
                None => up,
            });
        }
        total.unwrap_or_else(|| NasTensor::<3>::zeros([b, k, n], &self.device))
    }

    /// Sums of features over weighted pixel sets: weights `(batch, k, pixels)` to `(batch, k, dims)`.
    pub fn weighted_sums(&self, weights: &NasTensor<3>) -> NasTensor<3> {
        let [b, k, _] = weights.dims();
        let parts = self
            .levels
            .iter()
            .map(|l| {
                let down = l.downsample(weights.clone().reshape([b * k, self.height, self.width]));
                down.reshape([b, k, l.h * l.w]).matmul(l.values.clone().swap_dims(1, 2))
            })
            .collect();
        Tensor::cat(parts, 2)
    }

    /// The feature vectors of chosen pixels: `pixels[image]` lists the same number `t` of
    /// row-major indices for every image; the result is `(batch, t, dims)`.
    pub fn gather(&self, pixels: &[Vec<usize>]) -> NasTensor<3> {
        let b = self.batch;
        let t = pixels.first().map_or(0, Vec::len);
        let parts = self
            .levels
            .iter()
            .map(|l| {
                let mut row_weights = Vec::with_capacity(b * l.h * t);
                let mut col_weights = Vec::with_capacity(b * l.w * t);
                for chosen in pixels {
                    let rows: Vec<Vec<f32>> = chosen.iter().map(|p| l.row_taps.row(p / self.width)).collect();
                    let cols: Vec<Vec<f32>> = chosen.iter().map(|p| l.col_taps.row(p % self.width)).collect();
                    row_weights.extend((0..l.h).flat_map(|a| rows.iter().map(move |r| r[a])));
                    col_weights.extend((0..l.w).flat_map(|x| cols.iter().map(move |c| c[x])));
                }
                let row_weights = NasTensor::<3>::from_data(TensorData::new(row_weights, [b, l.h, t]), &self.device);
                let col_weights = NasTensor::<3>::from_data(TensorData::new(col_weights, [b, l.w, t]), &self.device);
                let across = l.values.clone().reshape([b, l.channels * l.h, l.w]).matmul(col_weights);
                let picked = across.reshape([b, l.channels, l.h, t]) * row_weights.unsqueeze_dim::<4>(1);
                picked.sum_dim(2).reshape([b, l.channels, t]).swap_dims(1, 2)
            })
            .collect();
        Tensor::cat(parts, 2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::default_device;
    use crate::upsampled::UpsampledFeatures;

    /// One image's levels as the host version takes them.
    type HostLevels = Vec<(usize, usize, usize, Vec<f32>)>;

    /// Two images of two levels with uneven sizes, deterministic values.
    fn sample() -> (Vec<NasTensor<4>>, Vec<HostLevels>) {
        let device = default_device();
        let shapes = [(3usize, 5usize, 4usize), (2, 3, 2)];
        let mut tensors = Vec::new();
        let mut per_image = vec![Vec::new(), Vec::new()];
        for (li, &(c, h, w)) in shapes.iter().enumerate() {
            let mut all = Vec::new();
            for (b, image) in per_image.iter_mut().enumerate() {
                let v: Vec<f32> = (0..c * h * w)
                    .map(|i| ((i * 7 + li * 3 + b * 11) % 13) as f32 * 0.3 - 1.0 + (i as f32 * 0.37).sin())
                    .collect();
                all.extend_from_slice(&v);
                image.push((c, h, w, v));
            }
            tensors.push(NasTensor::<4>::from_data(TensorData::new(all, [2, c, h, w]), &device));
        }
        (tensors, per_image)
    }

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    #[test]
    fn image_groups_give_the_same_features_as_the_whole_batch() -> Result<()> {
        let grid = [9, 7];
        let whole = UpsampledBatch::new(sample().0, grid, ImplicitScaling::Standardize, &[0.5, 2.0])?;
        // A limit of one float forces one image per dense block.
        let grouped = UpsampledBatch::with_block_limit(sample().0, grid, ImplicitScaling::Standardize, &[0.5, 2.0], 1)?;
        for (a, b) in whole.mean_variance().iter().zip(grouped.mean_variance()) {
            assert!((a - b).abs() <= 1e-6 * a.abs());
        }
        close(&to_host(grouped.squared_norms())?, &to_host(whole.squared_norms())?, 1e-5);
        let centres = NasTensor::<3>::ones([2, 1, whole.dims()], whole.device());
        close(&to_host(grouped.dot(&centres))?, &to_host(whole.dot(&centres))?, 1e-5);
        Ok(())
    }

    #[test]
    fn batched_operations_match_the_host_version() -> Result<()> {
        let (tensors, per_image) = sample();
        let grid = [9, 7];
        let weights = [0.5, 2.0];
        let batch = UpsampledBatch::new(tensors, grid, ImplicitScaling::Standardize, &weights)?;
        let host: Vec<UpsampledFeatures> = per_image
            .into_iter()
            .map(|levels| UpsampledFeatures::new(levels, grid, ImplicitScaling::Standardize, &weights))
            .collect();
        let n = batch.pixels();
        let d = batch.dims();
        for (b, h) in host.iter().enumerate() {
            assert!((batch.mean_variance()[b] - h.mean_variance()).abs() < 1e-4 * h.mean_variance());
        }
        let norms = to_host(batch.squared_norms())?;
        let centres: Vec<f32> = (0..2 * 2 * d).map(|i| (i as f32 * 0.61).cos()).collect();
        let centres_t = NasTensor::<3>::from_data(TensorData::new(centres.clone(), [2, 2, d]), batch.device());
        let dots = to_host(batch.dot(&centres_t))?;
        // Two clusters per image: pixel p of image b is in cluster (5p + b) mod 2.
        let labels: Vec<Vec<u32>> = (0..2).map(|b| (0..n).map(|p| ((5 * p + b) % 2) as u32).collect()).collect();
        let masks: Vec<f32> = (0..2)
            .flat_map(|b| {
                let labels = &labels[b];
                (0..2u32).flat_map(move |k| labels.iter().map(move |l| if *l == k { 1.0 } else { 0.0 }))
            })
            .collect();
        let masks_t = NasTensor::<3>::from_data(TensorData::new(masks.clone(), [2, 2, n]), batch.device());
        let sums = to_host(batch.weighted_sums(&masks_t))?;
        let chosen = vec![vec![0, 17, n - 1], vec![5, 5, 40]];
        let gathered = to_host(batch.gather(&chosen))?;
        for (b, h) in host.iter().enumerate() {
            close(&norms[b * n..(b + 1) * n], &h.squared_norms(), 1e-4);
            for k in 0..2 {
                let c = &centres[(b * 2 + k) * d..(b * 2 + k + 1) * d];
                close(&dots[(b * 2 + k) * n..(b * 2 + k + 1) * n], &h.dot(c), 1e-4);
                close(
                    &sums[(b * 2 + k) * d..(b * 2 + k + 1) * d],
                    &h.cluster_sums(&labels[b], 2).0[k],
                    1e-4,
                );
            }
            for (t, &p) in chosen[b].iter().enumerate() {
                close(&gathered[(b * 3 + t) * d..(b * 3 + t + 1) * d], &h.pixel(p), 1e-4);
            }
        }
        Ok(())
    }
}
