//! `sess`: SESS, Saliency Enhancing with Scaling and Sliding (Tursun et al. 2022), as
//! pytorch-grad-cam 1.5.7's `SESS` wraps any CAM method. The photo is resized to several scales
//! (its shorter side to each; torchvision's antialiased bilinear `resize`), a square window
//! slides over each scale, and the wrapped method explains every window for the photo's target.
//! Each window's map is weighted by its target score (softmax probability by default) over the
//! best window's, pasted back where the window was taken, resized to the photo (OpenCV's
//! bilinear rule), and the maps are fused by a spatial weighted average of the values above
//! `theta` (or their maximum); the fusion is blurred (`cv2.GaussianBlur`, 11 x 11, sigma 5) and
//! scaled to `[0, 1]`.

use super::cam::{resize_linear, scale_to_unit};
use super::opencv::gaussian_blur;
use nas_core::burn::tensor::activation::softmax;
use nas_core::burn::tensor::TensorData;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Saliency};

/// The `sess` saliency method.
pub struct Sess {
    inner: Box<dyn Saliency>,
    name: String,
    scales: Scales,
    window: Option<usize>,
    step: Option<usize>,
    pre_filter: f64,
    theta: f32,
    max_pool: bool,
    smooth: bool,
    softmax_scores: bool,
    batch: usize,
}

/// The sizes the photo's shorter side is resized to.
#[derive(Debug, Clone, PartialEq)]
enum Scales {
    /// Given.
    Given(Vec<usize>),
    /// `count` scales from the window size, each `round(ratio x window)` larger.
    Grown { count: usize, ratio: f64 },
}

/// Parameters of `sess`.
pub const SESS_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "method",
        kind: ParamKind::Component,
        default: "\"grad-cam\"",
        doc: "the saliency method run on every window (name, or a table with name and its parameters)",
    },
    ParamSpec {
        name: "scales",
        kind: ParamKind::IntList,
        default: "[]",
        doc: "sizes the photo's shorter side is resized to, each at least the window; empty: `num_scales` grown from the window",
    },
    ParamSpec {
        name: "num_scales",
        kind: ParamKind::Int,
        default: "12",
        doc: "how many scales when none are given (the paper's 12: 224, 288, ... for a 224 x 224 photo)",
    },
    ParamSpec {
        name: "scale_step_ratio",
        kind: ParamKind::Float,
        default: "0.2857142857142857",
        doc: "each grown scale is this times the window (rounded half to even) larger than the last: 2/7",
    },
    ParamSpec {
        name: "window",
        kind: ParamKind::Int,
        default: "",
        doc: "side of the square sliding window; none: the photo's shorter side",
    },
    ParamSpec {
        name: "step",
        kind: ParamKind::Int,
        default: "",
        doc: "stride of the sliding window; none: the window (no overlap); windows past the right or bottom border are shifted back inside",
    },
    ParamSpec {
        name: "pre_filter",
        kind: ParamKind::Float,
        default: "0.0",
        doc: "share of the lowest-scoring windows left out before any is explained, in [0, 1)",
    },
    ParamSpec {
        name: "theta",
        kind: ParamKind::Float,
        default: "0.0",
        doc: "values at or below this take no part in the mean fusion",
    },
    ParamSpec {
        name: "pool",
        kind: ParamKind::Str,
        default: "\"mean\"",
        doc: "fusion of the windows' maps: mean (spatial weighted average) or max",
    },
    ParamSpec {
        name: "smooth",
        kind: ParamKind::Bool,
        default: "true",
        doc: "blur the fused map (cv2.GaussianBlur, 11 x 11, sigma 5)",
    },
    ParamSpec {
        name: "softmax_scores",
        kind: ParamKind::Bool,
        default: "true",
        doc: "weigh windows by the target's softmax probability (the paper), else by its logit clipped at 0",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "32",
        doc: "windows per forward pass and per call of the wrapped method",
    },
];

