//! RISE's random masks (Petsiuk et al. 2018), as the authors' code makes them: a coarse grid of
//! cells, each kept with probability `keep`, upsampled linearly to one cell more than the image
//! (scikit-image's `resize(order=1, mode="reflect")`), then cropped at a random shift of less than
//! a cell, so that the soft edges fall anywhere.

use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// What one mask is made from: which cells are kept, and where the crop starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskSpec {
    /// `cells x cells` flags, row-major: whether each cell is kept.
    pub kept: Vec<bool>,
    /// Crop offset (rows, columns) into the upsampled grid, each below the cell size.
    pub shift: (usize, usize),
}

/// The geometry shared by all masks of an image size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaskGrid {
    /// Cells per side.
    pub cells: usize,
    /// Image height and width.
    pub size: [usize; 2],
}

impl MaskGrid {
    /// Cell size (rows, columns): the image side over the cell count, rounded up.
    pub fn cell(&self) -> [usize; 2] {
        self.size.map(|s| s.div_ceil(self.cells))
    }

    /// Mask `index` of the seeded sequence: the same whatever the batch it is drawn in.
    pub fn random_spec(&self, seed: u64, index: u64, keep: f64) -> MaskSpec {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index);
        let uniform = |rng: &mut ChaCha8Rng| (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        let kept = (0..self.cells * self.cells).map(|_| uniform(&mut rng) < keep).collect();
        let [ch, cw] = self.cell();
        let shift = (
            ((uniform(&mut rng) * ch as f64) as usize).min(ch - 1),
            ((uniform(&mut rng) * cw as f64) as usize).min(cw - 1),
        );
        MaskSpec { kept, shift }
    }

    /// The mask of `spec`, `height x width` values in `[0, 1]`, row-major.
    pub fn mask(&self, spec: &MaskSpec) -> Vec<f32> {
        let [h, w] = self.size;
        let [ch, cw] = self.cell();
        let rows = linear_taps(self.cells, (self.cells + 1) * ch, spec.shift.0, h);
        let cols = linear_taps(self.cells, (self.cells + 1) * cw, spec.shift.1, w);
        // Columns first, on the coarse rows, then rows.
        let coarse: Vec<f64> = spec
            .kept
            .chunks(self.cells)
            .flat_map(|row| {
                cols.iter()
                    .map(move |&(a, b, t)| f64::from(u8::from(row[a])) * (1.0 - t) + f64::from(u8::from(row[b])) * t)
            })
            .collect();
        let mut out = Vec::with_capacity(h * w);
        for &(a, b, t) in &rows {
            let (top, bottom) = (&coarse[a * w..(a + 1) * w], &coarse[b * w..(b + 1) * w]);
            out.extend(top.iter().zip(bottom).map(|(x, y)| (x * (1.0 - t) + y * t) as f32));
        }
        out
    }
}

/// For outputs `offset..offset + count` of a linear resize from `from` samples to `to`, the two
/// source samples and the weight of the second: half-pixel centres, mirrored at the borders
/// (scipy's `zoom(grid_mode=True, mode="mirror")`, which scikit-image's `mode="reflect"` calls).
fn linear_taps(from: usize, to: usize, offset: usize, count: usize) -> Vec<(usize, usize, f64)> {
    let last = from as isize - 1;
    let mirror = |i: isize| -> usize {
        let i = if i < 0 { -i } else { i };
        (if i > last { 2 * last - i } else { i }).clamp(0, last) as usize
    };
    (offset..offset + count)
        .map(|o| {
            let x = (o as f64 + 0.5) * from as f64 / to as f64 - 0.5;
            let base = x.floor();
            (mirror(base as isize), mirror(base as isize + 1), x - base)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_are_seeded_and_shaped() {
        let grid = MaskGrid {
            cells: 8,
            size: [224, 200],
        };
        assert_eq!(grid.cell(), [28, 25]);
        let (a, b) = (grid.random_spec(3, 7, 0.5), grid.random_spec(3, 7, 0.5));
        assert_eq!(a, b);
        assert_ne!(a, grid.random_spec(3, 8, 0.5));
        assert!(a.shift.0 < 28 && a.shift.1 < 25);
        let mask = grid.mask(&a);
        assert_eq!(mask.len(), 224 * 200);
        assert!(mask.iter().all(|v| (0.0..=1.0).contains(v)));
        let all = MaskSpec {
            kept: vec![true; 64],
            shift: (5, 9),
        };
        assert!(grid.mask(&all).iter().all(|v| *v == 1.0));
        // About `keep` of the cells are kept.
        let kept: usize = (0..200)
            .map(|i| grid.random_spec(0, i, 0.1).kept.iter().filter(|k| **k).count())
            .sum();
        let share = kept as f64 / (200.0 * 64.0);
        assert!((share - 0.1).abs() < 0.02, "{share}");
    }
}
