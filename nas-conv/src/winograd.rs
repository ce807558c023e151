//! Winograd's minimal filtering F(2x2, 3x3) for 3x3, stride-1 convolutions.
//!
//! Each 2x2 output tile is `A^T [(G g G^T) . (B^T d B)] A` for the 4x4 input patch `d` around it
//! and the 3x3 kernel `g`; summed over input channels, the 16 element-wise products become 16
//! matrix products `(out x in) x (in x tiles)`, one per position of the 4x4 transformed tile.

use crate::geometry::ConvGeometry;
use crate::matmul::{multiply, Layout};
use crate::plan::RowBlock;
use rayon::prelude::*;

/// Positions in a transformed 4x4 tile.
const POINTS: usize = 16;
/// Largest tiles x input channels transformed at once for a whole image (16 values each: 2 MiB).
const WHOLE_IMAGE_TILE_CHANNELS: usize = 32_768;
/// Tiles x input channels of a block when an image is split (256 KiB of transformed input).
const BLOCK_TILE_CHANNELS: usize = 4_096;

/// Kernels transformed once: `U[p][out][in]`, `U = G g G^T`.
pub struct WinogradWeights {
    transformed: Vec<f32>,
    in_channels: usize,
    out_channels: usize,
}

impl WinogradWeights {
    /// Transforms `(out, in, 3, 3)` kernels.
    pub fn new(geometry: &ConvGeometry, weight: &[f32]) -> WinogradWeights {
        let (outs, ins) = (geometry.out_channels, geometry.in_channels);
        let mut transformed = vec![0f32; POINTS * outs * ins];
        for o in 0..outs {
            for i in 0..ins {
                let g = &weight[(o * ins + i) * 9..(o * ins + i + 1) * 9];
                let u = kernel_transform(g);
                for (p, value) in u.iter().enumerate() {
                    transformed[(p * outs + o) * ins + i] = *value;
                }
            }
        }
        WinogradWeights {
            transformed,
            in_channels: ins,
            out_channels: outs,
        }
    }

    /// Output rows per block: the whole image when its transformed input fits in about 2 MiB
    /// (the 16 products then share it, each thread taking some), otherwise blocks of about
    /// 256 KiB that stay in one core's cache (each thread then taking whole blocks).
    pub fn rows_per_block(&self, out_height: usize, out_width: usize) -> usize {
        let tiles_w = out_width.div_ceil(2);
        let image_tiles = out_height.div_ceil(2) * tiles_w;
        let ins = self.in_channels.max(1);
        if image_tiles * ins <= WHOLE_IMAGE_TILE_CHANNELS {
            return out_height.max(1);
        }
        let target_tiles = (BLOCK_TILE_CHANNELS / ins).max(1);
        2 * (target_tiles / tiles_w).max(1)
    }

    /// Convolves one block (starting at an even row) without bias: `out_channels x rows x out_width` values.
    pub fn block(&self, geometry: &ConvGeometry, job: &RowBlock<'_>) -> Vec<f32> {
        let RowBlock {
            image,
            size,
            out_width,
            threads,
            ..
        } = *job;
        let rows = job.rows.clone();
        let tiles_w = out_width.div_ceil(2);
        let first_tile_row = rows.start / 2;
        let tile_rows = rows.end.div_ceil(2) - first_tile_row;
        let tiles = tile_rows * tiles_w;
        let (ins, outs) = (self.in_channels, self.out_channels);
        let (h, w) = size;
        let [top, left, _, _] = geometry.padding;

        // V[in][p][tile]
        let mut v = vec![0f32; ins * POINTS * tiles];
        let transform_channel = |(c, dst): (usize, &mut [f32])| {
            let plane = &image[c * h * w..(c + 1) * h * w];
            let mut rows = RowTransform::new(tiles_w);
            for tr in 0..tile_rows {
                let y0 = 2 * (first_tile_row + tr) as isize - top as isize;
                rows.load(plane, (h, w), y0, left);
                rows.transform_into(dst, tiles, tr * tiles_w);
            }
        };
        if threads > 1 {
            v.par_chunks_mut(POINTS * tiles).enumerate().for_each(transform_channel);
        } else {
            v.chunks_mut(POINTS * tiles).enumerate().for_each(transform_channel);
        }

        // M[p][out][tile] = U[p] x V[., p, .]
        let mut m = vec![0f32; POINTS * outs * tiles];
        let product = |(p, dst): (usize, &mut [f32])| {
            let u = &self.transformed[p * outs * ins..(p + 1) * outs * ins];
            let rhs = Layout {
                offset: p * tiles,
                rows: ins,
                cols: tiles,
                row_stride: POINTS * tiles,
            };
            multiply(dst, Layout::dense(outs, tiles), u, Layout::dense(outs, ins), &v, rhs, 1);
        };
        if threads > 1 {
            m.par_chunks_mut(outs * tiles).enumerate().for_each(product);
        } else {
            m.chunks_mut(outs * tiles).enumerate().for_each(product);
        }

        // Y[out][row][col] = A^T M A, cropped to the block
        let block_rows = rows.len();
        let mut out = vec![0f32; outs * block_rows * out_width];
        let untransform_channel = |(o, dst): (usize, &mut [f32])| {
            let mut pair = vec![0f32; 2 * 2 * tiles_w];
            for tr in 0..tile_rows {
                let products: [&[f32]; POINTS] = std::array::from_fn(|p| {
                    let start = (p * outs + o) * tiles + tr * tiles_w;
                    &m[start..start + tiles_w]
                });
                output_transform_row(&products, &mut pair);
                for dy in 0..2 {
                    let r = 2 * tr + dy;
                    if r < block_rows {
                        let line = &pair[dy * 2 * tiles_w..dy * 2 * tiles_w + out_width];
                        dst[r * out_width..(r + 1) * out_width].copy_from_slice(line);
                    }
                }
            }
        };
        if threads > 1 {
            out.par_chunks_mut(block_rows * out_width).enumerate().for_each(untransform_channel);
        } else {
            out.chunks_mut(block_rows * out_width).enumerate().for_each(untransform_channel);
        }
        out
    }
}