impl Sess {
    /// Builds from `sess` parameters (see [`SESS_PARAMS`]).
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<Sess> {
        let (name, inner) = super::inner_method(params, "method", "grad-cam", ctx)?;
        let given = params.int_list("scales", &[], 1, 1 << 14)?;
        let scales = if given.is_empty() {
            Scales::Grown {
                count: params.usize("num_scales", 12, 1, 1000)?,
                ratio: params.float("scale_step_ratio", 2.0 / 7.0, 0.0, 100.0)?,
            }
        } else {
            Scales::Given(given.into_iter().map(|s| s as usize).collect())
        };
        let optional = |key: &str| -> Result<Option<usize>> {
            if params.contains(key) {
                Ok(Some(params.usize(key, 1, 1, 1 << 14)?))
            } else {
                Ok(None)
            }
        };
        let pre_filter = params.float("pre_filter", 0.0, 0.0, 1.0)?;
        if pre_filter >= 1.0 {
            return Err(params.error(
                "pre_filter",
                pre_filter.to_string(),
                "a share in [0, 1): at least one window must stay",
            ));
        }
        Ok(Sess {
            inner,
            name,
            scales,
            window: optional("window")?,
            step: optional("step")?,
            pre_filter,
            theta: params.float("theta", 0.0, -1e9, 1e9)? as f32,
            max_pool: params.choice("pool", "mean", &["mean", "max"])? == "max",
            smooth: params.bool("smooth", true)?,
            softmax_scores: params.bool("softmax_scores", true)?,
            batch: params.usize("batch", 32, 1, 10_000)?,
        })
    }

    /// The scales for a window of `window` pixels.
    fn scales(&self, window: usize) -> Result<Vec<usize>> {
        let scales = match &self.scales {
            Scales::Given(scales) => scales.clone(),
            Scales::Grown { count, ratio } => {
                let step = (window as f64 * ratio).round_ties_even() as usize;
                (0..*count).map(|i| window + step * i).collect()
            }
        };
        match scales.iter().find(|s| **s < window) {
            Some(small) => Err(NasError::InvalidInput(format!(
                "sess: parameter `scales`: scale {small} is smaller than the {window}-pixel window; every scale must be at least the window"
            ))),
            None => Ok(scales),
        }
    }

