//! Integrated Gradients (Sundararajan et al. 2017): the input minus a baseline, times the
//! gradient of the target logit averaged along the straight path from the baseline to the
//! input, summed over colour channels. Defaults are Captum's `IntegratedGradients`: 50 steps,
//! Gauss-Legendre nodes, a zero baseline in the normalised input space.

use super::gradient::{ChannelReduction, REDUCE_PARAM};
use super::quadrature::{Quadrature, QUADRATURE_NAMES};
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::progress::Task;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// Where the path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Baseline {
    /// Zero in the normalised input space, i.e. the dataset's mean colour (Captum's default).
    Zero,
    /// A black image (zero in pixel space).
    Black,
}

impl Baseline {
    /// Reads parameter `baseline`: `zero` (the default) or `black`.
    pub fn from_params(params: &Params) -> Result<Baseline> {
        Ok(match params.choice("baseline", "zero", &["zero", "black"])?.as_str() {
            "black" => Baseline::Black,
            _ => Baseline::Zero,
        })
    }

    /// The baseline for photo inputs shaped like `input`, in the normalised space.
    pub fn tensor_for(self, backbone: &dyn Backbone, input: &NasTensor<4>) -> NasTensor<4> {
        match self {
            Baseline::Zero => input.zeros_like(),
            Baseline::Black => super::colour_tensor(backbone.info(), 0.0, &input.device()).expand(input.dims()),
        }
    }
}

/// The `integrated-gradients` saliency method.
pub struct IntegratedGradients {
    steps: usize,
    quadrature: Quadrature,
    baseline: Baseline,
    /// Path points per backward pass (Captum's `internal_batch_size`).
    batch: usize,
    reduction: ChannelReduction,
}

/// The `steps` parameter of the path methods.
pub const STEPS_PARAM: ParamSpec = ParamSpec {
    name: "steps",
    kind: ParamKind::Int,
    default: "50",
    doc: "gradient evaluations along the path (Captum's n_steps)",
};

/// The `method` parameter of the path methods.
pub const METHOD_PARAM: ParamSpec = ParamSpec {
    name: "method",
    kind: ParamKind::Str,
    default: "\"gausslegendre\"",
    doc: "quadrature: gausslegendre, riemann_left, riemann_right, riemann_middle, riemann_trapezoid or linspace",
};

/// The `baseline` parameter of the path methods.
pub const BASELINE_PARAM: ParamSpec = ParamSpec {
    name: "baseline",
    kind: ParamKind::Str,
    default: "\"zero\"",
    doc: "path start: zero (normalised space, the mean colour) or black",
};

/// The `batch` parameter of the path methods.
pub const PATH_BATCH_PARAM: ParamSpec = ParamSpec {
    name: "batch",
    kind: ParamKind::Int,
    default: "10",
    doc: "path points per backward pass (Captum's internal_batch_size); memory grows with it",
};

/// Parameters of `integrated-gradients`.
pub const INTEGRATED_GRADIENTS_PARAMS: &[ParamSpec] = &[STEPS_PARAM, METHOD_PARAM, BASELINE_PARAM, PATH_BATCH_PARAM, REDUCE_PARAM];

