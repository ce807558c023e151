//! Times one backbone's forward pass at 224x224, batch 1, on the CPU: the median of several runs
//! after a warm-up, split into the stretches between depth levels (a hook stamps the time at each
//! level; the CPU backend runs eagerly, so a stretch is the work done in it). The fastest run is
//! printed too: on a shared machine it is the figure least disturbed by other processes.
//!
//! ```text
//! cargo run --release -p nas-plugins --example forward_bench -- <arch> <weights> [runs] [batch]
//! ```
//! `runs` defaults to 5, `batch` to 1. The input is a fixed pseudo-random normalised image. Each
//! run is paired with a baseline run of the same network inside a differentiable scope (burn's
//! own convolution kernels, which automatic differentiation needs), and the ratio of the medians
//! is printed.

mod common;

use common::{median, ms};
use nas_core::{LevelHook, NasTensor, LEVELS};
use std::time::{Duration, Instant};

/// Records when each depth level is reached.
struct Stamps(Vec<Instant>);

impl LevelHook for Stamps {
    fn level(&mut self, _index: usize, activation: NasTensor<4>) -> NasTensor<4> {
        self.0.push(Instant::now());
        activation
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(arch), Some(weights)) = (args.first(), args.get(1)) else {
        return Err("usage: forward_bench <arch> <weights> [runs] [batch]".into());
    };
    let runs: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(5).max(1);
    let batch: usize = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(1).max(1);

    let load_start = Instant::now();
    let net = nas_plugins::backbones::load(arch, std::path::Path::new(&weights), nas_core::device::default_device())?;
    let load = load_start.elapsed();

    let side = 224;
    let input = common::input(batch, side, net.device());

    let mut totals = Vec::with_capacity(runs);
    let mut stretches: Vec<Vec<Duration>> = (0..=LEVELS).map(|_| Vec::with_capacity(runs)).collect();
    let mut baseline = Vec::with_capacity(runs);
    for run in 0..=runs {
        // Baseline in the same process: burn's differentiable kernels, which a differentiable
        // scope selects instead of the CPU's prepared convolutions.
        let scope = nas_core::differentiable::differentiable();
        let start = Instant::now();
        let _ = net.forward_hooked(input.clone(), &mut Stamps(Vec::new())).into_data();
        if run > 0 {
            baseline.push(start.elapsed());
        }
        drop(scope);

        let mut stamps = Stamps(Vec::with_capacity(LEVELS));
        let start = Instant::now();
        let logits = net.forward_hooked(input.clone(), &mut stamps);
        let _ = logits.into_data();
        let end = Instant::now();
        if run == 0 {
            continue; // warm-up
        }
        totals.push(end - start);
        let mut previous = start;
        for (i, t) in stamps.0.iter().chain(std::iter::once(&end)).enumerate() {
            stretches[i].push(*t - previous);
            previous = *t;
        }
    }
    let fastest = totals.iter().copied().min().unwrap_or_default();
    let total = median(totals);
    println!("{arch}: batch {batch} at {side}x{side}, weights loaded in {:.0} ms", ms(load));
    println!(
        "{arch}: forward median of {runs} = {:.1} ms (fastest {:.1} ms)",
        ms(total),
        ms(fastest)
    );
    println!(
        "{arch}: the same forward with burn's differentiable kernels: median {:.1} ms ({:.2}x the time)",
        ms(median(baseline.clone())),
        ms(median(baseline)) / ms(total)
    );
    for (i, s) in stretches.into_iter().enumerate() {
        let label = match i {
            0 => "input -> level 0".to_string(),
            LEVELS => format!("level {} -> logits", LEVELS - 1),
            _ => format!("level {} -> level {i}", i - 1),
        };
        let m = median(s);
        println!("  {label:<20} {:>8.1} ms  {:>5.1}%", ms(m), 100.0 * ms(m) / ms(total));
    }
    Ok(())
}
