//! Quick shift (Vedaldi & Soatto 2008), as scikit-image's `quickshift` computes it: a mode
//! seeker in the joint space of position and colour. Each pixel's density is a Gaussian kernel
//! sum over the pixels of a window `ceil(3 * kernel_size)` wide on each side; each pixel links
//! to the nearest pixel of its window with a higher density, unless that one is farther than
//! `max_dist`; the trees' roots are the segments. The LIME package segments photos this way by
//! default (`kernel_size` 4, `max_dist` 200, `ratio` 0.2).
//!
//! scikit-image adds Gaussian noise (standard deviation 1e-5) to the densities to break ties,
//! drawn from its random generator; the caller hands that noise in ([`quickshift`]), or none.

use ndarray::{Array2, ArrayView3};
use rayon::prelude::*;

use crate::color::{linear_rgb_to_lab_inplace, srgb_to_linear};
use crate::error::SuperpixelError;
use crate::gaussian::{gaussian_2d, Boundary, MAX_SIGMA};
use crate::input::{rgb_to_f64, Sample};

/// Parameters of [`quickshift`], named and defaulted as in scikit-image 0.26.
#[derive(Debug, Clone, PartialEq)]
pub struct QuickshiftParams {
    /// Weight of the colour distance against the spatial one, in (0, 1]: the colours are
    /// multiplied by it. Default: 1.0.
    pub ratio: f64,
    /// Width (standard deviation) of the Gaussian kernel of the density estimate, in pixels;
    /// higher means fewer segments. At least 1; the window grows with it (cost grows with its
    /// square). Default: 5.0.
    pub kernel_size: f64,
    /// Links longer than this (in the joint space) are cut; higher means fewer segments.
    /// Default: 10.0.
    pub max_dist: f64,
    /// Standard deviation of the Gaussian that smooths the image first; 0 means none.
    /// Default: 0.0.
    pub sigma: f64,
    /// Convert the image to CIE L*a*b* first. Default: true.
    pub convert2lab: bool,
}

impl Default for QuickshiftParams {
    fn default() -> Self {
        Self {
            ratio: 1.0,
            kernel_size: 5.0,
            max_dist: 10.0,
            sigma: 0.0,
            convert2lab: true,
        }
    }
}

/// Widest kernel accepted: its window is 301 pixels wide, 90,601 distances per pixel.
const MAX_KERNEL_SIZE: f64 = 50.0;

impl QuickshiftParams {
    /// Checks every parameter's range; see the field docs.
    fn validate(&self) -> Result<(), SuperpixelError> {
        if !(self.ratio > 0.0 && self.ratio <= 1.0) {
            return Err(SuperpixelError::param("ratio", self.ratio, "a number in (0, 1]"));
        }
        if !(self.kernel_size >= 1.0 && self.kernel_size <= MAX_KERNEL_SIZE) {
            return Err(SuperpixelError::param("kernel_size", self.kernel_size, "a number in [1, 50]"));
        }
        if !(self.max_dist >= 0.0 && self.max_dist.is_finite()) {
            return Err(SuperpixelError::param("max_dist", self.max_dist, "a finite number >= 0"));
        }
        if !(self.sigma >= 0.0 && self.sigma <= MAX_SIGMA) {
            return Err(SuperpixelError::param("sigma", self.sigma, "a number in [0, 1000]"));
        }
        Ok(())
    }
}

/// Segments an RGB image by quick shift, following scikit-image 0.26.
///
/// `image` is `(H, W, 3)` RGB in [0, 1] (f32 `u8 / 255` values are read as the exact `k / 255`
/// scikit-image's `img_as_float` gives). `tie_noise`, if given, holds one value per pixel
/// (row-major) added to the densities, as scikit-image adds its random draws; `None` adds none,
/// which leaves exact ties to the scan order. Returns an `(H, W)` label map counting from 0, in
/// the order of each segment's root pixel.
///
/// # Errors
/// [`SuperpixelError`] for an empty, non-RGB or non-finite image, a parameter out of range (see
/// [`QuickshiftParams`]) or noise of the wrong length.
pub fn quickshift<T: Sample>(
    image: ArrayView3<T>,
    params: &QuickshiftParams,
    tie_noise: Option<&[f64]>,
) -> Result<Array2<u32>, SuperpixelError> {
    params.validate()?;
    let mut rgb = rgb_to_f64(image)?;
    let (height, width) = (rgb.height, rgb.width);
    if let Some(noise) = tie_noise {
        if noise.len() != height * width {
            return Err(SuperpixelError::param("tie_noise", noise.len(), "one value per pixel"));
        }
    }
    if rgb.u8_levels {
        // img_as_float divides the 8-bit level in f64.
        rgb.data.iter_mut().for_each(|v| *v = (*v * 255.0).round() / 255.0);
    }
    let mut data = rgb.data;
    if params.convert2lab {
        data.iter_mut().for_each(|v| *v = srgb_to_linear(*v));
        linear_rgb_to_lab_inplace(&mut data);
    }
    let mut data = gaussian_2d(data, height, width, 3, params.sigma, Boundary::Reflect);
    data.iter_mut().for_each(|v| *v *= params.ratio);
    let space = JointSpace {
        data: &data,
        height,
        width,
        reach: (3.0 * params.kernel_size).ceil() as usize,
    };
    let mut densities = space.densities(-0.5 / (params.kernel_size * params.kernel_size));
    if let Some(noise) = tie_noise {
        densities.iter_mut().zip(noise).for_each(|(d, n)| *d += n);
    }
    let parents = space.parents(&densities, params.max_dist);
    Array2::from_shape_vec((height, width), roots_as_labels(parents)).map_err(|_| SuperpixelError::Internal("label map shape"))
}

