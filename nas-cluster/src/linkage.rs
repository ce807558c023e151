//! Agglomerative linkage on a condensed dissimilarity matrix, and flat cuts of its tree.
//!
//! [`ward`](crate::ward) builds its tree with kodama (scipy's algorithms); [`consensus`](crate::consensus)
//! needs what kodama lacks, initial cluster sizes (a group of identical points weighs its
//! count), so this module has a nearest-neighbour-chain linkage with sizes for the two
//! reducible methods it offers. Both trees are cut here the same way.

use std::cmp::Ordering;

/// Linkage criterion of an agglomerative clustering over weighted points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Linkage {
    /// Mean dissimilarity between the points of two clusters (UPGMA), the classic choice for
    /// co-association consensus (evidence accumulation). The default.
    #[default]
    Average,
    /// Ward's minimum increase of within-cluster variance; the dissimilarities are then taken
    /// as squared Euclidean distances (co-association distances are: see `consensus`).
    Ward,
}

/// Index of the pair `(i, j)`, `i < j`, in a condensed matrix of `n` points.
#[inline]
pub(crate) fn condensed_index(n: usize, i: usize, j: usize) -> usize {
    i * n - i * (i + 1) / 2 + (j - i - 1)
}

/// Lance-Williams update: dissimilarity from `i` (size `si`) to the union of `x` and `y`.
#[inline]
fn update(linkage: Linkage, dix: f64, diy: f64, dxy: f64, sx: f64, sy: f64, si: f64) -> f64 {
    match linkage {
        Linkage::Average => (sx * dix + sy * diy) / (sx + sy),
        Linkage::Ward => ((si + sx) * dix + (si + sy) * diy - si * dxy) / (si + sx + sy),
    }
}

/// Nearest-neighbour-chain linkage of `sizes.len()` weighted points (as scipy's `nn_chain`).
///
/// `dist` is the condensed matrix of the points' dissimilarities (squared Euclidean for Ward),
/// overwritten; `sizes[i]` is the number of identical points that point `i` stands for (for
/// Ward, the initial dissimilarity of two groups is then scaled to the Ward distance of the
/// groups, `2 si sj / (si + sj)` times that of their points). Returns the merges in scipy's convention,
/// sorted by dissimilarity (stable): merge `s` joins nodes `a` and `b` (leaves are `0..n`,
/// merge `s` creates node `n + s`). Ties are broken by the lowest index, so the result is
/// deterministic.
pub(crate) fn nn_chain(dist: &mut [f64], sizes: &[f64], linkage: Linkage) -> Vec<(usize, usize, f64)> {
    let n = sizes.len();
    if n < 2 {
        return Vec::new();
    }
    if linkage == Linkage::Ward {
        for i in 0..n {
            for j in (i + 1)..n {
                dist[condensed_index(n, i, j)] *= 2.0 * sizes[i] * sizes[j] / (sizes[i] + sizes[j]);
            }
        }
    }
    let mut size = sizes.to_vec();
    let mut active = vec![true; n];
    let mut chain: Vec<usize> = Vec::with_capacity(n);
    let mut raw: Vec<(usize, usize, f64)> = Vec::with_capacity(n - 1);
    let d = |dist: &[f64], a: usize, b: usize| -> f64 {
        if a < b {
            dist[condensed_index(n, a, b)]
        } else {
            dist[condensed_index(n, b, a)]
        }
    };
    for _ in 0..n - 1 {
        if chain.is_empty() {
            if let Some(first) = (0..n).find(|&i| active[i]) {
                chain.push(first);
            }
        }
        let (x, y, dxy) = loop {
            let x = chain[chain.len() - 1];
            let (mut y, mut best) = if chain.len() > 1 {
                let p = chain[chain.len() - 2];
                (p, d(dist, x, p))
            } else {
                (usize::MAX, f64::INFINITY)
            };
            for (i, &on) in active.iter().enumerate() {
                if on && i != x {
                    let di = d(dist, x, i);
                    if di < best {
                        best = di;
                        y = i;
                    }
                }
            }
            if chain.len() > 1 && y == chain[chain.len() - 2] {
                break (x, y, best);
            }
            chain.push(y);
        };
        chain.pop();
        chain.pop();
        let (x, y) = if x < y { (x, y) } else { (y, x) };
        raw.push((x, y, dxy));
        let (sx, sy) = (size[x], size[y]);
        active[x] = false;
        size[y] = sx + sy;
        for i in 0..n {
            if active[i] && i != y {
                let v = update(linkage, d(dist, i, x), d(dist, i, y), dxy, sx, sy, size[i]);
                let idx = if i < y {
                    condensed_index(n, i, y)
                } else {
                    condensed_index(n, y, i)
                };
                dist[idx] = v;
            }
        }
    }
    relabel(n, raw)
}

