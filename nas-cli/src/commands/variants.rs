//! `nas segment -k 3,5,10 --clusterer ward` (a hierarchy: one Ward tree cut at several K, paper
//! appendix C) and `nas segment --runs N` (consensus of N seeded k-means runs, appendix B).

use super::{backbone_params, open_all, resize};
use crate::cli::SegmentArgs;
use crate::session::Session;
use nas_core::backbone::normalise;
use nas_core::pipeline::ComponentSpec;
use nas_core::segmentation::Segmentation;
use nas_core::{npy, output, render, Batch, Features, NasError, Photo, Result};
use nas_plugins::segmenters::nas::Nas;
use std::path::Path;

fn write_segmentation(out: &Path, name: &str, photo: &Photo, seg: &Segmentation) -> Result<()> {
    npy::write_array(&out.join(format!("{name}.labels.npy")), &seg.labels)?;
    npy::write_array(&out.join(format!("{name}.clusters.npy")), &seg.clusters())?;
    output::write_png(&out.join(format!("{name}.png")), &render::overlay(photo, seg))
}

/// Runs the hierarchy or the consensus.
pub fn run(session: &Session, args: &SegmentArgs, segmenter: ComponentSpec) -> Result<()> {
    if args.method != "nas" {
        return Err(NasError::InvalidInput(format!(
            "several K or --runs need --method nas, not {}",
            args.method
        )));
    }
    let ctx = session.context();
    let ks: Vec<usize> = args.segmenter.k.clone().unwrap_or_else(|| vec![5]);
    let (clusterer_name, clusterer_params) = segmenter.params.component_param("clusterer", "kmeans")?;
    let hierarchy = ks.len() > 1;
    if hierarchy && clusterer_name != "ward" {
        return Err(NasError::InvalidInput(
            "several K (-k 3,5,10) make nested segmentations from one Ward tree: add --clusterer ward".into(),
        ));
    }
    if hierarchy && args.runs > 1 {
        return Err(NasError::InvalidInput("--runs and several K cannot be combined".into()));
    }
    let max_samples = clusterer_params.usize("max_samples", nas_cluster::WARD_DEFAULT_MAX_SAMPLES, 2, usize::MAX)?;
    let seed = clusterer_params.int("seed", 0, 0, i64::MAX)? as u64;
    let nas = Nas::from_params(&segmenter.params, &ctx)?;
    let backbone = session
        .registry
        .backbone(&args.model.backbone, &backbone_params(&args.model), &ctx)?;
    let bar = session.progress(args.images.len(), "images");
    for path in &args.images {
        session.check_stop()?;
        let photos = open_all(std::slice::from_ref(path), resize(&args.model)?)?;
        let photo = &photos[0];
        let input = normalise(&[photo], backbone.info(), backbone.device())?;
        let batch = Batch {
            photos: vec![photo],
            input: Some(input),
        };
        let stem = photo.stem();
        let mut summary = serde_json::json!({"image": photo.path.display().to_string()});
        if hierarchy {
            let cluster = |f: &Features<'_>| -> Result<Vec<Vec<u32>>> {
                nas_cluster::ward(f.dense().view(), &ks, max_samples).map_err(|e| NasError::InvalidInput(format!("ward: {e}")))
            };
            let segs = nas.segment_many(&batch, backbone.as_ref(), &cluster)?.remove(0);
            let mut ordered: Vec<(usize, &Segmentation)> = ks.iter().copied().zip(segs.iter()).collect();
            ordered.sort_by_key(|(k, _)| *k);
            for pair in ordered.windows(2) {
                let (coarse, fine) = (pair[0].1.clusters(), pair[1].1.clusters());
                let nested = nas_cluster::is_nested(coarse.as_slice().unwrap_or(&[]), fine.as_slice().unwrap_or(&[]));
                if !nested {
                    return Err(NasError::InvalidInput(format!(
                        "{stem}: K = {} is not nested in K = {}",
                        pair[1].0, pair[0].0
                    )));
                }
            }
            for (k, seg) in ks.iter().zip(&segs) {
                write_segmentation(&args.out, &format!("{stem}.k{k}"), photo, seg)?;
            }
            summary["nested"] = serde_json::json!(true);
            summary["k"] = serde_json::json!(ks);
            summary["superpixels"] = serde_json::json!(segs.iter().map(|s| s.count()).collect::<Vec<_>>());
        } else {
            let k = nas.k();
            let registry = &session.registry;
            let cluster = |f: &Features<'_>| -> Result<Vec<Vec<u32>>> {
                let mut runs = Vec::with_capacity(args.runs + 1);
                for r in 0..args.runs {
                    let mut p = clusterer_params.clone();
                    p.set("seed", toml::Value::Integer((seed + r as u64) as i64));
                    runs.push(registry.clusterer(&clusterer_name, &p, &ctx)?.cluster(f, k)?);
                }
                let agreed = nas_cluster::consensus(&runs, k, &nas_cluster::ConsensusParams::default())
                    .map_err(|e| NasError::InvalidInput(format!("consensus: {e}")))?;
                runs.push(agreed);
                Ok(runs)
            };
            let segs = nas.segment_many(&batch, backbone.as_ref(), &cluster)?.remove(0);
            let (consensus, runs) = segs.split_last().ok_or_else(|| NasError::InvalidInput("no runs".into()))?;
            let run_labels: Vec<Vec<u32>> = runs.iter().map(|s| s.clusters().iter().copied().collect()).collect();
            let stability = nas_cluster::mean_pairwise_ari(&run_labels).map_err(|e| NasError::InvalidInput(e.to_string()))?;
            write_segmentation(&args.out, &format!("{stem}.consensus"), photo, consensus)?;
            output::write_png(&args.out.join(format!("{stem}.runs.png")), &render::boundaries(photo, runs))?;
            summary["runs"] = serde_json::json!(args.runs);
            summary["mean_pairwise_ari"] = serde_json::json!(stability);
            summary["consensus_superpixels"] = serde_json::json!(consensus.count());
        }
        if args.json {
            bar.suspend(|| println!("{summary}"));
        } else {
            bar.suspend(|| eprintln!("{summary}"));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    eprintln!("results in {}", args.out.display());
    Ok(())
}
