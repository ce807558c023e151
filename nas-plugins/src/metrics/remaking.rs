//! What the metrics that remake the scored map for other photos or classes share (robustness:
//! the sensitivities, relative stabilities, continuity; coherency, ARCC; random-logit): the
//! remade maps, checked, and the refusal when no way to remake them was given.

use nas_core::ndarray::Array2;
use nas_core::{Explainer, NasError, NasTensor, Result};

/// The refusal of `Metric::score` by a metric that remakes maps: `what` says which metric
/// remakes what (its subject plural when `several` metrics share the text).
pub fn needs_pipeline(what: &str, several: bool) -> NasError {
    let pronoun = if several { "them" } else { "it" };
    NasError::InvalidInput(format!("{what}: score {pronoun} in a pipeline (Metric::score_explained)"))
}

/// `explain`'s maps of `variants` `(n, c, h, w)` for `target`, checked to be `n` maps of
/// `h x w`; `metric` names the caller when they are not.
pub fn remade_maps(metric: &str, explain: &Explainer<'_>, variants: &NasTensor<4>, target: usize) -> Result<Vec<Array2<f32>>> {
    let [n, _, h, w] = variants.dims();
    let maps = explain(variants, target)?;
    if maps.len() != n || maps.iter().any(|m| m.dim() != (h, w)) {
        return Err(NasError::InvalidInput(format!(
            "{metric}: {} maps of {:?} came back for {n} {h}x{w} photos",
            maps.len(),
            maps.iter().map(|m| m.dim()).collect::<Vec<_>>()
        )));
    }
    Ok(maps)
}