    /// One photo `(1, 3, h, w)`'s fused map for `target`.
    fn explain_one(&self, backbone: &dyn Backbone, photo: &NasTensor<4>, target: usize) -> Result<Array2<f32>> {
        let [_, channels, h, w] = photo.dims();
        let window = self.window.unwrap_or(h.min(w));
        if window > h.min(w) {
            return Err(NasError::InvalidInput(format!(
                "sess: parameter `window` = {window} is larger than the {h}x{w} photo's shorter side"
            )));
        }
        let step = self.step.unwrap_or(window);
        let device = photo.device();
        let pixels = to_host(photo.clone())?;
        let mut scaled = Vec::new();
        let mut windows = Vec::new();
        let sizes = self
            .scales(window)?
            .into_iter()
            .map(|scale| {
                let [sh, sw] = if h <= w { [scale, scale * w / h] } else { [scale * h / w, scale] };
                if sh * sw > MAX_SCALED_PIXELS {
                    return Err(NasError::InvalidInput(format!(
                        "sess: scale {scale} makes the {h}x{w} photo {sh}x{sw}, more than {MAX_SCALED_PIXELS} pixels; give smaller `scales`, a smaller `window` or a smaller photo"
                    )));
                }
                Ok([sh, sw])
            })
            .collect::<Result<Vec<_>>>()?;
        for [sh, sw] in sizes {
            let image = pixels
                .chunks(h * w)
                .flat_map(|channel| resize_antialiased(channel, [h, w], [sh, sw]))
                .collect::<Vec<f32>>();
            scaled.push((image, [sh, sw]));
            for y in window_starts(sh, step, window) {
                for x in window_starts(sw, step, window) {
                    windows.push(Window {
                        scale: scaled.len() - 1,
                        x,
                        y,
                    });
                }
            }
        }
        let patch = |at: &Window| -> NasTensor<4> {
            let (image, [sh, sw]) = &scaled[at.scale];
            let values: Vec<f32> = (0..channels)
                .flat_map(|c| (at.y..at.y + window).flat_map(move |y| image[(c * sh + y) * sw + at.x..][..window].iter().copied()))
                .collect();
            NasTensor::from_data(TensorData::new(values, [1, channels, window, window]), &device)
        };
        let task = nas_core::progress::task("sess windows", 2 * windows.len() as u64);
        let mut scores = Vec::with_capacity(windows.len());
        for chunk in windows.chunks(self.batch) {
            task.check()?;
            let logits = backbone.forward(NasTensor::cat(chunk.iter().map(&patch).collect(), 0)).logits;
            let classes = logits.dims()[1];
            if target >= classes {
                return Err(NasError::InvalidInput(format!(
                    "sess: target class {target} is out of range: the backbone has {classes} classes"
                )));
            }
            let outputs = to_host(if self.softmax_scores { softmax(logits, 1) } else { logits })?;
            scores.extend(outputs.chunks(classes).map(|row| row[target].max(0.0)));
            task.advance(chunk.len() as u64);
        }
        // np.argsort, then the lowest-scoring share dropped.
        let mut order: Vec<usize> = (0..windows.len()).collect();
        order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
        let kept = order.split_off((windows.len() as f64 * self.pre_filter) as usize);
        task.advance((windows.len() - kept.len()) as u64);
        let best = kept.last().map_or(0.0, |i| scores[*i]);
        let mut fusion = Fusion::new(h * w, self.theta, self.max_pool);
        for chunk in kept.chunks(self.batch) {
            task.check()?;
            let n = chunk.len();
            let maps = self.inner.explain(
                backbone,
                &NasTensor::cat(chunk.iter().map(|i| patch(&windows[*i])).collect(), 0),
                &vec![target; n],
            )?;
            if maps.len() != n || maps.iter().any(|m| m.dim() != (window, window)) {
                return Err(NasError::InvalidInput(format!(
                    "sess: `{}` gave {} maps for {n} windows of {window}x{window}",
                    self.name,
                    maps.len()
                )));
            }
            for (map, i) in maps.iter().zip(chunk) {
                let weight = if best > 0.0 { scores[*i] / best } else { 1.0 };
                let at = &windows[*i];
                let [sh, sw] = scaled[at.scale].1;
                let mut pasted = vec![0f32; sh * sw];
                for (row, values) in map.rows().into_iter().enumerate() {
                    let start = (at.y + row) * sw + at.x;
                    for (out, v) in pasted[start..start + window].iter_mut().zip(values) {
                        *out = v * weight;
                    }
                }
                fusion.add(&resize_linear(&pasted, [sh, sw], [h, w]));
            }
            task.advance(n as u64);
        }
        let mut map = fusion.result();
        if self.smooth {
            map = gaussian_blur(&map, [h, w], 11, 5.0);
        }
        scale_to_unit(&mut map);
        Array2::from_shape_vec((h, w), map).map_err(|e| NasError::InvalidInput(format!("sess: {e}")))
    }
}

/// The most pixels of one scaled photo (its three channels take 12 bytes a pixel): the default
/// scales grow to about four times the photo's side, which a photo kept at full size
/// (`--no-resize`) would make gigabytes.
const MAX_SCALED_PIXELS: usize = 1 << 25;

/// A window: which scaled photo, and its top-left corner there.
struct Window {
    scale: usize,
    x: usize,
    y: usize,
}

/// The starts of the windows of `window` pixels every `step` along a side of `length`; the
/// last is shifted back inside so that it ends at the border.
fn window_starts(length: usize, step: usize, window: usize) -> Vec<usize> {
    let mut starts = Vec::new();
    for start in (0..length).step_by(step) {
        if start + window >= length {
            starts.push(length.saturating_sub(window));
            break;
        }
        starts.push(start);
    }
    starts
}

/// The fused map: a sum and a count per pixel (mean), or a running maximum.
struct Fusion {
    total: Vec<f32>,
    counts: Vec<f32>,
    theta: f32,
    max_pool: bool,
}

impl Fusion {
    fn new(len: usize, theta: f32, max_pool: bool) -> Fusion {
        Fusion {
            total: vec![0.0; len],
            counts: vec![0.0; len],
            theta,
            max_pool,
        }
    }

    /// Adds one window's map, resized to the photo.
    fn add(&mut self, map: &[f32]) {
        for ((total, count), v) in self.total.iter_mut().zip(&mut self.counts).zip(map) {
            if self.max_pool {
                *total = total.max(*v);
            } else if *v > self.theta {
                *total += v;
                *count += 1.0;
            }
        }
    }

    /// The maximum, or each pixel's mean over the windows that counted there (0 where none did).
    fn result(self) -> Vec<f32> {
        if self.max_pool {
            return self.total;
        }
        self.total
            .iter()
            .zip(&self.counts)
            .map(|(t, c)| if *c > 0.0 { t / c } else { 0.0 })
            .collect()
    }
}

