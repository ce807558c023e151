//! Non-negative matrix factorisation `X ≈ W H` as scikit-learn's `NMF(init="random",
//! solver="cd")` computes it with its other defaults (Frobenius loss, no regularisation, no
//! shuffling): `H` and then `W` drawn as `|avg * N(0, 1)|` from NumPy's `RandomState(seed)`,
//! `avg = sqrt(mean(X) / k)`; then coordinate descent, each pass updating every column of `W`
//! and then of `H` (Hsieh & Dhillon 2011), until the summed projected gradient falls to `tol`
//! times its first pass's or `max_iter` passes are done. In `f64` (scikit-learn keeps the
//! input's precision).

use crate::numpy_random::NumpyRandom;
use nas_core::ndarray::{Array2, ArrayView2};
use nas_core::{NasError, Result};

/// The settings of a factorisation.
#[derive(Debug, Clone, Copy)]
pub struct Nmf {
    /// Components `k`.
    pub components: usize,
    /// Most coordinate descent passes (scikit-learn: 200).
    pub max_iter: usize,
    /// Stop when a pass's projected gradient is this share of the first pass's (1e-4).
    pub tol: f64,
    /// Seed of the random start (scikit-learn's `random_state`).
    pub seed: u32,
}

/// `W` `(samples, k)` and `H` `(k, features)`, and the passes run.
#[derive(Debug, Clone)]
pub struct Factors {
    /// One row of component weights per sample.
    pub w: Array2<f64>,
    /// One row of feature loadings per component.
    pub h: Array2<f64>,
    /// Coordinate descent passes run.
    pub iterations: usize,
}

impl Nmf {
    /// Factorises `x` `(samples, features)`, whose values must be non-negative.
    pub fn fit(&self, x: ArrayView2<'_, f64>) -> Result<Factors> {
        let k = self.components;
        if k == 0 {
            return Err(NasError::InvalidInput("NMF: at least one component is needed".into()));
        }
        if let Some(bad) = x.iter().find(|v| v.is_nan() || **v < 0.0 || v.is_infinite()) {
            return Err(NasError::InvalidInput(format!(
                "NMF: the matrix must be non-negative and finite, found {bad}"
            )));
        }
        let (samples, features) = x.dim();
        let avg = (x.mean().unwrap_or(0.0) / k as f64).sqrt();
        let mut random = NumpyRandom::new(self.seed);
        let mut draw = |rows: usize, cols: usize| Array2::from_shape_simple_fn((rows, cols), || (avg * random.standard_normal()).abs());
        let h = draw(k, features);
        let mut w = draw(samples, k);
        let mut ht = h.t().to_owned();
        let xt = x.t();
        let mut first = 0.0;
        let mut iterations = 0;
        for pass in 1..=self.max_iter {
            iterations = pass;
            let violation = descend(x, &mut w, &ht) + descend(xt, &mut ht, &w);
            if pass == 1 {
                first = violation;
            }
            if first == 0.0 || violation / first <= self.tol {
                break;
            }
        }
        Ok(Factors {
            w,
            h: ht.t().to_owned(),
            iterations,
        })
    }
}

/// One coordinate descent pass over every column of `w` for `x ≈ w ht^T`, the other factor
/// `ht` held; the sum of the projected gradients' magnitudes (scikit-learn's
/// `_update_cdnmf_fast`).
fn descend(x: ArrayView2<'_, f64>, w: &mut Array2<f64>, ht: &Array2<f64>) -> f64 {
    let gram = ht.t().dot(ht);
    let xht = x.dot(ht);
    let (rows, k) = w.dim();
    let mut violation = 0.0;
    for t in 0..k {
        let hess = gram[[t, t]];
        for i in 0..rows {
            let grad = (0..k).fold(-xht[[i, t]], |g, r| g + gram[[t, r]] * w[[i, r]]);
            let projected = if w[[i, t]] == 0.0 { grad.min(0.0) } else { grad };
            violation += projected.abs();
            if hess != 0.0 {
                w[[i, t]] = (w[[i, t]] - grad / hess).max(0.0);
            }
        }
    }
    violation
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_an_exact_nonnegative_product() {
        let w = Array2::from_shape_fn((12, 2), |(i, j)| ((i * 7 + j * 3) % 5) as f64 + 0.5);
        let h = Array2::from_shape_fn((2, 9), |(i, j)| ((i * 4 + j * 2) % 7) as f64 * 0.3 + 0.1);
        let x = w.dot(&h);
        let nmf = Nmf {
            components: 2,
            max_iter: 2000,
            tol: 1e-10,
            seed: 0,
        };
        let factors = nmf.fit(x.view()).expect("fit");
        let error = (&factors.w.dot(&factors.h) - &x).iter().fold(0f64, |m, v| m.max(v.abs()));
        assert!(error < 1e-4, "reconstruction error {error}");
        assert!(factors.w.iter().chain(factors.h.iter()).all(|&v| v >= 0.0));
    }

    #[test]
    fn refuses_negative_values_and_no_components() {
        let x = Array2::from_shape_vec((2, 2), vec![1.0, -1.0, 0.0, 2.0]).expect("shape");
        let nmf = Nmf {
            components: 1,
            max_iter: 10,
            tol: 1e-4,
            seed: 0,
        };
        assert!(nmf.fit(x.view()).expect_err("negative").to_string().contains("non-negative"));
        let zero = Nmf { components: 0, ..nmf };
        assert!(zero.fit(x.mapv(f64::abs).view()).is_err());
    }
}
