//! The structural similarity index (Wang et al. 2004) of two equally long signals, as
//! scikit-image's `structural_similarity` computes it for 1-D float32 arrays with its defaults
//! (a uniform window of 7, K1 0.01, K2 0.03, sample covariance, the borders the window does not
//! fit cropped, the mean taken in double precision): Quantus's `ssim` similarity, which compares
//! flattened maps this way.

use nas_core::{NasError, Result};

/// scikit-image's default window.
const WINDOW: usize = 7;
const K1: f64 = 0.01;
const K2: f64 = 0.03;

/// The windowed means of `x`, as scipy's `uniform_filter1d` (a running sum in double precision,
/// stored as float32; the reflected borders are cropped later, so only the interior is kept
/// exact).
fn window_means(x: &[f32]) -> Vec<f32> {
    let half = WINDOW / 2;
    let at = |i: isize| -> f64 {
        let n = x.len() as isize;
        // scipy's `reflect` mode: d c b a | a b c d | d c b a.
        let i = if i < 0 {
            -i - 1
        } else if i >= n {
            2 * n - i - 1
        } else {
            i
        };
        f64::from(x[i.clamp(0, n - 1) as usize])
    };
    let size = WINDOW as f64;
    let mut sum: f64 = (0..WINDOW as isize).map(|k| at(k - half as isize)).sum::<f64>() / size;
    let mut means = Vec::with_capacity(x.len());
    means.push(sum as f32);
    for i in 1..x.len() as isize {
        sum += (at(i + half as isize) - at(i - half as isize - 1)) / size;
        means.push(sum as f32);
    }
    means
}

/// The mean structural similarity of `a` and `b` for values spanning `data_range`.
pub fn structural_similarity(a: &[f32], b: &[f32], data_range: f32) -> Result<f64> {
    if a.len() != b.len() || a.len() < WINDOW {
        return Err(NasError::InvalidInput(format!(
            "structural similarity: signals of {} and {} values (equal lengths of at least {WINDOW} needed)",
            a.len(),
            b.len()
        )));
    }
    let products = |x: &[f32], y: &[f32]| -> Vec<f32> { x.iter().zip(y).map(|(p, q)| p * q).collect() };
    let (ux, uy) = (window_means(a), window_means(b));
    let (uxx, uyy, uxy) = (
        window_means(&products(a, a)),
        window_means(&products(b, b)),
        window_means(&products(a, b)),
    );
    let covariance = (WINDOW as f32) / (WINDOW as f32 - 1.0);
    // Python floats meeting float32 arrays: computed in double, rounded to float32.
    let (c1, c2) = (
        (K1 * f64::from(data_range)).powi(2) as f32,
        (K2 * f64::from(data_range)).powi(2) as f32,
    );
    let half = WINDOW / 2;
    let interior = half..a.len() - half;
    let total: f64 = interior
        .clone()
        .map(|i| {
            let (vx, vy, vxy) = (
                covariance * (uxx[i] - ux[i] * ux[i]),
                covariance * (uyy[i] - uy[i] * uy[i]),
                covariance * (uxy[i] - ux[i] * uy[i]),
            );
            let numerator = (2.0 * ux[i] * uy[i] + c1) * (2.0 * vxy + c2);
            let denominator = (ux[i] * ux[i] + uy[i] * uy[i] + c1) * (vx + vy + c2);
            f64::from(numerator / denominator)
        })
        .sum();
    Ok(total / interior.len() as f64)
}

/// Quantus's `ssim`: the structural similarity with the data range spanned by both signals.
pub fn quantus_ssim(a: &[f32], b: &[f32]) -> Result<f64> {
    let (least, most) = a
        .iter()
        .chain(b)
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(l, m), v| (l.min(*v), m.max(*v)));
    structural_similarity(a, b, (most - least).abs())
}

#[cfg(test)]
mod tests {
    use super::quantus_ssim;

    #[test]
    fn a_signal_is_most_similar_to_itself_then_to_a_nudged_copy() -> nas_core::Result<()> {
        let signal: Vec<f32> = (0..40).map(|i| ((i as f32) * 0.3).sin()).collect();
        let nudged: Vec<f32> = signal
            .iter()
            .enumerate()
            .map(|(i, v)| v + 0.05 * ((i * 7 % 3) as f32 - 1.0))
            .collect();
        let unrelated: Vec<f32> = (0..40).map(|i| ((i as f32) * 1.7).cos()).collect();
        let itself = quantus_ssim(&signal, &signal)?;
        let (close, far) = (quantus_ssim(&signal, &nudged)?, quantus_ssim(&signal, &unrelated)?);
        assert!((itself - 1.0).abs() < 1e-6, "{itself}");
        assert!(far < close && close < itself, "{far} < {close} < {itself}");
        Ok(())
    }
}
