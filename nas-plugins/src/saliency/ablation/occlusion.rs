//! `occlusion` (Zeiler and Fergus 2014), as Captum's `Occlusion`: a window covering all three
//! colours slides over the photo by a stride; each pixel gets the mean drop of the target's score
//! over the window positions that cover it. As in Captum the last window of a row or column may
//! stick out of the photo, so every pixel is covered.

use super::{perturbation_params, Perturbation, Subject, BASELINE_DOC};
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `occlusion` saliency method.
pub struct Occlusion {
    perturbation: Perturbation,
    /// Window height and width.
    window: [usize; 2],
    /// Vertical and horizontal stride.
    stride: [usize; 2],
}

/// Parameters of `occlusion`.
pub const OCCLUSION_PARAMS: &[ParamSpec] = perturbation_params!("\"zero\"", "\"logit\"", BASELINE_DOC;
    ParamSpec {
        name: "window",
        kind: ParamKind::IntList,
        default: "15",
        doc: "window side, or [height, width], in pixels (Captum's sliding_window_shapes (3, 15, 15) in its tutorials)",
    },
    ParamSpec {
        name: "stride",
        kind: ParamKind::IntList,
        default: "8",
        doc: "step between windows, or [vertical, horizontal]; at most the window (Captum's strides (3, 8, 8))",
    },
);

/// One or two positive integers as `[height, width]`.
fn pair(params: &Params, key: &str, default: i64) -> Result<[usize; 2]> {
    match params.int_list(key, &[default], 1, 16_384)?.as_slice() {
        [side] => Ok([*side as usize; 2]),
        [h, w] => Ok([*h as usize, *w as usize]),
        other => Err(params.error(key, format!("{other:?}"), "expected one side or [height, width]")),
    }
}

impl Occlusion {
    /// Builds from `occlusion` parameters (see [`OCCLUSION_PARAMS`]).
    pub fn from_params(params: &Params) -> Result<Occlusion> {
        let window = pair(params, "window", 15)?;
        let stride = pair(params, "stride", 8)?;
        if stride[0] > window[0] || stride[1] > window[1] {
            return Err(params.error(
                "stride",
                format!("{stride:?}"),
                format!("expected at most the window {window:?}, or pixels would be left out"),
            ));
        }
        Ok(Occlusion {
            perturbation: Perturbation::from_params(params, "occlusion", ["zero", "logit"], false)?,
            window,
            stride,
        })
    }

    /// Window positions along a side of `length` pixels: Captum's `ceil((length - window) /
    /// stride) + 1` starts, each window cut at the photo's edge.
    fn spans(&self, axis: usize, length: usize) -> Result<Vec<(usize, usize)>> {
        let (window, stride) = (self.window[axis], self.stride[axis]);
        if window > length {
            return Err(NasError::InvalidInput(format!(
                "occlusion: the window ({window} pixels) is larger than the photo ({length} pixels)"
            )));
        }
        let starts = (length - window).div_ceil(stride) + 1;
        Ok((0..starts).map(|i| (i * stride, (i * stride + window).min(length))).collect())
    }
}

impl Saliency for Occlusion {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        let photos = crate::saliency::photos_with_targets("occlusion", input, targets)?;
        let [_, _, h, w] = input.dims();
        let (rows, cols) = (self.spans(0, h)?, self.spans(1, w)?);
        let windows: Vec<((usize, usize), (usize, usize))> = rows.iter().flat_map(|&r| cols.iter().map(move |&c| (r, c))).collect();
        let task = nas_core::progress::task("occlusion", (photos.len() * (windows.len() + 1)) as u64);
        // Copy 0 is the photo itself; copy i + 1 lacks window i.
        let remove = |copy: usize, removed: &mut [bool]| {
            if let Some(&((y0, y1), (x0, x1))) = copy.checked_sub(1).and_then(|i| windows.get(i)) {
                removed.chunks_mut(w).take(y1).skip(y0).for_each(|row| row[x0..x1].fill(true));
            }
        };
        photos
            .iter()
            .map(|(photo, target)| {
                let scores = self.perturbation.scores(
                    backbone,
                    &Subject {
                        photo,
                        target: *target,
                        features: None,
                    },
                    windows.len() + 1,
                    &remove,
                    &task,
                )?;
                let (mut total, mut count) = (Array2::<f64>::zeros((h, w)), Array2::<f64>::zeros((h, w)));
                for (&((y0, y1), (x0, x1)), score) in windows.iter().zip(&scores[1..]) {
                    let drop = scores[0] - score;
                    total.slice_mut(nas_core::ndarray::s![y0..y1, x0..x1]).mapv_inplace(|t| t + drop);
                    count.slice_mut(nas_core::ndarray::s![y0..y1, x0..x1]).mapv_inplace(|n| n + 1.0);
                }
                Ok(nas_core::ndarray::Zip::from(&total).and(&count).map_collect(|t, n| (t / n) as f32))
            })
            .collect()
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(Occlusion::from_params(params)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "occlusion",
        summary: "occlusion: mean drop of the target's score over the sliding windows covering each pixel (Captum's Occlusion)",
        params: OCCLUSION_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
