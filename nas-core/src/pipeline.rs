//! TOML pipelines: which images, which backbone, segmenter, saliency methods and metrics, and
//! where results go; and the runner that executes them image by image.

use crate::backbone::{normalise, predicted_classes};
use crate::component::{Batch, MetricInput};
use crate::error::{NasError, Result};
use crate::params::Params;
use crate::photo::{Photo, Resize};
use crate::registry::{Context, Registry};
use crate::segmentation::superpixelify;
use crate::{npy, output, render, Backbone, Metric, Saliency, Segmenter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// A component chosen by name with its parameters.
#[derive(Debug, Clone)]
pub struct ComponentSpec {
    /// Registered name.
    pub name: String,
    /// Its parameters.
    pub params: Params,
}

impl ComponentSpec {
    /// A component with default parameters.
    pub fn named(name: &str) -> ComponentSpec {
        ComponentSpec {
            name: name.to_string(),
            params: Params::empty(name),
        }
    }
}

/// A whole run, as read from a pipeline file or assembled by the CLI.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Photos to process.
    pub images: Vec<PathBuf>,
    /// Folder for results.
    pub out: PathBuf,
    /// torchvision-style resize and centre crop; `None` keeps the photo as it is.
    pub resize: Option<Resize>,
    /// Images per forward pass.
    pub batch: usize,
    /// Class to explain; `None` explains each photo's predicted class.
    pub target: Option<usize>,
    /// The classifier.
    pub backbone: Option<ComponentSpec>,
    /// The superpixel method.
    pub segmenter: Option<ComponentSpec>,
    /// Saliency methods.
    pub saliency: Vec<ComponentSpec>,
    /// Metrics applied to every saliency map (raw and superpixelified).
    pub metrics: Vec<ComponentSpec>,
}

const TOP_KEYS: &[&str] = &[
    "images",
    "out",
    "resize",
    "batch",
    "target",
    "backbone",
    "segmenter",
    "saliency",
    "metric",
];

impl Pipeline {
    /// Reads a pipeline file; image and output paths are relative to the file's folder.
    pub fn from_file(path: &Path) -> Result<Pipeline> {
        let text = std::fs::read_to_string(path).map_err(|e| NasError::io(path, e))?;
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| NasError::Pipeline {
            path: path.to_path_buf(),
            reason: format!("not valid TOML: {e}"),
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Pipeline::from_table(table, base).map_err(|e| match e {
            NasError::Pipeline { reason, .. } => NasError::Pipeline {
                path: path.to_path_buf(),
                reason,
            },
            NasError::Param {
                component,
                key,
                value,
                expected,
            } => NasError::Pipeline {
                path: path.to_path_buf(),
                reason: format!("[{component}] `{key}` = {value}: {expected}"),
            },
            other => other,
        })
    }

    /// Builds a pipeline from a parsed TOML table.
    pub fn from_table(table: toml::Table, base: &Path) -> Result<Pipeline> {
        let bad = |reason: String| NasError::Pipeline {
            path: PathBuf::new(),
            reason,
        };
        for key in table.keys() {
            if !TOP_KEYS.contains(&key.as_str()) {
                return Err(bad(format!("unknown key `{key}`; valid keys: {}", TOP_KEYS.join(", "))));
            }
        }
        let images = match table.get("images") {
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(|s| join_clean(base, s))
                        .ok_or_else(|| bad(format!("`images`: {v} is not a path string")))
                })
                .collect::<Result<Vec<_>>>()?,
            Some(toml::Value::String(s)) => vec![join_clean(base, s)],
            Some(other) => return Err(bad(format!("`images` = {other}: expected a list of paths"))),
            None => return Err(bad("`images` is missing: give a list of photo paths".into())),
        };
        let out = match table.get("out") {
            Some(toml::Value::String(s)) => join_clean(base, s),
            Some(other) => return Err(bad(format!("`out` = {other}: expected a folder path"))),
            None => join_clean(base, "nas-out"),
        };
        let top = Params::new("pipeline", table.clone());
        let resize = if top.bool("resize", true)? { Some(Resize::default()) } else { None };
        let batch = top.usize("batch", 1, 1, 4096)?;
        let target = if table.contains_key("target") {
            Some(top.usize("target", 0, 0, usize::MAX)?)
        } else {
            None
        };
        let one = |key: &str| -> Result<Option<ComponentSpec>> {
            match table.get(key) {
                None => Ok(None),
                Some(v) => spec_from_value(key, v).map(Some),
            }
        };
        let many = |key: &str| -> Result<Vec<ComponentSpec>> {
            match table.get(key) {
                None => Ok(Vec::new()),
                Some(toml::Value::Array(items)) => items.iter().map(|v| spec_from_value(key, v)).collect(),
                Some(v) => Ok(vec![spec_from_value(key, v)?]),
            }
        };
        Ok(Pipeline {
            images,
            out,
            resize,
            batch,
            target,
            backbone: one("backbone")?,
            segmenter: one("segmenter")?,
            saliency: many("saliency")?,
            metrics: many("metric")?,
        })
    }
}

