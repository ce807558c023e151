//! `nas segment`, `nas explain` and `nas run`: each builds a pipeline and runs it image by image.

use super::{backbone_params, resize};
use crate::cli::{ExplainArgs, RunArgs, SegmentArgs, SegmenterArgs};
use crate::session::Session;
use crate::throughput::Throughput;
use nas_core::pipeline::{write_summary, ComponentSpec, Only, Pipeline, Runner, TableRow, Target};
use nas_core::Images;
use nas_core::{NasError, Params, Result};

/// Splits `name=value`.
pub fn parse_pair(pair: &str) -> Result<(&str, &str)> {
    pair.split_once('=')
        .ok_or_else(|| NasError::InvalidInput(format!("--param `{pair}`: expected name=value")))
}

fn segmenter_spec(method: &str, args: &SegmenterArgs) -> ComponentSpec {
    let mut params = Params::empty(method);
    if let Some(layers) = &args.layers {
        params.set(
            "levels",
            toml::Value::Array(layers.iter().map(|l| toml::Value::Integer(i64::from(*l))).collect()),
        );
    }
    if let Some(k) = args.k.as_ref().and_then(|ks| ks.first()) {
        params.set("k", toml::Value::Integer(*k as i64));
    }
    if let Some(c) = &args.clusterer {
        params.set("clusterer", toml::Value::String(c.clone()));
    }
    if let Some(seed) = args.seed {
        params.set_path_from_str("clusterer.seed", &seed.to_string());
    }
    ComponentSpec {
        name: method.to_string(),
        params,
    }
}

/// Runs `nas segment`.
pub fn segment(session: &Session, args: &SegmentArgs) -> Result<()> {
    let mut segmenter = segmenter_spec(&args.method, &args.segmenter);
    for pair in &args.params {
        let (key, value) = parse_pair(pair)?;
        segmenter.params.set_path_from_str(key, value);
    }
    let several_k = args.segmenter.k.as_ref().is_some_and(|ks| ks.len() > 1);
    if several_k || args.runs > 1 {
        return super::variants::run(session, args, segmenter);
    }
    let pipeline = Pipeline {
        images: Images::Files(args.images.clone()),
        out: args.out.clone(),
        resize: resize(&args.model)?,
        batch: args.model.batch.max(1),
        target: Target::Predicted,
        only: Only::All,
        backbone: Some(ComponentSpec {
            name: args.model.backbone.clone(),
            params: backbone_params(&args.model),
        }),
        segmenters: vec![(segmenter.name.clone(), segmenter)],
        saliency: Vec::new(),
        metrics: Vec::new(),
    };
    execute(session, pipeline, args.json)
}

/// Runs `nas explain`.
pub fn explain(session: &Session, args: &ExplainArgs) -> Result<()> {
    let mut saliency = ComponentSpec::named(&args.method);
    let mut backbone = ComponentSpec {
        name: args.model.backbone.clone(),
        params: backbone_params(&args.model),
    };
    let mut segmenter = (args.segmenter != "none").then(|| segmenter_spec(&args.segmenter, &args.segmenter_args));
    let mut metrics: Vec<ComponentSpec> = args.metrics.iter().map(|m| ComponentSpec::named(m)).collect();
    for pair in &args.params {
        let (key, value) = parse_pair(pair)?;
        match key.split_once('.') {
            Some(("backbone", rest)) => backbone.params.set_path_from_str(rest, value),
            Some(("segmenter", rest)) => match segmenter.as_mut() {
                Some(s) => s.params.set_path_from_str(rest, value),
                None => return Err(NasError::InvalidInput(format!("--param {pair}: no segmenter (--segmenter none)"))),
            },
            Some(("metric", rest)) => metrics.iter_mut().for_each(|m| m.params.set_path_from_str(rest, value)),
            _ => saliency.params.set_path_from_str(key, value),
        }
    }
    let pipeline = Pipeline {
        images: Images::Files(args.images.clone()),
        out: args.out.clone(),
        resize: resize(&args.model)?,
        batch: args.model.batch.max(1),
        target: args.target.map_or(Target::Predicted, Target::Class),
        only: Only::All,
        backbone: Some(backbone),
        segmenters: segmenter.map(|s| (s.name.clone(), s)).into_iter().collect(),
        saliency: vec![(saliency.name.clone(), saliency)],
        metrics: metrics.into_iter().map(|m| (m.name.clone(), m)).collect(),
    };
    execute(session, pipeline, args.json)
}

/// Runs `nas run`.
pub fn run(session: &Session, args: &RunArgs) -> Result<()> {
    let pipeline = Pipeline::from_file(&args.pipeline)?;
    execute(session, pipeline, args.json)
}

fn execute(session: &Session, pipeline: Pipeline, json: bool) -> Result<()> {
    let ctx = session.context();
    let out = pipeline.out.clone();
    let runner = Runner::new(pipeline, &ctx)?;
    let count = runner.len();
    let bar = session.progress(count, "images");
    let mut clock = Throughput::start(runner.pipeline().batch.min(count));
    let reports = runner.run(&session.stop, |report| {
        bar.inc(1);
        clock.image_done();
        if json {
            bar.suspend(|| println!("{}", serde_json::json!(report)));
        }
    })?;
    bar.finish_and_clear();
    let table = runner.table(&reports)?;
    let summary = write_summary(&out, &reports, &table)?;
    if !json {
        for r in &reports {
            let mut parts = Vec::new();
            if let Some(p) = r.predicted {
                parts.push(match &r.predicted_name {
                    Some(name) => format!("predicted {p} ({name})"),
                    None => format!("predicted {p}"),
                });
            }
            if r.skipped {
                parts.push("skipped (`only`)".to_string());
            }
            if let Some(n) = r.superpixels {
                parts.push(format!("{n} superpixels"));
            }
            for (label, n) in &r.superpixels_by_segmenter {
                parts.push(format!("{n} superpixels ({label})"));
            }
            eprintln!("{}: {}", r.image, parts.join(", "));
            let (map_width, metric_width) = r
                .scores
                .iter()
                .fold((0, 0), |(m, n), s| (m.max(s.map.len()), n.max(s.metric.len())));
            for s in &r.scores {
                eprintln!("  {:<map_width$}  {:<metric_width$}  {:.4}", s.map, s.metric, s.value);
            }
        }
        if reports.len() > 1 && !table.is_empty() {
            eprintln!("over {} photos:", reports.iter().filter(|r| !r.skipped).count());
            let width = |field: fn(&TableRow) -> &str| table.iter().map(|r| field(r).len()).max().unwrap_or(0);
            let (map_width, metric_width, stat_width) = (width(|r| &r.map), width(|r| &r.metric), width(|r| &r.statistic));
            for row in &table {
                eprintln!(
                    "  {:<map_width$}  {:<metric_width$}  {:<stat_width$}  {:.4}",
                    row.map, row.metric, row.statistic, row.value
                );
            }
        }
        eprintln!(
            "results in {} ({})",
            out.display(),
            summary.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
        if let Some(line) = clock.report() {
            eprintln!("{line}");
        }
    }
    Ok(())
}
