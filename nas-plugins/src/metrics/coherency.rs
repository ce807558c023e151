//! Coherency (Poppi et al. 2021), as pytorch-grad-cam's `Coherency`: the map is made again for
//! the photo multiplied by the map itself, and the score is `(r + 1) / 2` of the Pearson
//! correlation `r` of the two maps (1: the map explains the masked photo as it explained the
//! photo; higher is better). pytorch-grad-cam's correlation adds 1e-8 to the product of the
//! standard deviations, so a constant map scores 0.5 rather than NaN; so does nas's.

use super::confidence_change::masked;
use nas_core::{Context, Explainer, Metric, MetricInput, NasError, ParamSpec, Params, Result, Score};

/// The `coherency` metric.
pub struct Coherency;

/// pytorch-grad-cam's `batch_pearson_coherency` guard.
const CORRELATION_EPS: f64 = 1e-8;

/// pytorch-grad-cam's `batch_pearson_coherency` of two maps (sample moments, `1e-8` added to the
/// product of the standard deviations).
pub fn coherency_correlation(a: &[f32], b: &[f32]) -> f64 {
    let n = a.len().min(b.len());
    if n < 2 {
        return f64::NAN;
    }
    let mean = |v: &[f32]| v[..n].iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64;
    let (mean_a, mean_b) = (mean(a), mean(b));
    let (mut cov, mut var_a, mut var_b) = (0.0, 0.0, 0.0);
    for (&x, &y) in a[..n].iter().zip(&b[..n]) {
        let (dx, dy) = (f64::from(x) - mean_a, f64::from(y) - mean_b);
        cov += dx * dy;
        var_a += dx * dx;
        var_b += dy * dy;
    }
    let m = (n - 1) as f64;
    (cov / m) / ((var_a / m).sqrt() * (var_b / m).sqrt() + CORRELATION_EPS)
}

/// The coherency of the photo's map: `(r + 1) / 2` of its correlation with the map remade for the
/// photo times the map.
pub fn coherency(input: &MetricInput<'_>, explain: &Explainer<'_>) -> Result<f64> {
    let (h, w) = input.single_image("coherency")?;
    let remade = super::remaking::remade_maps("coherency", explain, &masked(input.input, input.saliency), input.target)?;
    let again = remade
        .first()
        .ok_or_else(|| NasError::InvalidInput(format!("coherency: no {h}x{w} map came back for the masked photo")))?;
    let (a, b): (Vec<f32>, Vec<f32>) = (again.iter().copied().collect(), input.saliency.iter().copied().collect());
    Ok((coherency_correlation(&a, &b) + 1.0) / 2.0)
}

impl Metric for Coherency {
    fn score(&self, _input: &MetricInput<'_>) -> Result<Score> {
        Err(super::remaking::needs_pipeline(
            "coherency remakes the map for the masked photo",
            false,
        ))
    }

    fn score_explained(&self, input: &MetricInput<'_>, explain: &Explainer<'_>) -> Result<Score> {
        Ok(Score {
            value: coherency(input, explain)?,
            curve: Vec::new(),
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    params.finish(&[])?;
    Ok(Box::new(Coherency))
}

/// `coherency` has no parameters.
const NO_PARAMS: &[ParamSpec] = &[];

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "coherency",
        summary: "pytorch-grad-cam's Coherency: correlation of the map with the map remade for the photo times the map, as (r + 1) / 2",
        params: NO_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}

#[cfg(test)]
mod tests {
    use super::coherency_correlation;

    #[test]
    fn constant_maps_correlate_zero_and_equal_maps_one() {
        let ramp: Vec<f32> = (0..10).map(|i| i as f32 * 0.1).collect();
        assert_eq!(coherency_correlation(&ramp, &[0.3; 10]), 0.0);
        assert!((coherency_correlation(&ramp, &ramp) - 1.0).abs() < 1e-6);
        let reversed: Vec<f32> = ramp.iter().rev().copied().collect();
        assert!((coherency_correlation(&ramp, &reversed) + 1.0).abs() < 1e-6);
    }
}
