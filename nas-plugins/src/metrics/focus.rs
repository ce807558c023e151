//! `focus` (Arias-Duart et al. 2022, Quantus's `Focus`): the share of a map's positive relevance
//! that lies on the photos of the target class in a mosaic (a `[dataset]` with
//! `mosaics_per_class`, whose boxes are the target class's quadrants): 0.5 for a map that
//! ignores the class, 1 for one that finds both of its photos and nothing else. On other photos
//! with boxes it is the share of positive relevance inside the boxes. As Quantus with its
//! defaults: the map is divided by its largest magnitude, negative values are dropped, and the
//! share is `inside / (total + 1e-9)`.

use super::normalisation::prepared;
use super::relevance::box_mask;
use nas_core::ndarray::Array2;
use nas_core::{BoundingBox, Context, Metric, MetricInput, NasError, ParamSpec, Params, Result, Score};

/// Focus of `map` with the target class at `boxes`.
pub fn focus_share(map: &Array2<f32>, boxes: &[BoundingBox]) -> f64 {
    let (height, width) = map.dim();
    let mask = box_mask(boxes, height, width);
    let positive: Vec<f64> = prepared(map, true, false).into_iter().map(|v| v.max(0.0)).collect();
    let total: f64 = positive.iter().sum();
    let inside: f64 = positive.iter().zip(&mask).filter(|(_, &m)| m).map(|(v, _)| v).sum();
    inside / (total + 1e-9)
}

/// The `focus` metric.
pub struct Focus;

impl Metric for Focus {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        if input.annotation.boxes.is_empty() {
            return Err(NasError::InvalidInput(
                "focus needs the target class's quadrants: read the photos from a [dataset] with `mosaics_per_class` (or from one with boxes)".into(),
            ));
        }
        Ok(Score {
            value: focus_share(input.saliency, &input.annotation.boxes),
            curve: Vec::new(),
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    params.finish(&[])?;
    Ok(Box::new(Focus))
}

/// `focus` has no parameters.
const NO_PARAMS: &[ParamSpec] = &[];

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "focus",
        summary: "Quantus's Focus: share of the map's positive relevance on the target class's photos of a mosaic ([dataset] mosaics_per_class)",
        params: NO_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
