//! SiLU (swish), `x * sigmoid(x) = x / (1 + exp(-x))`, over a whole feature map in place,
//! vectorised with Cephes' `exp` ([`crate::exp`]).

use crate::elementwise::{map_in_place, map_with_slopes};
use crate::exp::exp;

/// SiLU of one value.
#[inline(always)]
pub fn silu(x: f32) -> f32 {
    x / (1.0 + exp(-x))
}

/// Replaces every value of `values` by its SiLU.
pub fn silu_in_place(values: &mut [f32]) {
    map_in_place(values, silu);
}

/// SiLU of one value and its derivative `sigmoid(x) (1 + x (1 - sigmoid(x)))`: what the
/// backward pass multiplies the incoming gradient by.
#[inline(always)]
pub fn silu_and_slope(x: f32) -> (f32, f32) {
    let e = exp(-x);
    let sigmoid = 1.0 / (1.0 + e);
    // 1 - sigmoid(x) as e sigmoid(x), without the cancellation of the difference.
    (x / (1.0 + e), sigmoid * (1.0 + x * (e * sigmoid)))
}

/// Replaces every value of `values` by its SiLU and returns the derivatives there.
pub fn silu_with_slopes(values: &mut [f32]) -> Vec<f32> {
    map_with_slopes(values, silu_and_slope)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against `f64`'s exp, over the range that matters and beyond it.
    #[test]
    fn silu_matches_the_definition() {
        for i in -12_000..=12_000 {
            let x = i as f32 / 100.0;
            let exact = f64::from(x) / (1.0 + (-f64::from(x)).exp());
            let ours = f64::from(silu(x));
            // Below -87 the clamped exp leaves x / e^88, under 1e-36 in size, for the tiny exact
            // value.
            let bound = 4.0 * f64::from(f32::EPSILON) * exact.abs() + 1e-36;
            assert!((ours - exact).abs() <= bound, "silu({x}) = {ours}, exact {exact}");
        }
        for x in [0.0f32, 1e-30, -1e-30] {
            assert_eq!(silu(x), x / 2.0);
        }
        let mut values: Vec<f32> = (0..40_000).map(|i| (i as f32 - 20_000.0) / 300.0).collect();
        let expected: Vec<f32> = values.iter().map(|v| silu(*v)).collect();
        silu_in_place(&mut values);
        assert_eq!(values, expected, "the parallel pass equals the scalar one");
    }

    /// The values are [`silu`]'s, the slopes within 4 ulp of the derivative in `f64`.
    #[test]
    fn silu_slopes_are_its_derivative() {
        for i in -12_000..=12_000 {
            let x = i as f32 / 100.0;
            let (value, slope) = silu_and_slope(x);
            assert_eq!(value, silu(x));
            let sigmoid = 1.0 / (1.0 + (-f64::from(x)).exp());
            let exact = sigmoid * (1.0 + f64::from(x) * (1.0 - sigmoid));
            let bound = 4.0 * f64::from(f32::EPSILON) * (1.0 + f64::from(x).abs() * sigmoid * (1.0 - sigmoid));
            assert!((f64::from(slope) - exact).abs() <= bound, "silu'({x}) = {slope}, exact {exact}");
        }
        let mut values: Vec<f32> = (0..40_000).map(|i| (i as f32 - 20_000.0) / 300.0).collect();
        let expected: Vec<(f32, f32)> = values.iter().map(|v| silu_and_slope(*v)).collect();
        let slopes = silu_with_slopes(&mut values);
        let together: Vec<(f32, f32)> = values.into_iter().zip(slopes).collect();
        assert_eq!(together, expected, "the parallel pass equals the scalar one");
    }
}
