//! ARCC, as pytorch-grad-cam's `ARCC`: one number from three properties of a map, their harmonic
//! mean `3 / (1 / coherency + 1 / (1 - complexity) + 1 / road)` (each term guarded by 1e-8;
//! higher is better). Complexity is the map's mean absolute value (pytorch-grad-cam's
//! `Complexity`, for maps in [0, 1]); coherency is `coherency`; road is `road`'s combined score at
//! the 20th, 40th, 60th and 80th percentiles, doubled and clipped to [0, 1].

use super::coherency::coherency;
use super::road::{Road, ROAD_PARAMS};
use nas_core::{Context, Explainer, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// pytorch-grad-cam's guard on each term of the harmonic mean.
const TERM_EPS: f64 = 1e-8;

/// ARCC's percentiles for its ROAD part.
const ARCC_PERCENTILES: [f64; 4] = [20.0, 40.0, 60.0, 80.0];

/// Parameters of `arcc`: those of `road` but `order` (always combined), with ARCC's percentiles.
pub const ARCC_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "percentiles",
        kind: ParamKind::FloatList,
        default: "[20, 40, 60, 80]",
        doc: "percentiles of the ROAD part (pytorch-grad-cam's road_percentiles)",
    },
    // `road`'s noise, seed, scores and batch.
    ROAD_PARAMS[2],
    ROAD_PARAMS[3],
    ROAD_PARAMS[4],
    ROAD_PARAMS[5],
];

/// The `arcc` metric.
pub struct Arcc {
    road: Road,
}

/// pytorch-grad-cam's `Complexity`: the mean absolute value of the map.
pub fn mean_magnitude(input: &MetricInput<'_>) -> f64 {
    let n = input.saliency.len().max(1) as f64;
    input.saliency.iter().map(|&v| f64::from(v).abs()).sum::<f64>() / n
}

impl Metric for Arcc {
    fn score(&self, _input: &MetricInput<'_>) -> Result<Score> {
        Err(super::remaking::needs_pipeline("arcc remakes the map for the masked photo", false))
    }

    fn score_explained(&self, input: &MetricInput<'_>, explain: &Explainer<'_>) -> Result<Score> {
        let complexity = mean_magnitude(input);
        let coherency = coherency(input, explain)?;
        let road = (2.0 * self.road.score(input)?.value).clamp(0.0, 1.0);
        let inverse = |v: f64| 1.0 / (v + TERM_EPS);
        let value = 3.0 / (inverse(coherency) + inverse(1.0 - complexity) + inverse(road));
        Ok(Score {
            value,
            // The three parts, for the report's table.
            curve: vec![(0.0, complexity), (1.0, coherency), (2.0, road)],
        })
    }

    fn plots_curve(&self) -> bool {
        false
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    if params.string("order")?.is_some() {
        return Err(NasError::InvalidInput(
            "arcc: its ROAD part is always combined; `order` is not a parameter".into(),
        ));
    }
    Ok(Box::new(Arcc {
        road: Road::from_params(params, &ARCC_PERCENTILES)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "arcc",
        summary: "pytorch-grad-cam's ARCC: harmonic mean of coherency, 1 - complexity and ROAD (percentiles 20..80), higher is better",
        params: ARCC_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
