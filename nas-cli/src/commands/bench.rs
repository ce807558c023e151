//! `nas bench`: NAS segmentation timed stage by stage (features, upsample+scale, clustering,
//! components), after one warm-up run, on one 224x224 image.

use crate::cli::BenchArgs;
use crate::session::Session;
use nas_core::backbone::normalise;
use nas_core::{Batch, NasError, Params, Photo, Resize, Result};
use nas_plugins::segmenters::nas::{Nas, StageTimes};
use std::path::PathBuf;
use std::time::Duration;

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
    println!(
        "NAS at 224x224, levels [2, 3, 4], K = 5, k-means seed 0; median of {} runs after 1 warm-up",
        args.runs.max(1)
    );
    println!(
        "{:<20} {:>10} {:>14} {:>11} {:>11} {:>10}",
        "backbone", "features", "upsample+scale", "clustering", "components", "total"
    );
    for name in &backbones {
        let mut params = Params::empty(name.clone());
        if let Some(w) = args.weights.iter().find_map(|p| p.strip_prefix(&format!("{name}="))) {
            params.set("weights", toml::Value::String(w.to_string()));
        }
        let backbone = session.registry.backbone(name, &params, &ctx)?;
        let nas = Nas::from_params(&Params::empty("nas"), &ctx)?;
        let input = normalise(&[&photo], backbone.info(), backbone.device())?;
        let batch = Batch {
            photos: vec![&photo],
            input: Some(input),
        };
        let mut all: Vec<StageTimes> = Vec::new();
        for run in 0..=args.runs.max(1) {
            session.check_stop()?;
            let (_, times) = nas.segment_timed(&batch, backbone.as_ref())?;
            if run > 0 {
                all.push(times);
            }
        }
        if all.is_empty() {
            return Err(NasError::InvalidInput("no timed runs".into()));
        }
        let pick = |f: fn(&StageTimes) -> Duration| median(all.iter().map(f).collect());
        let total = median(
            all.iter()
                .map(|t| t.features + t.upsample_scale + t.clustering + t.components)
                .collect(),
        );
        let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1e3);
        println!(
            "{:<20} {:>10} {:>14} {:>11} {:>11} {:>10}",
            name,
            ms(pick(|t| t.features)),
            ms(pick(|t| t.upsample_scale)),
            ms(pick(|t| t.clustering)),
            ms(pick(|t| t.components)),
            ms(total)
        );
    }
    Ok(())
}
