//! Quantus's complexity metrics of a map alone: `sparseness` (Chalasani et al. 2020), the Gini
//! index of the absolute attributions (1: all on one pixel, 0: spread evenly; larger is
//! sparser), and `complexity` (Bhatt et al. 2020), the entropy of each pixel's share of the total
//! absolute attribution (smaller is simpler). Both with Quantus's defaults: absolute values,
//! normalised by their maximum (which does not change the Gini index or the shares beyond
//! rounding, but is kept for the same `+ 1e-7` and `1e-12` stabilisers).

use nas_core::ndarray::Array2;
use nas_core::{Context, Metric, MetricInput, ParamSpec, Params, Result, Score};

/// Which of the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Measure {
    Sparseness,
    Complexity,
}

/// The `sparseness` and `complexity` metrics.
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

impl Metric for MapComplexity {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let value = match self.measure {
            Measure::Sparseness => sparseness(input.saliency),
            Measure::Complexity => complexity(input.saliency),
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

/// Neither metric has parameters.
const NO_PARAMS: &[ParamSpec] = &[];

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
