//! k-means: greedy k-means++ seeding and Lloyd iterations, as scikit-learn's `KMeans`.
//!
//! Semantics follow scikit-learn 1.x (`init='k-means++'`, `algorithm='lloyd'`): the same
//! seeding rule, the same convergence test (no label changed, or squared centre shift at most
//! `tol` times the mean per-feature variance), the same empty-cluster relocation, and a final
//! assignment step so that the labels always match the returned centroids. Like scikit-learn,
//! data far from the origin are centred (on a copy) first. The random stream is ours
//! (ChaCha8), so labels equal scikit-learn's only up to the seed.
//!
//! Speed: on NAS inputs (50176 x 896) the work is bound by reading the data from memory, so
//! the code counts passes over it. Distances use the expanded form `||x||^2 - 2 x.c + ||c||^2`,
//! whose products `X C^T` come from a streaming kernel (see `kernels`) on fixed chunks of rows
//! spread over rayon's pool. The pass that checks the data also gives the distances to the
//! first k-means++ centre. The Lloyd iterations keep Elkan's bounds (an upper bound on the
//! distance to the own centre, a lower bound on the distance to each other centre), so that a
//! row is read again only when its bounds cannot prove its label; rows read out of order are
//! prefetched, and a chunk where most rows need it is read in order. The cluster sums are
//! updated by the rows that moved, and the inertia comes from them. The result is the one
//! plain Lloyd iterations give, up to float ties.
//!
//! Determinism: chunks are fixed ranges of rows, the kernels have a fixed summation order and
//! partial sums are reduced in chunk order, so a seed gives the same labels whatever the
//! number of threads (and the same on CPUs with and without AVX2).

use crate::error::ClusterError;
use crate::kernels::{add_row, prefetch, products, sq_dist, sq_norm, sub_row};
use crate::validate::{check_k, check_shape, first_non_finite};
use ndarray::{Array2, ArrayView2};
use rand_chacha::rand_core::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Rows per work item: about 0.9 MB of 896 features, which stays in a 1 MB L2 cache while
/// its distances, labels and sums are computed. Fixed, so that results do not depend on the
/// number of threads.
const CHUNK: usize = 256;

/// The data are centred first when the squared norm of their mean exceeds this fraction of
/// their total variance (expanded-form distances lose precision far from the origin).
const CENTRE_ABOVE: f64 = 1e-4;

/// Parameters of [`kmeans`]; [`KMeansParams::new`] gives the defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct KMeansParams {
    /// Number of clusters K. Default 5 (the paper's NAS setting). Must be in `1..=n`.
    pub k: usize,
    /// Seed of the ChaCha8 random stream of k-means++. Default 0. Run `i` of `n_init` uses
    /// stream `i` of this seed, so run 0 is the same whatever `n_init` is, and raising
    /// `n_init` never gives a higher inertia.
    pub seed: u64,
    /// Number of k-means++ initialisations; the run with the lowest inertia is kept (the
    /// first on ties). Default 1, as scikit-learn's `n_init='auto'` for k-means++: the greedy
    /// seeding makes one run reliable on NAS features (see docs/clustering.md); use 10 for
    /// scikit-learn's former default.
    pub n_init: usize,
    /// Maximum number of Lloyd iterations of one run. Default 300.
    pub max_iter: usize,
    /// Relative tolerance. Default 1e-4. A run stops when the squared Frobenius norm of the
    /// centre shift is at most `tol` times the mean per-feature variance of the data
    /// (scikit-learn's semantics), or as soon as an iteration changes no label.
    pub tol: f32,
}

impl KMeansParams {
    /// Parameters for `k` clusters with the defaults: seed 0, n_init 1, max_iter 300, tol 1e-4.
    pub fn new(k: usize) -> Self {
        KMeansParams {
            k,
            seed: 0,
            n_init: 1,
            max_iter: 300,
            tol: 1e-4,
        }
    }

    /// Refuse `n_init` or `max_iter` of 0 and a negative or non-finite `tol`.
    fn check(&self) -> Result<(), ClusterError> {
        if self.n_init == 0 {
            return Err(invalid("n_init", &self.n_init, "at least one initialisation is needed"));
        }
        if self.max_iter == 0 {
            return Err(invalid("max_iter", &self.max_iter, "at least one iteration is needed"));
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return Err(invalid("tol", &self.tol, "must be finite and >= 0"));
        }
        Ok(())
    }
}

