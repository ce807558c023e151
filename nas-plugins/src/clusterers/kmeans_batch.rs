//! k-means on the tensor device, all images of a batch at once.
//!
//! The same algorithm as the host version in `kmeans.rs` (greedy k-means++, Lloyd iterations,
//! the same stopping rule and empty-cluster rule, the same random draws), but distances, centre
//! updates and assignments are batched tensor operations on [`UpsampledBatch`]. Only the random
//! draws of k-means++ and a few numbers per image and iteration come back to the host.

use super::kmeans::{candidates_per_centre, draw_candidates, draw_first, run_rng};
use nas_core::burn::tensor::{Bool, Int, Tensor, TensorData};
use nas_core::upsampled_batch::{to_host, to_host_int, UpsampledBatch};
use nas_core::{Backend, NasTensor, Result};
use rand_chacha::ChaCha8Rng;

/// Squared distances of every pixel to every centre: `(batch, k, pixels)`, clamped at 0.
fn distances(features: &UpsampledBatch, norms: &NasTensor<2>, centres: &NasTensor<3>) -> NasTensor<3> {
    let centre_norms = centres.clone().square().sum_dim(2);
    (norms.clone().unsqueeze_dim::<3>(1) - features.dot(centres) * 2.0 + centre_norms).clamp_min(0.0)
}

/// A `(batch, 1, 1)` boolean tensor from one flag per image.
fn image_mask(flags: &[bool], features: &UpsampledBatch) -> Tensor<Backend, 3, Bool> {
    Tensor::<Backend, 1, Bool>::from_data(TensorData::from(flags), features.device()).reshape([flags.len(), 1, 1])
}

/// Pads each image's pixel list to `width` entries by repeating its last one, so that every
/// gather and distance computation has one shape (a GPU compiles and tunes each shape once).
fn padded(mut chosen: Vec<Vec<usize>>, width: usize) -> Vec<Vec<usize>> {
    for c in &mut chosen {
        let last = c.last().copied().unwrap_or(0);
        c.resize(width, last);
    }
    chosen
}

/// Greedy k-means++ for every image; `(batch, k, dims)` centres.
fn kmeans_plus_plus(features: &UpsampledBatch, norms: &NasTensor<2>, k: usize, rngs: &mut [ChaCha8Rng]) -> Result<NasTensor<3>> {
    let (b, n) = (features.batch(), features.pixels());
    let trials = candidates_per_centre(k);
    let width = k.max(trials);
    let first: Vec<Vec<usize>> = rngs.iter_mut().map(|rng| vec![draw_first(n, rng)]).collect();
    let first = features.gather(&padded(first, width));
    let mut closest = distances(features, norms, &first).slice([0..b, 0..1, 0..n]);
    let mut centres = vec![first.slice([0..b, 0..1, 0..features.dims()])];
    for _ in 1..k {
        let host = to_host(closest.clone())?;
        let chosen: Vec<Vec<usize>> = rngs
            .iter_mut()
            .enumerate()
            .map(|(i, rng)| draw_candidates(&host[i * n..(i + 1) * n], trials, rng))
            .collect();
        let candidates = features.gather(&padded(chosen, width));
        let d = distances(features, norms, &candidates);
        let potentials = to_host(d.clone().min_pair(closest.clone().expand([b, width, n])).sum_dim(2))?;
        let best: Vec<i64> = potentials
            .chunks(width)
            .map(|p| (0..trials).fold(0, |best, t| if p[t] < p[best] { t } else { best }) as i64)
            .collect();
        let index = Tensor::<Backend, 1, Int>::from_data(TensorData::new(best, [b]), features.device()).reshape([b, 1, 1]);
        closest = closest.min_pair(d.gather(1, index.clone().expand([b, 1, n])));
        centres.push(candidates.gather(1, index.expand([b, 1, features.dims()])));
    }
    Ok(Tensor::cat(centres, 1))
}

/// Labels `(batch, 1, pixels)` and squared distances to the closest centre.
fn assign(features: &UpsampledBatch, norms: &NasTensor<2>, centres: &NasTensor<3>) -> (NasTensor<3>, Tensor<Backend, 3, Int>) {
    distances(features, norms, centres).min_dim_with_indices(1)
}

/// Re-seeds empty clusters of active images at the pixels farthest from their centres, in
/// cluster order, as the host version does.
fn reseed_empty(
    features: &UpsampledBatch,
    centres: NasTensor<3>,
    counts: &[f32],
    dist: &NasTensor<3>,
    active: &[bool],
    k: usize,
) -> Result<NasTensor<3>> {
    let empty: Vec<(usize, usize)> = (0..features.batch())
        .flat_map(|i| (0..k).map(move |c| (i, c)))
        .filter(|&(i, c)| active[i] && counts[i * k + c] == 0.0)
        .collect();
    if empty.is_empty() {
        return Ok(centres);
    }
    let n = features.pixels();
    let mut host = to_host(dist.clone())?;
    let mut centres = centres;
    for (i, c) in empty {
        let row = &mut host[i * n..(i + 1) * n];
        let far = (0..n).max_by(|&a, &b| row[a].total_cmp(&row[b]).then(b.cmp(&a))).unwrap_or(0);
        row[far] = 0.0;
        let mut chosen = vec![vec![0; k]; features.batch()];
        chosen[i] = vec![far; k];
        let pixel = features.gather(&chosen);
        let mut flags = vec![false; features.batch() * k];
        flags[i * k + c] = true;
        let mask = Tensor::<Backend, 1, Bool>::from_data(TensorData::from(flags.as_slice()), features.device())
            .reshape([features.batch(), k, 1])
            .expand(centres.dims());
        centres = centres.mask_where(mask, pixel);
    }
    Ok(centres)
}

