//! OpenCV's image operations as pytorch-grad-cam calls them on float32 maps: border reflection
//! (`BORDER_REFLECT_101`, OpenCV's default) and Gaussian blurring (`cv2.GaussianBlur`).

/// Index `i` of a side of `n` reflected into it as OpenCV's `BORDER_REFLECT_101` (`gfedcb|abcdefgh|gfedcba`).
pub fn reflect(i: isize, n: usize) -> usize {
    let n = n as isize;
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let i = i.rem_euclid(period);
    (if i < n { i } else { period - i }) as usize
}

/// OpenCV's `getGaussianKernel(size, sigma)`: `exp(-x^2 / (2 sigma^2))` over the `size` taps
/// centred on the middle one, normalised to sum 1 in double precision, then stored as float32.
pub fn gaussian_kernel(size: usize, sigma: f64) -> Vec<f32> {
    let middle = (size as f64 - 1.0) / 2.0;
    let taps: Vec<f64> = (0..size)
        .map(|i| (-(i as f64 - middle).powi(2) / (2.0 * sigma * sigma)).exp())
        .collect();
    let total: f64 = taps.iter().sum();
    taps.iter().map(|t| (t / total) as f32).collect()
}

/// `cv2.GaussianBlur(map, (size, size), sigma)` of a row-major `h x w` float32 map: the
/// separable kernel along rows, then along columns, the border reflected.
pub fn gaussian_blur(map: &[f32], [h, w]: [usize; 2], size: usize, sigma: f64) -> Vec<f32> {
    let kernel = gaussian_kernel(size, sigma);
    let reach = (size / 2) as isize;
    let convolve = |at: &dyn Fn(usize) -> f32, n: usize, i: usize| -> f32 {
        kernel
            .iter()
            .enumerate()
            .map(|(k, weight)| weight * at(reflect(i as isize + k as isize - reach, n)))
            .sum()
    };
    let mut across = vec![0f32; h * w];
    for y in 0..h {
        let row = &map[y * w..(y + 1) * w];
        for x in 0..w {
            across[y * w + x] = convolve(&|i| row[i], w, x);
        }
    }
    let mut out = vec![0f32; h * w];
    for x in 0..w {
        for y in 0..h {
            out[y * w + x] = convolve(&|i| across[i * w + x], h, y);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borders_reflect_without_repeating_the_edge() {
        let got: Vec<usize> = (-3..8).map(|i| reflect(i, 5)).collect();
        assert_eq!(got, vec![3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1]);
        assert_eq!(reflect(-1, 1), 0);
    }

    #[test]
    fn the_kernel_is_opencvs() {
        // cv2.getGaussianKernel(5, 1.0).ravel()
        let expected = [0.054_488_685, 0.244_201_34, 0.402_619_95, 0.244_201_34, 0.054_488_685];
        for (got, want) in gaussian_kernel(5, 1.0).iter().zip(expected) {
            assert!((got - want).abs() < 1e-7, "{got} vs {want}");
        }
    }

    #[test]
    fn blurring_keeps_a_flat_map_and_its_total_inside() {
        let flat = vec![0.5f32; 6 * 7];
        assert!(gaussian_blur(&flat, [6, 7], 11, 5.0).iter().all(|v| (v - 0.5).abs() < 1e-6));
        let mut spike = vec![0f32; 21 * 21];
        spike[10 * 21 + 10] = 1.0;
        let blurred = gaussian_blur(&spike, [21, 21], 11, 5.0);
        let total: f32 = blurred.iter().sum();
        assert!((total - 1.0).abs() < 1e-5, "{total}");
        assert_eq!(blurred[10 * 21 + 10], blurred.iter().copied().fold(0.0, f32::max));
    }
}
