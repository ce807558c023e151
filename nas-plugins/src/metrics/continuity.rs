//! `continuity` (Montavon et al. 2018, Quantus 0.6's `Continuity`): how much the map moves when
//! the photo slides sideways. The photo is shifted along x in `steps` equal strides from almost
//! a full width to the left to a full width to the right (Quantus's `dx = (2W + 1) // steps`,
//! shifts `-W + dx (k + 1)`), the uncovered columns set to the photo's smallest value over all
//! channels (Quantus's "black", which its Continuity always uses); each shifted photo is
//! explained again the way the scored map was made, and the score is the largest
//! `|a - a'|_1 / (|x - x'|_2 + 1e-9)` over the shifts (lower is smoother), the maps divided by
//! their largest magnitude and taken in absolute value first (Quantus's defaults). The shift by
//! 0 (when a stride lands there) leaves the photo as it is: nas gives it ratio 0 without
//! explaining it again, where Quantus divides the remade map's difference by 1e-9 (0 for an
//! explanation that repeats itself exactly, about 1e9 times its last-bit noise otherwise).

use super::normalisation::prepared;
use nas_core::burn::tensor::TensorData;
use nas_core::{Context, Explainer, Metric, MetricInput, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Score};

/// The `continuity` metric.
pub struct Continuity {
    steps: usize,
    normalise: bool,
    absolute: bool,
    nan_when_prediction_changes: bool,
    batch: usize,
}

/// Parameters of `continuity`.
pub const CONTINUITY_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "steps",
        kind: ParamKind::Int,
        default: "28",
        doc: "sideways shifts of the photo, evenly spaced (Quantus's nr_steps); at most 2 x width + 1 and not a divisor of it",
    },
    super::normalisation::normalise_param("true"),
    super::normalisation::abs_param("true"),
    ParamSpec {
        name: "nan_when_prediction_changes",
        kind: ParamKind::Bool,
        default: "false",
        doc: "a shift after which the network predicts another class scores NaN (Quantus's return_nan_when_prediction_changes)",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "8",
        doc: "shifted photos explained per pass",
    },
];

/// The shifts of a photo `width` wide, in `steps` strides: `-width + dx (k + 1)`. Refused when
/// the strides would run past the photo's width (`steps` dividing `2 width + 1`, where Quantus
/// raises) or be 0 (more than `2 width + 1` steps).
pub fn shifts(width: usize, steps: usize) -> Result<Vec<i64>> {
    let span = 2 * width + 1;
    if steps == 0 || steps > span || span.is_multiple_of(steps) {
        return Err(NasError::InvalidInput(format!(
            "continuity: {steps} steps for a photo {width} pixels wide; expected 2 to {span} steps, not a divisor of {span} (whose last stride would pass the photo's width)"
        )));
    }
    let stride = (span / steps) as i64;
    Ok((1..=steps as i64).map(|k| -(width as i64) + stride * k).collect())
}

/// `photo` (rows of `width` values: every row of every channel) shifted by `shift` columns,
/// content moving right for a positive shift, the uncovered columns set to `fill`.
pub fn shifted(photo: &[f32], width: usize, shift: i64, fill: f32) -> Vec<f32> {
    if width == 0 {
        return photo.to_vec();
    }
    photo
        .chunks_exact(width)
        .flat_map(|row| {
            (0..width as i64).map(move |x| {
                let source = x - shift;
                if (0..width as i64).contains(&source) {
                    row[source as usize]
                } else {
                    fill
                }
            })
        })
        .collect()
}

impl Metric for Continuity {
    fn score(&self, _input: &MetricInput<'_>) -> Result<Score> {
        Err(super::remaking::needs_pipeline(
            "continuity remakes the map for shifted photos",
            false,
        ))
    }

