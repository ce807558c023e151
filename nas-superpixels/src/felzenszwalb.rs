//! Felzenszwalb and Huttenlocher's graph-based segmentation (IJCV 2004), as
//! scikit-image 0.26's `skimage.segmentation.felzenszwalb` computes it.
//!
//! Steps, each following scikit-image:
//! 1. smooth each channel with a gaussian of `sigma` (`mode='reflect'`);
//! 2. build the 8-connected pixel graph (right, down, down-right and
//!    up-right edges) weighted by the Euclidean distance between the smoothed
//!    RGB vectors: colour images are segmented jointly, not per channel;
//! 3. visit edges by increasing weight and join two components when the
//!    weight is below both of their thresholds `internal + (scale / 255) / size`
//!    (the thresholds rounded to f32, as scikit-image stores them);
//! 4. visit the edges again in the same order and join every pair of
//!    components of which one is smaller than `min_size`;
//! 5. number the components from 0 in raster order of their first pixel.

use ndarray::{Array2, ArrayView3};
use rayon::prelude::*;

use crate::error::SuperpixelError;
use crate::gaussian::{gaussian_2d, Boundary};
use crate::input::rgb_to_f64;

/// Parameters of [`felzenszwalb`], named and defaulted as in scikit-image 0.26.
#[derive(Debug, Clone, PartialEq)]
pub struct FelzenszwalbParams {
    /// Observation level (the paper's `k`): higher means larger segments.
    /// Divided by 255 internally, as scikit-image does to match the reference
    /// implementation on 8-bit images. Must be finite and >= 0. Default: 1.0.
    pub scale: f64,
    /// Standard deviation of the gaussian that smooths the image first, in
    /// pixels; 0 means no smoothing. Must be finite and >= 0. Default: 0.8.
    pub sigma: f64,
    /// Minimum component size in pixels, enforced by merging afterwards.
    /// Default: 20.
    pub min_size: usize,
}

impl Default for FelzenszwalbParams {
    fn default() -> Self {
        Self {
            scale: 1.0,
            sigma: 0.8,
            min_size: 20,
        }
    }
}

impl FelzenszwalbParams {
    /// Checks every parameter's range; see the field docs.
    fn validate(&self) -> Result<(), SuperpixelError> {
        if !(self.scale.is_finite() && self.scale >= 0.0) {
            return Err(SuperpixelError::param(
                "scale",
                self.scale,
                "a finite number >= 0",
            ));
        }
        if !(self.sigma.is_finite() && self.sigma >= 0.0) {
            return Err(SuperpixelError::param(
                "sigma",
                self.sigma,
                "a finite number >= 0",
            ));
        }
        Ok(())
    }
}

/// Segments an RGB image with Felzenszwalb's method, following scikit-image 0.26.
///
/// `image` is `(H, W, 3)` RGB, f32 in [0, 1] (`u8 / 255`); values are used
/// as they are (scikit-image does not rescale floats here). Returns an
/// `(H, W)` label map counting from 0.
///
/// # Errors
/// [`SuperpixelError`] for an empty, non-RGB or non-finite image, or a
/// parameter out of range (see [`FelzenszwalbParams`]).
pub fn felzenszwalb(
    image: ArrayView3<f32>,
    params: &FelzenszwalbParams,
) -> Result<Array2<u32>, SuperpixelError> {
    params.validate()?;
    let t0 = std::time::Instant::now();
    let rgb = rgb_to_f64(image)?;
    eprintln!("input {:?}", t0.elapsed());
    let (height, width) = (rgb.height, rgb.width);
    let smooth = gaussian_2d(rgb.data, height, width, 3, params.sigma, Boundary::Reflect);

    eprintln!("gauss {:?}", t0.elapsed());
    let edges = sorted_edges(&smooth, height, width);
    eprintln!("edges {:?}", t0.elapsed());
    let mut forest = Forest::new(height * width);
    let scale = params.scale / 255.0;
    for edge in &edges {
        let (ra, rb) = (forest.find(edge.a), forest.find(edge.b));
        if ra == rb {
            continue;
        }
        // scikit-image keeps these thresholds in float32 variables.
        let ta = (forest.internal[ra] + scale / f64::from(forest.size[ra])) as f32;
        let tb = (forest.internal[rb] + scale / f64::from(forest.size[rb])) as f32;
        if edge.cost < f64::from(ta.min(tb)) {
            let root = forest.union(ra, rb);
            forest.internal[root] = edge.cost;
        }
    }
    eprintln!("merge1 {:?}", t0.elapsed());
    let min_size = u32::try_from(params.min_size).unwrap_or(u32::MAX);
    for edge in &edges {
        let (ra, rb) = (forest.find(edge.a), forest.find(edge.b));
        if ra != rb && (forest.size[ra] < min_size || forest.size[rb] < min_size) {
            forest.union(ra, rb);
        }
    }
    eprintln!("merge2 {:?}", t0.elapsed());
    let labels = forest.raster_labels();
    eprintln!("labels {:?}", t0.elapsed());
    Array2::from_shape_vec((height, width), labels).map_err(|_| SuperpixelError::EmptyImage {
        height,
        width,
        channels: 3,
    })
}