impl Default for KMeansParams {
    /// K = 5 (NAS's default) and [`KMeansParams::new`]'s other defaults.
    fn default() -> Self {
        KMeansParams::new(5)
    }
}

fn invalid(name: &'static str, value: &dyn std::fmt::Display, reason: &'static str) -> ClusterError {
    ClusterError::InvalidParameter {
        name,
        value: value.to_string(),
        reason,
    }
}

/// The result of [`kmeans`].
#[derive(Debug, Clone, PartialEq)]
pub struct Clustering {
    /// Cluster of each row, in `0..k`: the index of its nearest centroid.
    pub labels: Vec<u32>,
    /// The K centroids, `k x d`: the mean of the rows of each cluster when the last update
    /// was made (a relocated empty cluster takes the farthest row, as in scikit-learn).
    pub centroids: Array2<f32>,
    /// Sum of squared distances of the rows to their centroids (scikit-learn's `inertia_`),
    /// in f64 from the cluster sums (`sum ||x||^2 - 2 sum c.S + sum n ||c||^2`, no extra pass
    /// over the data); it equals the direct sum to about 1e-7 of the data's sum of squares.
    pub inertia: f64,
    /// Lloyd iterations of the kept run (scikit-learn's `n_iter_`).
    pub n_iter: usize,
}

/// Cluster the rows of `data` (n x d, one row per pixel) into `params.k` groups.
///
/// Errors: empty data, K = 0, K > n, a NaN or infinite value (its row is named), or an
/// invalid parameter. The same `params` give the same result on any number of threads.
pub fn kmeans(data: ArrayView2<f32>, params: &KMeansParams) -> Result<Clustering, ClusterError> {
    check_shape(&data, "the feature matrix")?;
    let (n, d) = data.dim();
    check_k(params.k, n)?;
    params.check()?;
    let x = data.as_standard_layout();
    let copied: Vec<f32>;
    let raw: &[f32] = match x.as_slice() {
        Some(s) => s,
        None => {
            copied = x.iter().copied().collect();
            &copied
        }
    };
    // The first k-means++ centre of each run is drawn before the data are read, so that
    // the pass that checks the data also gives the distances to those centres.
    let mut rngs = Vec::with_capacity(params.n_init);
    let mut firsts = Vec::with_capacity(params.n_init);
    for init in 0..params.n_init {
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        rng.set_stream(init as u64);
        firsts.push(uniform_index(&mut rng, n));
        rngs.push(rng);
    }
    let scan = scan(raw, n, d, &firsts)?;
    let centred: Vec<f32>;
    let is_centred = scan.mean_sq > CENTRE_ABOVE * scan.total_var;
    let (prep, first_dist) = if is_centred {
        centred = centre(raw, &scan.mean);
        let norms = row_norms(&centred, d);
        let total: f64 = norms.iter().map(|&v| f64::from(v)).sum();
        let prep = Prepared::new(&centred, d, norms, total / (n * d) as f64, params.tol);
        let points: Vec<f32> = firsts.iter().flat_map(|&i| prep.row(i)).copied().collect();
        let dist = distances_to(&prep, &points);
        (prep, dist)
    } else {
        let prep = Prepared::new(raw, d, scan.norms, scan.total_var / d as f64, params.tol);
        (prep, scan.first_dist)
    };
    let t = firsts.len();
    let mut best: Option<Clustering> = None;
    for (init, (mut rng, &first)) in rngs.into_iter().zip(&firsts).enumerate() {
        let closest: Vec<f32> = first_dist.iter().skip(init).step_by(t).copied().collect();
        let run = single_run(&prep, params, &mut rng, first, closest);
        if best.as_ref().is_none_or(|b| run.inertia < b.inertia) {
            best = Some(run);
        }
    }
    let mut best = best.ok_or_else(|| invalid("n_init", &0, "at least one initialisation is needed"))?;
    if is_centred {
        for mut row in best.centroids.outer_iter_mut() {
            for (c, &m) in row.iter_mut().zip(&scan.mean) {
                *c = (f64::from(*c) + m) as f32;
            }
        }
    }
    Ok(best)
}

