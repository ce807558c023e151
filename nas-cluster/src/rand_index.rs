//! Adjusted Rand index, as scikit-learn's `adjusted_rand_score`.

use crate::error::ClusterError;
use std::collections::HashMap;

/// Adjusted Rand index of two labelings of the same points: 1 for identical partitions (up to
/// a renaming of the labels), about 0 for independent ones, negative below chance.
///
/// The same formula as scikit-learn 1.x (pair confusion matrix), in exact integer arithmetic
/// until the final division; labels can be any `u32` values. Two partitions that agree on
/// every pair (including all-singletons or one cluster on both sides) give exactly 1.
///
/// Errors: empty vectors, or vectors of different lengths.
pub fn adjusted_rand_index(a: &[u32], b: &[u32]) -> Result<f64, ClusterError> {
    if a.is_empty() {
        return Err(ClusterError::EmptyData {
            what: "the label vector",
            rows: 0,
            cols: 1,
        });
    }
    if a.len() != b.len() {
        return Err(ClusterError::LengthMismatch {
            index: 1,
            expected: a.len(),
            found: b.len(),
        });
    }
    let n = a.len() as i128;
    let mut table: HashMap<(u32, u32), i128> = HashMap::new();
    let mut rows: HashMap<u32, i128> = HashMap::new();
    let mut cols: HashMap<u32, i128> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *table.entry((x, y)).or_insert(0) += 1;
        *rows.entry(x).or_insert(0) += 1;
        *cols.entry(y).or_insert(0) += 1;
    }
    let sum_squares: i128 = table.values().map(|v| v * v).sum();
    let row_dot: i128 = table.iter().map(|(&(x, _), v)| v * rows[&x]).sum();
    let col_dot: i128 = table.iter().map(|(&(_, y), v)| v * cols[&y]).sum();
    // Ordered pairs: tp together in both, fp together in b only, fn together in a only.
    let tp = sum_squares - n;
    let fp = col_dot - sum_squares;
    let fn_ = row_dot - sum_squares;
    let tn = n * n - fp - fn_ - sum_squares;
    if fn_ == 0 && fp == 0 {
        return Ok(1.0);
    }
    let num = 2 * (tp * tn - fn_ * fp);
    let den = (tp + fn_) * (fn_ + tn) + (tp + fp) * (fp + tn);
    Ok(num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permutation_invariant_and_errors() {
        assert_eq!(adjusted_rand_index(&[0, 0, 1, 1], &[5, 5, 2, 2]).unwrap(), 1.0);
        assert!(adjusted_rand_index(&[0, 1], &[0]).is_err());
        assert!(adjusted_rand_index(&[], &[]).is_err());
    }
}
