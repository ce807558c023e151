//! RISE's causal metrics (Petsiuk et al. 2018, the authors' `CausalMetric`): the deletion game
//! removes pixels, most salient first, `step` at a time, setting them to zero in the normalised
//! input; the insertion game starts from a blurred photo and puts the photo's pixels back in the
//! same order. The target's softmax probability is recorded after every step and the score is
//! the area under that curve (trapezoid rule over the fraction of pixels changed). Deletion:
//! smaller is better; insertion: larger is better.

use nas_core::burn::tensor::module::conv2d;
use nas_core::burn::tensor::ops::ConvOptions;
use nas_core::burn::tensor::TensorData;
use nas_core::deletion::{progressive_scores, trapezoid, Change};
use nas_core::{Context, Metric, MetricInput, NasTensor, ParamKind, ParamSpec, Params, Result, Score};

/// Which game.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Game {
    /// Remove the most salient pixels first.
    Deletion,
    /// Insert the most salient pixels first into a blurred photo.
    Insertion,
}

/// The `causal` metric.
pub struct Causal {
    game: Game,
    step: usize,
    batch: usize,
    probability: bool,
}

/// Parameters of `causal`.
pub const CAUSAL_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "game",
        kind: ParamKind::Str,
        default: "\"deletion\"",
        doc: "deletion (most salient pixels set to zero first) or insertion (into a blurred photo)",
    },
    ParamSpec {
        name: "step",
        kind: ParamKind::Int,
        default: "224",
        doc: "pixels changed per step (the authors' notebook: 224)",
    },
    ParamSpec {
        name: "scores",
        kind: ParamKind::Str,
        default: "\"probability\"",
        doc: "probability (softmax, as the authors' notebook) or logit",
    },
    ParamSpec {
        name: "batch",
        kind: ParamKind::Int,
        default: "16",
        doc: "images per forward pass",
    },
];

/// Side of the authors' blur kernel (`gkern(klen=11, nsig=5)`).
const BLUR_SIDE: usize = 11;
/// Its sigma.
const BLUR_SIGMA: f64 = 5.0;

/// The authors' blur kernel: scipy's `gaussian_filter(delta, 5)` of an 11 x 11 delta (mode
/// "reflect", truncated at 4 sigma), which is the outer product of the same filter in 1-D.
pub fn blur_kernel() -> Vec<f32> {
    let radius = (4.0 * BLUR_SIGMA + 0.5) as i64;
    let weights: Vec<f64> = (-radius..=radius)
        .map(|k| (-0.5 * (k * k) as f64 / (BLUR_SIGMA * BLUR_SIGMA)).exp())
        .collect();
    let total: f64 = weights.iter().sum();
    let n = BLUR_SIDE as i64;
    // scipy's "reflect": ... c b a | a b c ... d | d c b ..., with period 2n.
    let reflect = |j: i64| {
        let m = j.rem_euclid(2 * n);
        if m < n {
            m
        } else {
            2 * n - 1 - m
        }
    };
    let centre = n / 2;
    let line: Vec<f64> = (0..n)
        .map(|i| {
            (-radius..=radius)
                .zip(&weights)
                .filter(|(k, _)| reflect(i + k) == centre)
                .map(|(_, w)| w / total)
                .sum()
        })
        .collect();
    line.iter().flat_map(|a| line.iter().map(move |b| (a * b) as f32)).collect()
}

/// The photo blurred channel by channel with [`blur_kernel`], zero-padded (`conv2d(x, kern,
/// padding=5)` in the authors' code).
pub fn blurred(photo: &NasTensor<4>) -> NasTensor<4> {
    let kernel = blur_kernel();
    let weights: Vec<f32> = (0..3).flat_map(|_| kernel.iter().copied()).collect();
    let weight = NasTensor::<4>::from_data(TensorData::new(weights, [3, 1, BLUR_SIDE, BLUR_SIDE]), &photo.device());
    let pad = BLUR_SIDE / 2;
    conv2d(
        photo.clone().detach(),
        weight,
        None,
        ConvOptions::new([1, 1], [pad, pad], [1, 1], 3),
    )
}

impl Causal {
    /// Pixel indices, most salient first; equal values in decreasing index order, as
    /// `np.flip(np.argsort(..., kind="stable"))` (the authors' default sort leaves equal values
    /// in no defined order).
    fn salient_order(map: &[f32]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..map.len()).collect();
        order.sort_by(|&a, &b| map[b].total_cmp(&map[a]).then(b.cmp(&a)));
        order
    }
}

impl Metric for Causal {
    fn score(&self, input: &MetricInput<'_>) -> Result<Score> {
        let (h, w) = input.single_image("causal")?;
        let pixels = h * w;
        let values: Vec<f32> = input.saliency.iter().copied().collect();
        let order = Causal::salient_order(&values);
        let steps = pixels.div_ceil(self.step);
        let (change, substrate) = match self.game {
            Game::Deletion => (Change::Remove, None),
            Game::Insertion => (Change::Reveal, Some(blurred(input.input))),
        };
        let measure = |logits: NasTensor<2>| {
            if self.probability {
                nas_core::burn::tensor::activation::softmax(logits, 1)
            } else {
                logits
            }
        };
        let groups: Vec<&[usize]> = order.chunks(self.step).collect();
        let scores = progressive_scores(input, &groups, change, substrate.as_ref(), self.batch, &measure)?;
        let curve: Vec<(f64, f64)> = scores.into_iter().enumerate().map(|(i, s)| (i as f64 / steps as f64, s)).collect();
        Ok(Score {
            value: trapezoid(&curve),
            curve,
        })
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Metric>> {
    let game = match params.choice("game", "deletion", &["deletion", "insertion"])?.as_str() {
        "insertion" => Game::Insertion,
        _ => Game::Deletion,
    };
    Ok(Box::new(Causal {
        game,
        step: params.usize("step", 224, 1, usize::MAX)?,
        batch: params.usize("batch", 16, 1, 4096)?,
        probability: params.choice("scores", "probability", &["probability", "logit"])? == "probability",
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "causal",
        summary: "RISE's deletion / insertion game: area under the target's probability as the most salient pixels are removed or inserted into a blurred photo",
        params: CAUSAL_PARAMS,
        factory: nas_core::Factory::Metric(build),
    }
}

#[cfg(test)]
mod tests {
    use super::blur_kernel;

    #[test]
    fn the_blur_kernel_is_symmetric_and_peaks_in_the_middle() {
        let k = blur_kernel();
        assert_eq!(k.len(), 121);
        let at = |r: usize, c: usize| k[r * 11 + c];
        assert!((0..11).all(|r| (0..11).all(|c| at(r, c) == at(c, r) && at(r, c) == at(10 - r, c))));
        assert!(k.iter().all(|&v| v <= at(5, 5) && v > 0.0));
    }
}
