//! Times the gradient at a replaced depth level the way `layer-integrated-gradients` takes it
//! (`level_gradient_replaced`, a batch of path points), starting the network at the level
//! where the backbone can (`Backbone::logits_from_level`), against the whole network run with
//! the level replaced (`hooked_level_gradient` through `forward_hooked`, what every backbone did
//! before) in the same process, at each level. Medians of several runs after a warm-up; the two
//! alternate.
//!
//! ```text
//! cargo run --release -p nas-plugins --example level_start_bench -- <arch> <weights> [runs] [batch]
//! ```
//! `runs` defaults to 5, `batch` to 10 (the path points per pass). The input is a fixed
//! pseudo-random normalised image at 224x224.

mod common;

use nas_core::backbone::{hooked_level_gradient, level_gradient_replaced};
use nas_core::{Objective, LEVELS};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(arch), Some(weights)) = (args.first(), args.get(1)) else {
        return Err("usage: level_start_bench <arch> <weights> [runs] [batch]".into());
    };
    let runs: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(5).max(1);
    let batch: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(10).max(1);
    nas_core::allocation::keep_large_buffers();
    let net = nas_plugins::backbones::load(arch, std::path::Path::new(&weights), nas_core::device::default_device())?;
    let input = common::input(batch, 224, net.device());
    let targets = vec![1usize; batch];
    let objective = Objective::Targets(&targets);
    let levels = net.forward(input.clone()).levels;
    println!("{arch}: gradient at a replaced level, a batch of {batch} at 224x224, medians of {runs} runs");
    for (level, activation) in levels.into_iter().enumerate().take(LEVELS) {
        let point = activation * 0.5;
        let (started, whole) = common::alternate(
            runs,
            || -> nas_core::Result<()> {
                let _ = level_gradient_replaced(net.as_ref(), input.clone(), level, point.clone(), objective)?
                    .grad
                    .into_data();
                Ok(())
            },
            || {
                let _ = hooked_level_gradient(
                    |x, hook| net.forward_hooked(x, hook),
                    input.clone(),
                    level,
                    Some(point.clone()),
                    objective,
                )?
                .grad
                .into_data();
                Ok(())
            },
        )?;
        println!(
            "  level {level}: started at the level {started:>8.1} ms, whole network {whole:>8.1} ms ({:.2}x the time)",
            whole / started
        );
    }
    Ok(())
}
