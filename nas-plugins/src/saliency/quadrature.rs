//! Quadrature rules for path integrals over `[0, 1]`: where along the path gradients are taken
//! and how much each counts. The names and nodes are Captum's (`approximation_methods`), so an
//! Integrated Gradients run with the same rule and step count takes the same gradients.

use nas_core::{NasError, Result};

/// A rule for integrating over `[0, 1]` with `n` gradient evaluations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quadrature {
    /// Gauss-Legendre nodes and weights (Captum's default): exact for polynomials of degree
    /// `2n - 1`.
    GaussLegendre,
    /// Left Riemann sum: `0, 1/n, ..., (n-1)/n`, each weighted `1/n`.
    RiemannLeft,
    /// Right Riemann sum: `1/n, ..., 1`, each weighted `1/n`.
    RiemannRight,
    /// Midpoint sum: `1/(2n), 3/(2n), ...`, each weighted `1/n`.
    RiemannMiddle,
    /// Trapezoid rule on `n` evenly spaced points from 0 to 1, with Captum's weights: `1/n` for
    /// inner points and `1/(2n)` at the ends, so they sum to `(n-1)/n`, not 1 (kept so that
    /// results equal Captum's).
    RiemannTrapezoid,
    /// `n` evenly spaced points from 0 to 1, both included, each weighted `1/n` (the PAIR
    /// saliency library's rule, which XRAI uses).
    Linspace,
}

/// Every rule, in the order of [`QUADRATURE_NAMES`].
const ALL: [Quadrature; 6] = [
    Quadrature::GaussLegendre,
    Quadrature::RiemannLeft,
    Quadrature::RiemannRight,
    Quadrature::RiemannMiddle,
    Quadrature::RiemannTrapezoid,
    Quadrature::Linspace,
];

/// Names of the rules, as Captum spells them.
pub const QUADRATURE_NAMES: &[&str] = &[
    "gausslegendre",
    "riemann_left",
    "riemann_right",
    "riemann_middle",
    "riemann_trapezoid",
    "linspace",
];

impl Quadrature {
    /// The rule called `name` (one of [`QUADRATURE_NAMES`]).
    pub fn from_name(name: &str) -> Result<Quadrature> {
        ALL.into_iter().find(|q| q.name() == name).ok_or_else(|| {
            NasError::InvalidInput(format!(
                "unknown quadrature `{name}`; valid choices: {}",
                QUADRATURE_NAMES.join(", ")
            ))
        })
    }

    /// The rule's name, as Captum spells it.
    pub fn name(self) -> &'static str {
        match self {
            Quadrature::GaussLegendre => "gausslegendre",
            Quadrature::RiemannLeft => "riemann_left",
            Quadrature::RiemannRight => "riemann_right",
            Quadrature::RiemannMiddle => "riemann_middle",
            Quadrature::RiemannTrapezoid => "riemann_trapezoid",
            Quadrature::Linspace => "linspace",
        }
    }

    /// The `n` points along the path (ascending) and their weights, which sum to 1 (but for
    /// Captum's trapezoid rule).
    pub fn nodes(self, n: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let minimum = if matches!(self, Quadrature::RiemannTrapezoid | Quadrature::Linspace) {
            2
        } else {
            1
        };
        if n < minimum {
            return Err(NasError::InvalidInput(format!(
                "{} needs at least {minimum} steps, not {n}",
                self.name()
            )));
        }
        let even =
            |offset: f64| -> (Vec<f64>, Vec<f64>) { ((0..n).map(|i| (i as f64 + offset) / n as f64).collect(), vec![1.0 / n as f64; n]) };
        Ok(match self {
            Quadrature::GaussLegendre => gauss_legendre(n),
            Quadrature::RiemannLeft => even(0.0),
            Quadrature::RiemannRight => even(1.0),
            Quadrature::RiemannMiddle => even(0.5),
            Quadrature::RiemannTrapezoid => {
                let weights = (0..n)
                    .map(|i| if i == 0 || i == n - 1 { 0.5 / n as f64 } else { 1.0 / n as f64 })
                    .collect();
                ((0..n).map(|i| i as f64 / (n - 1) as f64).collect(), weights)
            }
            Quadrature::Linspace => ((0..n).map(|i| i as f64 / (n - 1) as f64).collect(), vec![1.0 / n as f64; n]),
        })
    }
}