    fn score_explained(&self, input: &MetricInput<'_>, explain: &Explainer<'_>) -> Result<Score> {
        let (h, w) = input.single_image("continuity")?;
        let channels = input.input.dims()[1];
        let photo = input.photo_values()?;
        let fill = photo.iter().copied().fold(f32::INFINITY, f32::min);
        let original = prepared(input.saliency, self.normalise, self.absolute);
        let shifts = shifts(w, self.steps)?;
        let task = nas_core::progress::task("continuity", shifts.len() as u64);
        let mut curve = Vec::with_capacity(shifts.len());
        for group in shifts.chunks(self.batch) {
            task.check()?;
            let images: Vec<Vec<f32>> = group.iter().map(|&t| shifted(&photo, w, t, fill)).collect();
            let tensor = |images: Vec<&Vec<f32>>| {
                let n = images.len();
                let values: Vec<f32> = images.into_iter().flatten().copied().collect();
                NasTensor::<4>::from_data(TensorData::new(values, [n, channels, h, w]), &input.input.device())
            };
            // The unshifted photo is not explained again: its ratio is 0.
            let moved: Vec<&Vec<f32>> = group.iter().zip(&images).filter(|(&t, _)| t != 0).map(|(_, i)| i).collect();
            let mut maps = if moved.is_empty() {
                Vec::new()
            } else {
                super::remaking::remade_maps("continuity", explain, &tensor(moved), input.target)?
            }
            .into_iter();
            let changed = if self.nan_when_prediction_changes {
                let logits = input.backbone.forward(tensor(images.iter().collect())).logits;
                nas_core::backbone::predicted_classes(&logits)?
                    .into_iter()
                    .map(|c| c != input.target)
                    .collect()
            } else {
                vec![false; group.len()]
            };
            for ((&shift, image), changed) in group.iter().zip(&images).zip(changed) {
                let ratio = if shift == 0 {
                    0.0
                } else {
                    let map = maps
                        .next()
                        .ok_or_else(|| NasError::InvalidInput("continuity: a shifted photo's map is missing".into()))?;
                    let distance = photo.iter().zip(image).map(|(a, b)| f64::from(a - b).powi(2)).sum::<f64>().sqrt();
                    let moved = prepared(&map, self.normalise, self.absolute);
                    original.iter().zip(&moved).map(|(a, b)| (a - b).abs()).sum::<f64>() / (distance + 1e-9)
                };
                curve.push((shift as f64, if changed { f64::NAN } else { ratio }));
            }
            task.advance(group.len() as u64);
        }
        // As Quantus's np.max: NaN when any shift changed the prediction (and was asked to).
        let value = curve
            .iter()
            .map(|(_, r)| *r)
            .fold(f64::NEG_INFINITY, |m, r| if m.is_nan() || r.is_nan() { f64::NAN } else { m.max(r) });
        Ok(Score { value, curve })
    }

    fn plots_curve(&self) -> bool {
        true
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    Ok(Box::new(Continuity {
        steps: params.usize("steps", 28, 1, 1_000_000)?,
        normalise: params.bool("normalise", true)?,
        absolute: params.bool("abs", true)?,
        nan_when_prediction_changes: params.bool("nan_when_prediction_changes", false)?,
        batch: params.usize("batch", 8, 1, 4096)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "continuity",
        summary: "Quantus's Continuity: the largest change of the map per change of the photo as the photo slides sideways (lower is smoother)",
        params: CONTINUITY_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}

#[cfg(test)]
mod tests {
    use super::{shifted, shifts};

    #[test]
    fn shifts_follow_quantus_strides() {
        // W = 224, 28 steps: dx = 449 // 28 = 16, from -208 to 224.
        let all = shifts(224, 28).expect("shifts");
        assert_eq!((all[0], all[13], all[27], all.len()), (-208, 0, 224, 28));
        // 2W + 1 = 7: 0, 1, 7 and 8 steps refused, as are divisors of 449 for W = 224.
        assert!([0, 1, 7, 8].iter().all(|&steps| shifts(3, steps).is_err()));
        assert_eq!(shifts(3, 3).expect("shifts"), vec![-1, 1, 3]);
        assert!(shifts(224, 449).is_err());
    }

    #[test]
    fn shifting_moves_each_row_and_fills_the_gap() {
        let rows = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        assert_eq!(shifted(&rows, 3, 1, 0.0), vec![0.0, 1.0, 2.0, 0.0, 4.0, 5.0]);
        assert_eq!(shifted(&rows, 3, -2, 9.0), vec![3.0, 9.0, 9.0, 6.0, 9.0, 9.0]);
        assert_eq!(shifted(&rows, 3, 0, 9.0), rows.to_vec());
    }
}
