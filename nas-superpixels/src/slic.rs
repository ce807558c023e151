//! SLIC superpixels (Achanta et al., TPAMI 2012), as scikit-image 0.26's
//! `skimage.segmentation.slic` computes them for 2D RGB images.
//!
//! Steps, each following scikit-image:
//! 1. rescale the image to [0, 1] with its global minimum and maximum;
//! 2. convert to CIE L*a*b* (`convert2lab`);
//! 3. place about `n_segments` centres on scikit-image's regular grid, with
//!    zero colour;
//! 4. smooth with a gaussian of `sigma` (`mode='reflect'`) if `sigma > 0`;
//! 5. scale colours by `1 / compactness` and run `max_num_iter` rounds of
//!    local k-means: every centre claims the pixels of a window of two grid
//!    steps around it whose distance `(dy² + dx²) / step² + |colour|²`
//!    (colour term divided by the centre's largest colour distance so far in
//!    SLIC-zero mode) beats their current one, then moves to their mean;
//! 6. make regions connected, absorbing those under `min_size_factor` of the
//!    mean segment size.

use ndarray::{Array2, ArrayView3};
use rayon::prelude::*;

use crate::color::{linear_rgb_to_lab_inplace, srgb_to_linear};
use crate::connectivity::{enforce_connectivity, NO_LABEL};
use crate::error::SuperpixelError;
use crate::gaussian::{gaussian_2d, Boundary, MAX_SIGMA};
use crate::grid::regular_grid;
use crate::input::rgb_to_f64;
use crate::scratch;

/// Parameters of [`slic`], named and defaulted as in scikit-image 0.26.
///
/// scikit-image's `spacing`, `mask` and `channel_axis` are not offered: the
/// image is always a 2D RGB image with unit pixel spacing and no mask.
#[derive(Debug, Clone, PartialEq)]
pub struct SlicParams {
    /// The (approximate) number of labels in the output; the grid of initial
    /// centres may hold fewer, and enforcing connectivity changes the count.
    /// Must be at least 1. Default: 100.
    pub n_segments: usize,
    /// Balances colour proximity and space proximity: higher values give more
    /// weight to space and squarer superpixels. In SLIC-zero mode, the
    /// initial compactness. Must be finite and > 0. Default: 10.0.
    pub compactness: f64,
    /// Number of k-means iterations. Must be at least 1. Default: 10.
    pub max_num_iter: usize,
    /// Standard deviation of the gaussian that smooths the (L*a*b*) image
    /// first, in pixels; 0 means no smoothing. Must be in [0, 1000] (wider
    /// kernels only cost time). Default: 0.0.
    pub sigma: f64,
    /// Whether to cluster in CIE L*a*b* (true) or in the rescaled RGB values.
    /// scikit-image defaults to L*a*b* for 3-channel images. Default: true.
    pub convert2lab: bool,
    /// Whether to make every output segment connected. Default: true.
    pub enforce_connectivity: bool,
    /// Segments smaller than this fraction of the mean segment size
    /// (`H * W / number of centres`) are merged into a neighbour. Must be
    /// finite and >= 0. Default: 0.5.
    pub min_size_factor: f64,
    /// Connected regions are cut at this multiple of the mean segment size
    /// (a limit scikit-image keeps for its search buffer). Must be finite and
    /// > 0. Default: 3.0.
    pub max_size_factor: f64,
    /// Run SLIC-zero (SLICO), the zero-parameter mode of SLIC that adapts
    /// the colour scale per segment. Default: false.
    pub slic_zero: bool,
    /// The first label. Must be 0 or 1. Default: 1.
    pub start_label: u32,
}

impl Default for SlicParams {
    fn default() -> Self {
        Self {
            n_segments: 100,
            compactness: 10.0,
            max_num_iter: 10,
            sigma: 0.0,
            convert2lab: true,
            enforce_connectivity: true,
            min_size_factor: 0.5,
            max_size_factor: 3.0,
            slic_zero: false,
            start_label: 1,
        }
    }
}