/// An edge of the pixel graph: its weight and the two pixels it joins.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Edge {
    cost: f64,
    a: u32,
    b: u32,
}

/// The edges of the 8-connected grid graph in scikit-image's order (all
/// right edges, then down, down-right and up-right edges, each block in
/// raster order), weighted by the Euclidean distance of the smoothed RGB
/// vectors and stably sorted by weight.
///
/// scikit-image sorts with numpy's unstable quicksort, so the order of equal
/// weights is the one thing that may differ (it did not on the test photos).
fn sorted_edges(image: &[f64], height: usize, width: usize) -> Vec<Edge> {
    let t1 = std::time::Instant::now();
    let (h, w) = (height, width);
    let diagonal = h.saturating_sub(1) * w.saturating_sub(1);
    let total = h * w.saturating_sub(1) + h.saturating_sub(1) * w + 2 * diagonal;
    let mut edges = vec![
        Edge {
            cost: 0.0,
            a: 0,
            b: 0
        };
        total
    ];
    let cost = |a: usize, b: usize| {
        let (pa, pb) = (&image[a * 3..a * 3 + 3], &image[b * 3..b * 3 + 3]);
        let (d0, d1, d2) = (pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]);
        (d0 * d0 + d1 * d1 + d2 * d2).sqrt()
    };
    // (rows, edges per row, first endpoint, offset of the second endpoint).
    let blocks: [(usize, usize, &(dyn Fn(usize, usize) -> usize + Sync), isize); 4] = [
        (h, w.saturating_sub(1), &|y, x| y * w + x + 1, -1),
        (h.saturating_sub(1), w, &|y, x| (y + 1) * w + x, -(w as isize)),
        (h.saturating_sub(1), w.saturating_sub(1), &|y, x| (y + 1) * w + x + 1, -(w as isize) - 1),
        (h.saturating_sub(1), w.saturating_sub(1), &|y, x| y * w + x + 1, w as isize - 1),
    ];
    let mut rest = edges.as_mut_slice();
    for (rows, per_row, first, offset) in blocks {
        let (block, tail) = rest.split_at_mut(rows * per_row);
        rest = tail;
        if per_row == 0 {
            continue;
        }
        block
            .par_chunks_mut(per_row)
            .enumerate()
            .for_each(|(y, row)| {
                for (x, e) in row.iter_mut().enumerate() {
                    let a = first(y, x);
                    let b = (a as isize + offset) as usize;
                    *e = Edge {
                        cost: cost(a, b),
                        a: a as u32,
                        b: b as u32,
                    };
                }
            });
    }
    eprintln!("  costs computed {:?}", t1.elapsed());
    radix_sort_by_cost(edges)
}

