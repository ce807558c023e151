//! XRAI's regions and their ranking (Kapishnikov et al. 2019), as the PAIR saliency library
//! computes them: Felzenszwalb segments of the photo at six scales, each dilated by a disk, are
//! candidate regions; regions are added greedily, each time the one whose not-yet-covered pixels
//! have the highest mean attribution, and every pixel takes the mean of the region that first
//! covered it.

use nas_core::ndarray::{Array2, ArrayView3};
use nas_core::{NasError, Result};
use nas_superpixels::{felzenszwalb, FelzenszwalbParams};

/// How regions are made and ranked; the defaults are the PAIR library's.
#[derive(Debug, Clone, PartialEq)]
pub struct RegionParams {
    /// Felzenszwalb scales, one segmentation each.
    pub scales: Vec<f64>,
    /// Felzenszwalb's smoothing.
    pub sigma: f64,
    /// Felzenszwalb's smallest segment, in pixels.
    pub min_size: usize,
    /// Radius of the disk each segment is dilated by, in pixels (0: none).
    pub dilation: usize,
    /// A region that would add fewer new pixels than this is dropped.
    pub min_new_pixels: usize,
}

impl Default for RegionParams {
    fn default() -> Self {
        RegionParams {
            scales: vec![50.0, 100.0, 150.0, 250.0, 500.0, 1200.0],
            sigma: 0.8,
            min_size: 150,
            dilation: 5,
            min_new_pixels: 50,
        }
    }
}

/// Candidate regions of `photo` (`(h, w, 3)`): pixel indices (row-major) of every segment of
/// every scale, dilated, in the PAIR library's order (scale by scale, label by label). The photo
/// is rescaled to `[-1, 1]` in f64 first, as the library does.
pub fn regions(photo: ArrayView3<f32>, params: &RegionParams) -> Result<Vec<Vec<u32>>> {
    let (h, w, _) = photo.dim();
    let (least, most) = photo.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(f64::from(*v)), b.max(f64::from(*v)))
    });
    let span = if most > least { most - least } else { 1.0 };
    let rescaled = photo.mapv(|v| (f64::from(v) - least) / span * 2.0 + -1.0);
    let disk = disk_offsets(params.dilation);
    let mut out = Vec::new();
    for &scale in &params.scales {
        let segment_params = FelzenszwalbParams {
            scale,
            sigma: params.sigma,
            min_size: params.min_size,
        };
        let labels = felzenszwalb(rescaled.view(), &segment_params).map_err(|e| NasError::InvalidInput(format!("xrai: {e}")))?;
        let count = labels.iter().max().map_or(0, |m| *m as usize + 1);
        let mut members = vec![Vec::new(); count];
        for (p, l) in labels.iter().enumerate() {
            members[*l as usize].push(p);
        }
        out.extend(members.iter().map(|m| dilate(m, [h, w], &disk)));
    }
    Ok(out)
}

/// Offsets `(dy, dx)` of scikit-image's `disk(radius)`: `dy^2 + dx^2 <= radius^2`.
fn disk_offsets(radius: usize) -> Vec<(isize, isize)> {
    let r = radius as isize;
    (-r..=r)
        .flat_map(|dy| (-r..=r).map(move |dx| (dy, dx)))
        .filter(|(dy, dx)| dy * dy + dx * dx <= r * r)
        .collect()
}

/// The pixels within `disk` of any of `pixels`, row-major (binary dilation; pixels beyond the
/// border add nothing, which for a disk is also what scikit-image's reflecting border gives).
fn dilate(pixels: &[usize], [h, w]: [usize; 2], disk: &[(isize, isize)]) -> Vec<u32> {
    let mut covered = vec![false; h * w];
    for &p in pixels {
        let (y, x) = ((p / w) as isize, (p % w) as isize);
        for &(dy, dx) in disk {
            let (yy, xx) = (y + dy, x + dx);
            if yy >= 0 && xx >= 0 && (yy as usize) < h && (xx as usize) < w {
                covered[yy as usize * w + xx as usize] = true;
            }
        }
    }
    covered.iter().enumerate().filter(|(_, c)| **c).map(|(p, _)| p as u32).collect()
}