impl SlicParams {
    /// Checks every parameter's range; see the field docs.
    fn validate(&self) -> Result<(), SuperpixelError> {
        if self.n_segments == 0 {
            return Err(SuperpixelError::param("n_segments", 0, "an integer >= 1"));
        }
        if !(self.compactness.is_finite() && self.compactness > 0.0) {
            return Err(SuperpixelError::param("compactness", self.compactness, "a finite number > 0"));
        }
        if self.max_num_iter == 0 {
            return Err(SuperpixelError::param("max_num_iter", 0, "an integer >= 1"));
        }
        if !(self.sigma >= 0.0 && self.sigma <= MAX_SIGMA) {
            return Err(SuperpixelError::param("sigma", self.sigma, "a number in [0, 1000]"));
        }
        if !(self.min_size_factor.is_finite() && self.min_size_factor >= 0.0) {
            return Err(SuperpixelError::param(
                "min_size_factor",
                self.min_size_factor,
                "a finite number >= 0",
            ));
        }
        if !(self.max_size_factor.is_finite() && self.max_size_factor > 0.0) {
            return Err(SuperpixelError::param(
                "max_size_factor",
                self.max_size_factor,
                "a finite number > 0",
            ));
        }
        if self.start_label > 1 {
            return Err(SuperpixelError::param("start_label", self.start_label, "0 or 1"));
        }
        Ok(())
    }
}

/// Segments an RGB image into SLIC superpixels, following scikit-image 0.26.
///
/// `image` is `(H, W, 3)` RGB, f32, nominally in [0, 1] (`u8 / 255`); like
/// scikit-image, any finite values are accepted and first rescaled to [0, 1]
/// by the global minimum and maximum. Returns an `(H, W)` label map counting
/// from `params.start_label`.
///
/// # Errors
/// [`SuperpixelError`] for an empty, non-RGB or non-finite image, or a
/// parameter out of range (see [`SlicParams`]).
pub fn slic(image: ArrayView3<f32>, params: &SlicParams) -> Result<Array2<u32>, SuperpixelError> {
    params.validate()?;
    let rgb = rgb_to_f64(image)?;
    let (height, width) = (rgb.height, rgb.width);
    let data = colour_features(rgb.data, rgb.u8_levels, params.convert2lab);

    // Initial centres on the grid for the requested count; `step` (the
    // largest grid step) sets the spatial scale of the distance.
    let grid = regular_grid([1, height, width], params.n_segments);
    let step = grid.iter().map(|g| g.step).max().unwrap_or(1) as f64;
    let mut centres: Vec<Centre> = Vec::new();
    for y in grid[1].points(height) {
        for x in grid[2].points(width) {
            centres.push(Centre {
                y: y as f64,
                x: x as f64,
                colour: [0.0; 3],
            });
        }
    }

    let data = if params.sigma > 0.0 {
        gaussian_2d(data, height, width, 3, params.sigma, Boundary::Reflect)
    } else {
        data
    };
    let ratio = 1.0 / params.compactness;
    let planes = Planes::from_interleaved(&data, ratio);
    scratch::give(data);

    // scikit-image's k-means recomputes the grid for the actual centre count
    // to size the search windows.
    let window = regular_grid([1, height, width], centres.len());
    let kmeans = KMeans {
        planes: &planes,
        height,
        width,
        window_y: 2.0 * window[1].step as f64,
        window_x: 2.0 * window[2].step as f64,
        spatial_weight: 1.0 / (step * step),
        x_coords: (0..width).map(|x| x as f64).collect(),
        slic_zero: params.slic_zero,
    };
    let (kmeans_labels, distance) = kmeans.run(&mut centres, params.max_num_iter);
    scratch::give(distance);
    planes.recycle();

    let n_centres = centres.len();
    let labels = if params.enforce_connectivity {
        let segment_size = (height * width) as f64 / n_centres as f64;
        let min_size = (params.min_size_factor * segment_size) as usize;
        let max_size = (params.max_size_factor * segment_size) as usize;
        let mut labels: Vec<u32> = scratch::take(height * width);
        for (l, &k) in labels.iter_mut().zip(&kmeans_labels) {
            *l = if k == UNASSIGNED { NO_LABEL } else { k as u32 };
        }
        let mut connected = enforce_connectivity(&labels, height, width, min_size, max_size, params.start_label);
        scratch::give(labels);
        for l in &mut connected {
            if *l == NO_LABEL {
                *l = params.start_label;
            }
        }
        connected
    } else {
        kmeans_labels
            .iter()
            .map(|&k| if k == UNASSIGNED { 0 } else { k as u32 } + params.start_label)
            .collect()
    };
    scratch::give(kmeans_labels);
    Array2::from_shape_vec((height, width), labels).map_err(|_| SuperpixelError::Internal("label buffer does not match the image shape"))
}