/// Stable sort of edges by cost. Costs are non-negative, so their bit
/// patterns order like the numbers: a least-significant-digit radix sort on
/// the top 33 bits (three 11-bit digits, skipping digits that are the same
/// for all edges), then an insertion pass that orders the rare edges whose
/// top bits tie by their full cost. Both steps are stable.
fn radix_sort_by_cost(mut edges: Vec<Edge>) -> Vec<Edge> {
    const DIGIT_BITS: u32 = 11;
    const SHIFTS: [u32; 3] = [31, 42, 53];
    const BUCKETS: usize = 1 << DIGIT_BITS;
    let digit = |e: &Edge, shift: u32| ((e.cost.to_bits() >> shift) as usize) & (BUCKETS - 1);
    let n = edges.len();
    let mut counts = vec![[0usize; BUCKETS]; SHIFTS.len()];
    for e in &edges {
        for (count, &shift) in counts.iter_mut().zip(&SHIFTS) {
            count[digit(e, shift)] += 1;
        }
    }
    let mut scratch = edges.clone();
    for (count, &shift) in counts.iter().zip(&SHIFTS) {
        if count.iter().any(|&c| c == n) {
            continue;
        }
        let mut next = [0usize; BUCKETS];
        let mut sum = 0;
        for (start, &c) in next.iter_mut().zip(count) {
            *start = sum;
            sum += c;
        }
        for e in &edges {
            let d = digit(e, shift);
            scratch[next[d]] = *e;
            next[d] += 1;
        }
        std::mem::swap(&mut edges, &mut scratch);
    }
    for i in 1..n {
        let e = edges[i];
        let mut j = i;
        while j > 0 && edges[j - 1].cost > e.cost {
            edges[j] = edges[j - 1];
            j -= 1;
        }
        edges[j] = e;
    }
    edges
}

/// Union-find over pixels with each component's size and internal
/// difference (largest edge weight of its spanning tree) kept at its root.
struct Forest {
    parent: Vec<u32>,
    size: Vec<u32>,
    internal: Vec<f64>,
}

impl Forest {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
            internal: vec![0.0; n],
        }
    }

    /// Root of `p`'s component (with path halving).
    fn find(&mut self, p: u32) -> usize {
        let mut p = p as usize;
        loop {
            let parent = self.parent[p] as usize;
            if parent == p {
                return p;
            }
            let grand = self.parent[parent];
            self.parent[p] = grand;
            p = grand as usize;
        }
    }

    /// Joins two roots (the larger component keeps its root); returns the new root.
    fn union(&mut self, a: usize, b: usize) -> usize {
        let (root, child) = if self.size[a] >= self.size[b] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[child] = root as u32;
        self.size[root] += self.size[child];
        root
    }

    /// Labels from 0 in raster order of each component's first pixel, which
    /// is scikit-image's order (its roots are the smallest pixel index).
    fn raster_labels(&mut self) -> Vec<u32> {
        let n = self.parent.len();
        let mut label_of_root = vec![u32::MAX; n];
        let mut next = 0;
        (0..n as u32)
            .map(|p| {
                let root = self.find(p);
                if label_of_root[root] == u32::MAX {
                    label_of_root[root] = next;
                    next += 1;
                }
                label_of_root[root]
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_follow_scikit_image_order_and_sort_stably() {
        // A 2x3 image whose pixels all differ by the same amount along a
        // channel except pixel 5: most edge costs tie, so the stable order
        // must keep scikit-image's edge order among them.
        let values = [0.0, 1.0, 2.0, 1.0, 2.0, 9.0];
        let image: Vec<f64> = values.iter().flat_map(|&v| [v, 0.0, 0.0]).collect();
        let edges = sorted_edges(&image, 2, 3);
        let pairs: Vec<(u32, u32)> = edges.iter().map(|e| (e.a, e.b)).collect();
        // Unsorted order: right (1,0) (2,1) (4,3) (5,4); down (3,0) (4,1)
        // (5,2); down-right (4,0) (5,1); up-right (1,3) (2,4).
        // Costs: 1 1 1 7 | 1 1 7 | 2 8 | 0 0.
        let expected = [
            (1, 3), (2, 4),
            (1, 0), (2, 1), (4, 3), (3, 0), (4, 1),
            (4, 0),
            (5, 4), (5, 2),
            (5, 1),
        ];
        assert_eq!(pairs, expected);
        let costs: Vec<f64> = edges.iter().map(|e| e.cost).collect();
        assert_eq!(costs, [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 7.0, 7.0, 8.0]);
    }

    #[test]
    fn radix_sort_orders_full_costs_within_equal_top_bits() {
        let costs = [0.5, 1e-300, 0.5 + 1e-15, 0.5, 3.0, 0.0, 0.5 + 2e-16];
        let edges: Vec<Edge> = costs
            .iter()
            .enumerate()
            .map(|(i, &cost)| Edge { cost, a: i as u32, b: 0 })
            .collect();
        let sorted = radix_sort_by_cost(edges);
        let order: Vec<u32> = sorted.iter().map(|e| e.a).collect();
        assert_eq!(order, [5, 1, 0, 3, 6, 2, 4]);
    }
}
