//! Times each distinct convolution of ResNet-18 at 224x224 (batch 1 unless given) and prints the
//! median time, the algorithm and the rate in direct-convolution GFLOP/s, to see which layers
//! dominate and how far each is from the machine's matrix-product rate.
//!
//! ```text
//! cargo run --release -p nas-conv --example resnet18_layers -- [runs] [batch]
//! ```

use nas_conv::{Conv2dPlan, ConvGeometry};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runs: usize = args.first().map(|s| s.parse()).transpose()?.unwrap_or(20).max(1);
    let batch: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(1).max(1);
    // (name, in, out, kernel, stride, padding, input side, count in the network)
    let layers = [
        ("stem 7x7/2", 3, 64, 7, 2, 3, 224, 1),
        ("layer1 3x3", 64, 64, 3, 1, 1, 56, 4),
        ("layer2 3x3/2", 64, 128, 3, 2, 1, 56, 1),
        ("layer2 1x1/2", 64, 128, 1, 2, 0, 56, 1),
        ("layer2 3x3", 128, 128, 3, 1, 1, 28, 3),
        ("layer3 3x3/2", 128, 256, 3, 2, 1, 28, 1),
        ("layer3 1x1/2", 128, 256, 1, 2, 0, 28, 1),
        ("layer3 3x3", 256, 256, 3, 1, 1, 14, 3),
        ("layer4 3x3/2", 256, 512, 3, 2, 1, 14, 1),
        ("layer4 1x1/2", 256, 512, 1, 2, 0, 14, 1),
        ("layer4 3x3", 512, 512, 3, 1, 1, 7, 3),
    ];
    let mut total = 0.0;
    println!(
        "{:<14} {:>9} {:>9} {:>8} {:>6}  algorithm",
        "layer", "ms", "x count", "GFLOP/s", "count"
    );
    for (name, ins, outs, kernel, stride, pad, side, count) in layers {
        let geometry = ConvGeometry::symmetric(ins, outs, kernel, stride, pad);
        let weight: Vec<f32> = (0..geometry.weight_len())
            .map(|i| ((i * 7919 % 1009) as f32 - 504.0) * 1e-3)
            .collect();
        let input: Vec<f32> = (0..batch * ins * side * side)
            .map(|i| ((i * 104_729 % 997) as f32 - 498.0) * 1e-3)
            .collect();
        let plan = Conv2dPlan::new(geometry, &weight, None)?;
        let mut times = Vec::with_capacity(runs);
        let mut out_side = 0;
        for run in 0..=runs {
            let start = Instant::now();
            let out = plan.run(&input, batch, side, side, nas_conv::Activation::Identity)?;
            if run > 0 {
                times.push(start.elapsed().as_secs_f64() * 1e3);
            }
            out_side = out.height;
        }
        times.sort_by(f64::total_cmp);
        let ms = times[times.len() / 2];
        let flops = 2.0 * (batch * outs * out_side * out_side * ins * kernel * kernel) as f64;
        total += ms * count as f64;
        println!(
            "{name:<14} {ms:>9.3} {:>9.3} {:>8.1} {count:>6}  {:?}",
            ms * count as f64,
            flops / ms / 1e6,
            plan.algorithm()
        );
    }
    println!("all convolutions: {total:.2} ms");
    Ok(())
}
