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
use crate::gaussian::{gaussian_2d, Boundary, MAX_SIGMA};
use crate::input::{rgb_to_f64, Sample};
use crate::scratch;

/// Parameters of [`felzenszwalb`], named and defaulted as in scikit-image 0.26.
#[derive(Debug, Clone, PartialEq)]
pub struct FelzenszwalbParams {
    /// Observation level (the paper's `k`): higher means larger segments.
    /// Divided by 255 internally, as scikit-image does to match the reference
    /// implementation on 8-bit images. Must be finite and >= 0. Default: 1.0.
    pub scale: f64,
    /// Standard deviation of the gaussian that smooths the image first, in
    /// pixels; 0 means no smoothing. Must be in [0, 1000] (wider kernels only
    /// cost time). Default: 0.8.
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
            return Err(SuperpixelError::param("scale", self.scale, "a finite number >= 0"));
        }
        if !(self.sigma >= 0.0 && self.sigma <= MAX_SIGMA) {
            return Err(SuperpixelError::param("sigma", self.sigma, "a number in [0, 1000]"));
        }
        Ok(())
    }
}

/// Segments an RGB image with Felzenszwalb's method, following scikit-image 0.26.
///
/// `image` is `(H, W, 3)` RGB, f32 in [0, 1] (`u8 / 255`) or f64 in any
/// range; values are used as they are (scikit-image does not rescale floats
/// here). Returns an `(H, W)` label map counting from 0.
///
/// # Errors
/// [`SuperpixelError`] for an empty, non-RGB or non-finite image, or a
/// parameter out of range (see [`FelzenszwalbParams`]).
pub fn felzenszwalb<T: Sample>(image: ArrayView3<T>, params: &FelzenszwalbParams) -> Result<Array2<u32>, SuperpixelError> {
    params.validate()?;
    let rgb = rgb_to_f64(image)?;
    let (height, width) = (rgb.height, rgb.width);
    let smooth = gaussian_2d(rgb.data, height, width, 3, params.sigma, Boundary::Reflect);

    let edges = Edges::sorted(&smooth, height, width);
    scratch::give(smooth);
    let mut sets = Components::new(height * width);
    let scale = params.scale / 255.0;
    for i in 0..edges.len() {
        edges.prefetch_ahead(&sets, i);
        let (a, b) = edges.endpoints(i);
        let (ra, rb) = (sets.root(a), sets.root(b));
        if ra == rb {
            continue;
        }
        let cost = edges.cost(i);
        // scikit-image keeps these thresholds in float32 variables.
        let (ca, cb) = (sets.info[ra], sets.info[rb]);
        let ta = (ca.internal + scale / f64::from(ca.size)) as f32;
        let tb = (cb.internal + scale / f64::from(cb.size)) as f32;
        if cost < f64::from(ta.min(tb)) {
            let root = sets.union(ra, rb);
            sets.info[root].internal = cost;
        }
    }
    let min_size = u32::try_from(params.min_size).unwrap_or(u32::MAX);
    for i in 0..edges.len() {
        edges.prefetch_ahead(&sets, i);
        let (a, b) = edges.endpoints(i);
        let (ra, rb) = (sets.root(a), sets.root(b));
        if ra != rb && (sets.info[ra].size < min_size || sets.info[rb].size < min_size) {
            sets.union(ra, rb);
        }
    }
    edges.recycle();
    let labels = sets.raster_labels();
    sets.recycle();
    Array2::from_shape_vec((height, width), labels).map_err(|_| SuperpixelError::Internal("label buffer does not match the image shape"))
}

/// The edges of the 8-connected grid graph, sorted by weight.
///
/// Edge `i` has weight `f64::from_bits(keys[i])` (weights are non-negative,
/// so their bit patterns order like the numbers) and joins pixel
/// `pairs[i] >> 2` to that pixel plus `offsets[pairs[i] & 3]`.
struct Edges {
    keys: Vec<u64>,
    pairs: Vec<u32>,
    offsets: [isize; 4],
}

/// One direction's block of edges: rows, edges per row, the first endpoint
/// of the edge at `(width, y, x)`, and the offset from it to the second.
type EdgeBlock = (usize, usize, fn(usize, usize, usize) -> usize, isize);

/// How far ahead the merge loops prefetch set entries.
const PREFETCH_DISTANCE: usize = 16;

