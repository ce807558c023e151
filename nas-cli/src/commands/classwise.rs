//! `nas classwise`: fits the paper's class-wise clustering (Section 4.2.3) on the photos of one
//! class and writes it for the `knn` clusterer.

use crate::cli::ClasswiseArgs;
use crate::session::Session;
use nas_core::backbone::normalise;
use nas_core::ndarray::{concatenate, Array2, Axis};
use nas_core::pipeline::Pipeline;
use nas_core::{Batch, Features, NasError, Result, Source};
use nas_plugins::classwise::{sample_rows, ClassClustering};
use nas_plugins::segmenters::nas::Nas;
use std::cell::RefCell;

/// Runs `nas classwise`.
pub fn run(session: &Session, args: &ClasswiseArgs) -> Result<()> {
    let pipeline = Pipeline::from_file(&args.pipeline)?;
    let bad = |reason: String| NasError::Pipeline {
        path: args.pipeline.clone(),
        reason,
    };
    let backbone_spec = pipeline
        .backbone
        .as_ref()
        .ok_or_else(|| bad("a [backbone] is needed to compute the features".into()))?;
    let segmenter_spec = match pipeline.segmenters.first() {
        Some((_, spec)) if spec.name == "nas" => spec,
        _ => {
            return Err(bad(
                "the first [segmenter] must be `nas`: its levels, grid and scaling make the features".into(),
            ))
        }
    };
    let source = Source::open(&pipeline.images)?;
    let chosen: Vec<usize> = (0..source.len())
        .filter(|&i| args.class.is_none() || source.label(i) == args.class)
        .collect();
    if chosen.is_empty() {
        return Err(bad(format!(
            "no photo of class {} among the pipeline's {} photos",
            args.class.map_or("(any)".to_string(), |c| c.to_string()),
            source.len()
        )));
    }
    let ctx = session.context();
    let backbone = session.registry.backbone(&backbone_spec.name, &backbone_spec.params, &ctx)?;
    let nas = Nas::from_params(&segmenter_spec.params, &ctx)?;
    // The sample grid cannot be finer than the feature grid (`sample_rows` clamps it so).
    let first = source.load(chosen[0], pipeline.resize)?;
    let grid = nas.grid([first.photo.height(), first.photo.width()]);
    let samples = usize::from(args.samples).min(grid[0].min(grid[1]));
    let clusters = args.clusters as usize;
    let points = chosen.len().saturating_mul(samples * samples);
    if points > nas_cluster::WARD_DEFAULT_MAX_SAMPLES {
        return Err(NasError::InvalidInput(format!(
            "{} photos x {}^2 sampled pixels = {points} points, above Ward's {} (memory grows with its square): lower --samples or the dataset's `limit`",
            chosen.len(),
            samples,
            nas_cluster::WARD_DEFAULT_MAX_SAMPLES
        )));
    }
    if clusters > points {
        return Err(NasError::InvalidInput(format!(
            "--clusters {} must be between 1 and the {points} sampled pixels",
            clusters
        )));
    }
    let bar = session.progress(chosen.len(), "photos");
    let sampled: RefCell<Vec<Array2<f32>>> = RefCell::new(Vec::new());
    for chunk in chosen.chunks(pipeline.batch) {
        session.check_stop()?;
        let loaded = chunk.iter().map(|&i| source.load(i, pipeline.resize)).collect::<Result<Vec<_>>>()?;
        let photos: Vec<_> = loaded.iter().map(|s| &s.photo).collect();
        let input = normalise(&photos, backbone.info(), backbone.device())?;
        let [_, _, height, width] = input.dims();
        let grid = nas.grid([height, width]);
        let batch = Batch {
            photos,
            input: Some(input),
        };
        let collect = |features: &Features<'_>| -> Result<Vec<Vec<u32>>> {
            sampled.borrow_mut().push(sample_rows(features, grid, samples));
            Ok(Vec::new())
        };
        nas.segment_many(&batch, backbone.as_ref(), &collect)?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    let sampled = sampled.into_inner();
    let views: Vec<_> = sampled.iter().map(|a| a.view()).collect();
    let points = concatenate(Axis(0), &views).map_err(|e| NasError::InvalidInput(format!("class clustering: {e}")))?;
    let description = format!(
        "pipeline {}, backbone {}, nas {}, class {}, {} photos, {}x{} pixels each",
        args.pipeline.display(),
        backbone_spec.name,
        toml::Value::Table(segmenter_spec.params.table().clone()),
        args.class.map_or("all".to_string(), |c| c.to_string()),
        chosen.len(),
        samples,
        samples
    );
    let model = ClassClustering::fit(points, clusters, description)?;
    model.save(&args.out)?;
    eprintln!(
        "{} pixels of {} photos in {} clusters (sizes {:?}) written to {}",
        model.labels.len(),
        chosen.len(),
        model.clusters,
        model.sizes(),
        args.out.display()
    );
    Ok(())
}