/// What one pass over the raw data finds.
struct Scan {
    norms: Vec<f32>,
    mean: Vec<f64>,
    /// Squared norm of the mean row.
    mean_sq: f64,
    /// Sum over features of their variance.
    total_var: f64,
    /// Squared distance of every row to each first centre, n x firsts, row-major.
    first_dist: Vec<f32>,
}

/// One parallel pass: finiteness, row norms, column means, total variance, and the squared
/// distances to the rows `firsts` (the first k-means++ centre of each run).
fn scan(xs: &[f32], n: usize, d: usize, firsts: &[usize]) -> Result<Scan, ClusterError> {
    struct Part {
        err: Option<ClusterError>,
        norms: Vec<f32>,
        col_sums: Vec<f32>,
        dist: Vec<f32>,
    }
    let t = firsts.len();
    let row = |i: usize| &xs[i * d..(i + 1) * d];
    let points: Vec<f32> = firsts.iter().flat_map(|&i| row(i)).copied().collect();
    let p_norms: Vec<f32> = points.chunks_exact(d).map(sq_norm).collect();
    let parts: Vec<Part> = xs
        .par_chunks(CHUNK * d)
        .enumerate()
        .map(|(c, rows)| {
            let mut col_sums = vec![0f32; d];
            let mut norms = Vec::with_capacity(rows.len() / d);
            for (i, r) in rows.chunks_exact(d).enumerate() {
                let nr = sq_norm(r);
                // A NaN or infinity makes the norm non-finite (so may an overflow: then look).
                if !nr.is_finite() {
                    if let Some(err) = first_non_finite(r, d, c * CHUNK + i) {
                        return Part {
                            err: Some(err),
                            norms: Vec::new(),
                            col_sums: Vec::new(),
                            dist: Vec::new(),
                        };
                    }
                }
                add_row(&mut col_sums, r);
                norms.push(nr);
            }
            let mut dist = vec![0f32; norms.len() * t];
            products(rows, &points, d, &mut dist);
            for (drow, &xn) in dist.chunks_exact_mut(t).zip(&norms) {
                for (g, &pn) in drow.iter_mut().zip(&p_norms) {
                    *g = (xn - 2.0 * *g + pn).max(0.0);
                }
            }
            Part {
                err: None,
                norms,
                col_sums,
                dist,
            }
        })
        .collect();
    let mut norms = Vec::with_capacity(n);
    let mut first_dist = Vec::with_capacity(n * t);
    let mut col_sums = vec![0f64; d];
    for p in parts {
        if let Some(err) = p.err {
            return Err(err);
        }
        norms.extend_from_slice(&p.norms);
        first_dist.extend_from_slice(&p.dist);
        for (a, &b) in col_sums.iter_mut().zip(&p.col_sums) {
            *a += f64::from(b);
        }
    }
    let nf = n as f64;
    let mean: Vec<f64> = col_sums.iter().map(|s| s / nf).collect();
    let mean_sq: f64 = mean.iter().map(|m| m * m).sum();
    let sum_sq: f64 = norms.iter().map(|&v| f64::from(v)).sum();
    Ok(Scan {
        norms,
        mean,
        mean_sq,
        total_var: (sum_sq / nf - mean_sq).max(0.0),
        first_dist,
    })
}

/// A copy of the data minus their mean row.
fn centre(xs: &[f32], mean: &[f64]) -> Vec<f32> {
    let d = mean.len();
    let mut out = vec![0f32; xs.len()];
    out.par_chunks_mut(CHUNK * d).zip(xs.par_chunks(CHUNK * d)).for_each(|(o, x)| {
        for (orow, xrow) in o.chunks_exact_mut(d).zip(x.chunks_exact(d)) {
            for ((ov, &xv), &m) in orow.iter_mut().zip(xrow).zip(mean) {
                *ov = (f64::from(xv) - m) as f32;
            }
        }
    });
    out
}

/// Squared norm of every row.
fn row_norms(xs: &[f32], d: usize) -> Vec<f32> {
    xs.par_chunks(CHUNK * d)
        .flat_map_iter(|rows| rows.chunks_exact(d).map(sq_norm).collect::<Vec<_>>())
        .collect()
}