impl Edges {
    /// Builds the edges in scikit-image's order (all right edges, then down,
    /// down-right and up-right edges, each block in raster order), weighted
    /// by the Euclidean distance of the smoothed RGB vectors, and sorts them
    /// stably by weight.
    ///
    /// scikit-image sorts with numpy's unstable quicksort, so the order of
    /// equal weights is the one thing that may differ (on the test photos
    /// the labels still agree with an adjusted Rand index of 0.99997 or more).
    fn sorted(image: &[f64], height: usize, width: usize) -> Self {
        let (h, w) = (height, width);
        let (w1, h1) = (w.saturating_sub(1), h.saturating_sub(1));
        let iw = w as isize;
        // Per block: rows, edges per row, first endpoint, second endpoint offset.
        let blocks: [EdgeBlock; 4] = [
            (h, w1, |w, y, x| y * w + x + 1, -1),
            (h1, w, |w, y, x| (y + 1) * w + x, -iw),
            (h1, w1, |w, y, x| (y + 1) * w + x + 1, -iw - 1),
            (h1, w1, |w, y, x| y * w + x + 1, iw - 1),
        ];
        let total: usize = blocks.iter().map(|(rows, per_row, ..)| rows * per_row).sum();
        let mut keys: Vec<u64> = scratch::take(total);
        let mut pairs: Vec<u32> = scratch::take(total);
        let (mut key_rest, mut pair_rest) = (keys.as_mut_slice(), pairs.as_mut_slice());
        for (dir, (rows, per_row, first, offset)) in blocks.into_iter().enumerate() {
            let (key_block, key_tail) = key_rest.split_at_mut(rows * per_row);
            let (pair_block, pair_tail) = pair_rest.split_at_mut(rows * per_row);
            (key_rest, pair_rest) = (key_tail, pair_tail);
            if per_row == 0 {
                continue;
            }
            key_block
                .par_chunks_mut(per_row)
                .zip(pair_block.par_chunks_mut(per_row))
                .enumerate()
                .for_each(|(y, (key_row, pair_row))| {
                    for (x, (key, pair)) in key_row.iter_mut().zip(pair_row).enumerate() {
                        let a = first(w, y, x);
                        let b = a.wrapping_add_signed(offset);
                        let (pa, pb) = (&image[a * 3..a * 3 + 3], &image[b * 3..b * 3 + 3]);
                        let (d0, d1, d2) = (pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]);
                        *key = (d0 * d0 + d1 * d1 + d2 * d2).sqrt().to_bits();
                        *pair = ((a as u32) << 2) | dir as u32;
                    }
                });
        }
        radix_sort(&mut keys, &mut pairs);
        Self {
            keys,
            pairs,
            offsets: blocks.map(|(.., offset)| offset),
        }
    }

    fn len(&self) -> usize {
        self.keys.len()
    }

    /// Hands the buffers back to the per-thread pool.
    fn recycle(self) {
        scratch::give(self.keys);
        scratch::give(self.pairs);
    }

    fn cost(&self, i: usize) -> f64 {
        f64::from_bits(self.keys[i])
    }

    fn endpoints(&self, i: usize) -> (u32, u32) {
        let pair = self.pairs[i];
        let a = pair >> 2;
        (a, a.wrapping_add_signed(self.offsets[(pair & 3) as usize] as i32))
    }

    /// Asks the CPU to fetch what the merge loops will read for later edges:
    /// the root entries of the pixels of edge `i + PREFETCH_DISTANCE`, and
    /// the set information of the roots of edge `i + PREFETCH_DISTANCE / 2`
    /// (whose root entries were requested earlier), so that the loops do not
    /// wait on memory for each edge in turn.
    #[inline(always)]
    fn prefetch_ahead(&self, sets: &Components, i: usize) {
        #[cfg(target_arch = "x86_64")]
        {
            use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
            let hint = |address: *const u8| {
                // SAFETY: SSE is part of x86_64, and a prefetch is only a
                // hint: it reads nothing into the program and never faults.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(address.cast()) }
            };
            if i + PREFETCH_DISTANCE < self.len() {
                let (a, b) = self.endpoints(i + PREFETCH_DISTANCE);
                hint((&sets.root[a as usize] as *const u32).cast());
                hint((&sets.root[b as usize] as *const u32).cast());
            }
            if i + PREFETCH_DISTANCE / 2 < self.len() {
                let (a, b) = self.endpoints(i + PREFETCH_DISTANCE / 2);
                hint((&sets.info[sets.root(a)] as *const SetInfo).cast());
                hint((&sets.info[sets.root(b)] as *const SetInfo).cast());
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        let _ = (sets, i);
    }
}

/// Stable sort of `keys` (carrying `values` along): a least-significant-digit
/// radix sort on the top 33 bits (three 11-bit digits, skipping any digit
/// that all keys share), each pass split over threads, then an insertion
/// pass that orders keys whose top bits tie. Both steps are stable, so equal
/// keys keep their input order.
fn radix_sort(keys: &mut Vec<u64>, values: &mut Vec<u32>) {
    const SHIFTS: [u32; 3] = [31, 42, 53];
    let n = keys.len();
    let mut key_buf: Vec<u64> = scratch::take(n);
    let mut value_buf: Vec<u32> = scratch::take(n);
    for shift in SHIFTS {
        if radix_pass(keys, values, &mut key_buf, &mut value_buf, shift) {
            std::mem::swap(keys, &mut key_buf);
            std::mem::swap(values, &mut value_buf);
        }
    }
    for i in 1..n {
        let (key, value) = (keys[i], values[i]);
        let mut j = i;
        while j > 0 && keys[j - 1] > key {
            keys[j] = keys[j - 1];
            values[j] = values[j - 1];
            j -= 1;
        }
        keys[j] = key;
        values[j] = value;
    }
    scratch::give(key_buf);
    scratch::give(value_buf);
}

/// One stable counting-sort pass on the 11-bit digit at `shift`, from
/// `keys`/`values` into the buffers. Returns false (and writes nothing) when
/// every key has the same digit.
fn radix_pass(keys: &[u64], values: &[u32], key_buf: &mut [u64], value_buf: &mut [u32], shift: u32) -> bool {
    const BUCKETS: usize = 1 << 11;
    let digit = move |key: u64| ((key >> shift) as usize) & (BUCKETS - 1);
    let n = keys.len();
    let parts = rayon::current_num_threads().clamp(1, 8);
    let part_len = n.div_ceil(parts).max(1);
    let counts: Vec<Vec<usize>> = keys
        .par_chunks(part_len)
        .map(|chunk| {
            let mut count = vec![0usize; BUCKETS];
            for &key in chunk {
                count[digit(key)] += 1;
            }
            count
        })
        .collect();
    let same_digit = (0..BUCKETS).any(|d| counts.iter().map(|c| c[d]).sum::<usize>() == n);
    if same_digit {
        return false;
    }
    // Cut the output into one slice per (part, bucket), bucket-major, so that
    // each part writes its keys of a bucket after those of earlier parts.
    let mut key_slots: Vec<Vec<&mut [u64]>> = counts.iter().map(|_| Vec::new()).collect();
    let mut value_slots: Vec<Vec<&mut [u32]>> = counts.iter().map(|_| Vec::new()).collect();
    let (mut key_rest, mut value_rest) = (key_buf, value_buf);
    for d in 0..BUCKETS {
        for (part, count) in counts.iter().enumerate() {
            let (k, k_tail) = std::mem::take(&mut key_rest).split_at_mut(count[d]);
            let (v, v_tail) = std::mem::take(&mut value_rest).split_at_mut(count[d]);
            key_slots[part].push(k);
            value_slots[part].push(v);
            (key_rest, value_rest) = (k_tail, v_tail);
        }
    }
    keys.par_chunks(part_len)
        .zip(values.par_chunks(part_len))
        .zip(key_slots.into_par_iter().zip(value_slots))
        .for_each(|((keys, values), (mut key_slots, mut value_slots))| {
            let mut cursor = vec![0usize; BUCKETS];
            for (&key, &value) in keys.iter().zip(values) {
                let d = digit(key);
                key_slots[d][cursor[d]] = key;
                value_slots[d][cursor[d]] = value;
                cursor[d] += 1;
            }
        });
    true
}

/// Disjoint sets of pixels in which every pixel records its set's root
/// directly (a "quick-find" structure): finding a root is one load, which is
/// what both merge passes do twice per edge. A union relabels the members of
/// the smaller set, found through a circular list of members per set; a
/// pixel is relabelled at most log2(n) times.
struct Components {
    /// The root pixel of each pixel's set.
    root: Vec<u32>,
    /// The next member of each pixel's set (a circular list).
    next: Vec<u32>,
    /// Per root: size and internal difference.
    info: Vec<SetInfo>,
}

/// What a root knows about its set: its size and its internal difference
/// (the largest edge weight of its spanning tree), which sets the threshold.
#[derive(Debug, Clone, Copy, Default)]
struct SetInfo {
    internal: f64,
    size: u32,
}

impl Components {
    /// Every pixel alone in its set.
    fn new(n: usize) -> Self {
        let mut root: Vec<u32> = scratch::take(n);
        let mut next: Vec<u32> = scratch::take(n);
        for (p, (r, nx)) in root.iter_mut().zip(next.iter_mut()).enumerate() {
            *r = p as u32;
            *nx = p as u32;
        }
        let info = vec![SetInfo { internal: 0.0, size: 1 }; n];
        Self { root, next, info }
    }

    /// The root of `p`'s set.
    #[inline(always)]
    fn root(&self, p: u32) -> usize {
        self.root[p as usize] as usize
    }

    /// Joins the sets rooted at `a` and `b` (the larger set's root stays);
    /// returns the new root.
    fn union(&mut self, a: usize, b: usize) -> usize {
        let (keep, absorb) = if self.info[a].size >= self.info[b].size { (a, b) } else { (b, a) };
        let mut m = absorb;
        loop {
            self.root[m] = keep as u32;
            m = self.next[m] as usize;
            if m == absorb {
                break;
            }
        }
        // Swapping the successors of two members splices two circular lists.
        self.next.swap(keep, absorb);
        self.info[keep].size += self.info[absorb].size;
        keep
    }

    /// Labels from 0 in raster order of each set's first pixel, which is
    /// scikit-image's order (its roots are the smallest pixel index).
    fn raster_labels(&self) -> Vec<u32> {
        let mut label_of_root: Vec<u32> = scratch::take(self.root.len());
        label_of_root.fill(u32::MAX);
        let mut next = 0;
        let labels = self
            .root
            .iter()
            .map(|&r| {
                let label = &mut label_of_root[r as usize];
                if *label == u32::MAX {
                    *label = next;
                    next += 1;
                }
                *label
            })
            .collect();
        scratch::give(label_of_root);
        labels
    }

    /// Hands the buffers back to the per-thread pool.
    fn recycle(self) {
        scratch::give(self.root);
        scratch::give(self.next);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_follow_scikit_image_order_and_sort_stably() {
        // A 2x3 image with many equal edge weights: the stable order must
        // keep scikit-image's edge order among them.
        let values = [0.0, 1.0, 2.0, 1.0, 2.0, 9.0];
        let image: Vec<f64> = values.iter().flat_map(|&v| [v, 0.0, 0.0]).collect();
        let edges = Edges::sorted(&image, 2, 3);
        let pairs: Vec<(u32, u32)> = (0..edges.len()).map(|i| edges.endpoints(i)).collect();
        // Unsorted order: right (1,0) (2,1) (4,3) (5,4); down (3,0) (4,1)
        // (5,2); down-right (4,0) (5,1); up-right (1,3) (2,4).
        // Weights: 1 1 1 7 | 1 1 7 | 2 8 | 0 0.
        let expected = [
            (1, 3),
            (2, 4),
            (1, 0),
            (2, 1),
            (4, 3),
            (3, 0),
            (4, 1),
            (4, 0),
            (5, 4),
            (5, 2),
            (5, 1),
        ];
        assert_eq!(pairs, expected);
        let costs: Vec<f64> = (0..edges.len()).map(|i| edges.cost(i)).collect();
        assert_eq!(costs, [0.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 7.0, 7.0, 8.0]);
    }

    #[test]
    fn radix_sort_orders_full_keys_stably() {
        let costs = [0.5, 1e-300, 0.5 + 1e-15, 0.5, 3.0, 0.0, 0.5 + 2e-16, 0.5];
        let mut keys: Vec<u64> = costs.iter().map(|c: &f64| c.to_bits()).collect();
        let mut values: Vec<u32> = (0..costs.len() as u32).collect();
        radix_sort(&mut keys, &mut values);
        assert_eq!(values, [5, 1, 0, 3, 7, 6, 2, 4]);
        // Many keys, several threads' parts: compare with a stable std sort.
        let mut state = 12345u64;
        let mut keys: Vec<u64> = (0..100_000)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                f64::from_bits((state >> 12) | 0x3F00_0000_0000_0000).to_bits() & !0xFFFF
            })
            .collect();
        let mut expected: Vec<(u64, u32)> = keys.iter().copied().zip(0..).collect();
        expected.sort_by_key(|&(k, _)| k);
        let mut values: Vec<u32> = (0..keys.len() as u32).collect();
        radix_sort(&mut keys, &mut values);
        let got: Vec<(u64, u32)> = keys.into_iter().zip(values).collect();
        assert_eq!(got, expected);
    }
}