/// `base/relative` with `dir/..` pairs removed, so that messages show `nas-out/x.png` rather
/// than `examples/../nas-out/x.png`.
fn join_clean(base: &Path, relative: &str) -> PathBuf {
    let mut out = PathBuf::new();
    for part in base.join(relative).components() {
        match part {
            std::path::Component::ParentDir if matches!(out.components().next_back(), Some(std::path::Component::Normal(_))) => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        out
    }
}

fn spec_from_value(key: &str, value: &toml::Value) -> Result<ComponentSpec> {
    let bad = |reason: String| NasError::Pipeline {
        path: PathBuf::new(),
        reason,
    };
    match value {
        toml::Value::String(name) => Ok(ComponentSpec::named(name)),
        toml::Value::Table(t) => {
            let mut t = t.clone();
            let name = match t.remove("name") {
                Some(toml::Value::String(s)) => s,
                Some(other) => return Err(bad(format!("[{key}] `name` = {other}: expected a component name"))),
                None => return Err(bad(format!("[{key}] needs a `name` key (see `nas list`)"))),
            };
            Ok(ComponentSpec {
                params: Params::new(name.clone(), t),
                name,
            })
        }
        other => Err(bad(format!("`{key}` = {other}: expected a table with a `name` key"))),
    }
}

/// One metric score of one map, for summaries.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ScoreRow {
    /// Image path.
    pub image: String,
    /// Saliency method, with `+superpixel` when averaged over superpixels.
    pub map: String,
    /// Metric name.
    pub metric: String,
    /// Target class.
    pub target: usize,
    /// The score.
    pub value: f64,
    /// The curve the score integrates, `(x, y)` points, for curve metrics (empty otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub curve: Vec<(f64, f64)>,
}

/// What happened to one image.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageReport {
    /// Image path.
    pub image: String,
    /// Predicted class, when a backbone ran.
    pub predicted: Option<usize>,
    /// Class explained.
    pub target: Option<usize>,
    /// Number of superpixels, when a segmenter ran.
    pub superpixels: Option<usize>,
    /// Files written.
    pub files: Vec<String>,
    /// Metric scores.
    pub scores: Vec<ScoreRow>,
}

/// The components of a pipeline, created once and reused for every batch.
pub struct Runner<'r> {
    pipeline: Pipeline,
    backbone: Option<Box<dyn Backbone>>,
    segmenter: Option<Box<dyn Segmenter>>,
    saliency: Vec<(String, Box<dyn Saliency>)>,
    metrics: Vec<(String, Box<dyn Metric>)>,
    _registry: &'r Registry,
}