/// The (possibly centred) data with what every run needs.
struct Prepared<'a> {
    /// n x d, row-major.
    xs: &'a [f32],
    n: usize,
    d: usize,
    /// Squared norm of each row.
    norms: Vec<f32>,
    /// Absolute tolerance on the squared centre shift.
    tol: f64,
}

impl<'a> Prepared<'a> {
    fn new(xs: &'a [f32], d: usize, norms: Vec<f32>, mean_var: f64, tol: f32) -> Self {
        Prepared {
            xs,
            n: xs.len() / d,
            d,
            norms,
            tol: f64::from(tol) * mean_var,
        }
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.xs[i * self.d..(i + 1) * self.d]
    }

    /// Chunks of rows, each with its index.
    fn chunks(&self) -> impl IndexedParallelIterator<Item = (usize, &[f32])> {
        self.xs.par_chunks(CHUNK * self.d).enumerate()
    }
}

/// A uniform float in [0, 1) from the top 53 bits of one draw (platform independent).
fn uniform_f64(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform index in `0..n` (`n >= 1`), by Lemire's widening multiply with rejection.
fn uniform_index(rng: &mut ChaCha8Rng, n: usize) -> usize {
    let n = n as u64;
    let threshold = n.wrapping_neg() % n;
    loop {
        let m = u128::from(rng.next_u64()) * u128::from(n);
        if (m as u64) >= threshold {
            return (m >> 64) as usize;
        }
    }
}

/// Squared distances (expanded form, clamped at 0) of every row to each of the `t` points
/// (`t x d`, row-major): `n x t`, row-major.
fn distances_to(prep: &Prepared, points: &[f32]) -> Vec<f32> {
    let d = prep.d;
    let t = points.len() / d;
    let p_norms: Vec<f32> = points.chunks_exact(d).map(sq_norm).collect();
    let blocks: Vec<Vec<f32>> = prep
        .chunks()
        .map(|(c, rows)| {
            let mut g = vec![0f32; rows.len() / d * t];
            products(rows, points, d, &mut g);
            for (r, grow) in g.chunks_exact_mut(t).enumerate() {
                let xn = prep.norms[c * CHUNK + r];
                for (gv, &pn) in grow.iter_mut().zip(&p_norms) {
                    *gv = (xn - 2.0 * *gv + pn).max(0.0);
                }
            }
            g
        })
        .collect();
    blocks.concat()
}

/// What k-means++ leaves for the Lloyd iterations: the centres (k x d) and, for K >= 2, the
/// first assignment step already done (labels, bounds and cluster sums).
struct Seeding {
    centres: Vec<f32>,
    first: Option<(Points, Sums)>,
}

/// One chunk's share of a k-means++ step: squared distances to the candidates (rows x t),
/// the candidates' partial potentials, and in the last step the cluster sums and counts each
/// candidate would give (t x k x d and t x k).
struct StepPart {
    dist: Vec<f32>,
    pots: Vec<f64>,
    sums: Vec<f32>,
    counts: Vec<i64>,
}

/// Greedy k-means++ (scikit-learn's `_kmeans_plusplus`): the first centre uniformly, then at
/// each step `2 + floor(ln k)` candidates drawn with probability proportional to the squared
/// distance to the nearest centre so far; the candidate that lowers the potential most wins.
/// `first` is the first centre (drawn by the caller) and `closest` the squared distances to it.
///
/// Each step is one pass over the data. The distances to every chosen centre are kept (n x k
/// f32), so the first assignment step needs no pass of its own: the last step's pass also
/// accumulates, for each candidate, the cluster sums that choosing it would give. The kernels
/// give each (row, centre) product the same value in any grouping, so this is bitwise the
/// assignment step [`assign`] would make.
fn plusplus(prep: &Prepared, k: usize, rng: &mut ChaCha8Rng, first: usize, mut closest: Vec<f32>) -> Seeding {
    let (n, d) = (prep.n, prep.d);
    let mut centres = Vec::with_capacity(k * d);
    centres.extend_from_slice(prep.row(first));
    let mut cols: Vec<Vec<f32>> = vec![closest.clone()];
    let n_trials = 2 + (k as f64).ln().floor() as usize;
    let mut cum = vec![0f64; n];
    let mut cand = Vec::with_capacity(n_trials * d);
    let mut first_step = None;
    for step in 1..k {
        let last = step + 1 == k;
        let mut total = 0f64;
        for (s, &v) in cum.iter_mut().zip(&closest) {
            total += f64::from(v);
            *s = total;
        }
        let mut ids = Vec::with_capacity(n_trials);
        cand.clear();
        for _ in 0..n_trials {
            let r = uniform_f64(rng) * total;
            let id = cum.partition_point(|&v| v < r).min(n - 1);
            ids.push(id);
            cand.extend_from_slice(prep.row(id));
        }
        let p_norms: Vec<f32> = cand.chunks_exact(d).map(sq_norm).collect();
        let cols_ref = &cols;
        let cand_ref = &cand;
        let parts: Vec<StepPart> = prep
            .chunks()
            .zip(closest.par_chunks(CHUNK))
            .map(|((c, rows), cl)| {
                let m = cl.len();
                let mut dist = vec![0f32; m * n_trials];
                products(rows, cand_ref, d, &mut dist);
                let mut pots = vec![0f64; n_trials];
                for (r, drow) in dist.chunks_exact_mut(n_trials).enumerate() {
                    let xn = prep.norms[c * CHUNK + r];
                    for ((g, &pn), p) in drow.iter_mut().zip(&p_norms).zip(pots.iter_mut()) {
                        *g = (xn - 2.0 * *g + pn).max(0.0);
                        *p += f64::from(g.min(cl[r]));
                    }
                }
                let (mut sums, mut counts) = (Vec::new(), Vec::new());
                if last {
                    sums = vec![0f32; n_trials * k * d];
                    counts = vec![0i64; n_trials * k];
                    for (r, drow) in dist.chunks_exact(n_trials).enumerate() {
                        let i = c * CHUNK + r;
                        let (mut bj, mut bd) = (0usize, f32::INFINITY);
                        for (j, col) in cols_ref.iter().enumerate() {
                            if col[i] < bd {
                                bd = col[i];
                                bj = j;
                            }
                        }
                        let row = &rows[r * d..(r + 1) * d];
                        for (t, &e) in drow.iter().enumerate() {
                            let label = if e < bd { k - 1 } else { bj };
                            let at = (t * k + label) * d;
                            add_row(&mut sums[at..at + d], row);
                            counts[t * k + label] += 1;
                        }
                    }
                }
                StepPart { dist, pots, sums, counts }
            })
            .collect();
        // Potential of each candidate: per chunk, then in chunk order.
        let mut pots = vec![0f64; n_trials];
        for part in &parts {
            for (p, q) in pots.iter_mut().zip(&part.pots) {
                *p += q;
            }
        }
        let mut best = 0;
        for (t, &p) in pots.iter().enumerate() {
            if p < pots[best] {
                best = t;
            }
        }
        let col: Vec<f32> = parts
            .iter()
            .flat_map(|p| p.dist.chunks_exact(n_trials).map(move |drow| drow[best]))
            .collect();
        for (cl, &v) in closest.iter_mut().zip(&col) {
            *cl = cl.min(v);
        }
        centres.extend_from_slice(prep.row(ids[best]));
        cols.push(col);
        if last {
            let mut sums = Sums {
                sums: vec![0.0; k * d],
                counts: vec![0; k],
            };
            for part in &parts {
                let block = &part.sums[best * k * d..(best + 1) * k * d];
                for (a, &b) in sums.sums.iter_mut().zip(block) {
                    *a += f64::from(b);
                }
                for (a, &b) in sums.counts.iter_mut().zip(&part.counts[best * k..(best + 1) * k]) {
                    *a += b;
                }
            }
            first_step = Some(sums);
        }
    }
    let first = first_step.map(|sums| (first_assignment(&cols), sums));
    Seeding { centres, first }
}

/// Labels and Elkan bounds from the squared distances to every centre (one column each), as
/// [`assign`] sets them: the first nearest centre, exact bounds.
fn first_assignment(cols: &[Vec<f32>]) -> Points {
    let k = cols.len();
    let n = cols.first().map_or(0, Vec::len);
    let mut labels = vec![0u32; n];
    let mut upper = vec![0f32; n];
    let mut lower = vec![0f32; n * k];
    for i in 0..n {
        let (mut best, mut best_d) = (0usize, f32::INFINITY);
        for (j, col) in cols.iter().enumerate() {
            let dj = col[i];
            lower[i * k + j] = dj.sqrt();
            if dj < best_d {
                best_d = dj;
                best = j;
            }
        }
        labels[i] = best as u32;
        upper[i] = best_d.sqrt();
    }
    Points { labels, upper, lower }
}

/// Per-row state of a Lloyd run: label and Elkan's bounds (plain distances, not squared).
struct Points {
    labels: Vec<u32>,
    /// Upper bound on the distance to the own centre.
    upper: Vec<f32>,
    /// Lower bound on the distance to each centre, n x k.
    lower: Vec<f32>,
}

/// Running cluster sums and counts, kept equal to the sums over the current labels (each
/// chunk adds its rows in f32, the chunks are added in f64).
struct Sums {
    sums: Vec<f64>,
    counts: Vec<i64>,
}

/// Centre geometry of one assignment step.
struct Centres<'a> {
    /// k x d, row-major.
    c: &'a [f32],
    norms: Vec<f32>,
    /// Half the distance between each pair of centres, k x k.
    half: Vec<f32>,
    /// Half the distance from each centre to its nearest other centre.
    half_gap: Vec<f32>,
    /// How far each centre moved since the previous assignment step.
    shift: Vec<f32>,
}

