//! scikit-image's `regular_grid`: where SLIC puts its initial cluster centres.

/// A regular grid along one axis: `start, start + step, ...` (Python's
/// `slice(start, None, step)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AxisGrid {
    /// First grid coordinate.
    pub start: usize,
    /// Distance between grid coordinates (at least 1).
    pub step: usize,
}

impl AxisGrid {
    /// Grid coordinates below `len`.
    pub fn points(self, len: usize) -> impl Iterator<Item = usize> {
        (self.start..len).step_by(self.step)
    }
}

/// About `n_points` regularly spaced points in an array of `shape`, one
/// [`AxisGrid`] per axis, computed as scikit-image's `regular_grid` does:
/// equal steps of `(size / n_points)^(1/ndim)`, except that axes shorter than
/// that step take one point and leave the remaining axes to share the rest;
/// starts at half a step, steps rounded half to even (numpy's `round`).
pub(crate) fn regular_grid(shape: [usize; 3], n_points: usize) -> [AxisGrid; 3] {
    const NDIM: usize = 3;
    let n = n_points.max(1) as f64;
    let mut space_size: f64 = shape.iter().map(|&d| d as f64).product();
    if space_size <= n {
        return [AxisGrid { start: 0, step: 1 }; NDIM];
    }
    // Stable argsort, like numpy's sort of so few elements.
    let mut order = [0, 1, 2];
    order.sort_by_key(|&i| shape[i]);
    let sorted = order.map(|i| shape[i] as f64);
    let mut steps = [(space_size / n).powf(1.0 / NDIM as f64); NDIM];
    if sorted.iter().zip(&steps).any(|(d, s)| d < s) {
        for dim in 0..NDIM - 1 {
            steps[dim] = sorted[dim];
            space_size = sorted[dim + 1..].iter().product();
            let rest = (space_size / n).powf(1.0 / (NDIM - dim - 1) as f64);
            steps[dim + 1..].fill(rest);
            if sorted.iter().zip(&steps).all(|(d, s)| d >= s) {
                break;
            }
        }
    }
    let mut grid = [AxisGrid { start: 0, step: 1 }; NDIM];
    for (rank, &axis) in order.iter().enumerate() {
        grid[axis] = AxisGrid {
            start: (steps[rank] / 2.0).floor() as usize,
            step: (steps[rank].round_ties_even() as usize).max(1),
        };
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(start: usize, step: usize) -> AxisGrid {
        AxisGrid { start, step }
    }

    #[test]
    fn matches_scikit_image_docstring_examples() {
        // regular_grid((3, 20, 40), 8) == (slice(1, None, 3), slice(5, None, 10), slice(5, None, 10))
        assert_eq!(regular_grid([3, 20, 40], 8), [g(1, 3), g(5, 10), g(5, 10)]);
        // regular_grid((1, 224, 224), 100) == (slice(0, None, 1), slice(11, None, 22), slice(11, None, 22))
        assert_eq!(regular_grid([1, 224, 224], 100), [g(0, 1), g(11, 22), g(11, 22)]);
        // regular_grid((1, 4, 1000), 10) == (slice(0, None, 1), slice(2, None, 4), slice(50, None, 100))
        assert_eq!(regular_grid([1, 4, 1000], 10), [g(0, 1), g(2, 4), g(50, 100)]);
        assert_eq!(regular_grid([1, 3, 3], 20), [g(0, 1); 3]);
    }
}
