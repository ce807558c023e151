//! `nas bench`: NAS segmentation timed stage by stage (features, upsample+scale, clustering,
//! components) on a batch of copies of one 224x224 image. The first call pays kernel compilation
//! and autotuning on a GPU; it is reported apart from the steady-state median.

use super::pipeline::parse_pair;
use crate::cli::BenchArgs;
use crate::session::Session;
use nas_core::backbone::normalise;
use nas_core::{Batch, Params, Photo, Resize, Result};
use nas_plugins::segmenters::nas::{Nas, StageTimes};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Runs the command.
pub fn run(session: &Session, args: &BenchArgs) -> Result<()> {
    let backbones = if args.backbones.is_empty() {
        vec!["resnet18".to_string(), "efficientnet-lite0".to_string()]
    } else {
        args.backbones.clone()
    };
    let image = args
        .image
        .clone()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples/images/chelsea.png"));
    let photo = Photo::open(&image, Some(Resize::default()))?;
    let ctx = session.context();
    let mut nas_params = Params::empty("nas");
    for pair in &args.params {
        let (key, value) = parse_pair(pair)?;
        nas_params.set_path_from_str(key, value);
    }
    let batch_size = args.batch.max(1);
    println!(
        "NAS at 224x224, levels [2, 3, 4], K = 5, k-means seed 0, batch {batch_size}, on {:?}; median of {} runs after the first call",
        nas_core::device::plain_device(&session.device),
        args.runs.max(1)
    );
    println!(
        "{:<20} {:>10} {:>14} {:>11} {:>11} {:>10} {:>10} {:>12}",
        "backbone", "features", "upsample+scale", "clustering", "components", "total", "images/s", "first call"
    );
    for name in &backbones {
        let mut params = Params::empty(name.clone());
        if let Some(w) = args.weights.iter().find_map(|p| p.strip_prefix(&format!("{name}="))) {
            params.set("weights", toml::Value::String(w.to_string()));
        }
        let backbone = session.registry.backbone(name, &params, &ctx)?;
        let nas = Nas::from_params(&nas_params, &ctx)?;
        let photos = vec![&photo; batch_size];
        let input = normalise(&photos, backbone.info(), backbone.device())?;
        let batch = Batch {
            photos,
            input: Some(input),
        };
        let mut first = Duration::ZERO;
        let mut all: Vec<StageTimes> = Vec::new();
        for run in 0..=args.runs.max(1) {
            session.check_stop()?;
            let start = Instant::now();
            let (_, times) = nas.segment_timed(&batch, backbone.as_ref())?;
            if run == 0 {
                first = start.elapsed();
            } else {
                all.push(times);
            }
        }
        let pick = |f: fn(&StageTimes) -> Duration| median(all.iter().map(f).collect());
        let total = median(
            all.iter()
                .map(|t| t.features + t.upsample_scale + t.clustering + t.components)
                .collect(),
        );
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        println!(
            "{:<20} {:>10} {:>14} {:>11} {:>11} {:>10} {:>10.1} {:>12}",
            name,
            ms(pick(|t| t.features)),
            ms(pick(|t| t.upsample_scale)),
            ms(pick(|t| t.clustering)),
            ms(pick(|t| t.components)),
            ms(total),
            batch_size as f64 / total.as_secs_f64().max(1e-9),
            ms(first)
        );
    }
    Ok(())
}