impl<'a> Centres<'a> {
    fn new(c: &'a [f32], d: usize, shift: Vec<f32>) -> Self {
        let k = c.len() / d;
        let row = |j: usize| &c[j * d..(j + 1) * d];
        let norms = (0..k).map(|j| sq_norm(row(j))).collect();
        let mut half = vec![0f32; k * k];
        let mut half_gap = vec![f32::INFINITY; k];
        for a in 0..k {
            for b in (a + 1)..k {
                let h = 0.5 * sq_dist(row(a), row(b)).sqrt();
                half[a * k + b] = h;
                half[b * k + a] = h;
                half_gap[a] = half_gap[a].min(h);
                half_gap[b] = half_gap[b].min(h);
            }
        }
        Centres {
            c,
            norms,
            half,
            half_gap,
            shift,
        }
    }
}

/// What one chunk of an assignment step changed: the number of moved rows and their
/// contribution to the cluster sums and counts.
type ChunkDelta = (usize, Option<(Vec<f32>, Vec<i64>)>);

/// One assignment step: move the bounds by the centre shifts, recompute every row whose
/// bounds cannot prove its label (every row when `full`), and update the sums by the rows
/// that changed cluster. Returns the number of changed labels.
fn assign(prep: &Prepared, cen: &Centres, pts: &mut Points, sums: &mut Sums, full: bool) -> usize {
    let d = prep.d;
    let k = cen.norms.len();
    let deltas: Vec<ChunkDelta> = prep
        .chunks()
        .zip(pts.labels.par_chunks_mut(CHUNK))
        .zip(pts.upper.par_chunks_mut(CHUNK))
        .zip(pts.lower.par_chunks_mut(CHUNK * k))
        .map(|((((c, rows), labels), upper), lower)| {
            let m = labels.len();
            let mut todo = Vec::with_capacity(m);
            for r in 0..m {
                let a = labels[r] as usize;
                if full || a >= k {
                    todo.push(r);
                    continue;
                }
                let u = upper[r] + cen.shift[a];
                upper[r] = u;
                let lr = &mut lower[r * k..(r + 1) * k];
                for (l, &s) in lr.iter_mut().zip(&cen.shift) {
                    *l -= s;
                }
                if u <= cen.half_gap[a] {
                    continue;
                }
                let ha = &cen.half[a * k..(a + 1) * k];
                if (0..k).any(|j| j != a && u > lr[j] && u > ha[j]) {
                    todo.push(r);
                }
            }
            if todo.is_empty() {
                return (0, None);
            }
            // Reading rows out of order costs about twice a sequential read here (DRAM bound):
            // past half the chunk, recompute all its rows in order (their bounds get exact).
            if 2 * todo.len() >= m {
                todo = (0..m).collect();
            }
            let mut g = vec![0f32; todo.len() * k];
            for (q, (&r, grow)) in todo.iter().zip(g.chunks_exact_mut(k)).enumerate() {
                // Rows after a gap are out of the hardware prefetcher's stream: ask for the
                // one two places ahead while this one is computed.
                if let (Some(&a), Some(&b)) = (todo.get(q + 1), todo.get(q + 2)) {
                    if b != a + 1 {
                        prefetch(&rows[b * d..(b + 1) * d]);
                    }
                }
                products(&rows[r * d..(r + 1) * d], cen.c, d, grow);
            }
            let mut changed = 0;
            let mut delta: Option<(Vec<f32>, Vec<i64>)> = None;
            for (&r, grow) in todo.iter().zip(g.chunks_exact(k)) {
                let xn = prep.norms[c * CHUNK + r];
                let lr = &mut lower[r * k..(r + 1) * k];
                let (mut best, mut best_d) = (0usize, f32::INFINITY);
                for (j, (&gv, l)) in grow.iter().zip(lr.iter_mut()).enumerate() {
                    let dj = (xn - 2.0 * gv + cen.norms[j]).max(0.0);
                    *l = dj.sqrt();
                    if dj < best_d {
                        best_d = dj;
                        best = j;
                    }
                }
                upper[r] = best_d.sqrt();
                let old = labels[r] as usize;
                if old != best {
                    changed += 1;
                    let (ds, dc) = delta.get_or_insert_with(|| (vec![0f32; k * d], vec![0i64; k]));
                    let row = &rows[r * d..(r + 1) * d];
                    if old < k {
                        dc[old] -= 1;
                        sub_row(&mut ds[old * d..(old + 1) * d], row);
                    }
                    dc[best] += 1;
                    add_row(&mut ds[best * d..(best + 1) * d], row);
                    labels[r] = best as u32;
                }
            }
            (changed, delta)
        })
        .collect();
    let mut changed = 0;
    for (ch, delta) in deltas {
        changed += ch;
        if let Some((ds, dc)) = delta {
            for (a, &b) in sums.sums.iter_mut().zip(&ds) {
                *a += f64::from(b);
            }
            for (a, b) in sums.counts.iter_mut().zip(&dc) {
                *a += b;
            }
        }
    }
    changed
}

