//! ROAD's linear imputation (Rong et al. 2022, pytorch-grad-cam's `NoisyLinearImputer`): every
//! removed pixel becomes the weighted mean of its eight neighbours inside the image (weight 1/6
//! for the four sharing a side, 1/12 for the diagonals), kept neighbours giving their values and
//! removed ones the unknowns themselves, one sparse linear system per colour channel. The system
//! is symmetric positive definite wherever one pixel is kept, so conjugate gradients solve it
//! (pytorch-grad-cam calls SciPy's direct `spsolve`).

use nas_core::{NasError, Result};

/// The neighbours' offsets `(row, column)` and weights, in pytorch-grad-cam's order.
const NEIGHBOURS: [((i64, i64), f64); 8] = [
    ((1, 1), 1.0 / 12.0),
    ((0, 1), 1.0 / 6.0),
    ((-1, 1), 1.0 / 12.0),
    ((1, -1), 1.0 / 12.0),
    ((0, -1), 1.0 / 6.0),
    ((-1, -1), 1.0 / 12.0),
    ((1, 0), 1.0 / 6.0),
    ((-1, 0), 1.0 / 6.0),
];

/// Conjugate gradients stop once the residual is this small against the right-hand side.
const RELATIVE_RESIDUAL: f64 = 1e-12;

/// The system of the removed pixels, shared by every channel.
struct System {
    /// Pixel index of each unknown.
    pixels: Vec<usize>,
    /// Sum of the weights of each unknown's neighbours inside the image (the diagonal).
    diagonal: Vec<f64>,
    /// Each unknown's removed neighbours: (their unknown index, weight).
    coupled: Vec<Vec<(usize, f64)>>,
    /// Each unknown's kept neighbours: (their pixel index, weight).
    known: Vec<Vec<(usize, f64)>>,
}

impl System {
    fn new(keep: &[bool], [h, w]: [usize; 2]) -> System {
        let pixels: Vec<usize> = (0..h * w).filter(|&p| !keep[p]).collect();
        let mut unknown = vec![usize::MAX; h * w];
        pixels.iter().enumerate().for_each(|(i, &p)| unknown[p] = i);
        let mut system = System {
            diagonal: Vec::with_capacity(pixels.len()),
            coupled: Vec::with_capacity(pixels.len()),
            known: Vec::with_capacity(pixels.len()),
            pixels: Vec::new(),
        };
        for &p in &pixels {
            let (y, x) = ((p / w) as i64, (p % w) as i64);
            let (mut diagonal, mut coupled, mut known) = (0.0, Vec::new(), Vec::new());
            for ((dy, dx), weight) in NEIGHBOURS {
                let (ny, nx) = (y + dy, x + dx);
                if ny < 0 || nx < 0 || ny >= h as i64 || nx >= w as i64 {
                    continue;
                }
                let q = ny as usize * w + nx as usize;
                diagonal += weight;
                if keep[q] {
                    known.push((q, weight));
                } else {
                    coupled.push((unknown[q], weight));
                }
            }
            system.diagonal.push(diagonal);
            system.coupled.push(coupled);
            system.known.push(known);
        }
        system.pixels = pixels;
        system
    }

    /// `(D - W) x`.
    fn apply(&self, x: &[f64]) -> Vec<f64> {
        self.diagonal
            .iter()
            .zip(&self.coupled)
            .zip(x)
            .map(|((d, coupled), xi)| d * xi - coupled.iter().map(|&(j, w)| w * x[j]).sum::<f64>())
            .collect()
    }

    /// The unknowns for one channel's kept values, by Jacobi-preconditioned conjugate gradients;
    /// `None` if they have not converged within four times as many steps as unknowns (exact
    /// arithmetic needs at most as many; SciPy's CG takes about 1000 on a 224 x 224 photo).
    fn solve(&self, channel: &[f32]) -> Option<Vec<f64>> {
        let n = self.pixels.len();
        let b: Vec<f64> = self
            .known
            .iter()
            .map(|known| known.iter().map(|&(q, w)| w * f64::from(channel[q])).sum())
            .collect();
        let dot = |a: &[f64], c: &[f64]| a.iter().zip(c).map(|(x, y)| x * y).sum::<f64>();
        let target = RELATIVE_RESIDUAL * dot(&b, &b).sqrt();
        let mut x = vec![0.0; n];
        let mut r = b.clone();
        let mut z: Vec<f64> = r.iter().zip(&self.diagonal).map(|(ri, d)| ri / d).collect();
        let mut p = z.clone();
        let mut rz = dot(&r, &z);
        for _ in 0..n.max(1) * 4 {
            if dot(&r, &r).sqrt() <= target {
                return Some(x);
            }
            let ap = self.apply(&p);
            let alpha = rz / dot(&p, &ap);
            x.iter_mut().zip(&p).for_each(|(xi, pi)| *xi += alpha * pi);
            r.iter_mut().zip(&ap).for_each(|(ri, api)| *ri -= alpha * api);
            z = r.iter().zip(&self.diagonal).map(|(ri, d)| ri / d).collect();
            let next = dot(&r, &z);
            let beta = next / rz;
            rz = next;
            p.iter_mut().zip(&z).for_each(|(pi, zi)| *pi = zi + beta * *pi);
        }
        (dot(&r, &r).sqrt() <= target).then_some(x)
    }
}

