//! Times Quantus's faithfulness and robustness metrics as nas computes them, per photo: resnet18
//! with the given weights, the shared chelsea-224 photo and the gradient x input map of the test
//! fixtures (the robustness metrics remake it with the `gradient` method), each metric with the
//! settings of `scripts/bench_quantus.py` (which times Quantus itself on the same inputs right
//! after, in `scripts/bench-quantus.sh`). Medians of `runs` after a warm-up.
//!
//! ```text
//! cargo run --release -p nas-plugins --example quantus_bench -- <shared folder> [runs]
//! ```

mod common;

use common::{median, ms};
use nas_core::ndarray::Ix2;
use nas_core::{npy, MetricInput, Params, Registry};
use std::path::PathBuf;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shared = PathBuf::from(args.first().ok_or("usage: quantus_bench <shared folder> [runs]")?);
    let runs: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(3).max(1);
    // The allocator settings of the `nas` binary, so that the timings are the ones users get.
    nas_core::allocation::keep_large_buffers();
    nas_plugins::link();
    let registry = Registry::builtin();
    let ctx = nas_core::Context {
        registry: &registry,
        device: nas_core::device::default_device(),
        cache_dir: std::env::temp_dir(),
    };
    let net = nas_plugins::backbones::load("resnet18", &shared.join("weights/resnet18-seed0.pth"), ctx.device.clone())?;
    let photo = nas_core::Photo::open(&shared.join("images/chelsea-224.png"), None)?;
    let input = nas_core::backbone::normalise(&[&photo], net.info(), net.device())?;
    let target = nas_core::backbone::predicted_classes(&net.forward(input.clone()).logits)?[0];
    let map_file = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gradient/resnet18-seed0.chelsea-224.npy");
    let map = npy::read::<f32>(&map_file)?.into_dimensionality::<Ix2>()?;
    let metric_input = MetricInput {
        backbone: net.as_ref(),
        input: &input,
        saliency: &map,
        segmentation: None,
        target,
        annotation: &Default::default(),
    };
    let cases: [(&str, &[(&str, i64)]); 8] = [
        ("pixel-flipping", &[("step", 224)]),
        ("region-perturbation", &[]),
        ("selectivity", &[("patch", 16)]),
        ("irof", &[]),
        ("faithfulness-estimate", &[("step", 224)]),
        ("faithfulness-correlation", &[]),
        ("max-sensitivity", &[("samples", 20)]),
        ("local-lipschitz-estimate", &[("samples", 20)]),
    ];
    let gradient = registry.saliency("gradient", &Params::empty("gradient"), &ctx)?;
    let explain =
        |variants: &nas_core::NasTensor<4>, class: usize| gradient.explain(net.as_ref(), variants, &vec![class; variants.dims()[0]]);
    for (name, settings) in cases {
        let mut params = Params::empty(name);
        for (key, value) in settings {
            params.set(key, toml::Value::Integer(*value));
        }
        let metric = registry.metric(name, &params, &ctx)?;
        let mut times = Vec::with_capacity(runs);
        let mut value = f64::NAN;
        for run in 0..=runs {
            let start = Instant::now();
            value = metric.score_explained(&metric_input, &explain)?.value;
            if run > 0 {
                times.push(start.elapsed());
            }
        }
        println!("nas {name}: {:.0} ms (score {value:.6})", ms(median(times)));
    }
    Ok(())
}