/// Exact squared distance of every row to its own centre (direct differences).
fn own_distances(prep: &Prepared, centres: &[f32], labels: &[u32]) -> Vec<f32> {
    let d = prep.d;
    let blocks: Vec<Vec<f32>> = prep
        .chunks()
        .zip(labels.par_chunks(CHUNK))
        .map(|((_, rows), lab)| {
            rows.chunks_exact(d)
                .zip(lab)
                .map(|(row, &j)| {
                    let j = j as usize;
                    sq_dist(row, &centres[j * d..(j + 1) * d])
                })
                .collect()
        })
        .collect();
    blocks.concat()
}

/// Give each empty cluster the row farthest from its centre (scikit-learn's
/// `_relocate_empty_clusters`, which breaks ties by position); returns whether any moved.
fn relocate_empty(prep: &Prepared, centres: &[f32], pts: &mut Points, sums: &mut Sums) -> bool {
    let d = prep.d;
    let empty: Vec<usize> = (0..sums.counts.len()).filter(|&j| sums.counts[j] <= 0).collect();
    if empty.is_empty() {
        return false;
    }
    let dist = own_distances(prep, centres, &pts.labels);
    let mut order: Vec<usize> = (0..dist.len()).collect();
    order.sort_by(|&a, &b| dist[b].total_cmp(&dist[a]).then(a.cmp(&b)));
    for (&j, &far) in empty.iter().zip(&order) {
        let old = pts.labels[far] as usize;
        let row = prep.row(far);
        for (s, &v) in sums.sums[old * d..(old + 1) * d].iter_mut().zip(row) {
            *s -= f64::from(v);
        }
        sums.counts[old] -= 1;
        for (s, &v) in sums.sums[j * d..(j + 1) * d].iter_mut().zip(row) {
            *s = f64::from(v);
        }
        sums.counts[j] = 1;
        pts.labels[far] = j as u32;
    }
    true
}

