//! The adjusted Rand index, to compare two label maps.

use std::collections::HashMap;

use ndarray::ArrayView2;

use crate::error::SuperpixelError;

/// Adjusted Rand index (Hubert and Arabie, 1985) between two label maps of
/// the same shape: 1.0 for identical partitions (whatever the label
/// numbering), about 0.0 for independent ones. Equals scikit-learn's
/// `adjusted_rand_score` on the flattened maps, including its convention of
/// 1.0 when both maps are a single segment or both are one segment per pixel.
///
/// Used to check these segmenters against scikit-image and handy for any
/// segmentation comparison.
///
/// # Errors
/// [`SuperpixelError::ShapeMismatch`] if the shapes differ.
pub fn adjusted_rand_index(a: ArrayView2<u32>, b: ArrayView2<u32>) -> Result<f64, SuperpixelError> {
    if a.dim() != b.dim() {
        return Err(SuperpixelError::ShapeMismatch {
            left: a.dim(),
            right: b.dim(),
        });
    }
    let n = a.len() as f64;
    let mut joint: HashMap<(u32, u32), u64> = HashMap::new();
    let mut rows: HashMap<u32, u64> = HashMap::new();
    let mut cols: HashMap<u32, u64> = HashMap::new();
    for (&la, &lb) in a.iter().zip(b.iter()) {
        *joint.entry((la, lb)).or_default() += 1;
        *rows.entry(la).or_default() += 1;
        *cols.entry(lb).or_default() += 1;
    }
    let pairs = |counts: &mut dyn Iterator<Item = u64>| -> f64 { counts.map(|c| (c as f64) * (c as f64 - 1.0) / 2.0).sum() };
    let index = pairs(&mut joint.values().copied());
    let sum_a = pairs(&mut rows.values().copied());
    let sum_b = pairs(&mut cols.values().copied());
    let total = n * (n - 1.0) / 2.0;
    if total == 0.0 {
        return Ok(1.0);
    }
    let expected = sum_a * sum_b / total;
    let max_index = (sum_a + sum_b) / 2.0;
    if max_index == expected {
        // Both maps are trivial (one segment, or one segment per pixel).
        return Ok(1.0);
    }
    Ok((index - expected) / (max_index - expected))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn identical_partitions_score_one_and_known_value_matches_sklearn() {
        let a = array![[0u32, 0, 1], [1, 2, 2]];
        let b = array![[5u32, 5, 7], [7, 9, 9]];
        assert_eq!(adjusted_rand_index(a.view(), b.view()), Ok(1.0));
        // sklearn.metrics.adjusted_rand_score([0,0,1,1,2,2], [0,0,1,2,2,2]) == 0.4444...
        let c = array![[0u32, 0, 1], [2, 2, 2]];
        let ari = adjusted_rand_index(a.view(), c.view()).unwrap_or(f64::NAN);
        assert!((ari - 4.0 / 9.0).abs() < 1e-12, "{ari}");
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        let a = array![[0u32, 1]];
        let b = array![[0u32], [1]];
        assert!(matches!(
            adjusted_rand_index(a.view(), b.view()),
            Err(SuperpixelError::ShapeMismatch { .. })
        ));
    }
}
