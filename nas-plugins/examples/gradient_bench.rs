//! Times one backbone's input gradient at 224x224 on the CPU, the way gradient saliency methods
//! take it (`Backbone::input_gradient`: one forward and one backward pass), against the same
//! gradient by burn's automatic differentiation in the same process, and a plain forward pass
//! for scale. Medians of several runs after a warm-up; the runs of the three alternate.
//!
//! ```text
//! cargo run --release -p nas-plugins --example gradient_bench -- <arch> <weights> [runs] [batch]
//! ```
//! `runs` defaults to 5, `batch` to 10 (Integrated Gradients' default path points per pass). The
//! input is a fixed pseudo-random normalised image.

mod common;

use common::{median, ms};
use nas_core::backbone::autodiff_input_gradient;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(arch), Some(weights)) = (args.first(), args.get(1)) else {
        return Err("usage: gradient_bench <arch> <weights> [runs] [batch]".into());
    };
    let runs: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(5).max(1);
    let batch: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(10).max(1);
    // The allocator settings of the `nas` binary, so that the timings are the ones users get.
    nas_core::allocation::keep_large_buffers();
    let net = nas_plugins::backbones::load(arch, std::path::Path::new(&weights), nas_core::device::default_device())?;

    let side = 224;
    let input = common::input(batch, side, net.device());
    let targets = vec![1usize; batch];

    let (mut ours, mut autodiff, mut forward) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..=runs {
        let start = Instant::now();
        let _ = net.input_gradient(input.clone(), &targets)?.grad.into_data();
        let t_ours = start.elapsed();
        let start = Instant::now();
        let _ = autodiff_input_gradient(net.as_ref(), input.clone(), &targets)?.grad.into_data();
        let t_autodiff = start.elapsed();
        let start = Instant::now();
        let _ = net.forward(input.clone()).logits.into_data();
        let t_forward = start.elapsed();
        if run > 0 {
            ours.push(t_ours);
            autodiff.push(t_autodiff);
            forward.push(t_forward);
        }
    }
    let (ours, autodiff, forward) = (median(ours), median(autodiff), median(forward));
    println!("{arch}: input gradient of a batch of {batch} at {side}x{side}, medians of {runs} runs");
    println!("  Backbone::input_gradient      {:>8.1} ms", ms(ours));
    println!(
        "  burn's automatic differentiation {:>5.1} ms ({:.2}x the time)",
        ms(autodiff),
        ms(autodiff) / ms(ours)
    );
    println!(
        "  forward pass alone            {:>8.1} ms ({:.2} of the gradient's time)",
        ms(forward),
        ms(forward) / ms(ours)
    );
    Ok(())
}
