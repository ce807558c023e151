//! Gradient x input: the elementwise product of the input with the gradient of the target logit,
//! summed over colour channels into one map (Captum's `InputXGradient`, reduced to 2-D); and the
//! vanilla gradient: its absolute value, the largest of the colour channels (Simonyan et al.
//! 2014; Captum's `Saliency`, reduced to 2-D).

use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// How the three colour channels of an attribution are reduced to one map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelReduction {
    /// Signed sum (default): negative evidence stays negative.
    Sum,
    /// Sum of absolute values.
    AbsSum,
    /// Largest absolute value (Simonyan et al.'s saliency map).
    MaxAbs,
}

impl ChannelReduction {
    /// The reduction named by a method's `reduce` parameter: `sum` (default), `abs-sum` or
    /// `max-abs`.
    pub fn from_params(params: &Params) -> Result<ChannelReduction> {
        Self::from_params_or(params, "sum")
    }

    /// As [`ChannelReduction::from_params`] with another default.
    pub fn from_params_or(params: &Params, default: &str) -> Result<ChannelReduction> {
        Ok(match params.choice("reduce", default, &["sum", "abs-sum", "max-abs"])?.as_str() {
            "abs-sum" => ChannelReduction::AbsSum,
            "max-abs" => ChannelReduction::MaxAbs,
            _ => ChannelReduction::Sum,
        })
    }
}

/// The `gradient` and `vanilla-gradient` saliency methods.
pub struct InputGradient {
    reduction: ChannelReduction,
    /// Multiply by the input (`gradient`) or not (`vanilla-gradient`).
    times_input: bool,
}

/// Parameters of `gradient`.
pub const GRADIENT_PARAMS: &[ParamSpec] = &[REDUCE_PARAM];

/// The `reduce` parameter of the methods that attribute to colour channels, signed by default.
pub const REDUCE_PARAM: ParamSpec = ParamSpec {
    name: "reduce",
    kind: ParamKind::Str,
    default: "\"sum\"",
    doc: "how colour channels are combined: sum (signed), abs-sum or max-abs",
};

/// Parameters of `vanilla-gradient`.
pub const VANILLA_GRADIENT_PARAMS: &[ParamSpec] = &[ParamSpec {
    name: "reduce",
    kind: ParamKind::Str,
    default: "\"max-abs\"",
    doc: "how colour channels are combined: max-abs (Simonyan et al.), abs-sum or sum (signed)",
}];

/// Reduces `(batch, 3, h, w)` attributions to one `(h, w)` map per image.
pub fn reduce_channels(attribution: NasTensor<4>, reduction: ChannelReduction) -> Result<Vec<Array2<f32>>> {
    let [batch, _, h, w] = attribution.dims();
    let reduced = match reduction {
        ChannelReduction::Sum => attribution.sum_dim(1),
        ChannelReduction::AbsSum => attribution.abs().sum_dim(1),
        ChannelReduction::MaxAbs => attribution.abs().max_dim(1),
    };
    let values: Vec<f32> = reduced
        .into_data()
        .to_vec()
        .map_err(|e| NasError::InvalidInput(format!("cannot read attributions: {e:?}")))?;
    values
        .chunks_exact(h * w)
        .take(batch)
        .map(|c| Array2::from_shape_vec((h, w), c.to_vec()).map_err(|e| NasError::InvalidInput(e.to_string())))
        .collect()
}

impl Saliency for InputGradient {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let gradient = backbone.input_gradient(input.clone(), targets)?;
        let attribution = if self.times_input {
            gradient.grad * gradient.value
        } else {
            gradient.grad
        };
        reduce_channels(attribution, self.reduction)
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(InputGradient {
        reduction: ChannelReduction::from_params(params)?,
        times_input: true,
    }))
}

fn build_vanilla(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(InputGradient {
        reduction: ChannelReduction::from_params_or(params, "max-abs")?,
        times_input: false,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "vanilla-gradient",
        summary: "the target logit's gradient, its largest absolute value over colour channels (Simonyan et al.; Captum's Saliency)",
        params: VANILLA_GRADIENT_PARAMS,
        factory: nas_core::Factory::Saliency(build_vanilla),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "gradient",
        summary: "gradient x input of the target logit, summed over colour channels",
        params: GRADIENT_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