/// XRAI's map from an `(h, w)` attribution and candidate regions: regions are added greedily by
/// the mean attribution of the pixels they would add (the first of equal gains wins); regions
/// that would add fewer than `min_new_pixels` are dropped; each pixel takes the gain of the
/// region that first covered it, and pixels no region covers the mean attribution over them.
pub fn rank(attribution: &Array2<f32>, regions: &[Vec<u32>], min_new_pixels: usize) -> Array2<f32> {
    let values: Vec<f64> = attribution.iter().map(|v| f64::from(*v)).collect();
    let n = values.len();
    let mut gain_of = vec![f64::NEG_INFINITY; n];
    let mut covered = vec![false; n];
    let mut remaining: Vec<usize> = (0..regions.len()).collect();
    loop {
        let mut best: Option<(f64, usize)> = None;
        remaining.retain(|&r| {
            let (count, sum) = regions[r]
                .iter()
                .filter(|p| !covered[**p as usize])
                .fold((0usize, 0f64), |(c, s), p| (c + 1, s + values[*p as usize]));
            if count < min_new_pixels {
                return false;
            }
            let gain = sum / count as f64;
            if best.is_none_or(|(g, _)| gain > g) {
                best = Some((gain, r));
            }
            true
        });
        let Some((gain, chosen)) = best else { break };
        for &p in &regions[chosen] {
            let p = p as usize;
            if !covered[p] {
                covered[p] = true;
                gain_of[p] = gain;
            }
        }
        remaining.retain(|r| *r != chosen);
    }
    let uncovered: Vec<usize> = (0..n).filter(|p| gain_of[*p] == f64::NEG_INFINITY).collect();
    if !uncovered.is_empty() {
        let mean = uncovered.iter().map(|p| values[*p]).sum::<f64>() / uncovered.len() as f64;
        uncovered.iter().for_each(|p| gain_of[*p] = mean);
    }
    Array2::from_shape_vec(attribution.dim(), gain_of.into_iter().map(|v| v as f32).collect()).unwrap_or_else(|_| attribution.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_matches_scikit_image() {
        // skimage.morphology.disk(2).sum() == 13, disk(5).sum() == 81.
        assert_eq!(disk_offsets(2).len(), 13);
        assert_eq!(disk_offsets(5).len(), 81);
        assert_eq!(disk_offsets(0), vec![(0, 0)]);
    }

    #[test]
    fn regions_are_ranked_by_the_mean_of_what_they_add() {
        // A 1 x 6 strip: region A covers pixels 0..3 (mean 2), B 2..6 (mean 3.5), C pixel 5.
        let attribution = Array2::from_shape_vec((1, 6), vec![1.0, 2.0, 3.0, 3.0, 4.0, 4.0]).unwrap_or_default();
        let regions = vec![vec![0, 1, 2], vec![2, 3, 4, 5], vec![5]];
        let map = rank(&attribution, &regions, 1);
        // C first (mean 4), then what B adds (pixels 2..5, mean 10/3), then what A adds (0 and
        // 1, mean 1.5).
        assert_eq!(
            map.as_slice().unwrap_or_default(),
            &[1.5, 1.5, 10.0 / 3.0, 10.0 / 3.0, 10.0 / 3.0, 4.0]
        );
        // With a minimum of 3 new pixels C is dropped, B comes first, and A, adding two, is
        // dropped after it: pixels 0 and 1 take the mean of the uncovered pixels, 1.5; with 5,
        // B is dropped too and every pixel takes the mean of the whole strip.
        let map = rank(&attribution, &regions, 3);
        assert_eq!(map.as_slice().unwrap_or_default(), &[1.5, 1.5, 3.5, 3.5, 3.5, 3.5]);
        let map = rank(&attribution, &regions, 5);
        assert!(map.iter().all(|v| (*v - 17.0 / 6.0).abs() < 1e-6));
    }
}