/// New centres from the sums (a cluster that is still empty keeps its centre), the shift of
/// each centre and the squared Frobenius norm of the whole shift.
fn update_centres(old: &[f32], sums: &Sums, d: usize) -> (Vec<f32>, Vec<f32>, f64) {
    let k = sums.counts.len();
    let mut new = old.to_vec();
    let mut shift = vec![0f32; k];
    let mut total = 0f64;
    for (j, (&cnt, sh)) in sums.counts.iter().zip(shift.iter_mut()).enumerate() {
        if cnt <= 0 {
            continue;
        }
        let inv = 1.0 / cnt as f64;
        let mut sq = 0f64;
        let range = j * d..(j + 1) * d;
        for ((c, &s), &o) in new[range.clone()].iter_mut().zip(&sums.sums[range.clone()]).zip(&old[range]) {
            *c = (s * inv) as f32;
            let t = f64::from(*c) - f64::from(o);
            sq += t * t;
        }
        *sh = sq.sqrt() as f32;
        total += sq;
    }
    (new, shift, total)
}

/// Inertia from the cluster sums, without a pass over the data:
/// `sum_i ||x_i||^2 - 2 sum_j c_j . S_j + sum_j n_j ||c_j||^2`, in f64. The row norms are f32
/// sums of data that are centred (or were centred here), so the relative error stays near
/// 1e-7 (checked against direct differences in the tests).
fn inertia_from_sums(prep: &Prepared, centres: &[f32], sums: &Sums) -> f64 {
    let d = prep.d;
    let norms: f64 = prep.norms.iter().map(|&v| f64::from(v)).sum();
    let mut cross = 0f64;
    let mut own = 0f64;
    for (j, &cnt) in sums.counts.iter().enumerate() {
        let c = &centres[j * d..(j + 1) * d];
        let s = &sums.sums[j * d..(j + 1) * d];
        cross += c.iter().zip(s).map(|(&a, &b)| f64::from(a) * b).sum::<f64>();
        own += cnt as f64 * c.iter().map(|&a| f64::from(a) * f64::from(a)).sum::<f64>();
    }
    (norms - 2.0 * cross + own).max(0.0)
}

