//! Input checks shared by the algorithms: a feature matrix (rows = pixels, columns =
//! features) must be non-empty and finite, and K must be in `1..=n`.

use crate::error::ClusterError;
use ndarray::ArrayView2;

/// Refuse a matrix without rows or columns; `what` names the input in the message.
pub(crate) fn check_shape(data: &ArrayView2<f32>, what: &'static str) -> Result<(), ClusterError> {
    let (n, d) = data.dim();
    if n == 0 || d == 0 {
        return Err(ClusterError::EmptyData { what, rows: n, cols: d });
    }
    Ok(())
}

/// Refuse K = 0 and K > n.
pub(crate) fn check_k(k: usize, n: usize) -> Result<(), ClusterError> {
    if k == 0 {
        return Err(ClusterError::ZeroClusters);
    }
    if k > n {
        return Err(ClusterError::TooManyClusters { k, n });
    }
    Ok(())
}

/// The first non-finite value of `rows` (row-major, `d` columns) in raster order, as an
/// error naming its row (`row_offset` is added to the local row index).
pub(crate) fn first_non_finite(rows: &[f32], d: usize, row_offset: usize) -> Option<ClusterError> {
    if rows.iter().all(|v| v.is_finite()) {
        return None;
    }
    let i = rows.iter().position(|v| !v.is_finite())?;
    Some(ClusterError::NonFinite {
        row: row_offset + i / d.max(1),
        col: i % d.max(1),
        value: rows[i],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_is_reported_with_its_row() {
        let m = [0.0f32, 1.0, 2.0, f32::NAN, f32::INFINITY, 0.0];
        match first_non_finite(&m, 2, 10) {
            Some(ClusterError::NonFinite { row: 11, col: 1, .. }) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}
