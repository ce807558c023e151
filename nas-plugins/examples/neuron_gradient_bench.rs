//! Times the gradient of a unit of each depth level with respect to a batch of inputs, the way
//! the neuron methods take it (`Backbone::neuron_gradient`: the backbone's own backward pass,
//! started at the level), against burn's automatic differentiation of the whole network
//! (`neuron_input_gradient`, what every backbone did before), in the same process. Medians of
//! several runs after a warm-up; the two alternate.
//!
//! ```text
//! cargo run --release -p nas-plugins --example neuron_gradient_bench -- <arch> <weights> [runs] [batch]
//! ```
//! `runs` defaults to 5, `batch` to 10 (path points per pass, as `neuron-integrated-gradients`
//! takes them). The input is a fixed pseudo-random normalised image at 224x224; the unit is the
//! middle of the level's grid, channel 0.

mod common;

use nas_core::backbone::neuron_input_gradient;
use nas_core::{Neuron, ReluGradient, LEVELS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(arch), Some(weights)) = (args.first(), args.get(1)) else {
        return Err("usage: neuron_gradient_bench <arch> <weights> [runs] [batch]".into());
    };
    let runs: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(5).max(1);
    let batch: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(10).max(1);
    nas_core::allocation::keep_large_buffers();
    let net = nas_plugins::backbones::load(arch, std::path::Path::new(&weights), nas_core::device::default_device())?;
    let input = common::input(batch, 224, net.device());
    let levels = net.forward(input.clone()).levels;
    println!("{arch}: a unit's input gradient, a batch of {batch} at 224x224, medians of {runs} runs");
    for (level, activation) in levels.into_iter().enumerate().take(LEVELS) {
        let [_, _, h, w] = activation.dims();
        let neuron = Neuron::At {
            channel: 0,
            y: h / 2,
            x: w / 2,
        };
        let (own, autodiff) = common::alternate(
            runs,
            || -> nas_core::Result<()> {
                let _ = net
                    .neuron_gradient(input.clone(), level, neuron, ReluGradient::Standard)?
                    .grad
                    .into_data();
                Ok(())
            },
            || {
                let _ = neuron_input_gradient(net.as_ref(), input.clone(), level, neuron)?.grad.into_data();
                Ok(())
            },
        )?;
        println!(
            "  level {level}: own backward pass {own:>8.1} ms, automatic differentiation {autodiff:>8.1} ms ({:.2}x the time)",
            autodiff / own
        );
    }
    Ok(())
}
