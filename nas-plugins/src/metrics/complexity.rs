//! Quantus's complexity metrics of a map alone: `sparseness` (Chalasani et al. 2020), the Gini
//! index of the absolute attributions (1: all on one pixel, 0: spread evenly; larger is
//! sparser), and `complexity` (Bhatt et al. 2020), the entropy of each pixel's share of the total
//! absolute attribution (smaller is simpler), and `effective-complexity` (Nguyen and Martínez
//! 2020), how many pixels carry more than `eps` of the largest magnitude (smaller is simpler).
//! All with Quantus's defaults: absolute values, normalised by their maximum (which does not
//! change the Gini index or the shares beyond rounding, but is kept for the same `+ 1e-7` and
//! `1e-12` stabilisers).

use nas_core::ndarray::Array2;
use nas_core::{Context, Metric, MetricInput, ParamKind, ParamSpec, Params, Result, Score};

/// Which of the three.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Measure {
    Sparseness,
    Complexity,
    /// With its threshold.
    EffectiveComplexity(f64),
}

/// The `sparseness`, `complexity` and `effective-complexity` metrics.
pub struct MapComplexity {
    measure: Measure,
}

/// Absolute values divided by their maximum (Quantus's `normalise_by_max`; all zeros stay so).
fn normalised_magnitudes(map: &Array2<f32>) -> Vec<f64> {
    let magnitudes: Vec<f64> = map.iter().map(|&v| f64::from(v).abs()).collect();
    let peak = magnitudes.iter().copied().fold(0.0, f64::max);
    if peak == 0.0 {
        magnitudes
    } else {
        magnitudes.into_iter().map(|v| v / peak).collect()
    }
}

/// Quantus's Sparseness of one map.
pub fn sparseness(map: &Array2<f32>) -> f64 {
    let mut a: Vec<f64> = normalised_magnitudes(map).into_iter().map(|v| v + 1e-7).collect();
    a.sort_by(f64::total_cmp);
    let n = a.len() as f64;
    let weighted: f64 = a.iter().enumerate().map(|(i, v)| (2.0 * (i as f64 + 1.0) - n - 1.0) * v).sum();
    weighted / (n * a.iter().sum::<f64>())
}

/// Quantus's Complexity of one map.
pub fn complexity(map: &Array2<f32>) -> f64 {
    let a = normalised_magnitudes(map);
    let total: f64 = a.iter().sum();
    -a.iter().map(|v| v / total).map(|p| p * (p + 1e-12).ln()).sum::<f64>()
}

/// Quantus's EffectiveComplexity of one map: the number of pixels whose magnitude, divided by the
/// largest, exceeds `eps`.
pub fn effective_complexity(map: &Array2<f32>, eps: f64) -> f64 {
    normalised_magnitudes(map).into_iter().filter(|&v| v > eps).count() as f64
}

/// Quantus's `discrete_entropy`, the complexity EfficientMPRT compares: the entropy (natural
/// logarithm) of the histogram of the map's values in `bins` equal bins over their range, binned
/// as NumPy's `histogram` bins float32 values (edges computed in float32; a constant map's range
/// widened by 0.5 on both sides).
pub fn discrete_entropy(map: &Array2<f32>, bins: usize) -> f64 {
    let bins = bins.max(1);
    let (mut low, mut high) = map
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    if low == high {
        (low, high) = (low - 0.5, high + 0.5);
    }
    // np.linspace in the values' float32, as NumPy computes the edges of float32 data.
    let step = (high - low) / bins as f32;
    let inner_edges: Vec<f32> = (1..bins).map(|i| i as f32 * step + low).collect();
    let mut counts = vec![0usize; bins];
    for &v in map {
        counts[inner_edges.partition_point(|&edge| edge <= v)] += 1;
    }
    let total = map.len().max(1) as f64;
    -counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / total)
        .map(|p| p * p.ln())
        .sum::<f64>()
}

impl Metric for MapComplexity {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let value = match self.measure {
            Measure::Sparseness => sparseness(input.saliency),
            Measure::Complexity => complexity(input.saliency),
            Measure::EffectiveComplexity(eps) => effective_complexity(input.saliency, eps),
        };
        Ok(Score { value, curve: Vec::new() })
    }
}

fn build_sparseness(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    params.finish(&[])?;
    Ok(Box::new(MapComplexity {
        measure: Measure::Sparseness,
    }))
}

fn build_complexity(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    params.finish(&[])?;
    Ok(Box::new(MapComplexity {
        measure: Measure::Complexity,
    }))
}

fn build_effective_complexity(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(MapComplexity {
        measure: Measure::EffectiveComplexity(params.float("eps", 1e-5, 0.0, 1.0)?),
    }))
}

/// `sparseness` and `complexity` have no parameters.
const NO_PARAMS: &[ParamSpec] = &[];

/// Parameters of `effective-complexity`.
const EFFECTIVE_COMPLEXITY_PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "eps",
    kind: ParamKind::Float,
    default: "1e-5",
    doc: "share of the largest magnitude a pixel must exceed to count (Quantus's eps)",
}];

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "sparseness",
        summary: "Quantus's Sparseness: Gini index of the absolute map (larger: sparser)",
        params: NO_PARAMS,
        factory: nas_core::Factory::Metric(build_sparseness),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "complexity",
        summary: "Quantus's Complexity: entropy of each pixel's share of the absolute map (smaller: simpler)",
        params: NO_PARAMS,
        factory: nas_core::Factory::Metric(build_complexity),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "effective-complexity",
        summary: "Quantus's EffectiveComplexity: pixels above eps of the largest absolute value (smaller: simpler)",
        params: EFFECTIVE_COMPLEXITY_PARAMS,
        factory: nas_core::Factory::Metric(build_effective_complexity),
    }
}
