//! Hard swish, `x * relu6(x + 3) / 6` (MobileNetV3's activation), over a whole feature map in
//! place, vectorised.

use crate::elementwise::map_in_place;

/// Hard swish of one value, as PyTorch computes it.
#[inline(always)]
pub fn hardswish(x: f32) -> f32 {
    x * (x + 3.0).clamp(0.0, 6.0) / 6.0
}

/// Replaces every value of `values` by its hard swish.
pub fn hardswish_in_place(values: &mut [f32]) {
    map_in_place(values, hardswish);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardswish_is_zero_below_minus_three_and_identity_above_three() {
        assert_eq!((hardswish(-3.5), hardswish(-3.0), hardswish(0.0)), (-0.0, -0.0, 0.0));
        assert_eq!((hardswish(3.0), hardswish(7.25)), (3.0, 7.25));
        assert!((hardswish(1.5) - 1.5 * 4.5 / 6.0).abs() < 1e-7);
        let mut values: Vec<f32> = (0..40_000).map(|i| (i as f32 - 20_000.0) / 2_000.0).collect();
        let expected: Vec<f32> = values.iter().map(|v| hardswish(*v)).collect();
        hardswish_in_place(&mut values);
        assert_eq!(values, expected);
    }
}
