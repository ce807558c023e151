//! Co-association consensus of several clusterings, and their stability (mean pairwise ARI).
//!
//! The co-association distance of two points is the fraction of runs that put them in
//! different clusters. Over n = 50176 pixels its n x n matrix would take 10 GB, but it only
//! depends on each point's tuple of labels across the runs: points with the same tuple are
//! at distance 0 from each other and at the same distance from everything else. So the
//! points are first grouped by tuple (a few hundred groups for a handful of runs at K = 5),
//! and the groups are clustered with a linkage that weighs each group by its count. For
//! average and Ward linkage this gives the same tree as clustering the points themselves
//! (identical points merge first, at distance 0).
//!
//! Ward is exact here too: the co-association distance is a squared Euclidean distance
//! (each run's label as a one-hot vector scaled by `1/sqrt(2R)`: two points differing in
//! `m` of the `R` runs are at squared distance `m / R`).

use crate::error::ClusterError;
use crate::linkage::{cut_tree, nn_chain, Linkage};
use crate::rand_index::adjusted_rand_index;
use rayon::prelude::*;
use std::collections::HashMap;

/// Parameters of [`consensus`]; `ConsensusParams::default()` gives the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsensusParams {
    /// Linkage over the co-association distance. Default [`Linkage::Average`] (evidence
    /// accumulation, Fred & Jain 2005).
    pub linkage: Linkage,
    /// Largest number of distinct label tuples accepted; the linkage needs
    /// `distinct^2 / 2` f64 values (8192 -> 256 MiB). Default 8192.
    pub max_distinct: usize,
}

impl Default for ConsensusParams {
    /// Average linkage, at most 8192 distinct tuples.
    fn default() -> Self {
        ConsensusParams {
            linkage: Linkage::Average,
            max_distinct: 8192,
        }
    }
}

/// Consensus of several clusterings of the same points (`runs[r][i]` is the label of point
/// `i` in run `r`; any `u32` labels) into at most `k` clusters.
///
/// Fewer than `k` clusters come back only when the runs have fewer than `k` distinct label
/// tuples (points that every run puts together are never split). Labels are numbered in
/// order of first appearance. Deterministic.
///
/// Errors: no runs, empty runs, runs of different lengths, K = 0 or K > n, or more distinct
/// tuples than `params.max_distinct`.
pub fn consensus(runs: &[Vec<u32>], k: usize, params: &ConsensusParams) -> Result<Vec<u32>, ClusterError> {
    let n = check_runs(runs, 1, "consensus")?;
    crate::validate::check_k(k, n)?;
    // Group the points by label tuple, refining one run at a time.
    let mut group = vec![0u32; n];
    let mut n_groups = 1usize;
    for run in runs {
        let mut ids: HashMap<(u32, u32), u32> = HashMap::new();
        for (g, &l) in group.iter_mut().zip(run) {
            let next = ids.len() as u32;
            *g = *ids.entry((*g, l)).or_insert(next);
        }
        n_groups = ids.len();
    }
    if n_groups > params.max_distinct {
        return Err(ClusterError::TooManyDistinct {
            distinct: n_groups,
            max_distinct: params.max_distinct,
        });
    }
    if n_groups <= k {
        return Ok(renumber(&group));
    }
    // One representative point and the count of each group.
    let mut rep = vec![usize::MAX; n_groups];
    let mut counts = vec![0f64; n_groups];
    for (i, &g) in group.iter().enumerate() {
        let g = g as usize;
        if rep[g] == usize::MAX {
            rep[g] = i;
        }
        counts[g] += 1.0;
    }
    let n_runs = runs.len();
    let tuples: Vec<u32> = rep.iter().flat_map(|&i| runs.iter().map(move |run| run[i])).collect();
    let tuple = |g: usize| &tuples[g * n_runs..(g + 1) * n_runs];
    let rows: Vec<Vec<f64>> = (0..n_groups)
        .into_par_iter()
        .map(|a| {
            let ta = tuple(a);
            ((a + 1)..n_groups)
                .map(|b| {
                    let differ = ta.iter().zip(tuple(b)).filter(|(x, y)| x != y).count();
                    differ as f64 / n_runs as f64
                })
                .collect()
        })
        .collect();
    let mut dist = rows.concat();
    let merges: Vec<(usize, usize)> = nn_chain(&mut dist, &counts, params.linkage).iter().map(|m| (m.0, m.1)).collect();
    let cut = cut_tree(n_groups, &merges, &[k]);
    let of_group = cut.first().cloned().unwrap_or_default();
    let labels: Vec<u32> = group.iter().map(|&g| of_group[g as usize]).collect();
    Ok(renumber(&labels))
}

