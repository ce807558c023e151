//! Correlation coefficients as SciPy computes them: Pearson's r (`scipy.stats.pearsonr`) and
//! Spearman's rho (`scipy.stats.spearmanr`: Pearson's r of the ranks, ties sharing their mean
//! rank), which Quantus's faithfulness and randomisation checks use.

use nas_core::significance::average_ranks;

/// Pearson's correlation of `a` and `b` (NaN when either is constant, empty or their lengths
/// differ), as `scipy.stats.pearsonr`.
pub fn pearson(a: &[f64], b: &[f64]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return f64::NAN;
    }
    let n = a.len() as f64;
    let (mean_a, mean_b) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - mean_a, y - mean_b);
        cov += dx * dy;
        var_a += dx * dx;
        var_b += dy * dy;
    }
    // One square root of the product: exactly 1 for a signal against itself.
    let r = cov / (var_a * var_b).sqrt();
    if r.is_finite() {
        r.clamp(-1.0, 1.0)
    } else {
        f64::NAN
    }
}

/// Spearman's rank correlation of `a` and `b` (NaN when either is constant).
pub fn spearman(a: &[f64], b: &[f64]) -> f64 {
    pearson(&average_ranks(a).0, &average_ranks(b).0)
}

#[cfg(test)]
mod tests {
    use super::{pearson, spearman};

    #[test]
    fn pearson_is_one_for_a_line_and_nan_for_a_constant() {
        assert!((pearson(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0]) - 1.0).abs() < 1e-12);
        assert!((pearson(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
        assert!(pearson(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0]).is_nan());
        assert!(pearson(&[1.0, 2.0, 3.0], &[1.0, 2.0]).is_nan());
    }

    #[test]
    fn spearman_is_one_for_any_increasing_relation() {
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 8.0, 27.0, 1000.0]) - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0, 4.0], &[4.0, 3.0, 2.0, 1.0]) + 1.0).abs() < 1e-12);
    }
}