/// `B^T d B` for a row of tiles at once: the four input rows a tile row covers, zero-padded to
/// `2 * tiles + 2` columns, combined down the rows first, then across each tile's four columns.
struct RowTransform {
    tiles_w: usize,
    /// Four padded input rows, then their vertical combinations `B^T d`, each `2 * tiles_w + 2`.
    rows: Vec<f32>,
    combined: Vec<f32>,
}

impl RowTransform {
    fn new(tiles_w: usize) -> RowTransform {
        let width = 2 * tiles_w + 2;
        RowTransform {
            tiles_w,
            rows: vec![0f32; 4 * width],
            combined: vec![0f32; 4 * width],
        }
    }

    /// Loads rows `y0..y0 + 4` of `plane`, shifted right by `left` padding columns.
    fn load(&mut self, plane: &[f32], (h, w): (usize, usize), y0: isize, left: usize) {
        let width = 2 * self.tiles_w + 2;
        for (r, row) in self.rows.chunks_mut(width).enumerate() {
            row.fill(0.0);
            let y = y0 + r as isize;
            if y < 0 || y as usize >= h {
                continue;
            }
            let line = &plane[y as usize * w..(y as usize + 1) * w];
            let copied = w.min(width.saturating_sub(left));
            row[left..left + copied].copy_from_slice(&line[..copied]);
        }
        let (d0, rest) = self.rows.split_at(width);
        let (d1, rest) = rest.split_at(width);
        let (d2, d3) = rest.split_at(width);
        let (t0, rest) = self.combined.split_at_mut(width);
        let (t1, rest) = rest.split_at_mut(width);
        let (t2, t3) = rest.split_at_mut(width);
        for x in 0..width {
            t0[x] = d0[x] - d2[x];
            t1[x] = d1[x] + d2[x];
            t2[x] = d2[x] - d1[x];
            t3[x] = d1[x] - d3[x];
        }
    }

    /// Writes the 16 transformed values of each tile of the row to `dst[p * tiles + first + j]`.
    fn transform_into(&self, dst: &mut [f32], tiles: usize, first: usize) {
        let width = 2 * self.tiles_w + 2;
        for (i, t) in self.combined.chunks(width).enumerate() {
            let out: [&mut [f32]; 4] = split_four(&mut dst[(4 * i) * tiles..(4 * i + 4) * tiles], tiles, first, self.tiles_w);
            for j in 0..self.tiles_w {
                let (a, b, c, d) = (t[2 * j], t[2 * j + 1], t[2 * j + 2], t[2 * j + 3]);
                out[0][j] = a - c;
                out[1][j] = b + c;
                out[2][j] = c - b;
                out[3][j] = b - d;
            }
        }
    }
}

/// The four `len`-long windows at `first` of four consecutive `stride`-long rows.
fn split_four(rows: &mut [f32], stride: usize, first: usize, len: usize) -> [&mut [f32]; 4] {
    let (r0, rest) = rows.split_at_mut(stride);
    let (r1, rest) = rest.split_at_mut(stride);
    let (r2, r3) = rest.split_at_mut(stride);
    [
        &mut r0[first..first + len],
        &mut r1[first..first + len],
        &mut r2[first..first + len],
        &mut r3[first..first + len],
    ]
}

/// `G g G^T` for a row-major 3x3 kernel, flattened row-major.
fn kernel_transform(g: &[f32]) -> [f32; POINTS] {
    let mut rows = [[0f32; 3]; 4];
    for col in 0..3 {
        let (g0, g1, g2) = (g[col], g[3 + col], g[6 + col]);
        rows[0][col] = g0;
        rows[1][col] = 0.5 * (g0 + g1 + g2);
        rows[2][col] = 0.5 * (g0 - g1 + g2);
        rows[3][col] = g2;
    }
    let mut u = [0f32; POINTS];
    for (i, r) in rows.iter().enumerate() {
        u[i * 4] = r[0];
        u[i * 4 + 1] = 0.5 * (r[0] + r[1] + r[2]);
        u[i * 4 + 2] = 0.5 * (r[0] - r[1] + r[2]);
        u[i * 4 + 3] = r[2];
    }
    u
}

/// `A^T M A` for a row of tiles: `products[p][j]` is position `p` of tile `j`; writes the two
/// output rows, `2 * tiles` values each, to `pair`.
fn output_transform_row(products: &[&[f32]; POINTS], pair: &mut [f32]) {
    let tiles = products[0].len();
    let (top, bottom) = pair.split_at_mut(2 * tiles);
    for j in 0..tiles {
        let m = |p: usize| products[p][j];
        let a: [f32; 4] = std::array::from_fn(|c| m(c) + m(4 + c) + m(8 + c));
        let b: [f32; 4] = std::array::from_fn(|c| m(4 + c) - m(8 + c) - m(12 + c));
        top[2 * j] = a[0] + a[1] + a[2];
        top[2 * j + 1] = a[1] - a[2] - a[3];
        bottom[2 * j] = b[0] + b[1] + b[2];
        bottom[2 * j + 1] = b[1] - b[2] - b[3];
    }
}
