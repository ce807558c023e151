//! `cluster-saliency`: how much saliency a method gives each cluster of a class-wise clustering
//! (the paper's Table 1, Section 4.2.3). Each superpixelified map (one value per superpixel) is
//! min-max normalised to [0, 1]; over a dataset, a cluster's saliency is the mean over all the
//! superpixels of that cluster in all photos. With NAS superpixels from the `knn` clusterer a
//! cluster id means the same concept in every photo, so the figures compare across photos.

use nas_core::component::Statistic;
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// The `cluster-saliency` metric.
pub struct ClusterSaliency {
    focus: Option<u32>,
    normalise: bool,
}

/// Parameters of `cluster-saliency`.
pub const CLUSTER_SALIENCY_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "focus",
        kind: ParamKind::Int,
        default: "",
        doc: "a cluster of interest (the paper's Cluster 8): its saliency and that of all the other clusters are reported",
    },
    ParamSpec {
        name: "normalise",
        kind: ParamKind::Bool,
        default: "true",
        doc: "min-max normalise each superpixelified map to [0, 1]",
    },
];

impl Metric for ClusterSaliency {
    /// The photo's most salient cluster; the curve lists every superpixel as
    /// `(cluster, mean saliency)`.
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let seg = input
            .segmentation
            .ok_or_else(|| NasError::InvalidInput("cluster-saliency needs a segmentation".into()))?;
        if seg.labels.dim() != input.saliency.dim() {
            return Err(NasError::InvalidInput(format!(
                "cluster-saliency: segmentation is {:?} but the saliency map is {:?}",
                seg.labels.dim(),
                input.saliency.dim()
            )));
        }
        let low = input.saliency.iter().copied().fold(f32::INFINITY, f32::min);
        let high = input.saliency.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let scale = |v: f32| -> f64 {
            match self.normalise {
                true if high > low => f64::from((v - low) / (high - low)),
                true => 0.0,
                false => f64::from(v),
            }
        };
        let mut sums = vec![0f64; seg.count()];
        for (&s, &v) in seg.labels.iter().zip(input.saliency.iter()) {
            sums[s as usize] += scale(v);
        }
        let curve: Vec<(f64, f64)> = sums
            .iter()
            .zip(seg.sizes())
            .zip(&seg.cluster_of)
            .filter(|((_, size), _)| *size > 0)
            .map(|((sum, size), &cluster)| (f64::from(cluster), sum / size as f64))
            .collect();
        let means = cluster_means(curve.iter());
        let most = means.iter().fold(
            (f64::NAN, f64::NEG_INFINITY),
            |best, &(c, m)| if m > best.1 { (c, m) } else { best },
        );
        Ok(Score { value: most.0, curve })
    }

    fn needs_segmentation(&self) -> bool {
        true
    }

    /// The curve lists superpixels, not a function to draw.
    fn plots_curve(&self) -> bool {
        false
    }

    /// Each cluster's mean saliency over all its superpixels, the most salient cluster, and,
    /// with `focus`, the focus cluster's saliency beside that of all the others.
    fn summarise(&self, scores: &[&Score]) -> Result<Vec<Statistic>> {
        let points = || scores.iter().flat_map(|s| s.curve.iter());
        let means = cluster_means(points());
        let mut stats = Vec::new();
        if let Some(&(most, _)) = means.iter().max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.total_cmp(&a.0))) {
            stats.push(Statistic {
                name: "most salient cluster".into(),
                value: most,
            });
        }
        if let Some(focus) = self.focus {
            let (inside, outside): (Vec<_>, Vec<_>) = points().partition(|(c, _)| *c == f64::from(focus));
            // NaN when no superpixel of that side exists: an absent cluster has no saliency.
            let mean = |v: &[&(f64, f64)]| {
                if v.is_empty() {
                    f64::NAN
                } else {
                    v.iter().map(|p| p.1).sum::<f64>() / v.len() as f64
                }
            };
            stats.push(Statistic {
                name: format!("cluster {focus}"),
                value: mean(&inside),
            });
            stats.push(Statistic {
                name: "other clusters".into(),
                value: mean(&outside),
            });
        }
        stats.extend(means.into_iter().map(|(c, m)| Statistic {
            name: format!("cluster {c} mean"),
            value: m,
        }));
        Ok(stats)
    }
}

/// Mean of the second values per first value (a cluster id), by increasing cluster.
fn cluster_means<'a>(points: impl Iterator<Item = &'a (f64, f64)>) -> Vec<(f64, f64)> {
    let mut sums: std::collections::BTreeMap<u64, (f64, usize)> = std::collections::BTreeMap::new();
    for &(cluster, value) in points {
        let entry = sums.entry(cluster as u64).or_default();
        entry.0 += value;
        entry.1 += 1;
    }
    sums.into_iter().map(|(c, (sum, n))| (c as f64, sum / n as f64)).collect()
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let focus = if params.contains("focus") {
        Some(params.usize("focus", 0, 0, u32::MAX as usize)? as u32)
    } else {
        None
    };
    Ok(Box::new(ClusterSaliency {
        focus,
        normalise: params.bool("normalise", true)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "cluster-saliency",
        summary: "mean saliency of each superpixel cluster (class-wise clusters via the knn clusterer: the paper's Table 1)",
        params: CLUSTER_SALIENCY_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}

#[cfg(test)]
mod tests {
    use super::ClusterSaliency;
    use nas_core::{Metric, Score};

    #[test]
    fn dataset_figures_pool_every_superpixel() -> nas_core::Result<()> {
        let metric = ClusterSaliency {
            focus: Some(8),
            normalise: true,
        };
        let a = Score {
            value: 8.0,
            curve: vec![(8.0, 1.0), (1.0, 0.2), (1.0, 0.4)],
        };
        let b = Score {
            value: 2.0,
            curve: vec![(8.0, 0.1), (2.0, 0.9)],
        };
        let stats = metric.summarise(&[&a, &b])?;
        let get = |name: &str| stats.iter().find(|s| s.name == name).map(|s| s.value);
        assert_eq!(get("most salient cluster"), Some(2.0));
        assert_eq!(get("cluster 8"), Some(0.55));
        assert!((get("other clusters").unwrap_or(0.0) - 0.5).abs() < 1e-12);
        assert!((get("cluster 1 mean").unwrap_or(0.0) - 0.3).abs() < 1e-12);
        Ok(())
    }
}
