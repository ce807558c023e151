//! Lloyd's assignment step on upsampled features, recomputing only the pixels whose nearest
//! centre may have changed (Hamerly's bounds).
//!
//! Late k-means iterations move a few hundred of 50176 pixels. When the centres move, a pixel's
//! distance to its own centre grows by at most that centre's shift, and its distance to any other
//! centre shrinks by at most the largest shift among the others. Each pixel keeps an upper bound
//! on the first and a lower bound on the second; a pixel whose bounds stay apart keeps its label,
//! the others are recomputed with the same operations as [`UpsampledFeatures::nearest`]. The
//! bounds are widened by a margin for f32 rounding in the distances, so a kept label is the one
//! a full assignment would compute, bit for bit.

use super::{centre_norms, squared_distance, UpsampledFeatures};
use nas_simd::vectorized;
use rayon::prelude::*;

/// Smallest bound on the rounding error of a squared distance, as a fraction of the largest
/// squared norm of a pixel, a low-resolution position or a centre. A level's projection on a
/// centre sums its `n` channels in f32 (error at most `n` units of roundoff, 2^-24, of those
/// norms) before two bicubic blends (weights summing to at most 1.3 in absolute value each); the
/// margin is at least twice that, `4 n 2^-24` (`rounding_margin`), and never below this value.
const ROUNDING_MARGIN: f64 = 2e-4;

/// The rounding margin for levels of at most `channels` channels (see [`ROUNDING_MARGIN`]).
fn rounding_margin(channels: usize) -> f64 {
    ROUNDING_MARGIN.max(2.0 * channels as f64 * f64::from(f32::EPSILON))
}

/// Factors that round a bound outwards after an f32 operation (each rounds by at most 2^-24).
const ROUND_UP: f32 = 1.0 + 1.0 / (1 << 20) as f32;
const ROUND_DOWN: f32 = 1.0 - 1.0 / (1 << 20) as f32;

/// A row with at least this share of its pixels to recompute is recomputed whole (vectorised).
const WHOLE_ROW_SHARE: usize = 8;

/// A pixel that moved to another cluster in an assignment step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    /// Row-major index of the pixel on the grid.
    pub pixel: usize,
    /// The cluster it left.
    pub from: u32,
    /// The cluster it joined.
    pub to: u32,
}

/// Labels of the grid's pixels for the current centres, with the bounds that let the next
/// assignment step skip most pixels.
#[derive(Debug, Clone)]
pub struct BoundedAssignment {
    labels: Vec<u32>,
    /// Upper bound on each pixel's distance to its own centre.
    upper: Vec<f32>,
    /// Lower bound on each pixel's distance to every other centre.
    lower: Vec<f32>,
    centres: Vec<Vec<f32>>,
    /// Largest squared norm of a pixel plus the sum over levels of the largest squared norm of a
    /// low-resolution position: what rounding errors scale with, besides the centres.
    norm_scale: f64,
    /// [`rounding_margin`] for the widest level.
    rounding: f64,
    recomputed: usize,
}

/// Per-row inputs of an assignment step.
struct Step<'a> {
    features: &'a UpsampledFeatures,
    widened: Vec<Vec<f32>>,
    centre_norms: Vec<f32>,
    norms: &'a [f32],
    /// Squared-distance margin for rounding.
    margin: f64,
}

