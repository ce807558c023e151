//! Convolution as a matrix product: `(out x in*k*k) x (in*k*k x positions)`, the right-hand side
//! gathered (im2col) for one block of output rows at a time so it stays in cache.

use crate::geometry::ConvGeometry;
use crate::matmul::{multiply, Layout};
use crate::plan::RowBlock;

/// The kernels as a dense `(out, in*k*k)` matrix: PyTorch's layout already.
pub struct Im2colWeights {
    matrix: Vec<f32>,
}

impl Im2colWeights {
    /// Keeps a copy of `(out, in, k, k)` kernels.
    pub fn new(weight: &[f32]) -> Im2colWeights {
        Im2colWeights { matrix: weight.to_vec() }
    }

    /// Output rows per block so that a block's gathered input stays near 1 MiB (at least 64
    /// columns, so the product keeps a useful width).
    pub fn rows_per_block(&self, geometry: &ConvGeometry, out_width: usize) -> usize {
        let depth = geometry.in_channels * geometry.kernel * geometry.kernel;
        let target_columns = (262_144 / depth.max(1)).clamp(64, 4096);
        target_columns.div_ceil(out_width.max(1))
    }

    /// Convolves one block without bias: `out_channels x rows x out_width` values.
    pub fn block(&self, geometry: &ConvGeometry, job: &RowBlock<'_>) -> Vec<f32> {
        let RowBlock {
            image,
            size,
            out_width,
            threads,
            ..
        } = *job;
        let rows = job.rows.clone();
        let (h, w) = size;
        let k = geometry.kernel;
        let depth = geometry.in_channels * k * k;
        let columns = rows.len() * out_width;
        let outs = geometry.out_channels;
        let mut out = vec![0f32; outs * columns];
        let lhs_at = Layout::dense(outs, depth);
        let out_at = Layout::dense(outs, columns);
        if k == 1 && geometry.stride == 1 && geometry.padding == [0; 4] {
            let rhs_at = Layout {
                offset: rows.start * w,
                rows: geometry.in_channels,
                cols: columns,
                row_stride: h * w,
            };
            multiply(&mut out, out_at, &self.matrix, lhs_at, image, rhs_at, threads);
            return out;
        }
        let gathered = gather(geometry, job);
        multiply(
            &mut out,
            out_at,
            &self.matrix,
            lhs_at,
            &gathered,
            Layout::dense(depth, columns),
            threads,
        );
        out
    }
}

/// The `(in*k*k, rows*out_width)` matrix of input values each output position reads, zero where
/// the kernel overlaps the padding.
fn gather(geometry: &ConvGeometry, job: &RowBlock<'_>) -> Vec<f32> {
    let RowBlock {
        image, size, out_width, ..
    } = *job;
    let rows = job.rows.clone();
    let (h, w) = size;
    let k = geometry.kernel;
    let stride = geometry.stride;
    let [top, left, _, _] = geometry.padding;
    let columns = rows.len() * out_width;
    let mut gathered = vec![0f32; geometry.in_channels * k * k * columns];
    for (row_index, dst) in gathered.chunks_mut(columns).enumerate() {
        let c = row_index / (k * k);
        let ky = (row_index / k) % k;
        let kx = row_index % k;
        let plane = &image[c * h * w..(c + 1) * h * w];
        // Output columns whose input column lies inside the image: ox*stride + kx - left in [0, w).
        let first_col = left.saturating_sub(kx).div_ceil(stride);
        let end_col = if w + left > kx {
            ((w + left - kx - 1) / stride + 1).min(out_width)
        } else {
            0
        };
        for (local_row, oy) in rows.clone().enumerate() {
            let y = (oy * stride + ky) as isize - top as isize;
            if y < 0 || y as usize >= h || first_col >= end_col {
                continue;
            }
            let line = &plane[y as usize * w..(y as usize + 1) * w];
            let dst_row = &mut dst[local_row * out_width..(local_row + 1) * out_width];
            let x_of = |ox: usize| ox * stride + kx - left;
            if stride == 1 {
                dst_row[first_col..end_col].copy_from_slice(&line[x_of(first_col)..x_of(end_col - 1) + 1]);
            } else {
                for ox in first_col..end_col {
                    dst_row[ox] = line[x_of(ox)];
                }
            }
        }
    }
    gathered
}
