//! Exact Ward linkage, as scikit-learn's `AgglomerativeClustering(linkage='ward')`.
//!
//! scikit-learn runs scipy's `ward` on the Euclidean distances of the rows (in f64) and cuts
//! the tree by undoing its last K - 1 merges. We do the same with kodama (a port of the
//! algorithms of fastcluster and scipy: nearest-neighbour chain, Lance-Williams updates on
//! squared distances). The condensed distance matrix takes `n (n - 1) / 2` f64 values, so the
//! caller sets a limit on n: 16384 pixels (a 128 x 128 grid) already need 1 GiB.
//!
//! The distances come from the Gram matrix of the centred rows in f64 (matrixmultiply's
//! dgemm on blocks of rows, spread over rayon's pool); every entry is computed by one fixed
//! product, so the tree does not depend on the number of threads.

use crate::error::ClusterError;
use crate::linkage::{condensed_index, cut_tree};
use crate::validate::{check_k, check_shape};
use ndarray::{s, Array2, ArrayView2, Axis};
use rayon::prelude::*;

/// A sensible `max_samples` for [`ward`]: 16384 pixels (a 128 x 128 grid), whose distance
/// matrix takes 1 GiB.
pub const WARD_DEFAULT_MAX_SAMPLES: usize = 16384;

/// Rows per block of the Gram matrix.
const BLOCK: usize = 64;

/// Cluster the rows of `data` (n x d, one row per pixel) with Ward linkage and cut the tree at
/// each K of `ks`: one label vector per K, in the order of `ks`.
///
/// All cuts come from one tree, so they are nested (see [`is_nested`]), and labels are
/// numbered in order of first appearance. Equal to scikit-learn's labels up to a permutation
/// (exact ties between merge costs aside). Deterministic.
///
/// `max_samples`: the largest n accepted (suggested: [`WARD_DEFAULT_MAX_SAMPLES`]).
///
/// Errors: empty data, n above `max_samples` (with the memory it would take), a K of 0 or
/// above n, a NaN or infinite value.
pub fn ward(data: ArrayView2<f32>, ks: &[usize], max_samples: usize) -> Result<Vec<Vec<u32>>, ClusterError> {
    check_shape(&data, "the feature matrix")?;
    let n = data.nrows();
    if n > max_samples {
        return Err(ClusterError::TooManySamples {
            n,
            max_samples,
            bytes_needed: (n as u64) * (n as u64 - 1) / 2 * 8,
        });
    }
    for &k in ks {
        check_k(k, n)?;
    }
    if let Some(((row, col), &value)) = data.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(ClusterError::NonFinite { row, col, value });
    }
    if ks.is_empty() {
        return Ok(Vec::new());
    }
    if n == 1 {
        return Ok(vec![vec![0]; ks.len()]);
    }
    let mut dist = euclidean_condensed(data);
    let dend = kodama::linkage(&mut dist, n, kodama::Method::Ward);
    let merges: Vec<(usize, usize)> = dend.steps().iter().map(|s| (s.cluster1, s.cluster2)).collect();
    Ok(cut_tree(n, &merges, ks))
}

/// Condensed Euclidean distances of the rows, in f64, through the Gram matrix of the
/// centred rows.
fn euclidean_condensed(data: ArrayView2<f32>) -> Vec<f64> {
    let (n, d) = data.dim();
    let x64 = data.mapv(f64::from);
    let mean = x64.mean_axis(Axis(0)).unwrap_or_else(|| ndarray::Array1::zeros(d));
    let x: Array2<f64> = &x64 - &mean.insert_axis(Axis(0));
    let norms: Vec<f64> = x.outer_iter().map(|r| r.dot(&r)).collect();
    let mut dist = vec![0f64; n * (n - 1) / 2];
    // Split the condensed matrix into the segments of each block of rows.
    let mut segments: Vec<(usize, &mut [f64])> = Vec::new();
    let mut rest: &mut [f64] = &mut dist;
    let mut i0 = 0;
    while i0 < n - 1 {
        let i1 = (i0 + BLOCK).min(n - 1);
        let len = condensed_index(n, i1 - 1, n - 1) + 1 - condensed_index(n, i0, i0 + 1);
        let (seg, tail) = rest.split_at_mut(len);
        segments.push((i0, seg));
        rest = tail;
        i0 = i1;
    }
    segments.into_par_iter().for_each(|(i0, seg)| {
        let i1 = (i0 + BLOCK).min(n - 1);
        let gram = x.slice(s![i0..i1, ..]).dot(&x.slice(s![i0.., ..]).t());
        let mut pos = 0;
        for (i, g) in (i0..i1).zip(gram.outer_iter()) {
            let len = n - i - 1;
            let out = &mut seg[pos..pos + len];
            for ((o, &gij), &nj) in out.iter_mut().zip(g.iter().skip(i + 1 - i0)).zip(&norms[i + 1..]) {
                *o = norms[i] + nj - 2.0 * gij;
            }
            // A separate loop, so that the square roots vectorise.
            for o in out.iter_mut() {
                *o = o.max(0.0).sqrt();
            }
            pos += len;
        }
    });
    dist
}

/// Whether the clustering `fine` refines `coarse`: every cluster of `fine` lies inside one
/// cluster of `coarse` (vectors of different lengths are not nested).
pub fn is_nested(coarse: &[u32], fine: &[u32]) -> bool {
    if coarse.len() != fine.len() {
        return false;
    }
    let mut parent = std::collections::HashMap::new();
    coarse.iter().zip(fine).all(|(&c, &f)| *parent.entry(f).or_insert(c) == c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn small_blobs_split_as_expected() {
        let x = array![[0.0f32, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0], [5.0, 5.2], [20.0, 0.0]];
        let cuts = ward(x.view(), &[1, 2, 3, 6], 100).unwrap();
        assert_eq!(cuts[0], vec![0; 6]);
        assert_eq!(cuts[2], vec![0, 0, 1, 1, 1, 2]);
        assert_eq!(cuts[3], vec![0, 1, 2, 3, 4, 5]);
        assert!(is_nested(&cuts[1], &cuts[2]));
        assert!(!is_nested(&cuts[2], &cuts[1]));
    }

    #[test]
    fn condensed_layout_covers_every_pair() {
        let x = ndarray::Array2::from_shape_fn((150, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f32);
        let dist = euclidean_condensed(x.view());
        for (i, j) in [(0, 1), (0, 149), (63, 64), (64, 65), (100, 149), (148, 149)] {
            let direct: f64 = (0..3)
                .map(|c| (f64::from(x[[i, c]]) - f64::from(x[[j, c]])).powi(2))
                .sum::<f64>()
                .sqrt();
            assert!((dist[condensed_index(150, i, j)] - direct).abs() < 1e-9, "{i} {j}");
        }
    }
}
