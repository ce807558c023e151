//! SiLU (swish), `x * sigmoid(x) = x / (1 + exp(-x))`, over a whole feature map in place,
//! vectorised: `exp` is Cephes' single-precision one (range reduction by `ln 2`, a degree-6
//! polynomial, the power of two written into the exponent bits), within two units in the last
//! place, with only operations that vectorise, where the library `exp` per element would not.

use crate::elementwise::map_in_place;

/// Rounds a float of magnitude below 2^22 to the nearest integer when added and subtracted.
const ROUNDING: f32 = 12_582_912.0;
/// `ln 2` split into a part exact in few bits and the rest (Cephes' `C1`, `C2`).
const LN2_HIGH: f32 = 0.693_359_4;
const LN2_LOW: f32 = -2.121_944_4e-4;
/// Cephes' `expf` polynomial, highest degree first.
const EXP_POLYNOMIAL: [f32; 6] = [1.987_569_2e-4, 1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5];

/// `e^x` for `x` in `[-87, 88]` (clamped there: outside, SiLU needs only 0 or the saturated
/// value).
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUNDING) - ROUNDING;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let p = EXP_POLYNOMIAL.iter().fold(0.0, |acc, c| acc * r + c);
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    (p * r * r + r + 1.0) * scale
}

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
