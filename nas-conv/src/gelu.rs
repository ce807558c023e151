//! The exact GELU, `x * Phi(x) = x / 2 * (1 + erf(x / sqrt 2))` (PyTorch's default
//! `approximate='none'`), over a whole feature map in place, vectorised.
//!
//! `erf` is Abramowitz & Stegun's 7.1.28, `1 - (1 + a1 t + ... + a6 t^6)^-16` for `t >= 0`
//! (absolute error at most 3e-7), evaluated in `f64` so that the sixteenth power does not
//! amplify `f32` rounding: only multiplications, additions and one division, so the loop
//! vectorises, where a library `erf` per element would not.

use crate::elementwise::{map_in_place, map_with_slopes};
use crate::exp::exp;

/// Abramowitz & Stegun 7.1.28's coefficients `a1` to `a6`.
const ERF_COEFFICIENTS: [f64; 6] = [
    0.070_523_078_4,
    0.042_282_012_3,
    0.009_270_527_2,
    0.000_152_014_3,
    0.000_276_567_2,
    0.000_043_063_8,
];

/// `erf(x)` within 3e-7.
#[inline(always)]
fn erf(x: f64) -> f64 {
    let t = x.abs();
    let p = ERF_COEFFICIENTS.iter().rev().fold(0.0, |acc, a| acc * t + a) * t + 1.0;
    let p2 = p * p;
    let p4 = p2 * p2;
    let p8 = p4 * p4;
    (1.0 - 1.0 / (p8 * p8)).copysign(x)
}

/// GELU of one value.
#[inline(always)]
pub fn gelu(x: f32) -> f32 {
    let x = f64::from(x);
    (0.5 * x * (1.0 + erf(x * std::f64::consts::FRAC_1_SQRT_2))) as f32
}

/// Replaces every value of `values` by its GELU.
pub fn gelu_in_place(values: &mut [f32]) {
    map_in_place(values, gelu);
}

/// GELU of one value and its derivative `Phi(x) + x phi(x)`, the normal distribution function
/// and density: what the backward pass multiplies the incoming gradient by.
#[inline(always)]
pub fn gelu_and_slope(x: f32) -> (f32, f32) {
    let wide = f64::from(x);
    let phi_cdf = 0.5 * (1.0 + erf(wide * std::f64::consts::FRAC_1_SQRT_2));
    // 1 / sqrt(2 pi).
    let density = 0.398_942_3 * exp(-0.5 * x * x);
    ((wide * phi_cdf) as f32, phi_cdf as f32 + x * density)
}

/// Replaces every value of `values` by its GELU and returns the derivatives there.
pub fn gelu_with_slopes(values: &mut [f32]) -> Vec<f32> {
    map_with_slopes(values, gelu_and_slope)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against erf's Taylor series (exact to f64 rounding for |x| <= 3) and known values.
    #[test]
    fn gelu_matches_the_exact_definition() {
        let series_erf = |x: f64| {
            let (mut term, mut sum) = (x, x);
            for n in 1..200 {
                term *= -x * x / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            sum * 2.0 / std::f64::consts::PI.sqrt()
        };
        for i in -400..=400 {
            let x = i as f64 / 100.0;
            let exact = 0.5 * x * (1.0 + series_erf(x / std::f64::consts::SQRT_2));
            let ours = f64::from(gelu(x as f32));
            // erf's 3e-7 scaled by x / 2, and the f32 result's rounding.
            let bound = 1.6e-7 * x.abs() + f64::from(f32::EPSILON) * exact.abs();
            assert!((ours - exact).abs() <= bound, "gelu({x}) = {ours}, exact {exact}");
        }
        assert_eq!(gelu(0.0), 0.0);
        assert_eq!(gelu(20.0), 20.0);
        assert_eq!(gelu(-20.0), 0.0);
        let mut values: Vec<f32> = (0..40_000).map(|i| (i as f32 - 20_000.0) / 3_000.0).collect();
        let expected: Vec<f32> = values.iter().map(|v| gelu(*v)).collect();
        gelu_in_place(&mut values);
        assert_eq!(values, expected, "the parallel pass equals the scalar one");
    }

    /// The values are [`gelu`]'s, the slopes within 5e-7 of the derivative of the exact
    /// definition, checked against central differences of it in `f64`.
    #[test]
    fn gelu_slopes_are_its_derivative() {
        let exact = |x: f64| 0.5 * x * (1.0 + libm_free_erf(x / std::f64::consts::SQRT_2));
        for i in -1_000..=1_000 {
            let x = i as f32 / 100.0;
            let (value, slope) = gelu_and_slope(x);
            assert_eq!(value, gelu(x));
            let h = 1e-4;
            let wide = f64::from(x);
            let difference = (exact(wide + h) - exact(wide - h)) / (2.0 * h);
            assert!(
                (f64::from(slope) - difference).abs() <= 5e-7,
                "gelu'({x}) = {slope}, central difference {difference}"
            );
        }
        let mut values: Vec<f32> = (0..40_000).map(|i| (i as f32 - 20_000.0) / 3_000.0).collect();
        let expected: Vec<(f32, f32)> = values.iter().map(|v| gelu_and_slope(*v)).collect();
        let slopes = gelu_with_slopes(&mut values);
        let together: Vec<(f32, f32)> = values.into_iter().zip(slopes).collect();
        assert_eq!(together, expected, "the parallel pass equals the scalar one");
    }

    /// erf by its Taylor series for |x| <= 3, 1 - erfc's continued fraction beyond.
    fn libm_free_erf(x: f64) -> f64 {
        if x.abs() <= 3.0 {
            let (mut term, mut sum) = (x, x);
            for n in 1..200 {
                term *= -x * x / n as f64;
                sum += term / (2 * n + 1) as f64;
            }
            return sum * 2.0 / std::f64::consts::PI.sqrt();
        }
        let t = x.abs();
        let mut fraction = 0.0;
        for k in (1..60).rev() {
            fraction = (k as f64 / 2.0) / (t + fraction);
        }
        let erfc = (-t * t).exp() / std::f64::consts::PI.sqrt() / (t + fraction);
        (1.0 - erfc).copysign(x)
    }
}
