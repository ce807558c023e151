//! Paired comparisons between the maps of a run: for every metric and every two maps scored on
//! the same photos, whether one scores differently from the other across the photos (SciPy's
//! `wilcoxon` and `ttest_rel`, see [`crate::significance`]). A pipeline with more than one map
//! and more than one photo writes them to `comparisons.csv`.

use crate::pipeline::ScoreRow;
use crate::significance::{paired_t, wilcoxon};
use serde::Serialize;
use std::collections::HashMap;

/// Two maps compared on one metric over the photos where both have a defined score.
#[derive(Debug, Clone, Serialize)]
pub struct ComparisonRow {
    /// The metric.
    pub metric: String,
    /// The first map (in the order maps were first scored).
    pub map_a: String,
    /// The second map.
    pub map_b: String,
    /// Photos (with their target) where both scores are defined.
    pub pairs: usize,
    /// Mean of the first map's scores over those photos.
    pub mean_a: f64,
    /// Mean of the second map's scores over those photos.
    pub mean_b: f64,
    /// Wilcoxon's signed-rank statistic of `a - b` (the smaller rank sum).
    pub wilcoxon_statistic: f64,
    /// Its two-sided p-value.
    pub wilcoxon_p: f64,
    /// The paired t statistic of `a - b`.
    pub t_statistic: f64,
    /// Its two-sided p-value.
    pub t_p: f64,
}

/// Every comparison of two maps on one metric with at least two paired photos, metrics and maps
/// in the order they were first scored.
pub fn comparisons(rows: &[&ScoreRow]) -> Vec<ComparisonRow> {
    let mut metrics: Vec<&str> = Vec::new();
    for row in rows {
        if !metrics.contains(&row.metric.as_str()) {
            metrics.push(&row.metric);
        }
    }
    let mut out = Vec::new();
    for metric in metrics {
        let mut maps: Vec<(&str, Vec<&ScoreRow>)> = Vec::new();
        for row in rows.iter().filter(|r| r.metric == metric) {
            match maps.iter_mut().find(|(m, _)| *m == row.map) {
                Some((_, scored)) => scored.push(row),
                None => maps.push((&row.map, vec![row])),
            }
        }
        for (i, (map_a, scored_a)) in maps.iter().enumerate() {
            for (map_b, scored_b) in &maps[i + 1..] {
                let by_photo: HashMap<(&str, usize), f64> = scored_b.iter().map(|r| ((r.image.as_str(), r.target), r.value)).collect();
                let (a, b): (Vec<f64>, Vec<f64>) = scored_a
                    .iter()
                    .filter_map(|r| by_photo.get(&(r.image.as_str(), r.target)).map(|v| (r.value, *v)))
                    .filter(|(x, y)| !x.is_nan() && !y.is_nan())
                    .unzip();
                if a.len() < 2 {
                    continue;
                }
                let (w, t) = (wilcoxon(&a, &b), paired_t(&a, &b));
                let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
                out.push(ComparisonRow {
                    metric: metric.to_string(),
                    map_a: map_a.to_string(),
                    map_b: map_b.to_string(),
                    pairs: a.len(),
                    mean_a: mean(&a),
                    mean_b: mean(&b),
                    wilcoxon_statistic: w.statistic,
                    wilcoxon_p: w.p_value,
                    t_statistic: t.statistic,
                    t_p: t.p_value,
                });
            }
        }
    }
    out
}