/// One k-means run for every image: labels and inertia per image.
fn run_once(
    features: &UpsampledBatch,
    norms: &NasTensor<2>,
    k: usize,
    rngs: &mut [ChaCha8Rng],
    max_iter: usize,
    tol: &[f64],
) -> Result<(Vec<Vec<u32>>, Vec<f64>)> {
    let (b, n) = (features.batch(), features.pixels());
    let clusters = Tensor::<Backend, 1, Int>::arange(0..k as i64, features.device()).reshape([1, k, 1]);
    let mut centres = kmeans_plus_plus(features, norms, k, rngs)?;
    let (mut dist, mut labels) = assign(features, norms, &centres);
    let mut active = vec![true; b];
    for _ in 0..max_iter {
        let members = labels.clone().expand([b, k, n]).equal(clusters.clone().expand([b, k, n])).float();
        let counts = members.clone().sum_dim(2);
        let mut updated = features.weighted_sums(&members) / counts.clone().clamp_min(1.0);
        // One read-back per iteration: cluster sizes, centre shift and changed labels together.
        let step = |updated: &NasTensor<3>| {
            let shift = (updated.clone() - centres.clone()).square().sum_dim(2).sum_dim(1);
            let (new_dist, new_labels) = assign(features, norms, updated);
            let changed = new_labels.clone().not_equal(labels.clone()).int().sum_dim(2).float();
            (shift, changed, new_dist, new_labels)
        };
        let (mut shift, mut changed, mut new_dist, mut new_labels) = step(&updated);
        let mut progress = to_host(Tensor::cat(vec![counts.reshape([b, k, 1]), shift.clone(), changed.clone()], 1))?;
        let sizes: Vec<f32> = progress.chunks(k + 2).flat_map(|p| p[..k].to_vec()).collect();
        if (0..b).any(|i| active[i] && sizes[i * k..(i + 1) * k].contains(&0.0)) {
            updated = reseed_empty(features, updated, &sizes, &dist, &active, k)?;
            (shift, changed, new_dist, new_labels) = step(&updated);
            progress = to_host(Tensor::cat(
                vec![NasTensor::<3>::zeros([b, k, 1], features.device()), shift, changed],
                1,
            ))?;
        }
        let mask = image_mask(&active, features);
        centres = centres.mask_where(mask.clone().expand([b, k, features.dims()]), updated);
        labels = labels.mask_where(mask.clone().expand([b, 1, n]), new_labels);
        dist = dist.mask_where(mask.expand([b, 1, n]), new_dist);
        for (i, flag) in active.iter_mut().enumerate() {
            let (shift, changed) = (f64::from(progress[i * (k + 2) + k]), progress[i * (k + 2) + k + 1]);
            if *flag && (changed == 0.0 || shift <= tol[i]) {
                *flag = false;
            }
        }
        if !active.iter().any(|a| *a) {
            break;
        }
    }
    let inertia = to_host(dist.sum_dim(2))?.into_iter().map(f64::from).collect();
    let flat = to_host_int(labels)?;
    let labels = flat.chunks(n).map(|c| c.iter().map(|l| *l as u32).collect()).collect();
    Ok((labels, inertia))
}

/// k-means for every image of `features`: best of `n_init` runs per image, as the host version.
pub fn cluster_batch(features: &UpsampledBatch, k: usize, seed: u64, n_init: usize, max_iter: usize, tol: f32) -> Result<Vec<Vec<u32>>> {
    nas_core::component::check_k(k, features.pixels())?;
    let norms = features.squared_norms();
    let tol: Vec<f64> = features.mean_variance().iter().map(|v| f64::from(tol) * v).collect();
    let mut best: Vec<Option<(Vec<u32>, f64)>> = vec![None; features.batch()];
    for run in 0..n_init {
        let mut rngs: Vec<ChaCha8Rng> = (0..features.batch()).map(|_| run_rng(seed, run)).collect();
        let (labels, inertia) = run_once(features, &norms, k, &mut rngs, max_iter, &tol)?;
        for ((slot, l), i) in best.iter_mut().zip(labels).zip(inertia) {
            if slot.as_ref().is_none_or(|(_, b)| i < *b) {
                *slot = Some((l, i));
            }
        }
    }
    Ok(best.into_iter().map(|s| s.map(|(l, _)| l).unwrap_or_default()).collect())
}