/// Sort raw merges (cluster slots of `0..n`) by dissimilarity and give them scipy's node ids.
fn relabel(n: usize, mut raw: Vec<(usize, usize, f64)>) -> Vec<(usize, usize, f64)> {
    raw.sort_by(|a, b| a.2.partial_cmp(&b.2).unwrap_or(Ordering::Equal));
    let mut parent: Vec<usize> = (0..2 * n - 1).collect();
    let node_of = |parent: &mut Vec<usize>, mut v: usize| -> usize {
        while parent[v] != v {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        v
    };
    let mut out = Vec::with_capacity(raw.len());
    for (s, &(a, b, dis)) in raw.iter().enumerate() {
        let (ra, rb) = (node_of(&mut parent, a), node_of(&mut parent, b));
        let node = n + s;
        parent[ra] = node;
        parent[rb] = node;
        out.push((ra.min(rb), ra.max(rb), dis));
    }
    out
}

/// Flat clusterings of `n` leaves for each K of `ks` (each in `1..=n`), from one tree given as
/// merges in scipy's convention, sorted by dissimilarity: K clusters = the first `n - K`
/// merges, as scikit-learn's `_hc_cut`. Labels are numbered in order of first appearance, so
/// the cuts are nested by construction.
pub(crate) fn cut_tree(n: usize, merges: &[(usize, usize)], ks: &[usize]) -> Vec<Vec<u32>> {
    // Union-find over leaves; `leaf_of[node]` is a leaf inside each merged node.
    let mut parent: Vec<usize> = (0..n).collect();
    let mut leaf_of: Vec<usize> = (0..n).collect();
    leaf_of.reserve(merges.len());
    fn find(parent: &mut [usize], mut v: usize) -> usize {
        while parent[v] != v {
            parent[v] = parent[parent[v]];
            v = parent[v];
        }
        v
    }
    let mut order: Vec<usize> = (0..ks.len()).collect();
    order.sort_by(|&a, &b| ks[b].cmp(&ks[a]));
    let mut out = vec![Vec::new(); ks.len()];
    let mut applied = 0;
    for idx in order {
        let target = n.saturating_sub(ks[idx]).min(merges.len());
        while applied < target {
            let (a, b) = merges[applied];
            let (la, lb) = (leaf_of[a], leaf_of[b]);
            let (ra, rb) = (find(&mut parent, la), find(&mut parent, lb));
            parent[ra] = rb;
            leaf_of.push(rb);
            applied += 1;
        }
        let mut id_of_root = vec![u32::MAX; n];
        let mut next = 0u32;
        let mut labels = Vec::with_capacity(n);
        for v in 0..n {
            let r = find(&mut parent, v);
            if id_of_root[r] == u32::MAX {
                id_of_root[r] = next;
                next += 1;
            }
            labels.push(id_of_root[r]);
        }
        out[idx] = labels;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn condensed(points: &[[f64; 2]], squared: bool) -> Vec<f64> {
        let n = points.len();
        let mut out = Vec::new();
        for i in 0..n {
            for j in (i + 1)..n {
                let d2 = (points[i][0] - points[j][0]).powi(2) + (points[i][1] - points[j][1]).powi(2);
                out.push(if squared { d2 } else { d2.sqrt() });
            }
        }
        out
    }

    #[test]
    fn unit_weight_chain_matches_kodama() {
        let pts: Vec<[f64; 2]> = (0..40)
            .map(|i| {
                let t = i as f64;
                [(t * 1.7).sin() * 5.0 + (i % 3) as f64 * 9.0, (t * 0.9).cos() * 4.0]
            })
            .collect();
        let ks = [1, 2, 3, 5, 9, 40];
        for (ours_linkage, kodama_method, squared) in [
            (Linkage::Average, kodama::Method::Average, false),
            (Linkage::Ward, kodama::Method::Ward, true),
        ] {
            let mut mine = condensed(&pts, squared);
            let merges = nn_chain(&mut mine, &vec![1.0; pts.len()], ours_linkage);
            let mut theirs = condensed(&pts, false);
            let dend = kodama::linkage(&mut theirs, pts.len(), kodama_method);
            let km: Vec<(usize, usize)> = dend.steps().iter().map(|s| (s.cluster1, s.cluster2)).collect();
            let mm: Vec<(usize, usize)> = merges.iter().map(|m| (m.0, m.1)).collect();
            assert_eq!(cut_tree(40, &mm, &ks), cut_tree(40, &km, &ks), "{ours_linkage:?}");
        }
    }

    #[test]
    fn weights_act_as_repeated_points() {
        // Points 0 and 1 are repeated 3 and 2 times in the expanded set.
        let base = [[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [5.5, 1.0]];
        let expanded = [base[0], base[0], base[0], base[1], base[1], base[2], base[3]];
        for linkage in [Linkage::Average, Linkage::Ward] {
            let squared = linkage == Linkage::Ward;
            let mut w = condensed(&base, squared);
            let mw: Vec<(usize, usize)> = nn_chain(&mut w, &[3.0, 2.0, 1.0, 1.0], linkage)
                .iter()
                .map(|m| (m.0, m.1))
                .collect();
            let mut e = condensed(&expanded, squared);
            let me: Vec<(usize, usize)> = nn_chain(&mut e, &[1.0; 7], linkage).iter().map(|m| (m.0, m.1)).collect();
            for k in 1..=4 {
                let cw = &cut_tree(4, &mw, &[k])[0];
                let ce = &cut_tree(7, &me, &[k])[0];
                let back: Vec<u32> = [0, 3, 5, 6].iter().map(|&i| ce[i]).collect();
                assert_eq!(cw, &back, "{linkage:?} k={k}");
            }
        }
    }
}
