//! RGB to CIE L*a*b* conversion, as scikit-image's `rgb2lab` computes it.
//!
//! sRGB gamma expansion, the sRGB-to-XYZ matrix scikit-image uses, and the
//! D65 white point for the 2 degree observer. SLIC measures colour distances
//! in this space, so the constants and formulas follow scikit-image exactly.

use rayon::prelude::*;

/// scikit-image's `xyz_from_rgb` matrix (rows give X, Y, Z).
const XYZ_FROM_RGB: [[f64; 3]; 3] = [
    [0.412453, 0.357580, 0.180423],
    [0.212671, 0.715160, 0.072169],
    [0.019334, 0.119193, 0.950227],
];

/// CIE XYZ of the D65 illuminant for the 2 degree observer (scikit-image's default).
const D65_WHITE: [f64; 3] = [0.95047, 1.0, 1.08883];

/// Below this, L*a*b*'s cube root is replaced by a line (scikit-image's constant).
const LAB_EPSILON: f64 = 0.008856;

/// sRGB gamma expansion of one channel value in [0, 1].
pub(crate) fn srgb_to_linear(v: f64) -> f64 {
    if v > 0.04045 {
        ((v + 0.055) / 1.055).powf(2.4)
    } else {
        v / 12.92
    }
}

/// Converts a gamma-expanded (linear) RGB triple to L*a*b*.
#[inline(always)]
pub(crate) fn linear_rgb_to_lab(lin: [f64; 3]) -> [f64; 3] {
    let mut f = [0.0; 3];
    for (i, row) in XYZ_FROM_RGB.iter().enumerate() {
        let xyz = lin[0] * row[0] + lin[1] * row[1] + lin[2] * row[2];
        let t = xyz / D65_WHITE[i];
        // Both sides are computed so that the loop stays branch-free.
        let root = cbrt_positive(t.max(LAB_EPSILON));
        f[i] = if t > LAB_EPSILON { root } else { 7.787 * t + 16.0 / 116.0 };
    }
    [116.0 * f[1] - 16.0, 500.0 * (f[0] - f[1]), 200.0 * (f[1] - f[2])]
}

/// Converts one gamma-encoded sRGB triple in [0, 1] to L*a*b*.
#[cfg(test)]
pub(crate) fn rgb_to_lab(rgb: [f64; 3]) -> [f64; 3] {
    linear_rgb_to_lab(rgb.map(srgb_to_linear))
}

/// Converts a channel-interleaved, already gamma-expanded RGB buffer to
/// L*a*b* in place.
pub(crate) fn linear_rgb_to_lab_inplace(data: &mut [f64]) {
    data.par_chunks_mut(3 * 4096).for_each(|chunk| {
        for px in chunk.chunks_exact_mut(3) {
            let lab = linear_rgb_to_lab([px[0], px[1], px[2]]);
            px.copy_from_slice(&lab);
        }
    });
}

/// Cube root of a positive normal number, to within about one ulp of the
/// correctly rounded result, without branches (so that loops calling it
/// vectorise; the library `cbrt` is several times slower here).
///
/// An exponent-dividing bit trick gives a start within about 4%, two Halley
/// steps (cubic convergence) bring it to about 1e-13 and a Newton step
/// finishes it.
#[inline(always)]
fn cbrt_positive(x: f64) -> f64 {
    // Dividing the bit pattern by 3 divides the exponent by 3; the constant
    // restores the bias (about 2/3 of 1023 << 52, tuned for the mantissa).
    let mut y = f64::from_bits(x.to_bits() / 3 + 0x2A9F_7893_782D_A1CE);
    for _ in 0..2 {
        let y3 = y * y * y;
        y *= (y3 + 2.0 * x) / (2.0 * y3 + x);
    }
    y - (y * y * y - x) / (3.0 * y * y)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_black_and_red_match_scikit_image() {
        // Values printed by skimage.color.rgb2lab (0.26).
        let white = rgb_to_lab([1.0, 1.0, 1.0]);
        let expected = [100.0, -0.002_454_937_862_051, 0.004_653_421_154_055];
        for (got, want) in white.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{white:?}");
        }
        let black = rgb_to_lab([0.0, 0.0, 0.0]);
        assert!(black.iter().all(|v| v.abs() < 1e-9), "{black:?}");
        let red = rgb_to_lab([1.0, 0.0, 0.0]);
        let expected = [53.240_587_943_74, 80.092_308_225_69, 67.202_751_044_43];
        for (got, want) in red.iter().zip(expected) {
            assert!((got - want).abs() < 1e-9, "{red:?}");
        }
    }

    #[test]
    fn fast_cube_root_is_within_an_ulp() {
        let mut worst = 0u64;
        let mut x = LAB_EPSILON;
        while x < 4.0 {
            let (got, want) = (cbrt_positive(x), x.cbrt());
            worst = worst.max(got.to_bits().abs_diff(want.to_bits()));
            x *= 1.000_013_7;
        }
        assert!(worst <= 1, "worst error {worst} ulp");
    }
}
