//! Times the host attention kernel on the shapes of the built-in transformers at 224x224 (batch
//! 1 unless given): one Swin-T block of each stage (49-token windows, a bias per head, a mask
//! per window) and one ViT-B/16 and ViT-L/16 block (197 tokens). Prints the median time and the
//! rate in GFLOP/s of the two products (scores and context), to compare with the machine's
//! matrix-product rate (`resnet18_layers`).
//!
//! ```text
//! cargo run --release -p nas-conv --example attention_shapes -- [runs] [batch]
//! ```

use nas_conv::{attention, AttentionShape, ScoreTerms};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().map(|s| s.parse()).transpose()?.unwrap_or(20).max(1);
    let batch: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1).max(1);
    // (name, groups per image, tokens, heads, head_dim, with Swin's terms)
    let shapes = [
        ("swin_t stage 1", 64, 49, 3, 32, true),
        ("swin_t stage 2", 16, 49, 6, 32, true),
        ("swin_t stage 3", 4, 49, 12, 32, true),
        ("swin_t stage 4", 1, 49, 24, 32, true),
        ("vit_b_16 block", 1, 197, 12, 64, false),
        ("vit_l_16 block", 1, 197, 16, 64, false),
    ];
    for (name, per_image, tokens, heads, head_dim, swin) in shapes {
        let shape = AttentionShape {
            groups: batch * per_image,
            tokens,
            heads,
            head_dim,
        };
        let pseudo = |n: usize, seed: usize| -> Vec<f32> { (0..n).map(|i| (((i * 7919 + seed) % 1000) as f32 / 500.0) - 1.0).collect() };
        let qkv = pseudo(shape.groups * tokens * 3 * shape.channels(), 1);
        let per_head = pseudo(heads * tokens * tokens, 2);
        let per_group = pseudo(per_image * tokens * tokens, 3);
        let terms = if swin {
            ScoreTerms {
                per_head: Some(&per_head),
                per_group: Some(&per_group),
            }
        } else {
            ScoreTerms::default()
        };
        let mut times = Vec::with_capacity(runs);
        for _ in 0..=runs {
            let start = Instant::now();
            std::hint::black_box(attention(&qkv, shape, 0.125, terms)?);
            times.push(start.elapsed().as_secs_f64());
        }
        times.remove(0);
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let flops = 4.0 * (shape.groups * heads * tokens * tokens * head_dim) as f64;
        println!("{name:16} {:8.3} ms  {:6.1} GFLOP/s", median * 1e3, flops / median / 1e9);
    }
    Ok(())
}