impl Step<'_> {
    /// Label and bounds of one pixel from its scores: the nearest centre (ties to the lower
    /// index, as `nearest`), an upper bound on its distance and a lower bound on the others'.
    #[inline(always)]
    fn settle(&self, scores: impl Iterator<Item = f32>, norm: f32) -> (u32, f32, f32) {
        let (mut label, mut best, mut second) = (0u32, f32::INFINITY, f32::INFINITY);
        for (i, (s, centre_norm)) in scores.zip(&self.centre_norms).enumerate() {
            let d = squared_distance(norm, s, *centre_norm);
            if d < best {
                (label, second, best) = (i as u32, best, d);
            } else {
                second = second.min(d);
            }
        }
        (label, self.upper_bound(best), self.lower_bound(second))
    }

    /// Upper bound on the true distance of a pixel whose computed squared distance is `best`.
    #[inline(always)]
    fn upper_bound(&self, best: f32) -> f32 {
        (f64::from(best) + self.margin).sqrt() as f32 * ROUND_UP
    }

    /// Lower bound on the true distance of a pixel whose computed squared distance is `second`.
    #[inline(always)]
    fn lower_bound(&self, second: f32) -> f32 {
        (f64::from(second) - self.margin).max(0.0).sqrt() as f32 * ROUND_DOWN
    }

    /// Recomputes the pixels `xs` of grid row `y` (all of them when `xs` is `None`), updating
    /// their labels and bounds and recording the moves in `changes`.
    #[inline(always)]
    fn recompute_row(&self, y: usize, xs: Option<&[usize]>, row: RowState<'_>, changes: &mut Vec<Change>) {
        let (width, k) = (self.features.width, self.centre_norms.len());
        let norms = &self.norms[y * width..(y + 1) * width];
        match xs {
            Some(xs) => {
                let mut scores = vec![0f32; k * xs.len()];
                self.features.pixel_scores(&self.widened, y, xs, &mut scores);
                for (&x, pixel) in xs.iter().zip(scores.chunks(k)) {
                    let (label, upper, lower) = self.settle(pixel.iter().copied(), norms[x]);
                    if label != row.labels[x] {
                        changes.push(Change {
                            pixel: y * width + x,
                            from: row.labels[x],
                            to: label,
                        });
                    }
                    (row.labels[x], row.upper[x], row.lower[x]) = (label, upper, lower);
                }
            }
            None => {
                let mut scores = vec![0f32; k * width];
                self.features.row_scores(&self.widened, y, &mut scores);
                // Centre by centre across the row (vectorises), as `nearest`.
                let (mut best, mut second) = (vec![f32::INFINITY; width], vec![f32::INFINITY; width]);
                let mut labels = vec![0u32; width];
                for (i, (score, centre_norm)) in scores.chunks(width).zip(&self.centre_norms).enumerate() {
                    let row = labels.iter_mut().zip(&mut best).zip(&mut second).zip(norms).zip(score);
                    for ((((label, best), second), norm), s) in row {
                        let d = squared_distance(*norm, *s, *centre_norm);
                        let closer = d < *best;
                        *second = if closer { *best } else { second.min(d) };
                        *best = if closer { d } else { *best };
                        *label = if closer { i as u32 } else { *label };
                    }
                }
                for (x, (new, old)) in labels.iter().zip(row.labels.iter()).enumerate() {
                    if new != old {
                        changes.push(Change {
                            pixel: y * width + x,
                            from: *old,
                            to: *new,
                        });
                    }
                }
                row.labels.copy_from_slice(&labels);
                for ((upper, lower), (best, second)) in row.upper.iter_mut().zip(row.lower.iter_mut()).zip(best.iter().zip(&second)) {
                    (*upper, *lower) = (self.upper_bound(*best), self.lower_bound(*second));
                }
            }
        }
    }
}

/// Loosens the bounds of a row's pixels by their centres' shifts (`shifts` for their own,
/// `other_shifts` for the others) and lists in `pending` the pixels whose bounds no longer
/// separate.
#[inline(always)]
fn loosen(row: &mut RowState<'_>, shifts: &[f32], other_shifts: &[f32], twice_margin: f32, pending: &mut Vec<usize>) {
    const LANES: usize = 16;
    // Labels are below k; clamping them to the last index tells the compiler so, which lets it
    // gather instead of checking bounds.
    let last = shifts.len().min(other_shifts.len()).max(1) - 1;
    let (shifts, other_shifts) = (&shifts[..=last], &other_shifts[..=last]);
    let loosen_one = |label: u32, upper: &mut f32, lower: &mut f32| -> bool {
        let label = (label as usize).min(last);
        *upper = (*upper + shifts[label]) * ROUND_UP;
        *lower = ((*lower - other_shifts[label]) * ROUND_DOWN).max(0.0);
        *upper * *upper + twice_margin >= *lower * *lower
    };
    pending.clear();
    let width = row.labels.len();
    pending.resize(width, 0);
    let mut count = 0;
    // Blocks of 16 in local arrays, which the compiler knows do not overlap the shifts, so the
    // block vectorises; the open pixels are then listed without branches.
    let blocks = row
        .labels
        .chunks(LANES)
        .zip(row.upper.chunks_mut(LANES))
        .zip(row.lower.chunks_mut(LANES));
    for (block, ((labels, upper), lower)) in blocks.enumerate() {
        let mut open = [false; LANES];
        if labels.len() == LANES {
            let (mut u, mut l) = ([0f32; LANES], [0f32; LANES]);
            u.copy_from_slice(upper);
            l.copy_from_slice(lower);
            for i in 0..LANES {
                open[i] = loosen_one(labels[i], &mut u[i], &mut l[i]);
            }
            upper.copy_from_slice(&u);
            lower.copy_from_slice(&l);
        } else {
            for (i, ((label, upper), lower)) in labels.iter().zip(upper.iter_mut()).zip(lower.iter_mut()).enumerate() {
                open[i] = loosen_one(*label, upper, lower);
            }
        }
        for (i, open) in open.iter().enumerate().take(labels.len()) {
            pending[count] = block * LANES + i;
            count += usize::from(*open);
        }
    }
    pending.truncate(count);
}

/// One grid row's labels and bounds.
struct RowState<'a> {
    labels: &'a mut [u32],
    upper: &'a mut [f32],
    lower: &'a mut [f32],
}

