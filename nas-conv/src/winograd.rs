//! Winograd's minimal filtering F(2x2, 3x3) for 3x3, stride-1 convolutions.
//!
//! Each 2x2 output tile is `A^T [(G g G^T) . (B^T d B)] A` for the 4x4 input patch `d` around it
//! and the 3x3 kernel `g`; summed over input channels, the 16 element-wise products become 16
//! matrix products `(out x in) x (in x tiles)`, one per position of the 4x4 transformed tile.

use crate::geometry::ConvGeometry;
use crate::matmul::{multiply, Layout};
use rayon::prelude::*;
use std::ops::Range;

/// Positions in a transformed 4x4 tile.
const POINTS: usize = 16;

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

    /// Output rows per block so that a block's transformed input stays near 1 MiB.
    pub fn rows_per_block(&self, out_width: usize) -> usize {
        let tiles_w = out_width.div_ceil(2);
        let target_tiles = (16384 / self.in_channels.max(1)).max(1);
        2 * (target_tiles / tiles_w).max(1)
    }

    /// Convolves output rows `rows` (starting at an even row) of one image `(in, h, w)` without
    /// bias, returning `(out, rows.len(), out_width)`.
    pub fn block(
        &self,
        image: &[f32],
        geometry: &ConvGeometry,
        size: (usize, usize),
        out_width: usize,
        rows: Range<usize>,
        threads: usize,
    ) -> Vec<f32> {
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
            for tr in 0..tile_rows {
                let y0 = 2 * (first_tile_row + tr) as isize - top as isize;
                for tc in 0..tiles_w {
                    let x0 = 2 * tc as isize - left as isize;
                    let d = load_patch(plane, h, w, y0, x0);
                    let transformed = input_transform(&d);
                    let tile = tr * tiles_w + tc;
                    for (p, value) in transformed.iter().enumerate() {
                        dst[p * tiles + tile] = *value;
                    }
                }
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
            for tr in 0..tile_rows {
                for tc in 0..tiles_w {
                    let tile = tr * tiles_w + tc;
                    let mut gathered = [0f32; POINTS];
                    for (p, value) in gathered.iter_mut().enumerate() {
                        *value = m[(p * outs + o) * tiles + tile];
                    }
                    let y = output_transform(&gathered);
                    for (dy, row) in y.iter().enumerate() {
                        let r = 2 * tr + dy;
                        if r >= block_rows {
                            continue;
                        }
                        for (dx, value) in row.iter().enumerate() {
                            let col = 2 * tc + dx;
                            if col < out_width {
                                dst[r * out_width + col] = *value;
                            }
                        }
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

/// The 4x4 patch of `plane` with top-left corner `(y0, x0)`, zero outside the plane.
fn load_patch(plane: &[f32], h: usize, w: usize, y0: isize, x0: isize) -> [[f32; 4]; 4] {
    let mut d = [[0f32; 4]; 4];
    let inside_x = x0 >= 0 && x0 as usize + 4 <= w;
    for (dy, row) in d.iter_mut().enumerate() {
        let y = y0 + dy as isize;
        if y < 0 || y as usize >= h {
            continue;
        }
        let line = &plane[y as usize * w..(y as usize + 1) * w];
        if inside_x {
            row.copy_from_slice(&line[x0 as usize..x0 as usize + 4]);
        } else {
            for (dx, value) in row.iter_mut().enumerate() {
                let x = x0 + dx as isize;
                if x >= 0 && (x as usize) < w {
                    *value = line[x as usize];
                }
            }
        }
    }
    d
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

/// `B^T d B` for a 4x4 input patch, flattened row-major.
fn input_transform(d: &[[f32; 4]; 4]) -> [f32; POINTS] {
    let mut t = [[0f32; 4]; 4];
    for j in 0..4 {
        t[0][j] = d[0][j] - d[2][j];
        t[1][j] = d[1][j] + d[2][j];
        t[2][j] = d[2][j] - d[1][j];
        t[3][j] = d[1][j] - d[3][j];
    }
    let mut v = [0f32; POINTS];
    for (i, r) in t.iter().enumerate() {
        v[i * 4] = r[0] - r[2];
        v[i * 4 + 1] = r[1] + r[2];
        v[i * 4 + 2] = r[2] - r[1];
        v[i * 4 + 3] = r[1] - r[3];
    }
    v
}

/// `A^T M A` for a flattened 4x4 tile of products: the 2x2 outputs.
fn output_transform(m: &[f32; POINTS]) -> [[f32; 2]; 2] {
    let mut t = [[0f32; 4]; 2];
    for j in 0..4 {
        t[0][j] = m[j] + m[4 + j] + m[8 + j];
        t[1][j] = m[4 + j] - m[8 + j] - m[12 + j];
    }
    [
        [t[0][0] + t[0][1] + t[0][2], t[0][1] - t[0][2] - t[0][3]],
        [t[1][0] + t[1][1] + t[1][2], t[1][1] - t[1][2] - t[1][3]],
    ]
}
