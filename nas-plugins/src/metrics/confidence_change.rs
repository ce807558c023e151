//! The change of the target's score when the normalised photo is multiplied by the map, as
//! pytorch-grad-cam's `CamMultImageConfidenceChange` and its two summaries from the Grad-CAM++
//! paper (Chattopadhay et al. 2018): `DropInConfidence` (the drop, 0 for a rise; lower is
//! better, its mean over photos is "average drop") and `IncreaseInConfidence` (1 for a rise, else
//! 0; its mean is the "increase in confidence" rate). The map is used as it is, so it should lie
//! in [0, 1] as the CAMs' do; pytorch-grad-cam subtracts plain scores, not relative ones.

use nas_core::burn::tensor::TensorData;
use nas_core::deletion::target_scores;
use nas_core::ndarray::Array2;
use nas_core::{Context, Metric, MetricInput, NasTensor, ParamKind, ParamSpec, Params, Result, Score};

/// Which figure of the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfidenceFigure {
    /// The change itself (`CamMultImageConfidenceChange`).
    Change,
    /// The drop, 0 for a rise (`DropInConfidence`).
    Drop,
    /// 1 for a rise, else 0 (`IncreaseInConfidence`).
    Increase,
}

/// The `confidence-change` metric.
pub struct ConfidenceChange {
    figure: ConfidenceFigure,
    probability: bool,
}

/// Parameters of `confidence-change`.
pub const CONFIDENCE_CHANGE_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "figure",
        kind: ParamKind::Str,
        default: "\"drop\"",
        doc: "drop (pytorch-grad-cam's DropInConfidence; lower is better), increase (IncreaseInConfidence: 1 for a rise) or change (CamMultImageConfidenceChange)",
    },
    ParamSpec {
        name: "scores",
        kind: ParamKind::Str,
        default: "\"probability\"",
        doc: "probability (ClassifierOutputSoftmaxTarget, as the Grad-CAM++ paper) or logit (ClassifierOutputTarget)",
    },
];

/// The photo `(1, c, h, w)` multiplied by `map` `(h, w)` on every channel (pytorch-grad-cam's
/// `multiply_tensor_with_cam`).
pub fn masked(input: &NasTensor<4>, map: &Array2<f32>) -> NasTensor<4> {
    let [_, channels, h, w] = input.dims();
    let values: Vec<f32> = map.iter().copied().collect();
    let mask = NasTensor::<4>::from_data(TensorData::new(values, [1, 1, h, w]), &input.device());
    input.clone() * mask.expand([1, channels, h, w])
}

impl Metric for ConfidenceChange {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        input.single_image("confidence-change")?;
        let measure = |logits: NasTensor<2>| {
            if self.probability {
                nas_core::burn::tensor::activation::softmax(logits, 1)
            } else {
                logits
            }
        };
        let images = NasTensor::cat(vec![input.input.clone(), masked(input.input, input.saliency)], 0);
        let scores = target_scores(input, images, &measure)?;
        let change = scores[1] - scores[0];
        let value = match self.figure {
            ConfidenceFigure::Change => change,
            ConfidenceFigure::Drop => (-change).max(0.0),
            ConfidenceFigure::Increase => f64::from(u8::from(change > 0.0)),
        };
        Ok(Score { value, curve: Vec::new() })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let figure = match params.choice("figure", "drop", &["drop", "increase", "change"])?.as_str() {
        "increase" => ConfidenceFigure::Increase,
        "change" => ConfidenceFigure::Change,
        _ => ConfidenceFigure::Drop,
    };
    Ok(Box::new(ConfidenceChange {
        figure,
        probability: params.choice("scores", "probability", &["probability", "logit"])? == "probability",
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "confidence-change",
        summary: "pytorch-grad-cam's DropInConfidence / IncreaseInConfidence / CamMultImageConfidenceChange: the target's score on the photo times the map against the photo's",
        params: CONFIDENCE_CHANGE_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}