/// Label of a pixel no centre has claimed yet. The first k-means round
/// claims every pixel (the windows of the initial grid cover the image), so
/// it never survives to the output.
const UNASSIGNED: Label = Label::MAX;

/// A pixel's centre index during k-means: 64 bits wide like the f64
/// distances, so that the vectorised loop selects both with the same mask.
type Label = u64;

/// The colour features SLIC clusters: the image rescaled to [0, 1] by its
/// global minimum and maximum (a constant image becomes all zeros), then
/// converted to L*a*b* if `lab`, as scikit-image does.
///
/// Rescaling and gamma expansion act on each value alone, so for 8-bit
/// images they are tabulated once per level (same arithmetic, same results).
fn colour_features(mut data: Vec<f64>, u8_levels: bool, lab: bool) -> Vec<f64> {
    let (min, max) = data
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let range = max - min;
    let per_value = |v: f64| {
        let mut r = v - min;
        if range != 0.0 {
            r /= range;
        }
        if lab {
            srgb_to_linear(r)
        } else {
            r
        }
    };
    if u8_levels {
        let table: Vec<f64> = (0..=255u8).map(|k| per_value(f64::from(f32::from(k) / 255.0))).collect();
        data.par_iter_mut()
            .with_min_len(1 << 14)
            // Values are levels k / 255 here, so this recovers k (the mask
            // only spares a bounds check; f64 -> i32 is one instruction).
            .for_each(|v| *v = table[(*v * 255.0 + 0.5) as i32 as usize & 255]);
    } else {
        data.par_iter_mut().with_min_len(1 << 14).for_each(|v| *v = per_value(*v));
    }
    if lab {
        linear_rgb_to_lab_inplace(&mut data);
    }
    data
}

/// A k-means centre: position and (scaled) colour. `y` is NaN once the centre
/// has lost all its pixels, which retires it, as the NaN mean does in
/// scikit-image.
#[derive(Debug, Clone, Copy)]
struct Centre {
    y: f64,
    x: f64,
    colour: [f64; 3],
}

impl Centre {
    fn alive(&self) -> bool {
        !self.y.is_nan()
    }
}

/// The three colour channels as separate planes (for vectorisable loops).
struct Planes {
    c: [Vec<f64>; 3],
}

impl Planes {
    /// Hands the planes back to the per-thread buffer pool.
    fn recycle(self) {
        for plane in self.c {
            scratch::give(plane);
        }
    }

    fn from_interleaved(data: &[f64], ratio: f64) -> Self {
        let n = data.len() / 3;
        let mut c = [scratch::take(n), scratch::take(n), scratch::take(n)];
        for (ch, plane) in c.iter_mut().enumerate() {
            for (dst, px) in plane.iter_mut().zip(data.chunks_exact(3)) {
                *dst = px[ch] * ratio;
            }
        }
        Self { c }
    }
}

/// Rows per work item in the parallel loops; fixed so that results do not
/// depend on the number of threads.
const ROWS_PER_TASK: usize = 8;

/// Per-centre sums for the mean update.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    count: usize,
    y: f64,
    x: f64,
    colour: [f64; 3],
}

/// The local k-means of SLIC, over precomputed colour planes.
struct KMeans<'a> {
    planes: &'a Planes,
    height: usize,
    width: usize,
    /// Half-widths of the search windows (two grid steps).
    window_y: f64,
    window_x: f64,
    /// `1 / step²`.
    spatial_weight: f64,
    /// `0.0, 1.0, ..., width - 1` (for the vectorised distance loop).
    x_coords: Vec<f64>,
    slic_zero: bool,
}