impl<'r> Runner<'r> {
    /// Creates every component, failing early on unknown names or bad parameters.
    pub fn new(pipeline: Pipeline, ctx: &Context<'r>) -> Result<Runner<'r>> {
        let registry = ctx.registry;
        let segmenter = match &pipeline.segmenter {
            Some(s) => Some(registry.segmenter(&s.name, &s.params, ctx)?),
            None => None,
        };
        let needs_backbone = !pipeline.saliency.is_empty() || segmenter.as_ref().is_some_and(|s| s.needs_backbone());
        let backbone = match (&pipeline.backbone, needs_backbone) {
            (Some(b), true) => Some(registry.backbone(&b.name, &b.params, ctx)?),
            (None, true) => {
                return Err(NasError::Pipeline {
                    path: PathBuf::new(),
                    reason: "a [backbone] is needed by the segmenter or saliency methods".into(),
                })
            }
            (_, false) => None,
        };
        let saliency = pipeline
            .saliency
            .iter()
            .map(|s| Ok((s.name.clone(), registry.saliency(&s.name, &s.params, ctx)?)))
            .collect::<Result<Vec<_>>>()?;
        let metrics = pipeline
            .metrics
            .iter()
            .map(|m| Ok((m.name.clone(), registry.metric(&m.name, &m.params, ctx)?)))
            .collect::<Result<Vec<_>>>()?;
        if !metrics.is_empty() && saliency.is_empty() {
            return Err(NasError::Pipeline {
                path: PathBuf::new(),
                reason: "metrics score saliency maps: add a [[saliency]] method".into(),
            });
        }
        Ok(Runner {
            pipeline,
            backbone,
            segmenter,
            saliency,
            metrics,
            _registry: registry,
        })
    }

    /// The pipeline being run.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Processes all images in batches; `on_image` is called after each image (for progress),
    /// and `stop` is checked between batches so that Ctrl-C ends the run cleanly.
    pub fn run(&self, stop: &AtomicBool, mut on_image: impl FnMut(&ImageReport)) -> Result<Vec<ImageReport>> {
        let mut reports = Vec::new();
        for chunk in self.pipeline.images.chunks(self.pipeline.batch) {
            if stop.load(Ordering::Relaxed) {
                return Err(NasError::Interrupted);
            }
            let photos = chunk
                .iter()
                .map(|p| Photo::open(p, self.pipeline.resize))
                .collect::<Result<Vec<_>>>()?;
            for report in self.run_batch(&photos)? {
                on_image(&report);
                reports.push(report);
            }
        }
        Ok(reports)
    }

    /// Processes one batch of photos.
    pub fn run_batch(&self, photos: &[Photo]) -> Result<Vec<ImageReport>> {
        let refs: Vec<&Photo> = photos.iter().collect();
        let out = &self.pipeline.out;
        let input = match &self.backbone {
            Some(b) => Some(normalise(&refs, b.info(), b.device())?),
            None => None,
        };
        let mut reports: Vec<ImageReport> = photos
            .iter()
            .map(|p| ImageReport {
                image: p.path.display().to_string(),
                predicted: None,
                target: None,
                superpixels: None,
                files: Vec::new(),
                scores: Vec::new(),
            })
            .collect();
        let mut targets = Vec::new();
        if let (Some(backbone), Some(input)) = (&self.backbone, &input) {
            let predicted = predicted_classes(&backbone.forward(input.clone().detach()).logits)?;
            targets = predicted.iter().map(|p| self.pipeline.target.unwrap_or(*p)).collect();
            for (r, (p, t)) in reports.iter_mut().zip(predicted.iter().zip(&targets)) {
                r.predicted = Some(*p);
                r.target = Some(*t);
            }
        }
        let segmentations = match &self.segmenter {
            Some(seg) => {
                let batch = Batch {
                    photos: refs.clone(),
                    input: input.clone(),
                };
                Some(seg.segment(&batch, self.backbone.as_deref())?)
            }
            None => None,
        };
        let write = |report: &mut ImageReport, name: String, result: Result<()>| -> Result<()> {
            result?;
            report.files.push(out.join(name).display().to_string());
            Ok(())
        };
        if let Some(segs) = &segmentations {
            for ((photo, seg), report) in photos.iter().zip(segs).zip(reports.iter_mut()) {
                let stem = photo.stem();
                report.superpixels = Some(seg.count());
                write(
                    report,
                    format!("{stem}.labels.npy"),
                    npy::write_array(&out.join(format!("{stem}.labels.npy")), &seg.labels),
                )?;
                write(
                    report,
                    format!("{stem}.clusters.npy"),
                    npy::write_array(&out.join(format!("{stem}.clusters.npy")), &seg.clusters()),
                )?;
                write(
                    report,
                    format!("{stem}.png"),
                    output::write_png(&out.join(format!("{stem}.png")), &render::overlay(photo, seg)),
                )?;
            }
        }
        let (Some(backbone), Some(input)) = (&self.backbone, &input) else {
            return Ok(reports);
        };
        for (method, saliency) in &self.saliency {
            let maps = saliency.explain(backbone.as_ref(), input, &targets)?;
            for (i, (photo, map)) in photos.iter().zip(&maps).enumerate() {
                let stem = photo.stem();
                let report = &mut reports[i];
                let single = input.clone().narrow(0, i, 1);
                // (label in scores, file name part, map, segmentation it was averaged over)
                let mut variants = vec![(method.clone(), method.clone(), map.clone(), None)];
                if let Some(segs) = &segmentations {
                    variants.push((
                        format!("{method}+superpixel"),
                        format!("{method}.superpixel"),
                        superpixelify(map, &segs[i]),
                        Some(&segs[i]),
                    ));
                }
                for (label, file, values, seg) in variants {
                    write(
                        report,
                        format!("{stem}.{file}.npy"),
                        npy::write_array(&out.join(format!("{stem}.{file}.npy")), &values),
                    )?;
                    write(
                        report,
                        format!("{stem}.{file}.png"),
                        output::write_png(&out.join(format!("{stem}.{file}.png")), &render::heatmap(photo, &values)),
                    )?;
                    for (metric_name, metric) in &self.metrics {
                        if seg.is_none() && metric.needs_segmentation() {
                            continue;
                        }
                        let score = metric.score(&MetricInput {
                            backbone: backbone.as_ref(),
                            input: &single,
                            saliency: &values,
                            segmentation: seg,
                            target: targets[i],
                        })?;
                        report.scores.push(ScoreRow {
                            image: photo.path.display().to_string(),
                            map: label.clone(),
                            metric: metric_name.clone(),
                            target: targets[i],
                            value: score.value,
                            curve: score.curve,
                        });
                    }
                }
            }
        }
        Ok(reports)
    }
}

/// A CSV field (RFC 4180): quoted, with quotes doubled, when it holds a comma, a quote or a
/// line break (an image path may).
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// Writes `summary.json` (every image report), `report.html` and, if there are scores,
/// `scores.csv`.
pub fn write_summary(out: &Path, reports: &[ImageReport]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let json = serde_json::to_vec_pretty(reports).map_err(|e| NasError::io(out, std::io::Error::other(e)))?;
    let summary = out.join("summary.json");
    output::write_bytes(&summary, &json)?;
    written.push(summary);
    let rows: Vec<&ScoreRow> = reports.iter().flat_map(|r| &r.scores).collect();
    if !rows.is_empty() {
        let mut csv = String::from("image,map,metric,target,value\n");
        for r in rows {
            csv.push_str(&format!(
                "{},{},{},{},{}\n",
                csv_field(&r.image),
                csv_field(&r.map),
                csv_field(&r.metric),
                r.target,
                r.value
            ));
        }
        let path = out.join("scores.csv");
        output::write_bytes(&path, csv.as_bytes())?;
        written.push(path);
    }
    written.push(crate::report::write_html(out, reports)?);
    Ok(written)
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_with_commas_and_quotes_are_quoted() {
        assert_eq!(super::csv_field("photos/cat.png"), "photos/cat.png");
        assert_eq!(super::csv_field("a,b.png"), "\"a,b.png\"");
        assert_eq!(super::csv_field("say \"cheese\".png"), "\"say \"\"cheese\"\".png\"");
    }
}
