//! `completeness` (Sundararajan et al. 2017's axiom; Captum's convergence delta, Quantus's
//! `Completeness`): how far the map's total misses the target's rise from a baseline image to
//! the photo, `sum(map) - (f(photo) - f(baseline))`. Integrated Gradients, DeepLift and
//! LRP's epsilon/z rules promise it (0, up to their approximation), a check of an attribution
//! method's arithmetic that costs one forward pass; averaging a map over superpixels keeps its
//! total, so NAS-averaged maps keep their gap.
//!
//! The value is Captum's `return_convergence_delta=True` (signed; with `relative`, divided by
//! the rise's magnitude). Quantus 0.6's `Completeness` returns whether the two are exactly
//! equal as floats, after dividing the map by its largest magnitude (its default
//! `normalise=True`), which answers no for every real map, and sets only the first colour
//! channel to its baseline; nas reports the gap instead, on the map as given, with every
//! channel replaced.

use nas_core::burn::tensor::activation::softmax;
use nas_core::burn::tensor::TensorData;
use nas_core::deletion::target_scores;
use nas_core::{Context, Metric, MetricInput, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Score};

/// The image the rise is measured from.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Reference {
    /// Zero in the normalised space (the dataset's mean colour): Captum's and nas's
    /// Integrated Gradients default.
    Zero,
    /// A black image (zero in pixel space).
    Black,
    /// This value on every channel of the normalised input.
    Value(f32),
}

/// The `completeness` metric.
pub struct Completeness {
    reference: Reference,
    probability: bool,
    relative: bool,
}

/// Parameters of `completeness`.
pub const COMPLETENESS_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "baseline",
        kind: ParamKind::Str,
        default: "\"zero\"",
        doc: "the image the rise is measured from: zero (normalised space, as integrated-gradients), black, or a number (normalised space)",
    },
    ParamSpec {
        name: "scores",
        kind: ParamKind::Str,
        default: "\"logit\"",
        doc: "logit (what gradient methods attribute) or probability (softmax)",
    },
    ParamSpec {
        name: "relative",
        kind: ParamKind::Bool,
        default: "false",
        doc: "divide the gap by the magnitude of the rise",
    },
];

impl Metric for Completeness {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let (h, w) = input.single_image("completeness")?;
        let channels = input.input.dims()[1];
        let device = input.input.device();
        let baseline = match self.reference {
            Reference::Zero => input.input.zeros_like(),
            Reference::Black => {
                let colour = input.backbone.info().normalised_colour(0.0);
                if colour.len() != channels {
                    return Err(NasError::InvalidInput(format!(
                        "completeness: baseline `black` needs a 3-channel photo, got {channels} channels"
                    )));
                }
                NasTensor::<4>::from_data(TensorData::new(colour.to_vec(), [1, channels, 1, 1]), &device).expand([1, channels, h, w])
            }
            Reference::Value(v) => input.input.full_like(v),
        };
        let pair = NasTensor::cat(vec![input.input.clone(), baseline], 0);
        let probability = self.probability;
        let scores = target_scores(input, pair, &|logits| if probability { softmax(logits, 1) } else { logits })?;
        let rise = scores[0] - scores[1];
        let total: f64 = input.saliency.iter().map(|&v| f64::from(v)).sum();
        let gap = total - rise;
        Ok(Score {
            value: if self.relative { gap / rise.abs() } else { gap },
            curve: vec![(total, rise)],
        })
    }

    fn plots_curve(&self) -> bool {
        false
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let reference = if matches!(
        params.table().get("baseline"),
        Some(toml::Value::Integer(_) | toml::Value::Float(_))
    ) {
        Reference::Value(params.float("baseline", 0.0, f64::MIN, f64::MAX)? as f32)
    } else {
        match params.choice("baseline", "zero", &["zero", "black"])?.as_str() {
            "black" => Reference::Black,
            _ => Reference::Zero,
        }
    };
    Ok(Box::new(Completeness {
        reference,
        probability: params.choice("scores", "logit", &["logit", "probability"])? == "probability",
        relative: params.bool("relative", false)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "completeness",
        summary: "Completeness (Captum's convergence delta): the map's total minus the target's rise from a baseline image to the photo",
        params: COMPLETENESS_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