impl KMeans<'_> {
    /// Runs up to `iterations` rounds; returns each pixel's centre index and
    /// (to be recycled) the distance buffer.
    fn run(&self, centres: &mut [Centre], iterations: usize) -> (Vec<Label>, Vec<f64>) {
        let n_pixels = self.height * self.width;
        let mut labels: Vec<Label> = scratch::take(n_pixels);
        labels.fill(UNASSIGNED);
        let mut distance: Vec<f64> = scratch::take(n_pixels);
        // SLIC-zero's per-centre colour scale; colours are already divided by
        // the compactness, so it starts at one.
        let mut max_colour = vec![1.0; centres.len()];
        for _ in 0..iterations {
            let changed = self.assign(centres, &max_colour, &mut labels, &mut distance);
            if !changed {
                break;
            }
            self.update_centres(centres, &labels);
            if self.slic_zero {
                self.update_max_colour(centres, &labels, &mut max_colour);
            }
        }
        (labels, distance)
    }

    /// Search windows `(y0, y1, x0, x1)` of the live centres, as scikit-image
    /// truncates them.
    fn windows(&self, centres: &[Centre]) -> Vec<Option<[usize; 4]>> {
        centres
            .iter()
            .map(|c| {
                c.alive().then(|| {
                    [
                        (c.y - self.window_y).max(0.0) as usize,
                        (c.y + self.window_y + 1.0).min(self.height as f64) as usize,
                        (c.x - self.window_x).max(0.0) as usize,
                        (c.x + self.window_x + 1.0).min(self.width as f64) as usize,
                    ]
                })
            })
            .collect()
    }

    /// Gives every pixel to the nearest centre whose window holds it (the
    /// first such centre on ties). Returns whether any pixel was claimed.
    fn assign(&self, centres: &[Centre], max_colour: &[f64], labels: &mut [Label], distance: &mut [f64]) -> bool {
        let windows = self.windows(centres);
        let w = self.width;
        let chunk = ROWS_PER_TASK * w;
        labels
            .par_chunks_mut(chunk)
            .zip(distance.par_chunks_mut(chunk))
            .enumerate()
            .map(|(task, (labels, distance))| {
                let mut changed = false;
                distance.fill(f64::MAX);
                let y_first = task * ROWS_PER_TASK;
                for (row, (lab_row, dist_row)) in labels.chunks_exact_mut(w).zip(distance.chunks_exact_mut(w)).enumerate() {
                    let y = y_first + row;
                    let offset = y * w;
                    for (k, (centre, window)) in centres.iter().zip(&windows).enumerate() {
                        let Some([y0, y1, x0, x1]) = *window else {
                            continue;
                        };
                        if y < y0 || y >= y1 || x0 >= x1 {
                            continue;
                        }
                        changed = true;
                        let dy = centre.y - y as f64;
                        let dy2 = dy * dy;
                        let colour_scale = if self.slic_zero { max_colour[k] } else { 1.0 };
                        self.assign_span(k as Label, centre, dy2, colour_scale, offset, x0..x1, lab_row, dist_row);
                    }
                }
                changed
            })
            .reduce(|| false, |a, b| a || b)
    }

    /// The inner loop of [`Self::assign`]: one centre over one row span.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn assign_span(
        &self,
        k: Label,
        centre: &Centre,
        dy2: f64,
        colour_scale: f64,
        offset: usize,
        xs: std::ops::Range<usize>,
        lab_row: &mut [Label],
        dist_row: &mut [f64],
    ) {
        let [p0, p1, p2] = &self.planes.c;
        let span = offset + xs.start..offset + xs.end;
        let span = Span {
            c: [&p0[span.clone()], &p1[span.clone()], &p2[span]],
            x: &self.x_coords[xs.clone()],
            labels: &mut lab_row[xs.clone()],
            distances: &mut dist_row[xs],
        };
        let centre = SpanCentre {
            k,
            x: centre.x,
            colour: centre.colour,
            dy2,
            spatial_weight: self.spatial_weight,
            colour_scale,
        };
        span_dispatch(self.slic_zero, centre, span);
    }

    /// Moves every centre to the mean position and colour of its pixels.
    fn update_centres(&self, centres: &mut [Centre], labels: &[Label]) {
        let n = centres.len();
        let w = self.width;
        let [p0, p1, p2] = &self.planes.c;
        let partial: Vec<Vec<Sums>> = labels
            .par_chunks(ROWS_PER_TASK * w)
            .enumerate()
            .map(|(task, labels)| {
                let mut sums = vec![Sums::default(); n];
                for (row, labels) in labels.chunks_exact(w).enumerate() {
                    let y = task * ROWS_PER_TASK + row;
                    let base = y * w;
                    let (c0, c1, c2) = (&p0[base..base + w], &p1[base..base + w], &p2[base..base + w]);
                    // Runs of equal labels: positions sum in closed form
                    // (exact integers), colours with four accumulators.
                    let mut x0 = 0;
                    while x0 < w {
                        let k = labels[x0];
                        let len = labels[x0..].iter().take_while(|&&l| l == k).count();
                        let x1 = x0 + len;
                        if let Some(s) = sums.get_mut(k as usize) {
                            s.count += len;
                            s.y += (y * len) as f64;
                            s.x += ((x0 + x1 - 1) * len / 2) as f64;
                            s.colour[0] += sum4(&c0[x0..x1]);
                            s.colour[1] += sum4(&c1[x0..x1]);
                            s.colour[2] += sum4(&c2[x0..x1]);
                        }
                        x0 = x1;
                    }
                }
                sums
            })
            .collect();
        for (k, centre) in centres.iter_mut().enumerate() {
            let mut total = Sums::default();
            for sums in &partial {
                let s = &sums[k];
                total.count += s.count;
                total.y += s.y;
                total.x += s.x;
                for c in 0..3 {
                    total.colour[c] += s.colour[c];
                }
            }
            let count = total.count as f64;
            // An empty centre gets NaN (0 / 0) and retires, as in scikit-image.
            centre.y = total.y / count;
            centre.x = total.x / count;
            centre.colour = total.colour.map(|v| v / count);
        }
    }

    /// SLIC-zero: raises each centre's colour scale to the largest colour
    /// distance among its pixels (it never shrinks).
    fn update_max_colour(&self, centres: &[Centre], labels: &[Label], max_colour: &mut [f64]) {
        let n = centres.len();
        let [p0, p1, p2] = &self.planes.c;
        let chunk = ROWS_PER_TASK * self.width;
        let partial: Vec<Vec<f64>> = labels
            .par_chunks(chunk)
            .enumerate()
            .map(|(task, labels)| {
                let mut maxima = vec![f64::NEG_INFINITY; n];
                for (i, &k) in labels.iter().enumerate() {
                    if k == UNASSIGNED {
                        continue;
                    }
                    let p = task * chunk + i;
                    let [k0, k1, k2] = centres[k as usize].colour;
                    let (t0, t1, t2) = (p0[p] - k0, p1[p] - k1, p2[p] - k2);
                    let d = t0 * t0 + t1 * t1 + t2 * t2;
                    let m = &mut maxima[k as usize];
                    if d > *m {
                        *m = d;
                    }
                }
                maxima
            })
            .collect();
        for maxima in &partial {
            for (m, &d) in max_colour.iter_mut().zip(maxima) {
                if *m < d {
                    *m = d;
                }
            }
        }
    }
}

