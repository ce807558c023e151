//! The pointing game (Zhang et al. 2016, with TorchRay's `PointingGame` rule for one photo): a
//! hit when the map's maximum (the first in raster order among equals; NaN values are never
//! the maximum) lies within `tolerance` pixels (Euclidean, strictly closer) of a ground-truth
//! box's pixels. Over a dataset, the hit rate over all photos (TorchRay's benchmark averages
//! per class instead).

use nas_core::component::Statistic;
use nas_core::{Context, Metric, MetricInput, ParamKind, ParamSpec, Params, Result, Score};

/// The `pointing-game` metric.
pub struct PointingGame {
    tolerance: f64,
}

/// Parameters of `pointing-game`.
pub const POINTING_GAME_PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "tolerance",
    kind: ParamKind::Float,
    default: "15",
    doc: "pixels around the maximum that may touch a box (TorchRay: 15)",
}];

impl Metric for PointingGame {
    /// 1 for a hit, 0 for a miss; the curve holds the maximum's `(x, y)`.
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let Some(boxes) = super::ground_truth::boxes(input.annotation)? else {
            return Ok(Score {
                value: 0.0,
                curve: Vec::new(),
            });
        };
        let (height, width) = input.saliency.dim();
        if height == 0 || width == 0 {
            return Err(nas_core::NasError::InvalidInput("pointing-game: the map is empty".into()));
        }
        let (mut at, mut peak) = (0usize, f32::NEG_INFINITY);
        for (i, &v) in input.saliency.iter().enumerate() {
            if v > peak {
                (at, peak) = (i, v);
            }
        }
        let (x, y) = ((at % width) as f64, (at / width) as f64);
        // The nearest pixel of a box, whose corners are pixel indices (inclusive).
        let hit = boxes.iter().any(|b| {
            let (x0, y0, x1, y1) = (b.x0.floor(), b.y0.floor(), b.x1.floor(), b.y1.floor());
            let dx = (x0 - x).max(0.0).max(x - x1);
            let dy = (y0 - y).max(0.0).max(y - y1);
            dx * dx + dy * dy < self.tolerance * self.tolerance
        });
        Ok(Score {
            value: f64::from(u8::from(hit)),
            curve: vec![(x, y)],
        })
    }

    fn plots_curve(&self) -> bool {
        false
    }

    /// The share of hits over all photos, in percent.
    fn summarise(&self, scores: &[&Score]) -> Result<Vec<Statistic>> {
        let hits = scores.iter().filter(|s| s.value > 0.5).count();
        Ok(vec![Statistic {
            name: "hit rate".into(),
            value: hits as f64 * 100.0 / scores.len().max(1) as f64,
        }])
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(PointingGame {
        tolerance: params.float("tolerance", 15.0, 0.0, 1e6)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "pointing-game",
        summary: "pointing game: is the map's maximum within 15 pixels of a ground-truth box (needs boxes)",
        params: POINTING_GAME_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
