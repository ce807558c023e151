//! Quantus's preparation of a map before it is compared with another: its absolute values if
//! asked (`abs`), divided by its largest magnitude if asked (`normalise`, Quantus's
//! `normalise_by_max`; a map of zeros stays as it is).

use nas_core::ndarray::Array2;
use nas_core::{ParamKind, ParamSpec};

/// The `normalise` parameter of the metrics that prepare maps this way, its default as TOML.
pub const fn normalise_param(default: &'static str) -> ParamSpec {
    ParamSpec {
        name: "normalise",
        kind: ParamKind::Bool,
        default,
        doc: "divide both maps by their largest magnitude first (Quantus's normalise)",
    }
}

/// The `abs` parameter of the metrics that prepare maps this way, its default as TOML.
pub const fn abs_param(default: &'static str) -> ParamSpec {
    ParamSpec {
        name: "abs",
        kind: ParamKind::Bool,
        default,
        doc: "compare absolute values (Quantus's abs)",
    }
}

/// The map's values, row-major, prepared as Quantus prepares them.
pub fn prepared(map: &Array2<f32>, normalise: bool, absolute: bool) -> Vec<f64> {
    let values: Vec<f64> = map.iter().map(|&v| f64::from(if absolute { v.abs() } else { v })).collect();
    let largest = values.iter().fold(0f64, |m, v| m.max(v.abs()));
    if normalise && largest > 0.0 {
        values.into_iter().map(|v| v / largest).collect()
    } else {
        values
    }
}

/// [`prepared`] as float32, the precision Quantus compares maps in (its `ssim`).
pub fn prepared_f32(map: &Array2<f32>, normalise: bool, absolute: bool) -> Vec<f32> {
    prepared(map, normalise, absolute).into_iter().map(|v| v as f32).collect()
}