/// Sum with four interleaved accumulators (vectorises, unlike a plain sum).
fn sum4(values: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let chunks = values.chunks_exact(4);
    let rest: f64 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest
}

/// One centre's part of the distance computation over a row span.
#[derive(Clone, Copy)]
struct SpanCentre {
    k: Label,
    x: f64,
    colour: [f64; 3],
    /// `(centre.y - y)²` for the row.
    dy2: f64,
    spatial_weight: f64,
    /// SLIC-zero's colour divisor for this centre.
    colour_scale: f64,
}

/// The pixels of a row span: colour planes, x coordinates, and the running
/// best labels and distances.
struct Span<'a> {
    c: [&'a [f64]; 3],
    x: &'a [f64],
    labels: &'a mut [Label],
    distances: &'a mut [f64],
}

/// Runs [`span_kernel`] for plain SLIC or SLIC-zero.
fn span_dispatch(slic_zero: bool, centre: SpanCentre, span: Span) {
    if slic_zero {
        span_dispatch_isa::<true>(centre, span);
    } else {
        span_dispatch_isa::<false>(centre, span);
    }
}

/// Runs [`span_kernel`] compiled for AVX2 where the CPU has it (the loop
/// vectorises to four pixels at a time), else for the baseline instruction
/// set. Both perform the same IEEE operations in the same order (no fused
/// multiply-add), so results are identical. (AVX-512 measured no faster, and
/// its target feature needs Rust 1.89.)
fn span_dispatch_isa<const SLIC_ZERO: bool>(centre: SpanCentre, span: Span) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU supports AVX2, checked just above.
            unsafe { span_kernel_avx2::<SLIC_ZERO>(centre, span) };
            return;
        }
    }
    span_kernel::<SLIC_ZERO>(centre, span);
}