impl IntegratedGradients {
    /// Builds from `integrated-gradients` parameters (see [`INTEGRATED_GRADIENTS_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<IntegratedGradients> {
        IntegratedGradients::from_params_with_rule(params, "gausslegendre")
    }

    /// [`IntegratedGradients::from_params`] with `rule` as the quadrature when `method` is
    /// not given (Captum's conductance methods default to riemann_trapezoid).
    pub fn from_params_with_rule(params: &Params, rule: &str) -> Result<IntegratedGradients> {
        let quadrature = Quadrature::from_name(&params.choice("method", rule, QUADRATURE_NAMES)?)?;
        let steps = params.usize("steps", 50, 1, 100_000)?;
        // Checks the step count against the rule now rather than at the first photo.
        quadrature
            .nodes(steps)
            .map_err(|e| NasError::InvalidInput(format!("{}: parameter `steps` = {steps}: {e}", params.component())))?;
        Ok(IntegratedGradients {
            steps,
            quadrature,
            baseline: Baseline::from_params(params)?,
            batch: params.usize("batch", 10, 1, 10_000)?,
            reduction: ChannelReduction::from_params(params)?,
        })
    }

    /// Integrated Gradients with `steps` points of `quadrature`, `batch` per backward pass,
    /// channels summed; the baseline is given to [`IntegratedGradients::attribute`].
    pub fn new(steps: usize, quadrature: Quadrature, batch: usize) -> IntegratedGradients {
        IntegratedGradients {
            steps,
            quadrature,
            baseline: Baseline::Zero,
            batch: batch.max(1),
            reduction: ChannelReduction::Sum,
        }
    }

    /// Gradient evaluations per photo and baseline.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// The attribution `(1, 3, h, w)` of one photo `input` for class `target` from `baseline`
    /// (same shape), reporting path points to `task`.
    pub fn attribute(
        &self,
        backbone: &dyn Backbone,
        input: NasTensor<4>,
        baseline: NasTensor<4>,
        target: usize,
        task: &Task,
    ) -> Result<NasTensor<4>> {
        self.integrate(input, baseline, task, |points| {
            let count = points.dims()[0];
            Ok(backbone.input_gradient(points, &vec![target; count])?.grad)
        })
    }

    /// The attribution `(1, 3, h, w)` of one photo `input` from `baseline` for the output whose
    /// input gradient at a batch of path points `gradient` gives, reporting them to `task`.
    pub fn integrate(
        &self,
        input: NasTensor<4>,
        baseline: NasTensor<4>,
        task: &Task,
        gradient: impl Fn(NasTensor<4>) -> Result<NasTensor<4>>,
    ) -> Result<NasTensor<4>> {
        let (alphas, weights) = self.quadrature.nodes(self.steps)?;
        let delta = input - baseline.clone();
        let mut total = delta.zeros_like();
        for (alphas, weights) in alphas.chunks(self.batch).zip(weights.chunks(self.batch)) {
            task.check()?;
            let points: Vec<NasTensor<4>> = alphas.iter().map(|a| baseline.clone() + delta.clone() * *a).collect();
            total = total + weighted_sum(gradient(NasTensor::cat(points, 0))?, weights);
            task.advance(alphas.len() as u64);
        }
        Ok(total * delta)
    }
}

/// `values` `(n, c, h, w)` summed over the batch with one weight per sample (a quadrature's).
pub fn weighted_sum(values: NasTensor<4>, weights: &[f64]) -> NasTensor<4> {
    let weights: Vec<f32> = weights.iter().map(|w| *w as f32).collect();
    let count = weights.len();
    let weights = NasTensor::<4>::from_data(TensorData::new(weights, [count, 1, 1, 1]), &values.device());
    (values * weights).sum_dim(0)
}

impl IntegratedGradients {
    /// The maps of a batch, photo by photo from its baseline, for the output whose input
    /// gradient at a batch of path points and the photo's target `gradient` gives; `method`
    /// names the caller in errors and on the progress bar.
    pub fn explain_with(
        &self,
        method: &str,
        backbone: &dyn Backbone,
        input: &NasTensor<4>,
        targets: &[usize],
        gradient: impl Fn(NasTensor<4>, usize) -> Result<NasTensor<4>>,
    ) -> Result<Vec<Array2<f32>>> {
        super::attribute_each(method, input, targets, self.steps, self.reduction, |one, target, task| {
            let baseline = self.baseline.tensor_for(backbone, &one);
            self.integrate(one, baseline, task, |points| gradient(points, target))
        })
    }
}

impl Saliency for IntegratedGradients {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        self.explain_with("integrated-gradients", backbone, input, targets, |points, target| {
            let count = points.dims()[0];
            Ok(backbone.input_gradient(points, &vec![target; count])?.grad)
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(IntegratedGradients::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "integrated-gradients",
        summary: "Integrated Gradients of the target logit from a baseline (Captum's defaults), summed over colour channels",
        params: INTEGRATED_GRADIENTS_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
