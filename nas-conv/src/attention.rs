//! Multi-head scaled dot-product attention on host values, `softmax(q k^T * scale + terms) v`
//! for every head of every group of tokens: a ViT's image (one group) or a Swin Transformer's
//! windows (one group each), computed in one pass per group and head so that the scores never
//! leave the cache. The queries, keys and values come packed as PyTorch's attention
//! projections write them, `(tokens, 3, heads, head_dim)`.

use crate::error::ConvError;
use crate::exp::exp;
use crate::matmul::{multiply, Layout};
use nas_simd::vectorized;
use rayon::prelude::*;

/// The sizes of an attention: groups of `tokens` tokens attending within their group, with
/// `heads` heads of `head_dim` channels each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttentionShape {
    /// Groups of tokens (images, or windows of all images).
    pub groups: usize,
    /// Tokens per group.
    pub tokens: usize,
    /// Attention heads.
    pub heads: usize,
    /// Channels per head.
    pub head_dim: usize,
}

impl AttentionShape {
    /// Channels of a token's output, `heads * head_dim`.
    pub fn channels(&self) -> usize {
        self.heads * self.head_dim
    }
}

/// Terms added to the scaled scores before the softmax, each a stack of `(tokens, tokens)`
/// matrices: a Swin Transformer's relative position bias (one per head) and its shifted windows'
/// mask (one per window of an image).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScoreTerms<'a> {
    /// `(heads, tokens, tokens)`: head `h`'s scores get matrix `h`.
    pub per_head: Option<&'a [f32]>,
    /// `(period, tokens, tokens)`: group `g`'s scores get matrix `g % period`.
    pub per_group: Option<&'a [f32]>,
}

/// The attention's output `(groups * tokens, heads * head_dim)`, heads side by side as PyTorch
/// concatenates them, from `qkv` `(groups * tokens, 3, heads, head_dim)`. Queries are scaled
/// before their products with the keys, as torchvision's Swin does.
pub fn attention(qkv: &[f32], shape: AttentionShape, scale: f32, terms: ScoreTerms<'_>) -> Result<Vec<f32>, ConvError> {
    let AttentionShape {
        groups,
        tokens,
        heads,
        head_dim,
    } = shape;
    let channels = shape.channels();
    let square = tokens * tokens;
    check_length(
        "qkv",
        qkv.len(),
        groups * tokens * 3 * channels,
        format!("({groups} x {tokens}, 3, {heads}, {head_dim})"),
    )?;
    if let Some(per_head) = terms.per_head {
        check_length(
            "per-head score terms",
            per_head.len(),
            heads * square,
            format!("({heads}, {tokens}, {tokens})"),
        )?;
    }
    let period = match terms.per_group {
        Some(per_group) if square > 0 && per_group.len() % square == 0 && !per_group.is_empty() => per_group.len() / square,
        Some(per_group) => {
            return Err(ConvError::Length {
                what: "per-group score terms",
                shape: format!("(period, {tokens}, {tokens})"),
                expected: square.max(1),
                actual: per_group.len(),
            })
        }
        None => 1,
    };
    // One task per group and head, so that a single image's heads spread over the threads too.
    let heads_out: Vec<Vec<f32>> = (0..groups * heads)
        .into_par_iter()
        .map_init(
            || Scratch::new(tokens, head_dim),
            |scratch, task| {
                let (group, head) = (task / heads, task % heads);
                let qkv = &qkv[group * tokens * 3 * channels..][..tokens * 3 * channels];
                let bias = [
                    terms.per_head.map(|t| &t[head * square..][..square]),
                    terms.per_group.map(|t| &t[(group % period) * square..][..square]),
                ];
                let mut context = vec![0f32; tokens * head_dim];
                vectorized(
                    #[inline(always)]
                    || scratch.head(qkv, &mut context, shape, head, scale, bias),
                );
                context
            },
        )
        .collect();
    let mut out = vec![0f32; groups * tokens * channels];
    for (task, context) in heads_out.iter().enumerate() {
        let (group, head) = (task / heads, task % heads);
        for (t, row) in context.chunks_exact(head_dim.max(1)).enumerate() {
            out[(group * tokens + t) * channels + head * head_dim..][..head_dim].copy_from_slice(row);
        }
    }
    Ok(out)
}

/// Refuses a buffer whose length is not the one its shape needs.
fn check_length(what: &'static str, actual: usize, expected: usize, shape: String) -> Result<(), ConvError> {
    if actual == expected {
        Ok(())
    } else {
        Err(ConvError::Length {
            what,
            shape,
            expected,
            actual,
        })
    }
}

/// The working buffers of one head of one group, reused by each thread across its tasks.
struct Scratch {
    /// The scaled queries of one head, `(tokens, head_dim)`.
    queries: Vec<f32>,
    /// The keys of one head transposed, `(head_dim, tokens)`.
    keys_t: Vec<f32>,
    /// Scores, then probabilities, `(tokens, tokens)`.
    scores: Vec<f32>,
}

impl Scratch {
    fn new(tokens: usize, head_dim: usize) -> Scratch {
        Scratch {
            queries: vec![0.0; tokens * head_dim],
            keys_t: vec![0.0; head_dim * tokens],
            scores: vec![0.0; tokens * tokens],
        }
    }

    /// Head `head` of one group, its context `(tokens, head_dim)` written to `out`.
    #[inline(always)]
    fn head(&mut self, qkv: &[f32], out: &mut [f32], shape: AttentionShape, head: usize, scale: f32, bias: [Option<&[f32]>; 2]) {
        let AttentionShape { tokens, head_dim, .. } = shape;
        let channels = shape.channels();
        let stride = 3 * channels;
        let at = head * head_dim;
        for t in 0..tokens {
            let row = &qkv[t * stride..][..stride];
            for (q, &v) in self.queries[t * head_dim..][..head_dim].iter_mut().zip(&row[at..][..head_dim]) {
                *q = v * scale;
            }
            for (d, &k) in row[channels + at..][..head_dim].iter().enumerate() {
                self.keys_t[d * tokens + t] = k;
            }
        }
        let (square, queries, keys) = (
            Layout::dense(tokens, tokens),
            Layout::dense(tokens, head_dim),
            Layout::dense(head_dim, tokens),
        );
        multiply(&mut self.scores, square, &self.queries, queries, &self.keys_t, keys, 1);
        for (i, scores) in self.scores.chunks_exact_mut(tokens).enumerate() {
            for term in bias.iter().flatten() {
                for (s, &b) in scores.iter_mut().zip(&term[i * tokens..][..tokens]) {
                    *s += b;
                }
            }
            softmax_in_place(scores);
        }
        let values = Layout {
            offset: 2 * channels + at,
            rows: tokens,
            cols: head_dim,
            row_stride: stride,
        };
        multiply(out, queries, &self.scores, square, qkv, values, 1);
    }
}

/// `exp(s - max) / sum` over one row of scores. The exponentials are a loop of their own, so
/// that it vectorises; the sum, whose order is fixed, is another.
#[inline(always)]
fn softmax_in_place(scores: &mut [f32]) {
    let max = scores.iter().fold(f32::NEG_INFINITY, |m, &s| m.max(s));
    for s in scores.iter_mut() {
        *s = exp(*s - max);
    }
    let sum: f32 = scores.iter().sum();
    for s in scores.iter_mut() {
        *s /= sum;
    }
}