/// One k-means++ seeding followed by Lloyd iterations.
fn single_run(prep: &Prepared, params: &KMeansParams, rng: &mut ChaCha8Rng, first: usize, closest: Vec<f32>) -> Clustering {
    let (n, d, k) = (prep.n, prep.d, params.k);
    let seeding = plusplus(prep, k, rng, first, closest);
    let mut centres = seeding.centres;
    let (mut pts, mut sums, mut changed) = match seeding.first {
        Some((pts, sums)) => (pts, sums, n),
        None => {
            let mut pts = Points {
                labels: vec![u32::MAX; n],
                upper: vec![f32::INFINITY; n],
                lower: vec![0.0; n * k],
            };
            let mut sums = Sums {
                sums: vec![0.0; k * d],
                counts: vec![0; k],
            };
            let cen = Centres::new(&centres, d, vec![0.0; k]);
            let changed = assign(prep, &cen, &mut pts, &mut sums, true);
            (pts, sums, changed)
        }
    };
    let mut n_iter = 0;
    // Set when the loop stops on the tolerance: the centres then moved after the last
    // assignment, and one more assignment step (without a centre update) realigns the labels.
    let mut pending: Option<(Vec<f32>, bool)> = None;
    for it in 0..params.max_iter {
        n_iter = it + 1;
        let relocated = relocate_empty(prep, &centres, &mut pts, &mut sums);
        let (new, shift, total) = update_centres(&centres, &sums, d);
        centres = new;
        if it > 0 && changed == 0 && !relocated {
            break;
        }
        if total <= prep.tol {
            pending = Some((shift, relocated));
            break;
        }
        changed = assign(prep, &Centres::new(&centres, d, shift), &mut pts, &mut sums, relocated);
    }
    if let Some((shift, relocated)) = pending {
        assign(prep, &Centres::new(&centres, d, shift), &mut pts, &mut sums, relocated);
    }
    let inertia = inertia_from_sums(prep, &centres, &sums);
    Clustering {
        labels: pts.labels,
        centroids: Array2::from_shape_fn((k, d), |(j, f)| centres[j * d + f]),
        inertia,
        n_iter,
    }
}
