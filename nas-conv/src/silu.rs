//! SiLU (swish), `x * sigmoid(x) = x / (1 + exp(-x))`, over a whole feature map in place,
//! vectorised with Cephes' `exp` ([`crate::exp`]).

use crate::elementwise::map_in_place;
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
}
