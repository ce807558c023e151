//! AUC-LeRF: the area under the least-relevant-first deletion curve. Pixels (or whole
//! superpixels) are set to zero in the normalised input from least to most relevant; the target's
//! pre-softmax score is recorded, the curve is scaled to run from 1 to 0, and integrated with the
//! trapezoid rule over the fraction of pixels removed. Larger is better. AUC-MoRF removes the
//! most relevant first, the same way; smaller is better.

use nas_core::deletion::{deletion_curve, scaled_area};
use nas_core::{Context, Metric, MetricInput, NasError, ParamKind, ParamSpec, Params, Result, Score};

/// What is removed at each step of the curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Whole superpixels when the map comes with a segmentation, pixel steps otherwise (default).
    Auto,
    /// Equal-sized groups of pixels, `steps` of them.
    Pixel,
    /// One superpixel per step, ordered by mean relevance.
    Superpixel,
}

/// The `auc-lerf` and `auc-morf` metrics.
pub struct AucLerf {
    steps: usize,
    unit: Unit,
    batch: usize,
    /// Most relevant first (`auc-morf`) instead of least.
    most_relevant_first: bool,
}

/// Parameters of `auc-lerf`.
pub const AUC_LERF_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "steps",
        kind: ParamKind::Int,
        default: "50",
        doc: "number of deletion steps for pixel-wise removal",
    },
    ParamSpec {
        name: "unit",
        kind: ParamKind::Str,
        default: "\"auto\"",
        doc: "auto, pixel or superpixel",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "16",
        doc: "masked images per forward pass",
    },
];

impl AucLerf {
    /// The registered name, for messages.
    fn name(&self) -> &'static str {
        if self.most_relevant_first {
            "auc-morf"
        } else {
            "auc-lerf"
        }
    }

    /// `a` before `b` in the order of removal, by their relevance.
    fn before(&self, a: f64, b: f64) -> std::cmp::Ordering {
        if self.most_relevant_first {
            b.total_cmp(&a)
        } else {
            a.total_cmp(&b)
        }
    }

    /// Pixel groups removed at each step, least (or most) relevant first, ties broken by pixel
    /// index.
    fn removal_groups(&self, input: &MetricInput<'_>) -> Result<Vec<Vec<usize>>> {
        let saliency = input.saliency;
        let unit = match (self.unit, input.segmentation) {
            (Unit::Superpixel, None) => {
                return Err(NasError::InvalidInput(format!(
                    "{}: unit = \"superpixel\" needs a segmentation",
                    self.name()
                )))
            }
            (Unit::Superpixel, Some(s)) | (Unit::Auto, Some(s)) => Some(s),
            _ => None,
        };
        match unit {
            Some(seg) => {
                if seg.labels.dim() != saliency.dim() {
                    return Err(NasError::InvalidInput(format!(
                        "{}: segmentation is {:?} but the saliency map is {:?}",
                        self.name(),
                        seg.labels.dim(),
                        saliency.dim()
                    )));
                }
                let n = seg.count();
                let mut sums = vec![0f64; n];
                let mut members: Vec<Vec<usize>> = vec![Vec::new(); n];
                for (i, (&s, &v)) in seg.labels.iter().zip(saliency.iter()).enumerate() {
                    sums[s as usize] += f64::from(v);
                    members[s as usize].push(i);
                }
                let mut order: Vec<usize> = (0..n).filter(|&s| !members[s].is_empty()).collect();
                order.sort_by(|&a, &b| {
                    let (ma, mb) = (sums[a] / members[a].len() as f64, sums[b] / members[b].len() as f64);
                    self.before(ma, mb).then(a.cmp(&b))
                });
                Ok(order.into_iter().map(|s| std::mem::take(&mut members[s])).collect())
            }
            None => {
                let values: Vec<f32> = saliency.iter().copied().collect();
                let mut order: Vec<usize> = (0..values.len()).collect();
                order.sort_by(|&a, &b| self.before(f64::from(values[a]), f64::from(values[b])).then(a.cmp(&b)));
                let steps = self.steps.min(order.len()).max(1);
                Ok((0..steps)
                    .map(|s| order[s * order.len() / steps..(s + 1) * order.len() / steps].to_vec())
                    .collect())
            }
        }
    }
}

impl Metric for AucLerf {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        input.single_image(self.name())?;
        let groups = self.removal_groups(input)?;
        let raw = deletion_curve(input, &groups, self.batch, &|logits| logits)?;
        Ok(scaled_area(&raw))
    }
}

fn build_lerf(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, ctx, false)
}

fn build_morf(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    build(params, ctx, true)
}

fn build(params: &Params, _ctx: &Context<'_>, most_relevant_first: bool) -> Result<Box<dyn Metric>> {
    let steps = params.usize("steps", 50, 1, 1_000_000)?;
    let unit = match params.choice("unit", "auto", &["auto", "pixel", "superpixel"])?.as_str() {
        "pixel" => Unit::Pixel,
        "superpixel" => Unit::Superpixel,
        _ => Unit::Auto,
    };
    let batch = params.usize("batch", 16, 1, 4096)?;
    Ok(Box::new(AucLerf {
        steps,
        unit,
        batch,
        most_relevant_first,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "auc-lerf",
        summary: "area under the least-relevant-first deletion curve (scaled 1 to 0, trapezoid rule)",
        params: AUC_LERF_PARAMS,
        factory: nas_core::Factory::Metric(build_lerf),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "auc-morf",
        summary: "area under the most-relevant-first deletion curve (scaled 1 to 0, trapezoid rule; smaller is better)",
        params: AUC_LERF_PARAMS,
        factory: nas_core::Factory::Metric(build_morf),
    }
}