/// Resizes one `h x w` channel to `out_h x out_w` as torchvision's `resize` does a tensor
/// (`F.interpolate(mode="bilinear", align_corners=False, antialias=True)`): a triangle filter
/// widened by the shrink factor when shrinking (plain bilinear interpolation when growing),
/// along rows, then along columns.
pub fn resize_antialiased(channel: &[f32], [h, w]: [usize; 2], [out_h, out_w]: [usize; 2]) -> Vec<f32> {
    let (cols, rows) = (antialiased_taps(w, out_w), antialiased_taps(h, out_h));
    let across: Vec<f32> = channel
        .chunks(w)
        .flat_map(|row| {
            cols.iter()
                .map(move |(start, weights)| weights.iter().zip(&row[*start..]).map(|(a, b)| a * b).sum::<f32>())
        })
        .collect();
    let mut out = Vec::with_capacity(out_h * out_w);
    for (start, weights) in &rows {
        for x in 0..out_w {
            out.push(weights.iter().enumerate().map(|(k, a)| a * across[(start + k) * out_w + x]).sum());
        }
    }
    out
}

/// For each of `to` outputs along a side of `from` inputs, the first input it reads and the
/// normalised weights of the inputs from there (PyTorch's antialiased bilinear taps).
fn antialiased_taps(from: usize, to: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = from as f32 / to as f32;
    let support = scale.max(1.0);
    let inverse = 1.0 / support;
    (0..to)
        .map(|i| {
            let centre = scale * (i as f32 + 0.5);
            let start = ((centre - support + 0.5) as isize).max(0) as usize;
            let end = ((centre + support + 0.5) as isize).clamp(0, from as isize) as usize;
            let weights: Vec<f32> = (start..end)
                .map(|j| (1.0 - ((j as f32 - centre + 0.5) * inverse).abs()).max(0.0))
                .collect();
            let total: f32 = weights.iter().sum();
            let weights = if total != 0.0 {
                weights.iter().map(|v| v / total).collect()
            } else {
                weights
            };
            (start, weights)
        })
        .collect()
}

impl Saliency for Sess {
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        super::photos_with_targets("sess", input, targets)?
            .iter()
            .map(|(photo, target)| self.explain_one(backbone, photo, *target))
            .collect()
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    Ok(Box::new(Sess::from_params(params, ctx)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "sess",
        summary: "SESS (pytorch-grad-cam's): any CAM over windows slid across the photo at several scales, weighted by each window's target score, fused and blurred",
        params: SESS_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cover_the_side_and_the_last_ends_at_the_border() {
        assert_eq!(window_starts(224, 224, 224), vec![0]);
        assert_eq!(window_starts(288, 224, 224), vec![0, 64]);
        assert_eq!(window_starts(480, 224, 224), vec![0, 224, 256]);
        assert_eq!(window_starts(448, 224, 224), vec![0, 224]);
        assert_eq!(window_starts(300, 100, 150), vec![0, 100, 150]);
    }

    #[test]
    fn growing_is_bilinear_and_equal_sizes_are_copies() {
        let channel = [0.0, 1.0, 2.0, 3.0];
        assert_eq!(resize_antialiased(&channel, [2, 2], [2, 2]), channel.to_vec());
        // F.interpolate(torch.tensor([[[[0., 1.]]]]), size=(1, 4), mode="bilinear", antialias=True)
        let grown = resize_antialiased(&[0.0, 1.0], [1, 2], [1, 4]);
        assert_eq!(grown, vec![0.0, 0.25, 0.75, 1.0]);
    }

    #[test]
    fn shrinking_averages_under_a_wider_triangle() {
        // F.interpolate(torch.arange(6.).reshape(1, 1, 1, 6), size=(1, 2), mode="bilinear", antialias=True) = [1.25, 3.75]
        let shrunk = resize_antialiased(&[0.0, 1.0, 2.0, 3.0, 4.0, 5.0], [1, 6], [1, 2]);
        let expected = [1.25, 3.75];
        for (got, want) in shrunk.iter().zip(expected) {
            assert!((got - want).abs() < 1e-5, "{shrunk:?}");
        }
    }
}
