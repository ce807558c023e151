//! Weighted linear regressions with an unpenalised intercept, as scikit-learn fits them with
//! `sample_weight`: the data centred on its weighted means, then `Ridge`'s normal equations
//! solved by Cholesky (LIME's local model), or `LinearRegression`'s least squares solved through
//! a singular value decomposition, the minimum-norm solution when the samples do not determine
//! the coefficients (KernelSHAP's).

use nas_core::{NasError, Result};

/// A fitted linear model.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    /// One coefficient per column.
    pub coefficients: Vec<f64>,
    /// The intercept.
    pub intercept: f64,
}

/// The samples centred on their weighted means, each row scaled by the square root of its
/// weight, so that a plain least-squares fit of `targets` on `rows` is the weighted fit.
struct Centred {
    /// `samples x columns`, row-major.
    rows: Vec<f64>,
    targets: Vec<f64>,
    x_mean: Vec<f64>,
    y_mean: f64,
}

impl Centred {
    fn new(x: &[f64], y: &[f64], weights: &[f64], columns: usize, model: &str) -> Result<Centred> {
        let samples = y.len();
        if x.len() != samples * columns || weights.len() != samples || samples == 0 {
            return Err(NasError::InvalidInput(format!(
                "{model}: {} values, {} targets and {} weights for {columns} columns",
                x.len(),
                samples,
                weights.len()
            )));
        }
        let total: f64 = weights.iter().sum();
        let mean = |column: usize| x.chunks(columns).zip(weights).map(|(row, w)| w * row[column]).sum::<f64>() / total;
        let x_mean: Vec<f64> = (0..columns).map(mean).collect();
        let y_mean = y.iter().zip(weights).map(|(v, w)| w * v).sum::<f64>() / total;
        let mut rows = Vec::with_capacity(x.len());
        for (row, weight) in x.chunks(columns).zip(weights) {
            let scale = weight.sqrt();
            rows.extend(row.iter().zip(&x_mean).map(|(v, m)| scale * (v - m)));
        }
        let targets = y.iter().zip(weights).map(|(v, w)| w.sqrt() * (v - y_mean)).collect();
        Ok(Centred {
            rows,
            targets,
            x_mean,
            y_mean,
        })
    }

    /// The model with these coefficients and the intercept that goes with them.
    fn model(&self, coefficients: Vec<f64>) -> LinearModel {
        let intercept = self.y_mean - coefficients.iter().zip(&self.x_mean).map(|(c, m)| c * m).sum::<f64>();
        LinearModel { coefficients, intercept }
    }
}

/// Fits `y ~ x` (`x`: `rows x columns`, row-major) minimising the weighted squared error plus
/// `alpha` times the squared coefficients (scikit-learn's `Ridge`).
pub fn weighted_ridge(x: &[f64], y: &[f64], weights: &[f64], columns: usize, alpha: f64) -> Result<LinearModel> {
    let centred = Centred::new(x, y, weights, columns, "ridge regression")?;
    let mut gram = vec![0f64; columns * columns];
    let mut moment = vec![0f64; columns];
    for (row, target) in centred.rows.chunks(columns).zip(&centred.targets) {
        for i in 0..columns {
            moment[i] += row[i] * target;
            for j in 0..=i {
                gram[i * columns + j] += row[i] * row[j];
            }
        }
    }
    for i in 0..columns {
        gram[i * columns + i] += alpha;
    }
    let coefficients = cholesky_solve(gram, moment, columns)?;
    Ok(centred.model(coefficients))
}

/// Fits `y ~ x` (`x`: `rows x columns`, row-major) minimising the weighted squared error
/// (scikit-learn's `LinearRegression`); of the coefficients that do, the smallest, with
/// singular values at most [`SINGULAR_CUTOFF`] of the largest taken as zero.
pub fn weighted_least_squares(x: &[f64], y: &[f64], weights: &[f64], columns: usize) -> Result<LinearModel> {
    let centred = Centred::new(x, y, weights, columns, "least squares")?;
    let samples = centred.targets.len();
    let mut coefficients = vec![0f64; columns];
    if samples >= columns {
        // The columns of the scaled samples, made orthogonal: column j is u_j s_j, and the
        // coefficients are the sum of v_j (u_j . y) / s_j.
        let mut a = vec![0f64; columns * samples];
        for (i, row) in centred.rows.chunks(columns).enumerate() {
            row.iter().enumerate().for_each(|(j, v)| a[j * samples + i] = *v);
        }
        let (v, squares) = orthogonalise_columns(&mut a, samples, columns);
        let cutoff = cutoff(&squares);
        for j in (0..columns).filter(|&j| squares[j] > cutoff) {
            let along: f64 = a[j * samples..][..samples].iter().zip(&centred.targets).map(|(p, q)| p * q).sum();
            coefficients
                .iter_mut()
                .zip(&v[j * columns..][..columns])
                .for_each(|(c, vj)| *c += vj * along / squares[j]);
        }
    } else {
        // The same on the transposed samples (each sample a column): sample space is the
        // smaller, and the coefficients are the sum of w_j (v_j . y) / s_j^2.
        let mut a = centred.rows.clone();
        let (v, squares) = orthogonalise_columns(&mut a, columns, samples);
        let cutoff = cutoff(&squares);
        for j in (0..samples).filter(|&j| squares[j] > cutoff) {
            let along: f64 = v[j * samples..][..samples].iter().zip(&centred.targets).map(|(p, q)| p * q).sum();
            coefficients
                .iter_mut()
                .zip(&a[j * columns..][..columns])
                .for_each(|(c, wj)| *c += wj * along / squares[j]);
        }
    }
    Ok(centred.model(coefficients))
}

