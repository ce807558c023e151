//! The order in which metrics visit pixels, patches or superpixels by their saliency. Quantus
//! sorts with `np.argsort(-a)`, whose quicksort leaves equal values in no defined order; here
//! they keep their index order, so results do not depend on a sort's whims.

use std::cmp::Ordering;

/// Indices of `values`, largest first; equal values (+0 and -0 included) in increasing index
/// order; NaN after everything, as NumPy sorts it.
pub fn descending<T: Copy + Into<f64>>(values: &[T]) -> Vec<usize> {
    let key = |i: usize| -> f64 {
        let v: f64 = values[i].into();
        if v.is_nan() {
            f64::NEG_INFINITY
        } else {
            v
        }
    };
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| {
        let nan_last = values[a].into().is_nan().cmp(&values[b].into().is_nan());
        nan_last
            .then(key(b).partial_cmp(&key(a)).unwrap_or(Ordering::Equal))
            .then(a.cmp(&b))
    });
    order
}

/// Indices of `values`, smallest first (`np.argsort(a)`); equal values in increasing index
/// order; NaN after everything.
pub fn ascending<T: Copy + Into<f64>>(values: &[T]) -> Vec<usize> {
    let negated: Vec<f64> = values.iter().map(|&v| -v.into()).collect();
    descending(&negated)
}

#[cfg(test)]
mod tests {
    use super::{ascending, descending};

    #[test]
    fn ascending_reverses_the_order_but_not_ties_or_nan() {
        assert_eq!(ascending(&[1.0f32, 3.0, 1.0, f32::NAN, -2.0]), vec![4, 0, 2, 1, 3]);
    }

    #[test]
    fn ties_keep_index_order_and_nan_goes_last() {
        assert_eq!(descending(&[1.0f32, 3.0, 1.0, f32::NAN, 3.0]), vec![1, 4, 0, 2, 3]);
        assert_eq!(descending(&[-0.0f64, 0.0, -1.0]), vec![0, 1, 2], "+0 and -0 are equal");
        assert_eq!(descending(&[f64::NAN, f64::NEG_INFINITY]), vec![1, 0]);
    }
}
