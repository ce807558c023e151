//! `irof`, Iterative Removal Of Features (Rieger & Hansen 2020, Quantus's `IROF`): the normalised
//! photo is cut into superpixels (scikit-image's SLIC with its defaults, as Quantus calls it, or
//! Felzenszwalb's method), which are set to the baseline one at a time, highest mean saliency
//! first; after each, the target's score relative to the unperturbed photo's is recorded. The
//! score is the area over that curve, one unit per superpixel (`n - np.trapz(curve)`): larger
//! means a more faithful map.
//!
//! The superpixels come from the normalised input (what Quantus segments), not from the photo,
//! and are independent of any `[segmenter]` of the pipeline. The default baseline is Quantus's
//! `mean`, recomputed from the partly removed image at every step.

use super::{descending, removal_params, unit_curve, Removal};
use nas_core::deletion::trapezoid;
use nas_core::ndarray::{Array2, Array3};
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};
use nas_superpixels::{FelzenszwalbParams, SlicParams};

/// How the photo is cut (Quantus's `segmentation_method`).
#[derive(Debug, Clone)]
enum Cutting {
    Slic(SlicParams),
    Felzenszwalb(FelzenszwalbParams),
}

/// The `irof` metric.
pub struct Irof {
    cutting: Cutting,
    removal: Removal,
}

/// Parameters of `irof`.
pub const IROF_PARAMS: &[ParamSpec] = removal_params!(
    "\"mean\"", "\"probability\"";
    ParamSpec {
        name: "segmentation",
        kind: ParamKind::Str,
        default: "\"slic\"",
        doc: "slic or felzenszwalb, each with scikit-image's defaults (Quantus's segmentation_method)",
    },
    ParamSpec {
        name: "n_segments",
        kind: ParamKind::Int,
        default: "100",
        doc: "SLIC's approximate number of superpixels",
    },
    ParamSpec {
        name: "compactness",
        kind: ParamKind::Float,
        default: "10.0",
        doc: "SLIC's balance of space against colour",
    },
);

impl Irof {
    /// The superpixels of the normalised photo `(1, 3, H, W)`, labels from 0.
    fn superpixels(&self, input: &MetricInput<'_>) -> Result<Array2<u32>> {
        let [_, channels, h, w] = input.input.dims();
        let values = input.photo_values()?;
        let image = Array3::from_shape_vec((channels, h, w), values)
            .map_err(|e| NasError::InvalidInput(format!("photo of shape {:?}: {e}", (channels, h, w))))?
            .permuted_axes([1, 2, 0]);
        let image = image.as_standard_layout();
        let labels = match &self.cutting {
            Cutting::Slic(params) => nas_superpixels::slic(image.view(), params),
            Cutting::Felzenszwalb(params) => nas_superpixels::felzenszwalb(image.view(), params),
        };
        labels.map_err(|e| NasError::InvalidInput(format!("irof: cutting the photo into superpixels: {e}")))
    }
}

impl Metric for Irof {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        input.single_image("irof")?;
        let labels = self.superpixels(input)?;
        let count = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
        let values = self.removal.ranked_values(input);
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); count];
        for (pixel, &label) in labels.iter().enumerate() {
            members[label as usize].push(pixel);
        }
        members.retain(|m| !m.is_empty());
        let means: Vec<f64> = members
            .iter()
            .map(|m| m.iter().map(|&p| f64::from(values[p])).sum::<f64>() / m.len() as f64)
            .collect();
        let ranked: Vec<Vec<usize>> = descending(&means).into_iter().map(|i| std::mem::take(&mut members[i])).collect();
        let scores = self.removal.scores(input, &ranked)?;
        let relative: Vec<f64> = scores.iter().skip(1).map(|s| s / scores[0]).collect();
        let curve = unit_curve(&relative);
        Ok(Score {
            value: relative.len() as f64 - trapezoid(&curve),
            curve,
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let slic_defaults = SlicParams::default();
    let cutting = match params.choice("segmentation", "slic", &["slic", "felzenszwalb"])?.as_str() {
        "felzenszwalb" => Cutting::Felzenszwalb(FelzenszwalbParams::default()),
        _ => Cutting::Slic(SlicParams {
            n_segments: params.usize("n_segments", slic_defaults.n_segments, 1, 1 << 24)?,
            compactness: params.float("compactness", slic_defaults.compactness, 1e-9, 1e9)?,
            start_label: 0,
            ..slic_defaults
        }),
    };
    Ok(Box::new(Irof {
        cutting,
        removal: Removal::from_params(params, "mean", "probability")?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "irof",
        summary: "Quantus's IROF: area over the target's relative score as SLIC superpixels of the photo are set to a baseline, most salient first",
        params: IROF_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