impl BoundedAssignment {
    /// Assigns every pixel to the nearest of `centres`, with `norms` from
    /// [`UpsampledFeatures::squared_norms`].
    pub fn new(features: &UpsampledFeatures, centres: Vec<Vec<f32>>, norms: &[f32]) -> BoundedAssignment {
        let pixels = features.pixels();
        let largest_pixel = norms.iter().fold(0f32, |m, v| m.max(*v));
        let largest_positions: f64 = features.levels.iter().map(|l| l.largest_squared_norm()).sum();
        let mut assignment = BoundedAssignment {
            labels: vec![0; pixels],
            upper: vec![0.0; pixels],
            lower: vec![0.0; pixels],
            centres: Vec::new(),
            norm_scale: f64::from(largest_pixel) + largest_positions,
            rounding: rounding_margin(features.levels.iter().map(|l| l.channels).max().unwrap_or(0)),
            recomputed: pixels,
        };
        let step = assignment.step(features, &centres, norms);
        assignment.for_each_row(features.width, |y, row, _, changes| step.recompute_row(y, None, row, changes));
        assignment.centres = centres;
        assignment
    }

    /// Moves the centres to `centres` and reassigns the pixels whose nearest centre may have
    /// changed; returns the pixels that changed cluster, in row-major order. A different number
    /// of centres than before reassigns every pixel.
    pub fn update(&mut self, features: &UpsampledFeatures, centres: Vec<Vec<f32>>, norms: &[f32]) -> Vec<Change> {
        if centres.is_empty() || centres.len() != self.centres.len() {
            let step = self.step(features, &centres, norms);
            let changes = self.for_each_row(features.width, |y, row, _, changes| step.recompute_row(y, None, row, changes));
            self.recomputed = features.pixels();
            self.centres = centres;
            return changes;
        }
        let shifts: Vec<f32> = self
            .centres
            .iter()
            .zip(&centres)
            .map(|(old, new)| {
                let squared: f64 = old.iter().zip(new).map(|(a, b)| f64::from(a - b).powi(2)).sum();
                // Rounded up: a bound may only loosen.
                squared.sqrt() as f32 * ROUND_UP
            })
            .collect();
        // For each centre, the largest shift among the others.
        let other_shifts: Vec<f32> = (0..shifts.len())
            .map(|i| shifts.iter().enumerate().filter(|(j, _)| *j != i).fold(0f32, |m, (_, s)| m.max(*s)))
            .collect();
        let step = self.step(features, &centres, norms);
        let width = features.width;
        let recomputed = std::sync::atomic::AtomicUsize::new(0);
        let changes = self.for_each_row(width, |y, mut row, pending, changes| {
            vectorized(
                #[inline(always)]
                || {
                    loosen(&mut row, &shifts, &other_shifts, 2.0 * step.margin as f32, pending);
                    if pending.is_empty() {
                        return;
                    }
                    let whole = pending.len() * WHOLE_ROW_SHARE >= width;
                    recomputed.fetch_add(if whole { width } else { pending.len() }, std::sync::atomic::Ordering::Relaxed);
                    step.recompute_row(y, (!whole).then_some(&pending[..]), row, changes);
                },
            )
        });
        self.recomputed = recomputed.into_inner();
        self.centres = centres;
        changes
    }

    /// The inputs of an assignment step to `centres`.
    fn step<'a>(&self, features: &'a UpsampledFeatures, centres: &[Vec<f32>], norms: &'a [f32]) -> Step<'a> {
        let centre_norms = centre_norms(centres);
        let largest_centre = centre_norms.iter().fold(0f32, |m, v| m.max(*v));
        Step {
            features,
            widened: features.widened_centres(centres),
            centre_norms,
            norms,
            margin: self.rounding * (self.norm_scale + f64::from(largest_centre)),
        }
    }

    /// Runs `visit` on every grid row, side by side, with a scratch list of `width` pixel
    /// indices (reused between rows), and gathers the changes in row order.
    fn for_each_row(&mut self, width: usize, visit: impl Fn(usize, RowState<'_>, &mut Vec<usize>, &mut Vec<Change>) + Sync) -> Vec<Change> {
        let per_row: Vec<Vec<Change>> = self
            .labels
            .par_chunks_mut(width)
            .zip(self.upper.par_chunks_mut(width))
            .zip(self.lower.par_chunks_mut(width))
            .enumerate()
            .map_init(
                || Vec::with_capacity(width),
                |scratch, (y, ((labels, upper), lower))| {
                    let mut changes = Vec::new();
                    visit(y, RowState { labels, upper, lower }, scratch, &mut changes);
                    changes
                },
            )
            .collect();
        per_row.concat()
    }

    /// Each pixel's cluster.
    pub fn labels(&self) -> &[u32] {
        &self.labels
    }

    /// The centres the labels refer to.
    pub fn centres(&self) -> &[Vec<f32>] {
        &self.centres
    }

    /// How many pixels the last step recomputed (all of them for the first).
    pub fn recomputed(&self) -> usize {
        self.recomputed
    }

    /// The labels, giving up the bounds.
    pub fn into_labels(self) -> Vec<u32> {
        self.labels
    }
}
