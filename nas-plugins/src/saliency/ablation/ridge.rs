//! Weighted ridge regression with an unpenalised intercept, as scikit-learn's `Ridge` fits it
//! with `sample_weight` (the data centred on its weighted means, then the normal equations
//! solved by Cholesky): the local linear model of LIME.

use nas_core::{NasError, Result};

/// A fitted linear model.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    /// One coefficient per column.
    pub coefficients: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
}

/// Fits `y ~ x` (`x`: `rows x columns`, row-major) minimising the weighted squared error plus
/// `alpha` times the squared coefficients.
pub fn weighted_ridge(x: &[f64], y: &[f64], weights: &[f64], columns: usize, alpha: f64) -> Result<LinearModel> {
    let rows = y.len();
    if x.len() != rows * columns || weights.len() != rows || rows == 0 {
        return Err(NasError::InvalidInput(format!(
            "ridge regression: {} values, {} targets and {} weights for {columns} columns",
            x.len(),
            rows,
            weights.len()
        )));
    }
    let total: f64 = weights.iter().sum();
    let mean = |column: usize| x.chunks(columns).zip(weights).map(|(row, w)| w * row[column]).sum::<f64>() / total;
    let x_mean: Vec<f64> = (0..columns).map(mean).collect();
    let y_mean = y.iter().zip(weights).map(|(v, w)| w * v).sum::<f64>() / total;
    let mut gram = vec![0f64; columns * columns];
    let mut moment = vec![0f64; columns];
    let mut centred = vec![0f64; columns];
    for ((row, value), weight) in x.chunks(columns).zip(y).zip(weights) {
        centred.iter_mut().zip(row).zip(&x_mean).for_each(|((c, v), m)| *c = v - m);
        let target = value - y_mean;
        for i in 0..columns {
            let wi = weight * centred[i];
            moment[i] += wi * target;
            for j in 0..=i {
                gram[i * columns + j] += wi * centred[j];
            }
        }
    }
    for i in 0..columns {
        gram[i * columns + i] += alpha;
    }
    let coefficients = cholesky_solve(gram, moment, columns)?;
    let intercept = y_mean - coefficients.iter().zip(&x_mean).map(|(c, m)| c * m).sum::<f64>();
    Ok(LinearModel { coefficients, intercept })
}

/// Solves `a z = b` for a symmetric positive definite `a` of which the lower triangle is given.
fn cholesky_solve(mut a: Vec<f64>, mut b: Vec<f64>, n: usize) -> Result<Vec<f64>> {
    for j in 0..n {
        let diagonal = a[j * n + j] - (0..j).map(|k| a[j * n + k] * a[j * n + k]).sum::<f64>();
        if diagonal <= 0.0 || !diagonal.is_finite() {
            return Err(NasError::InvalidInput(
                "ridge regression: the normal equations are not positive definite (alpha must be positive)".into(),
            ));
        }
        let root = diagonal.sqrt();
        a[j * n + j] = root;
        for i in j + 1..n {
            let dot: f64 = (0..j).map(|k| a[i * n + k] * a[j * n + k]).sum();
            a[i * n + j] = (a[i * n + j] - dot) / root;
        }
    }
    for i in 0..n {
        b[i] = (b[i] - (0..i).map(|k| a[i * n + k] * b[k]).sum::<f64>()) / a[i * n + i];
    }
    for i in (0..n).rev() {
        b[i] = (b[i] - (i + 1..n).map(|k| a[k * n + i] * b[k]).sum::<f64>()) / a[i * n + i];
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::weighted_ridge;

    /// Noise-free data of a known plane: a tiny penalty gives the plane back. Doubling every
    /// weight is the same fit as halving the penalty, and a penalty shrinks the coefficients.
    #[test]
    fn recovers_a_plane() -> nas_core::Result<()> {
        let x: Vec<f64> = (0..20)
            .flat_map(|i| [f64::from(i % 4), f64::from(i / 4), f64::from((i * 7) % 5)])
            .collect();
        let y: Vec<f64> = x
            .chunks(3)
            .map(|r| 2.0 * r[0] - r[1] + 0.5 * r[2] + 3.0 + 0.1 * (r[0] * r[1]).sin())
            .collect();
        let weights: Vec<f64> = (0..20).map(|i| 1.0 + f64::from(i) / 10.0).collect();
        let exact: Vec<f64> = x.chunks(3).map(|r| 2.0 * r[0] - r[1] + 0.5 * r[2] + 3.0).collect();
        let model = weighted_ridge(&x, &exact, &weights, 3, 1e-9)?;
        for (c, want) in model.coefficients.iter().zip([2.0, -1.0, 0.5]) {
            assert!((c - want).abs() < 1e-6, "{:?}", model.coefficients);
        }
        assert!((model.intercept - 3.0).abs() < 1e-6, "{}", model.intercept);
        let doubled: Vec<f64> = weights.iter().map(|w| 2.0 * w).collect();
        let (a, b) = (weighted_ridge(&x, &y, &doubled, 3, 4.0)?, weighted_ridge(&x, &y, &weights, 3, 2.0)?);
        for (p, q) in a.coefficients.iter().zip(&b.coefficients).chain([(&a.intercept, &b.intercept)]) {
            assert!((p - q).abs() < 1e-12, "{a:?} vs {b:?}");
        }
        let norm = |m: &super::LinearModel| m.coefficients.iter().map(|c| c * c).sum::<f64>();
        let (loose, tight) = (
            weighted_ridge(&x, &y, &weights, 3, 0.1)?,
            weighted_ridge(&x, &y, &weights, 3, 50.0)?,
        );
        assert!(norm(&tight) < 0.5 * norm(&loose), "{tight:?} vs {loose:?}");
        Ok(())
    }
}
