//! Gaussian smoothing as scikit-image's `gaussian` does it, through
//! `scipy.ndimage.gaussian_filter`.
//!
//! The kernel is sampled on `-r..=r` with `r = int(truncate * sigma + 0.5)`
//! (`truncate = 4.0`), normalised to sum to one, and applied separably along
//! rows then columns with scipy's symmetric-kernel summation order. Both
//! segmenters call scikit-image's `gaussian` with `mode='reflect'` (scipy's
//! half-sample symmetric extension, `d c b a | a b c d | d c b a`), not with
//! its default `'nearest'`; both modes are available here.

use rayon::prelude::*;

use crate::scratch;

/// scipy's `truncate` default: the kernel reaches out to 4 standard deviations.
pub(crate) const TRUNCATE: f64 = 4.0;

/// Largest accepted `sigma`: its kernel has 8001 taps already, and a wider
/// one would only cost time (and memory) on any real image.
pub(crate) const MAX_SIGMA: f64 = 1000.0;

/// How values beyond the image border are made up (scipy's `mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Boundary {
    /// `d c b a | a b c d | d c b a`: mirror about the pixel edge.
    Reflect,
    /// `a a a a | a b c d | d d d d`: repeat the edge pixel.
    #[cfg_attr(not(test), allow(dead_code))]
    Nearest,
}

impl Boundary {
    /// Maps a possibly out-of-range index onto `0..n` (`n >= 1`).
    fn index(self, i: isize, n: usize) -> usize {
        let n = n as isize;
        match self {
            Boundary::Nearest => i.clamp(0, n - 1) as usize,
            Boundary::Reflect => {
                let m = i.rem_euclid(2 * n);
                (if m < n { m } else { 2 * n - 1 - m }) as usize
            }
        }
    }
}

/// One half of scipy's normalised gaussian kernel: weights for offsets `0..=r`.
///
/// Returns `None` when scipy would skip the axis (`sigma <= 1e-15`).
pub(crate) fn half_kernel(sigma: f64) -> Option<Vec<f64>> {
    if sigma <= 1e-15 {
        return None;
    }
    let radius = (TRUNCATE * sigma + 0.5) as usize;
    let sigma2 = sigma * sigma;
    let full: Vec<f64> = (-(radius as isize)..=radius as isize)
        .map(|x| (-0.5 / sigma2 * (x * x) as f64).exp())
        .collect();
    let sum: f64 = full.iter().sum();
    Some(full[radius..].iter().map(|w| w / sum).collect())
}

/// Smooths an interleaved `(height, width, channels)` buffer along both
/// spatial axes with the same `sigma` (channels are not mixed).
///
/// Returns the input unchanged (moved) when `sigma` is too small to filter;
/// otherwise the result reuses the input's buffer.
pub(crate) fn gaussian_2d(data: Vec<f64>, height: usize, width: usize, channels: usize, sigma: f64, boundary: Boundary) -> Vec<f64> {
    let Some(w) = half_kernel(sigma) else {
        return data;
    };
    let mut data = data;
    let rows = filter_rows(&data, height, width * channels, &w, boundary);
    filter_columns(&rows, &mut data, height, width, channels, &w, boundary);
    scratch::give(rows);
    data
}

/// Filters along axis 0 (down the image): each output row combines whole input rows.
fn filter_rows(data: &[f64], height: usize, row_len: usize, w: &[f64], b: Boundary) -> Vec<f64> {
    let mut out = scratch::take(data.len());
    let radius = w.len() - 1;
    let row = |y: isize| {
        let y = b.index(y, height);
        &data[y * row_len..(y + 1) * row_len]
    };
    out.par_chunks_mut(row_len).enumerate().for_each(|(y, out_row)| {
        let y = y as isize;
        for (o, &v) in out_row.iter_mut().zip(row(y)) {
            *o = v * w[0];
        }
        // scipy's symmetric branch: outermost pair first, then inwards.
        for j in (1..=radius).rev() {
            let (lo, hi) = (row(y - j as isize), row(y + j as isize));
            for ((o, &l), &h) in out_row.iter_mut().zip(lo).zip(hi) {
                *o += (l + h) * w[j];
            }
        }
    });
    out
}

/// Filters along axis 1 (across each row), channel by channel.
///
/// Each row is padded once; with channels interleaved, the neighbours of a
/// value at offset `j` pixels sit `j * channels` values away, so the whole
/// padded row is filtered as one flat, vectorisable line.
fn filter_columns(data: &[f64], out: &mut [f64], height: usize, width: usize, channels: usize, w: &[f64], b: Boundary) {
    let radius = w.len() - 1;
    let row_len = width * channels;
    let pad = radius * channels;
    out.par_chunks_mut(row_len)
        .zip(data.par_chunks(row_len))
        .with_min_len((height / 64).max(1))
        .for_each_init(
            || Vec::with_capacity(row_len + 2 * pad),
            |padded: &mut Vec<f64>, (out_row, in_row)| {
                padded.clear();
                for x in 0..width + 2 * radius {
                    let src = b.index(x as isize - radius as isize, width);
                    padded.extend_from_slice(&in_row[src * channels..(src + 1) * channels]);
                }
                for (o, &v) in out_row.iter_mut().zip(&padded[pad..pad + row_len]) {
                    *o = v * w[0];
                }
                // scipy's symmetric branch: outermost pair first, then inwards.
                for j in (1..=radius).rev() {
                    let off = j * channels;
                    let lo = &padded[pad - off..pad - off + row_len];
                    let hi = &padded[pad + off..pad + off + row_len];
                    for ((o, &l), &h) in out_row.iter_mut().zip(lo).zip(hi) {
                        *o += (l + h) * w[j];
                    }
                }
            },
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflect_and_nearest_extend_like_scipy() {
        let r: Vec<usize> = (-5..9).map(|i| Boundary::Reflect.index(i, 4)).collect();
        assert_eq!(r, [3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0]);
        let n: Vec<usize> = (-2..6).map(|i| Boundary::Nearest.index(i, 4)).collect();
        assert_eq!(n, [0, 0, 0, 1, 2, 3, 3, 3]);
        assert_eq!(Boundary::Reflect.index(-3, 1), 0);
    }

    #[test]
    fn kernel_matches_scipy() {
        // scipy.ndimage._filters._gaussian_kernel1d(0.8, 0, 3)[3:]
        let w = half_kernel(0.8).unwrap_or_default();
        let expected = [0.498_676_452_01, 0.228_310_716_46, 0.021_910_314_171, 0.000_440_743_366_93];
        assert_eq!(w.len(), expected.len());
        for (got, want) in w.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{w:?}");
        }
        assert!(half_kernel(0.0).is_none());
    }

    #[test]
    fn smoothing_matches_scipy_reflect() {
        // scipy.ndimage.gaussian_filter(np.arange(12.).reshape(3, 4), 1, mode='reflect')
        let data: Vec<f64> = (0..12).map(f64::from).collect();
        let out = gaussian_2d(data, 3, 4, 1, 1.0, Boundary::Reflect);
        let expected = [
            2.115_202_184_9,
            2.751_417_577,
            3.625_172_553_2,
            4.261_387_945_3,
            4.426_907_119_8,
            5.063_122_511_9,
            5.936_877_488_1,
            6.573_092_880_2,
            6.738_612_054_7,
            7.374_827_446_8,
            8.248_582_423,
            8.884_797_815_1,
        ];
        for (got, want) in out.iter().zip(expected) {
            assert!((got - want).abs() < 1e-7, "{out:?}");
        }
    }
}