/// [`span_kernel`] compiled for AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn span_kernel_avx2<const SLIC_ZERO: bool>(centre: SpanCentre, span: Span) {
    span_kernel::<SLIC_ZERO>(centre, span);
}

/// SLIC's distance of each span pixel to the centre, kept where it beats the
/// pixel's best so far: `(dy² + dx²) / step² + |colour - centre|²` (colour
/// term divided by the centre's scale in SLIC-zero), summed in
/// scikit-image's order. Branch-free so that it vectorises.
#[inline(always)]
fn span_kernel<const SLIC_ZERO: bool>(centre: SpanCentre, span: Span) {
    let [k0, k1, k2] = centre.colour;
    let Span {
        c: [c0, c1, c2],
        x,
        labels,
        distances,
    } = span;
    let n = labels.len();
    let (c0, c1, c2, x, distances) = (&c0[..n], &c1[..n], &c2[..n], &x[..n], &mut distances[..n]);
    for i in 0..n {
        let dx = centre.x - x[i];
        let (t0, t1, t2) = (c0[i] - k0, c1[i] - k1, c2[i] - k2);
        let mut colour = t0 * t0 + t1 * t1 + t2 * t2;
        if SLIC_ZERO {
            colour /= centre.colour_scale;
        }
        let d = (centre.dy2 + dx * dx) * centre.spatial_weight + colour;
        // Select through a bit mask: plain `if` selects compile to per-lane
        // loads here instead of vector blends.
        let (old_d, old_k) = (distances[i], labels[i]);
        let keep_new = ((d < old_d) as u64).wrapping_neg();
        distances[i] = f64::from_bits((d.to_bits() & keep_new) | (old_d.to_bits() & !keep_new));
        labels[i] = (centre.k & keep_new) | (old_k & !keep_new);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dispatched (vectorised) kernel and the baseline one agree exactly.
    #[test]
    fn kernel_variants_agree_bit_for_bit() {
        let n = 37;
        let mut state = 7u64;
        let mut noise = || {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let planes: Vec<Vec<f64>> = (0..3).map(|_| (0..n).map(|_| noise() * 10.0).collect()).collect();
        let x: Vec<f64> = (0..n).map(|i| i as f64).collect();
        for slic_zero in [false, true] {
            let mut runs = Vec::new();
            for dispatched in [false, true] {
                let mut labels = vec![UNASSIGNED; n];
                let mut distances = vec![f64::MAX; n];
                for k in 0..5 {
                    let centre = SpanCentre {
                        k,
                        x: 3.7 * k as f64,
                        colour: [2.0 * k as f64, 5.0, 1.0 + k as f64],
                        dy2: 0.25 * k as f64,
                        spatial_weight: 1.0 / 49.0,
                        colour_scale: 1.5 + k as f64,
                    };
                    let span = Span {
                        c: [&planes[0], &planes[1], &planes[2]],
                        x: &x,
                        labels: &mut labels,
                        distances: &mut distances,
                    };
                    match (dispatched, slic_zero) {
                        (true, _) => span_dispatch(slic_zero, centre, span),
                        (false, true) => span_kernel::<true>(centre, span),
                        (false, false) => span_kernel::<false>(centre, span),
                    }
                }
                let bits: Vec<u64> = distances.iter().map(|d| d.to_bits()).collect();
                runs.push((labels, bits));
            }
            assert_eq!(runs[0], runs[1], "slic_zero = {slic_zero}");
            assert!(runs[0].0.iter().all(|&k| k < 5));
        }
    }
}