/// The image in the joint space: colours (already scaled) and positions.
struct JointSpace<'a> {
    /// `height * width * 3` colour values, row-major, interleaved.
    data: &'a [f64],
    height: usize,
    width: usize,
    /// Pixels searched on each side.
    reach: usize,
}

impl JointSpace<'_> {
    /// The squared joint distance between pixels `(r, c)` and `(r2, c2)`, summed as
    /// scikit-image sums it (colours, then rows, then columns).
    fn distance(&self, (r, c): (usize, usize), (r2, c2): (usize, usize)) -> f64 {
        let (a, b) = (
            &self.data[(r * self.width + c) * 3..][..3],
            &self.data[(r2 * self.width + c2) * 3..][..3],
        );
        let mut dist = 0.0;
        for channel in 0..3 {
            let t = a[channel] - b[channel];
            dist += t * t;
        }
        let t = r as f64 - r2 as f64;
        dist += t * t;
        let t = c as f64 - c2 as f64;
        dist + t * t
    }

    /// Calls `visit` with each pixel of pixel `i`'s window, in scan order: its flat index and
    /// `(row, column)`.
    #[inline(always)]
    fn each_in_window(&self, i: usize, mut visit: impl FnMut(usize, (usize, usize))) {
        let (r, c) = (i / self.width, i % self.width);
        let columns = c.saturating_sub(self.reach)..(c + self.reach + 1).min(self.width);
        for r2 in r.saturating_sub(self.reach)..(r + self.reach + 1).min(self.height) {
            for c2 in columns.clone() {
                visit(r2 * self.width + c2, (r2, c2));
            }
        }
    }

    /// Each pixel's kernel density, summed over its window in scan order.
    fn densities(&self, inverse_width: f64) -> Vec<f64> {
        (0..self.height * self.width)
            .into_par_iter()
            .with_min_len(256)
            .map(|i| {
                let here = (i / self.width, i % self.width);
                let mut density = 0.0;
                self.each_in_window(i, |_, there| density += (self.distance(here, there) * inverse_width).exp());
                density
            })
            .collect()
    }

    /// Each pixel's parent: the nearest pixel of its window with a higher density (the first
    /// in scan order among equally near ones), or itself if there is none within `max_dist`.
    fn parents(&self, densities: &[f64], max_dist: f64) -> Vec<usize> {
        (0..self.height * self.width)
            .into_par_iter()
            .with_min_len(256)
            .map(|i| {
                let here = (i / self.width, i % self.width);
                let mut closest = f64::MAX;
                let mut parent = i;
                self.each_in_window(i, |j, there| {
                    if densities[j] > densities[i] {
                        let dist = self.distance(here, there);
                        if dist < closest {
                            closest = dist;
                            parent = j;
                        }
                    }
                });
                if closest.sqrt() > max_dist {
                    i
                } else {
                    parent
                }
            })
            .collect()
    }
}

/// Labels from parent links: each pixel's root, numbered by the roots' order.
fn roots_as_labels(mut parents: Vec<usize>) -> Vec<u32> {
    loop {
        let next: Vec<usize> = parents.iter().map(|&p| parents[p]).collect();
        if next == parents {
            break;
        }
        parents = next;
    }
    let mut label = vec![u32::MAX; parents.len()];
    let mut count = 0u32;
    for (i, &root) in parents.iter().enumerate() {
        if root == i {
            label[i] = count;
            count += 1;
        }
    }
    parents.iter().map(|&root| label[root]).collect()
}

#[cfg(test)]
mod tests {
    use super::roots_as_labels;

    #[test]
    fn roots_number_the_segments_in_their_order() {
        // 0 <- 1 <- 2, 3 alone, 4 -> 3.
        assert_eq!(roots_as_labels(vec![0, 0, 1, 3, 3]), vec![0, 0, 0, 1, 1]);
        assert_eq!(roots_as_labels(vec![2, 2, 2]), vec![0, 0, 0]);
    }
}