/// Gauss-Legendre nodes and weights mapped from `[-1, 1]` to `[0, 1]`, nodes ascending (as
/// numpy's `leggauss`, which Captum uses): Newton's method on the Legendre polynomial.
fn gauss_legendre(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut nodes = vec![0.0; n];
    let mut weights = vec![0.0; n];
    for i in 0..n.div_ceil(2) {
        // The i-th largest root, from Tricomi's estimate.
        let mut x = (std::f64::consts::PI * (i as f64 + 0.75) / (n as f64 + 0.5)).cos();
        for _ in 0..100 {
            let (value, slope) = legendre(n, x);
            let step = value / slope;
            x -= step;
            if step.abs() < 1e-15 {
                break;
            }
        }
        let (_, slope) = legendre(n, x);
        let weight = 2.0 / ((1.0 - x * x) * slope * slope);
        // Symmetric pairs: -x at the front, x at the back.
        nodes[i] = 0.5 * (1.0 - x);
        nodes[n - 1 - i] = 0.5 * (1.0 + x);
        weights[i] = 0.5 * weight;
        weights[n - 1 - i] = 0.5 * weight;
    }
    (nodes, weights)
}

/// The Legendre polynomial of degree `n` and its derivative at `x`.
fn legendre(n: usize, x: f64) -> (f64, f64) {
    let (mut previous, mut value) = (1.0, x);
    if n == 0 {
        return (1.0, 0.0);
    }
    for k in 2..=n {
        let k = k as f64;
        (previous, value) = (value, ((2.0 * k - 1.0) * x * value - (k - 1.0) * previous) / k);
    }
    (value, n as f64 * (x * value - previous) / (x * x - 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauss_legendre_matches_numpy() -> Result<()> {
        // numpy.polynomial.legendre.leggauss(5), mapped to [0, 1] as Captum does.
        let nodes = [
            0.04691007703066802,
            0.23076534494715845,
            0.5,
            0.7692346550528415,
            0.9530899229693319,
        ];
        let weights = [
            0.11846344252809464,
            0.23931433524968315,
            0.28444444444444433,
            0.23931433524968315,
            0.11846344252809464,
        ];
        let (x, w) = Quadrature::GaussLegendre.nodes(5)?;
        for (a, b) in x.iter().zip(nodes).chain(w.iter().zip(weights)) {
            assert!((a - b).abs() < 1e-14, "{a} vs {b}");
        }
        Ok(())
    }

    #[test]
    fn every_rule_integrates_a_line() -> Result<()> {
        for name in QUADRATURE_NAMES {
            let rule = Quadrature::from_name(name)?;
            let (x, w) = rule.nodes(8)?;
            // Captum's trapezoid weights sum to (n-1)/n.
            let total = if rule == Quadrature::RiemannTrapezoid { 7.0 / 8.0 } else { 1.0 };
            assert!((w.iter().sum::<f64>() - total).abs() < 1e-12, "{name}: weights sum");
            assert!(x.windows(2).all(|p| p[0] < p[1]), "{name}: ascending");
            // The integral of x over [0, 1] is 1/2; left and right sums miss it by 1/(2n),
            // Captum's trapezoid scales it by (n-1)/n; PAIR's linspace hits it.
            let integral: f64 = x.iter().zip(&w).map(|(x, w)| x * w).sum();
            let expected = match rule {
                Quadrature::RiemannLeft => 0.5 - 1.0 / 16.0,
                Quadrature::RiemannRight => 0.5 + 1.0 / 16.0,
                Quadrature::RiemannTrapezoid => 0.5 * 7.0 / 8.0,
                _ => 0.5,
            };
            assert!((integral - expected).abs() < 1e-12, "{name}: {integral}");
        }
        // Gauss-Legendre with 8 nodes is exact up to degree 15.
        let (x, w) = Quadrature::GaussLegendre.nodes(8)?;
        let integral: f64 = x.iter().zip(&w).map(|(x, w)| x.powi(15) * w).sum();
        assert!((integral - 1.0 / 16.0).abs() < 1e-13);
        assert!(Quadrature::RiemannTrapezoid.nodes(1).is_err());
        assert!(Quadrature::from_name("simpson").is_err());
        Ok(())
    }
}