/// Mean adjusted Rand index over all pairs of runs: the stability of a clustering method
/// across seeds (1 = every run gives the same partition).
///
/// Errors: fewer than two runs, empty runs, or runs of different lengths.
pub fn mean_pairwise_ari(runs: &[Vec<u32>]) -> Result<f64, ClusterError> {
    check_runs(runs, 2, "mean pairwise ARI")?;
    let mut total = 0.0;
    let mut pairs = 0usize;
    for i in 0..runs.len() {
        for j in (i + 1)..runs.len() {
            total += adjusted_rand_index(&runs[i], &runs[j])?;
            pairs += 1;
        }
    }
    Ok(total / pairs as f64)
}

/// Check the runs and return their common length.
fn check_runs(runs: &[Vec<u32>], needed: usize, what: &'static str) -> Result<usize, ClusterError> {
    if runs.len() < needed {
        return Err(ClusterError::TooFewRuns {
            what,
            needed,
            got: runs.len(),
        });
    }
    let n = runs[0].len();
    if n == 0 {
        return Err(ClusterError::EmptyData {
            what: "the label vectors",
            rows: 0,
            cols: 1,
        });
    }
    for (index, run) in runs.iter().enumerate() {
        if run.len() != n {
            return Err(ClusterError::LengthMismatch {
                index,
                expected: n,
                found: run.len(),
            });
        }
    }
    Ok(n)
}

/// Labels renumbered `0..` in order of first appearance.
fn renumber(labels: &[u32]) -> Vec<u32> {
    let mut ids: HashMap<u32, u32> = HashMap::new();
    labels
        .iter()
        .map(|&l| {
            let next = ids.len() as u32;
            *ids.entry(l).or_insert(next)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_runs_give_back_their_partition() {
        let run = vec![3, 3, 1, 1, 7, 7, 7];
        let out = consensus(&[run.clone(), run.clone(), run], 3, &ConsensusParams::default()).unwrap();
        assert_eq!(out, vec![0, 0, 1, 1, 2, 2, 2]);
    }

    #[test]
    fn majority_wins_for_a_disputed_point() {
        // Point 2 sits with {0, 1} in two runs of three, with {3, 4} in one.
        let runs = vec![vec![0, 0, 0, 1, 1], vec![0, 0, 0, 1, 1], vec![0, 0, 1, 1, 1]];
        for linkage in [Linkage::Average, Linkage::Ward] {
            let params = ConsensusParams {
                linkage,
                ..ConsensusParams::default()
            };
            assert_eq!(consensus(&runs, 2, &params).unwrap(), vec![0, 0, 0, 1, 1], "{linkage:?}");
        }
    }

    #[test]
    fn errors_are_reported() {
        let p = ConsensusParams::default();
        assert!(matches!(consensus(&[], 2, &p), Err(ClusterError::TooFewRuns { .. })));
        assert!(matches!(
            consensus(&[vec![0, 1], vec![0]], 2, &p),
            Err(ClusterError::LengthMismatch { index: 1, .. })
        ));
        assert!(matches!(consensus(&[vec![0, 1]], 3, &p), Err(ClusterError::TooManyClusters { .. })));
        assert!(matches!(mean_pairwise_ari(&[vec![0, 1]]), Err(ClusterError::TooFewRuns { .. })));
        let many = ConsensusParams { max_distinct: 2, ..p };
        assert!(matches!(
            consensus(&[vec![0, 1, 2]], 1, &many),
            Err(ClusterError::TooManyDistinct { distinct: 3, .. })
        ));
    }
}