/// Singular values at most this fraction of the largest count as zero: scikit-learn's
/// `LinearRegression(tol=1e-6)`, which it passes to SciPy's `lstsq` as `cond`.
pub const SINGULAR_CUTOFF: f64 = 1e-6;

/// The squared singular value at or below which a direction counts as absent.
fn cutoff(squares: &[f64]) -> f64 {
    squares.iter().copied().fold(0.0, f64::max) * SINGULAR_CUTOFF * SINGULAR_CUTOFF
}

/// Sweeps of one-sided Jacobi after which the columns are taken as orthogonal (a handful
/// suffice in practice; each sweep squares the remaining off-diagonal error).
const MAX_SWEEPS: usize = 100;

/// One-sided Jacobi (Hestenes): rotates the `count` columns of `a` (column-major, each `length`
/// long) until they are orthogonal, returning the rotations' product `v` (column-major, `count x
/// count`; `a_before v = a_after`) and each column's squared norm (the squared singular values).
fn orthogonalise_columns(a: &mut [f64], length: usize, count: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0f64; count * count];
    (0..count).for_each(|j| v[j * count + j] = 1.0);
    let norm = |a: &[f64], j: usize| a[j * length..][..length].iter().map(|x| x * x).sum::<f64>();
    for _sweep in 0..MAX_SWEEPS {
        // Squared column norms, measured afresh each sweep and updated after each rotation.
        let mut norms: Vec<f64> = (0..count).map(|j| norm(a, j)).collect();
        let mut rotated = false;
        for p in 0..count {
            for q in p + 1..count {
                let (alpha, beta) = (norms[p], norms[q]);
                let gamma: f64 = a[p * length..][..length]
                    .iter()
                    .zip(&a[q * length..][..length])
                    .map(|(x, y)| x * y)
                    .sum();
                if gamma == 0.0 || gamma.abs() <= f64::EPSILON * (alpha * beta).sqrt() {
                    continue;
                }
                rotated = true;
                let zeta = (beta - alpha) / (2.0 * gamma);
                let t = zeta.signum() / (zeta.abs() + (1.0 + zeta * zeta).sqrt());
                let c = 1.0 / (1.0 + t * t).sqrt();
                let s = c * t;
                rotate(a, length, p, q, c, s);
                rotate(&mut v, count, p, q, c, s);
                norms[p] = alpha - t * gamma;
                norms[q] = beta + t * gamma;
            }
        }
        if !rotated {
            break;
        }
    }
    let squares = (0..count).map(|j| norm(a, j)).collect();
    (v, squares)
}

/// Columns `p` and `q` of `m` (column-major, columns `length` long) become `c p - s q` and
/// `s p + c q`.
fn rotate(m: &mut [f64], length: usize, p: usize, q: usize, c: f64, s: f64) {
    let (left, right) = m.split_at_mut(q * length);
    for (x, y) in left[p * length..][..length].iter_mut().zip(&mut right[..length]) {
        let (xp, xq) = (*x, *y);
        *x = c * xp - s * xq;
        *y = s * xp + c * xq;
    }
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
    use super::{weighted_least_squares, weighted_ridge, LinearModel};

    fn assert_model(model: &LinearModel, coefficients: &[f64], intercept: f64, tolerance: f64) {
        for (c, want) in model.coefficients.iter().zip(coefficients) {
            assert!((c - want).abs() < tolerance, "{:?} vs {coefficients:?}", model.coefficients);
        }
        assert!(
            (model.intercept - intercept).abs() < tolerance,
            "{} vs {intercept}",
            model.intercept
        );
    }

    /// scikit-learn's LinearRegression().fit(x, y, sample_weight=w) on more samples than columns
    /// (x[i] = [i % 4, i // 4, 7i % 5, 3i % 4], y = sin(i) + x[i] . [1, -2, 0.5, 0.25],
    /// w = 1 + i / 10), and on fewer, where it gives the minimum-norm coefficients.
    #[test]
    fn least_squares_are_scikit_learns() -> nas_core::Result<()> {
        let x: Vec<f64> = (0..12)
            .flat_map(|i| [f64::from(i % 4), f64::from(i / 4), f64::from((i * 7) % 5), f64::from((i * 3) % 4)])
            .collect();
        let y: Vec<f64> = x
            .chunks(4)
            .enumerate()
            .map(|(i, r)| (i as f64).sin() + r[0] - 2.0 * r[1] + 0.5 * r[2] + 0.25 * r[3])
            .collect();
        let weights: Vec<f64> = (0..12).map(|i| 1.0 + f64::from(i) / 10.0).collect();
        let model = weighted_least_squares(&x, &y, &weights, 4)?;
        assert_model(&model, &[0.81901632, -2.19181422, 0.7232975, 0.25373309], 0.08109700978891721, 1e-7);

        let x = [1., 0., 1., 1., 0., 0., 1., 1., 0., 0., 1., 1., 0., 0., 1., 0., 0., 1., 1., 1.];
        let model = weighted_least_squares(&x, &[2.0, -1.0, 0.5, 3.0], &[1e6, 1.0, 2.0, 1.0], 5)?;
        assert_model(
            &model,
            &[0.23076923, -1.38461538, -0.03846154, 1.38461538, 1.23076923],
            0.42307692307692313,
            1e-7,
        );
        Ok(())
    }

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
