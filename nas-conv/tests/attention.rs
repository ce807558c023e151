//! The host attention kernel against its definition in `f64`.

mod common;

use common::random;
use nas_conv::{attention, AttentionShape, ScoreTerms};

/// Values in [-2, 2]: scores spread enough that the softmax is far from uniform.
fn scaled(values: Vec<f32>) -> Vec<f32> {
    values.into_iter().map(|v| 2.0 * v).collect()
}

/// The definition in `f64`, one group, head and query at a time.
fn reference(qkv: &[f32], shape: AttentionShape, scale: f32, terms: ScoreTerms<'_>) -> Vec<f64> {
    let AttentionShape {
        groups,
        tokens,
        heads,
        head_dim,
    } = shape;
    let c = shape.channels();
    let square = tokens * tokens;
    let mut out = vec![0f64; groups * tokens * c];
    for g in 0..groups {
        let at = |t: usize, part: usize, h: usize, d: usize| f64::from(qkv[((g * tokens + t) * 3 + part) * c + h * head_dim + d]);
        for h in 0..heads {
            for i in 0..tokens {
                let scores: Vec<f64> = (0..tokens)
                    .map(|j| {
                        let dot: f64 = (0..head_dim).map(|d| at(i, 0, h, d) * f64::from(scale) * at(j, 1, h, d)).sum();
                        let head_term = terms.per_head.map_or(0.0, |t| f64::from(t[h * square + i * tokens + j]));
                        let period = terms.per_group.map_or(1, |t| t.len() / square);
                        let group_term = terms
                            .per_group
                            .map_or(0.0, |t| f64::from(t[(g % period) * square + i * tokens + j]));
                        dot + head_term + group_term
                    })
                    .collect();
                let max = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                let sum: f64 = weights.iter().sum();
                for d in 0..head_dim {
                    out[(g * tokens + i) * c + h * head_dim + d] = (0..tokens).map(|j| weights[j] / sum * at(j, 2, h, d)).sum();
                }
            }
        }
    }
    out
}

/// Swin's shape (49-token windows, a bias per head, a mask per window) and ViT's (one group,
/// no terms) against the definition in `f64`.
#[test]
fn attention_matches_the_definition() {
    for (shape, with_terms) in [
        (
            AttentionShape {
                groups: 6,
                tokens: 49,
                heads: 3,
                head_dim: 8,
            },
            true,
        ),
        (
            AttentionShape {
                groups: 2,
                tokens: 17,
                heads: 2,
                head_dim: 5,
            },
            false,
        ),
    ] {
        let qkv = scaled(random(shape.groups * shape.tokens * 3 * shape.channels(), 7));
        let square = shape.tokens * shape.tokens;
        let per_head = scaled(random(shape.heads * square, 8));
        let mut per_group = scaled(random(3 * square, 9));
        per_group.iter_mut().step_by(5).for_each(|m| *m = -100.0);
        let terms = if with_terms {
            ScoreTerms {
                per_head: Some(&per_head),
                per_group: Some(&per_group),
            }
        } else {
            ScoreTerms::default()
        };
        let ours = attention(&qkv, shape, 0.35, terms).expect("valid shapes");
        let exact = reference(&qkv, shape, 0.35, terms);
        let worst = ours.iter().zip(&exact).map(|(a, b)| (f64::from(*a) - b).abs()).fold(0.0, f64::max);
        assert!(worst < 2e-6, "{shape:?}: worst difference {worst}");
    }
}

#[test]
fn mismatched_buffers_are_refused() {
    let shape = AttentionShape {
        groups: 2,
        tokens: 4,
        heads: 2,
        head_dim: 3,
    };
    let qkv = vec![0.0; 2 * 4 * 3 * 6];
    assert!(attention(&qkv[1..], shape, 1.0, ScoreTerms::default()).is_err());
    let bad = vec![0.0; 5];
    assert!(attention(
        &qkv,
        shape,
        1.0,
        ScoreTerms {
            per_head: Some(&bad),
            per_group: None
        }
    )
    .is_err());
    assert!(attention(
        &qkv,
        shape,
        1.0,
        ScoreTerms {
            per_head: None,
            per_group: Some(&bad)
        }
    )
    .is_err());
    assert!(attention(
        &qkv,
        shape,
        1.0,
        ScoreTerms {
            per_head: None,
            per_group: Some(&[])
        }
    )
    .is_err());
}