/// `image` (`channels x h x w`) with the pixels where `keep` is false imputed, plus `noise`
/// (one value per channel and removed pixel, in that order) when given; `None` when no pixel is
/// kept (nothing to impute from) or the solver did not converge. Lengths that do not fit `h x w`
/// are an error.
pub fn impute(image: &[f32], [h, w]: [usize; 2], keep: &[bool], noise: Option<&[f32]>) -> Result<Option<Vec<f32>>> {
    let plane = h * w;
    let removed = removed(keep);
    if plane == 0 || keep.len() != plane || !image.len().is_multiple_of(plane) {
        return Err(NasError::InvalidInput(format!(
            "linear imputation: {} values and {} kept flags do not fit a {h} x {w} image",
            image.len(),
            keep.len()
        )));
    }
    if let Some(noise) = noise.filter(|n| n.len() != removed * (image.len() / plane)) {
        return Err(NasError::InvalidInput(format!(
            "linear imputation: {} noise values for {removed} removed pixels in {} channels",
            noise.len(),
            image.len() / plane
        )));
    }
    if removed == plane {
        return Ok(None);
    }
    let system = System::new(keep, [h, w]);
    let mut out = image.to_vec();
    for (c, channel) in out.chunks_exact_mut(plane).enumerate() {
        let Some(values) = system.solve(&image[c * plane..(c + 1) * plane]) else {
            return Ok(None);
        };
        for (i, (&p, v)) in system.pixels.iter().zip(values).enumerate() {
            let jitter = noise.map_or(0.0, |n| n[c * removed + i]);
            channel[p] = v as f32 + jitter;
        }
    }
    Ok(Some(out))
}

/// Number of pixels `keep` removes.
pub fn removed(keep: &[bool]) -> usize {
    keep.iter().filter(|&&k| !k).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_ramps_are_filled_exactly_and_kept_pixels_stay() {
        // A plane a + b y + c x is its own neighbourhood mean away from the border (symmetric
        // weights), so a hole in the middle of a ramp is filled with the ramp.
        let (h, w) = (9, 11);
        let ramp: Vec<f32> = (0..h * w).map(|p| 0.5 + 0.25 * (p / w) as f32 - 0.125 * (p % w) as f32).collect();
        let keep: Vec<bool> = (0..h * w)
            .map(|p| !((2..7).contains(&(p / w)) && (3..8).contains(&(p % w))))
            .collect();
        let mut holed = ramp.clone();
        holed.iter_mut().zip(&keep).for_each(|(v, k)| {
            if !k {
                *v = 100.0;
            }
        });
        let filled = impute(&holed, [h, w], &keep, None).expect("lengths fit").expect("some pixels kept");
        let worst = filled.iter().zip(&ramp).fold(0f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(worst < 1e-5, "{worst}");
        assert_eq!(removed(&keep), 25);
    }

    #[test]
    fn each_filled_pixel_is_the_mean_of_its_neighbours_and_noise_is_added() {
        let (h, w) = (6, 5);
        let image: Vec<f32> = (0..2 * h * w).map(|i| ((i * 37) % 11) as f32 / 3.0).collect();
        let keep: Vec<bool> = (0..h * w).map(|p| p % 3 != 0 && p != 7).collect();
        let filled = impute(&image, [h, w], &keep, None).expect("lengths fit").expect("some pixels kept");
        for c in 0..2 {
            let plane = &filled[c * h * w..(c + 1) * h * w];
            for p in (0..h * w).filter(|&p| !keep[p]) {
                let (y, x) = ((p / w) as i64, (p % w) as i64);
                let (mut sum, mut weights) = (0.0f64, 0.0f64);
                for ((dy, dx), weight) in NEIGHBOURS {
                    let (ny, nx) = (y + dy, x + dx);
                    if ny >= 0 && nx >= 0 && ny < h as i64 && nx < w as i64 {
                        sum += weight * f64::from(plane[ny as usize * w + nx as usize]);
                        weights += weight;
                    }
                }
                assert!((f64::from(plane[p]) - sum / weights).abs() < 1e-5, "channel {c} pixel {p}");
            }
        }
        let n = 2 * removed(&keep);
        let noise: Vec<f32> = (0..n).map(|i| i as f32 * 0.01).collect();
        let noisy = impute(&image, [h, w], &keep, Some(&noise))
            .expect("lengths fit")
            .expect("some pixels kept");
        let last = (0..h * w).rev().find(|&p| !keep[p]).expect("a removed pixel");
        let delta = noisy[h * w + last] - filled[h * w + last];
        assert!((delta - noise[n - 1]).abs() < 1e-6, "{delta}");
        assert_eq!(impute(&image, [h, w], &vec![false; h * w], None).expect("lengths fit"), None);
        assert!(impute(&image, [h, w], &keep[1..], None).is_err());
        assert!(impute(&image, [h, w], &keep, Some(&noise[1..])).is_err());
    }
}
