//! Cephes' single-precision `exp` (range reduction by `ln 2`, a degree-6 polynomial, the power
//! of two written into the exponent bits), within two units in the last place, with only
//! operations that vectorise, where the library `exp` per element would not. SiLU and the
//! attention's softmax share it.

/// Rounds a float of magnitude below 2^22 to the nearest integer when added and subtracted.
const ROUNDING: f32 = 12_582_912.0;
/// `ln 2` split into a part exact in few bits and the rest (Cephes' `C1`, `C2`).
const LN2_HIGH: f32 = 0.693_359_4;
const LN2_LOW: f32 = -2.121_944_4e-4;
/// Cephes' `expf` polynomial, highest degree first.
const EXP_POLYNOMIAL: [f32; 6] = [1.987_569_2e-4, 1.398_2e-3, 8.333_452e-3, 4.166_579_6e-2, 0.166_666_65, 0.5];

/// `e^x` for `x` in `[-87, 88]`, clamped there: below, `e^-87` (about 1.6e-38) stands for the
/// tiny value; above, `e^88`.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E + ROUNDING) - ROUNDING;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let p = EXP_POLYNOMIAL.iter().fold(0.0, |acc, c| acc * r + c);
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    (p * r * r + r + 1.0) * scale
}

#[cfg(test)]
mod tests {
    use super::exp;

    /// Within two units in the last place of `f64`'s exp over the range softmax and SiLU use.
    #[test]
    fn exp_matches_the_definition() {
        for i in -8_700..=8_800 {
            let x = i as f32 / 100.0;
            let exact = f64::from(x).exp();
            let bound = 2.0 * f64::from(f32::EPSILON) * exact;
            assert!((f64::from(exp(x)) - exact).abs() <= bound, "exp({x}) = {}, exact {exact}", exp(x));
        }
        assert_eq!(exp(-1000.0), exp(-87.0));
    }
}
