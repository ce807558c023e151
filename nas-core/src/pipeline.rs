//! TOML pipelines: which images, which backbone, segmenter, saliency methods and metrics, and
//! where results go; and the runner that executes them image by image.

use crate::annotation::Sample;
use crate::backbone::{normalise, predicted_classes};
use crate::component::{Batch, MetricInput, Score, Statistic};
use crate::dataset::{DatasetSpec, Images, Source};
use crate::device::NasTensor;
use crate::error::{NasError, Result};
use crate::params::Params;
use crate::photo::Resize;
use crate::registry::{Context, Registry};
use crate::segmentation::superpixelify;
use crate::{npy, output, render, Backbone, Metric, Saliency, Segmenter};
use ndarray::Array2;
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

/// Which class each photo's maps explain.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target {
    /// The class the backbone predicts (Captum's and pytorch-grad-cam's usual choice).
    Predicted,
    /// One class for every photo.
    Class(usize),
    /// The photo's true class, from an annotated dataset.
    Label,
}

/// Which photos a run explains, by whether the backbone classifies them correctly (the paper's
/// Table 1 splits its photos so).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Only {
    /// Every photo.
    All,
    /// Photos whose predicted class is their label.
    Correct,
    /// Photos whose predicted class is not their label.
    Misclassified,
}

/// A whole run, as read from a pipeline file or assembled by the CLI.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Photos to process: files, or a `[dataset]`.
    pub images: Images,
    /// Folder for results.
    pub out: PathBuf,
    /// How photos are resized (torchvision's centre crop, or wsolevaluation's stretch); `None`
    /// keeps the photo as it is.
    pub resize: Option<Resize>,
    /// Images per forward pass.
    pub batch: usize,
    /// Class to explain.
    pub target: Target,
    /// Photos to explain, by classification (needs labels); the others are reported as skipped.
    pub only: Only,
    /// The classifier.
    pub backbone: Option<ComponentSpec>,
    /// Superpixel methods (`[segmenter]`, or several `[[segmenter]]` tables to compare them),
    /// each with the label that names its files and scores.
    pub segmenters: Vec<(String, ComponentSpec)>,
    /// Saliency methods, each with the label that names its files and scores (its `label` key,
    /// by default its name).
    pub saliency: Vec<(String, ComponentSpec)>,
    /// Metrics applied to every saliency map (raw and superpixelified), each with the label that
    /// names its scores.
    pub metrics: Vec<(String, ComponentSpec)>,
}

const TOP_KEYS: &[&str] = &[
    "images",
    "dataset",
    "out",
    "resize",
    "resize_size",
    "crop_size",
    "batch",
    "target",
    "only",
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
        let images = match (table.get("images"), table.get("dataset")) {
            (Some(toml::Value::Array(items)), None) => Images::Files(
                items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(|s| join_clean(base, s))
                            .ok_or_else(|| bad(format!("`images`: {v} is not a path string")))
                    })
                    .collect::<Result<Vec<_>>>()?,
            ),
            (Some(toml::Value::String(s)), None) => Images::Files(vec![join_clean(base, s)]),
            (Some(other), None) => return Err(bad(format!("`images` = {other}: expected a list of paths"))),
            (None, Some(toml::Value::Table(t))) => Images::Dataset(DatasetSpec::from_params(&Params::new("dataset", t.clone()), base)?),
            (None, Some(other)) => return Err(bad(format!("`dataset` = {other}: expected a table with `format` and `root`"))),
            (Some(_), Some(_)) => return Err(bad("give either `images` or a [dataset], not both".into())),
            (None, None) => return Err(bad("`images` is missing: give a list of photo paths or a [dataset] table".into())),
        };
        let out = match table.get("out") {
            Some(toml::Value::String(s)) => join_clean(base, s),
            Some(other) => return Err(bad(format!("`out` = {other}: expected a folder path"))),
            None => join_clean(base, "nas-out"),
        };
        let top = Params::new("pipeline", table.clone());
        let resize = resize_policy(&top)?;
        let batch = top.usize("batch", 1, 1, 4096)?;
        let target = match table.get("target") {
            None => Target::Predicted,
            Some(toml::Value::String(s)) if s == "predicted" => Target::Predicted,
            Some(toml::Value::String(s)) if s == "label" => Target::Label,
            Some(toml::Value::String(s)) => {
                return Err(bad(format!(
                    "`target` = \"{s}\": expected a class number, \"predicted\" or \"label\""
                )))
            }
            Some(_) => Target::Class(top.usize("target", 0, 0, usize::MAX)?),
        };
        let one = |key: &str| -> Result<Option<ComponentSpec>> {
            match table.get(key) {
                None => Ok(None),
                Some(v) => spec_from_value(key, v).map(Some),
            }
        };
        let only = match top.choice("only", "all", &["all", "correct", "misclassified"])?.as_str() {
            "correct" => Only::Correct,
            "misclassified" => Only::Misclassified,
            _ => Only::All,
        };
        let segmenters = labelled(&table, "segmenter")?;
        let saliency = labelled(&table, "saliency")?;
        // Files are `S.SEGMENTER.png` and `S.METHOD.png`: the two may not share a label.
        if let Some((label, _)) = saliency.iter().find(|(l, _)| segmenters.iter().any(|(s, _)| s == l)) {
            return Err(bad(format!(
                "a [[segmenter]] and a [[saliency]] table are both labelled `{label}`: their files would share names; give one another `label`"
            )));
        }
        Ok(Pipeline {
            only,
            images,
            out,
            resize,
            batch,
            target,
            backbone: one("backbone")?,
            segmenters,
            saliency,
            metrics: labelled(&table, "metric")?,
        })
    }
}

/// `base/relative` with `dir/..` pairs removed, so that messages show `nas-out/x.png` rather
/// than `examples/../nas-out/x.png`.
pub(crate) fn join_clean(base: &Path, relative: &str) -> PathBuf {
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

/// Words output file names use beside labels (`S.labels.npy`, `S.METHOD.superpixel.npy`), so
/// no label may take them.
const RESERVED_LABELS: &[&str] = &["labels", "clusters", "superpixel"];

/// The `[key]` table or `[[key]]` tables (`segmenter`, `saliency`, `metric`), each labelled by
/// its `label` key or, by default, its name; labels must differ, since they name files and
/// scores (two `lrp` composites in one run need two labels).
fn labelled(table: &toml::Table, key: &str) -> Result<Vec<(String, ComponentSpec)>> {
    let bad = |reason: String| NasError::Pipeline {
        path: PathBuf::new(),
        reason,
    };
    let values: Vec<toml::Value> = match table.get(key) {
        None => Vec::new(),
        Some(toml::Value::Array(items)) => items.clone(),
        Some(v) => vec![v.clone()],
    };
    let mut labelled: Vec<(String, ComponentSpec)> = Vec::new();
    for mut value in values {
        let label = match value.as_table_mut().and_then(|t| t.remove("label")) {
            Some(toml::Value::String(l))
                if !l.is_empty() && !l.contains(['/', '\\', '+', '.']) && !RESERVED_LABELS.contains(&l.as_str()) =>
            {
                Some(l)
            }
            Some(other) => {
                return Err(bad(format!(
                    "[{key}] `label` = {other}: expected a non-empty name without '/', '\\', '+' or '.', other than {}",
                    RESERVED_LABELS.join(", ")
                )))
            }
            None => None,
        };
        let spec = spec_from_value(key, &value)?;
        let label = label.unwrap_or_else(|| spec.name.clone());
        if labelled.iter().any(|(l, _)| *l == label) {
            return Err(bad(format!(
                "two [[{key}]] tables are labelled `{label}`: give each a distinct `label` key"
            )));
        }
        labelled.push((label, spec));
    }
    Ok(labelled)
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
    /// Saliency method, with `+superpixel` when averaged over superpixels (`+LABEL` for the
    /// segmenter labelled LABEL when several ran).
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
    /// Whether the report plots the curve (a deletion curve, IoU against threshold), or it only
    /// carries data for the dataset summary.
    #[serde(skip)]
    pub plot: bool,
}

/// What happened to one image.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ImageReport {
    /// Image path.
    pub image: String,
    /// True class, when the photo comes from an annotated dataset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<usize>,
    /// Predicted class, when a backbone ran.
    pub predicted: Option<usize>,
    /// Name of the predicted class: the dataset's class names when the backbone has as many
    /// classes, ImageNet's for 1000-class backbones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_name: Option<String>,
    /// Class explained.
    pub target: Option<usize>,
    /// Number of superpixels, when one segmenter ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub superpixels: Option<usize>,
    /// Number of superpixels of each segmenter, by label, when several ran.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub superpixels_by_segmenter: Vec<(String, usize)>,
    /// Files written.
    pub files: Vec<String>,
    /// Metric scores.
    pub scores: Vec<ScoreRow>,
    /// Left out by the pipeline's `only` (its classification did not match).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub skipped: bool,
}

impl ImageReport {
    /// The report of a photo before anything ran.
    fn new(sample: &Sample) -> ImageReport {
        ImageReport {
            image: sample.photo.path.display().to_string(),
            label: sample.annotation.label,
            predicted: None,
            predicted_name: None,
            target: None,
            superpixels: None,
            superpixels_by_segmenter: Vec::new(),
            files: Vec::new(),
            scores: Vec::new(),
            skipped: false,
        }
    }
}

/// The components of a pipeline, created once and reused for every batch.
pub struct Runner<'r> {
    pipeline: Pipeline,
    source: Source,
    backbone: Option<Box<dyn Backbone>>,
    segmenters: Vec<(String, Box<dyn Segmenter>)>,
    saliency: Vec<(String, Box<dyn Saliency>)>,
    metrics: Vec<(String, Box<dyn Metric>)>,
    _registry: &'r Registry,
}

impl<'r> Runner<'r> {
    /// Creates every component, failing early on unknown names or bad parameters.
    pub fn new(pipeline: Pipeline, ctx: &Context<'r>) -> Result<Runner<'r>> {
        let registry = ctx.registry;
        let source = Source::open(&pipeline.images)?;
        source.check_unique_stems()?;
        let segmenters = pipeline
            .segmenters
            .iter()
            .map(|(label, s)| Ok((label.clone(), registry.segmenter(&s.name, &s.params, ctx)?)))
            .collect::<Result<Vec<_>>>()?;
        let needs_backbone = !pipeline.saliency.is_empty() || segmenters.iter().any(|(_, s)| s.needs_backbone());
        if pipeline.only != Only::All && !needs_backbone {
            return Err(NasError::Pipeline {
                path: PathBuf::new(),
                reason: "`only` selects photos by the backbone's prediction: add a [backbone] and a method that uses it".into(),
            });
        }
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
            .map(|(label, s)| Ok((label.clone(), registry.saliency(&s.name, &s.params, ctx)?)))
            .collect::<Result<Vec<_>>>()?;
        let metrics = pipeline
            .metrics
            .iter()
            .map(|(label, m)| Ok((label.clone(), registry.metric(&m.name, &m.params, ctx)?)))
            .collect::<Result<Vec<_>>>()?;
        if !metrics.is_empty() && saliency.is_empty() {
            return Err(NasError::Pipeline {
                path: PathBuf::new(),
                reason: "metrics score saliency maps: add a [[saliency]] method".into(),
            });
        }
        Ok(Runner {
            pipeline,
            source,
            backbone,
            segmenters,
            saliency,
            metrics,
            _registry: registry,
        })
    }

    /// The pipeline being run.
    pub fn pipeline(&self) -> &Pipeline {
        &self.pipeline
    }

    /// Number of photos the run will process.
    pub fn len(&self) -> usize {
        self.source.len()
    }

    /// Whether there is nothing to process.
    pub fn is_empty(&self) -> bool {
        self.source.is_empty()
    }

    /// Processes all images in batches; `on_image` is called after each image (for progress),
    /// and `stop` is checked between batches so that Ctrl-C ends the run cleanly.
    pub fn run(&self, stop: &AtomicBool, mut on_image: impl FnMut(&ImageReport)) -> Result<Vec<ImageReport>> {
        let mut reports = Vec::new();
        let indices: Vec<usize> = (0..self.source.len()).collect();
        for chunk in indices.chunks(self.pipeline.batch) {
            if stop.load(Ordering::Relaxed) {
                return Err(NasError::Interrupted);
            }
            let samples = chunk
                .iter()
                .map(|&i| self.source.load(i, self.pipeline.resize))
                .collect::<Result<Vec<_>>>()?;
            let predictions = self.selection_predictions(&samples)?;
            let mut keep = vec![true; samples.len()];
            if let Some(predicted) = &predictions {
                for ((k, sample), &p) in keep.iter_mut().zip(&samples).zip(predicted) {
                    *k = self.selected(sample, p)?;
                }
            }
            let kept: Vec<Sample> = samples.iter().zip(&keep).filter(|(_, k)| **k).map(|(s, _)| s.clone()).collect();
            let kept_predictions: Option<Vec<usize>> = predictions
                .as_ref()
                .map(|p| p.iter().zip(&keep).filter(|(_, k)| **k).map(|(p, _)| *p).collect());
            let mut done = self.explain_batch(&kept, kept_predictions.as_deref())?.into_iter();
            for (i, sample) in samples.iter().enumerate() {
                let report = if keep[i] {
                    done.next()
                        .ok_or_else(|| NasError::InvalidInput("pipeline: a photo of the batch got no report".into()))?
                } else {
                    let predicted = predictions.as_ref().map(|p| p[i]);
                    ImageReport {
                        skipped: true,
                        predicted,
                        predicted_name: self
                            .backbone
                            .as_ref()
                            .zip(predicted)
                            .and_then(|(b, p)| self.class_name(p, b.info().num_classes)),
                        ..ImageReport::new(sample)
                    }
                };
                on_image(&report);
                reports.push(report);
            }
        }
        Ok(reports)
    }

    /// Each sample's predicted class when `only` selects photos by it (`None` otherwise).
    fn selection_predictions(&self, samples: &[Sample]) -> Result<Option<Vec<usize>>> {
        let (Some(backbone), true) = (&self.backbone, self.pipeline.only != Only::All) else {
            return Ok(None);
        };
        let photos: Vec<_> = samples.iter().map(|s| &s.photo).collect();
        let input = normalise(&photos, backbone.info(), backbone.device())?;
        Ok(Some(predicted_classes(&backbone.forward(input.detach()).logits)?))
    }

    /// Whether `only` keeps a sample the backbone classed as `predicted`.
    fn selected(&self, sample: &Sample, predicted: usize) -> Result<bool> {
        let label = sample.annotation.label.ok_or_else(|| {
            NasError::InvalidInput(format!(
                "{}: `only` needs each photo's class label; read the photos from a labelled [dataset]",
                sample.photo.path.display()
            ))
        })?;
        Ok((predicted == label) == (self.pipeline.only == Only::Correct))
    }

    /// The name of class `class` of a backbone with `classes` classes, if known.
    fn class_name(&self, class: usize, classes: usize) -> Option<String> {
        match self.source.class_names() {
            Some(names) if names.len() == classes => names.get(class).cloned(),
            _ if classes == 1000 => crate::imagenet::class_name(class).map(str::to_string),
            _ => None,
        }
    }

    /// The class each sample's maps explain.
    fn targets(&self, samples: &[Sample], predicted: &[usize], classes: usize) -> Result<Vec<usize>> {
        samples
            .iter()
            .zip(predicted)
            .map(|(sample, &p)| {
                let target = match self.pipeline.target {
                    Target::Predicted => p,
                    Target::Class(c) => c,
                    Target::Label => sample.annotation.label.ok_or_else(|| {
                        NasError::InvalidInput(format!(
                            "{}: `target = \"label\"` needs a class label; plain image files and STL-10's unlabeled split have none",
                            sample.photo.path.display()
                        ))
                    })?,
                };
                if target >= classes {
                    return Err(NasError::InvalidInput(format!(
                        "{}: target class {target} is not among the backbone's {classes} classes",
                        sample.photo.path.display()
                    )));
                }
                Ok(target)
            })
            .collect()
    }

    /// Processes one batch of photos (all of them: the pipeline's `only` is applied by
    /// [`Runner::run`]).
    pub fn run_batch(&self, samples: &[Sample]) -> Result<Vec<ImageReport>> {
        self.explain_batch(samples, None)
    }

    /// [`Runner::run_batch`], reusing the predicted classes when they are already known.
    fn explain_batch(&self, samples: &[Sample], known: Option<&[usize]>) -> Result<Vec<ImageReport>> {
        if samples.is_empty() {
            return Ok(Vec::new());
        }
        let refs: Vec<_> = samples.iter().map(|s| &s.photo).collect();
        let out = &self.pipeline.out;
        let input = match &self.backbone {
            Some(b) => Some(normalise(&refs, b.info(), b.device())?),
            None => None,
        };
        let mut reports: Vec<ImageReport> = samples.iter().map(ImageReport::new).collect();
        let mut targets = Vec::new();
        if let (Some(backbone), Some(input)) = (&self.backbone, &input) {
            let (predicted, classes) = match known {
                Some(p) => (p.to_vec(), backbone.info().num_classes),
                None => {
                    let logits = backbone.forward(input.clone().detach()).logits;
                    let classes = logits.dims()[1];
                    (predicted_classes(&logits)?, classes)
                }
            };
            targets = self.targets(samples, &predicted, classes)?;
            for (r, (p, t)) in reports.iter_mut().zip(predicted.iter().zip(&targets)) {
                r.predicted = Some(*p);
                r.predicted_name = self.class_name(*p, classes);
                r.target = Some(*t);
            }
        }
        let batch = Batch {
            photos: refs.clone(),
            input: input.clone(),
        };
        // (label, file name part, one segmentation per photo); with one segmenter the files keep
        // their short names (`S.labels.npy`, `S.gradient.superpixel.npy`).
        let one_segmenter = self.segmenters.len() == 1;
        let mut segmentations = Vec::new();
        for (label, segmenter) in &self.segmenters {
            let segs = segmenter.segment(&batch, self.backbone.as_deref())?;
            let part = if one_segmenter { String::new() } else { format!(".{label}") };
            segmentations.push((label.clone(), part, segs));
        }
        // Every method's maps before any file is written: a method the backbone cannot serve
        // (guided backpropagation on a ViT, say) is refused before the first photo's files.
        let explained = match (&self.backbone, &input) {
            (Some(backbone), Some(input)) => self
                .saliency
                .iter()
                .map(|(method, saliency)| {
                    Ok((
                        method,
                        saliency,
                        saliency.explain_photos(backbone.as_ref(), input, &targets, &refs)?,
                    ))
                })
                .collect::<Result<Vec<_>>>()?,
            _ => Vec::new(),
        };
        let write = |report: &mut ImageReport, name: String, result: Result<()>| -> Result<()> {
            result?;
            report.files.push(out.join(name).display().to_string());
            Ok(())
        };
        for (label, part, segs) in &segmentations {
            for ((photo, seg), report) in refs.iter().zip(segs).zip(reports.iter_mut()) {
                let stem = format!("{}{part}", photo.stem());
                if one_segmenter {
                    report.superpixels = Some(seg.count());
                } else {
                    report.superpixels_by_segmenter.push((label.clone(), seg.count()));
                }
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
        for (method, saliency, maps) in &explained {
            for (i, (photo, map)) in refs.iter().zip(maps).enumerate() {
                let stem = photo.stem();
                let report = &mut reports[i];
                let single = input.clone().narrow(0, i, 1);
                // Maps remade for perturbed copies of this photo (robustness metrics), shared by
                // the raw and superpixelified variants and by metrics drawing the same copies.
                let remade = RemadeMaps::default();
                // (label in scores, file name part, map, segmentation it was averaged over)
                let mut variants = vec![(method.to_string(), method.to_string(), map.clone(), None)];
                for (label, _, segs) in &segmentations {
                    let suffix = if one_segmenter { "superpixel" } else { label.as_str() };
                    variants.push((
                        format!("{method}+{suffix}"),
                        format!("{method}.{suffix}"),
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
                    // The same map for variants of this photo (robustness metrics).
                    let explain = |variants: &NasTensor<4>, target: usize| -> Result<Vec<Array2<f32>>> {
                        if !saliency.remakes() {
                            return Err(NasError::InvalidInput(format!(
                                "saliency `{method}` reads its maps from files and cannot remake them for perturbed photos or other classes; robustness and randomisation metrics need a method that computes its maps"
                            )));
                        }
                        let maps = remade.get_or_explain(variants, target, |variants| {
                            let n = variants.dims()[0];
                            saliency.explain_photos(backbone.as_ref(), variants, &vec![target; n], &vec![*photo; n])
                        })?;
                        Ok(match seg {
                            Some(seg) => maps.iter().map(|m| superpixelify(m, seg)).collect(),
                            None => maps,
                        })
                    };
                    for (metric_name, metric) in &self.metrics {
                        if seg.is_none() && metric.needs_segmentation() {
                            continue;
                        }
                        let score = metric
                            .score_explained(
                                &MetricInput {
                                    backbone: backbone.as_ref(),
                                    input: &single,
                                    saliency: &values,
                                    segmentation: seg,
                                    target: targets[i],
                                    annotation: &samples[i].annotation,
                                },
                                &explain,
                            )
                            .map_err(|e| NasError::InvalidInput(format!("{}: {metric_name}: {e}", photo.path.display())))?;
                        report.scores.push(ScoreRow {
                            image: photo.path.display().to_string(),
                            map: label.clone(),
                            metric: metric_name.clone(),
                            target: targets[i],
                            value: score.value,
                            curve: score.curve,
                            plot: metric.plots_curve(),
                        });
                    }
                }
            }
        }
        Ok(reports)
    }
}

/// Raw maps already made for batches of perturbed copies of one photo, by a hash of the batch's
/// values and the target: every variant of the photo's map (raw, each superpixelification) and
/// every metric that draws the same copies (the same seed) reuses them instead of explaining
/// again.
#[derive(Default)]
struct RemadeMaps {
    made: std::cell::RefCell<Vec<(u64, Vec<Array2<f32>>)>>,
}

impl RemadeMaps {
    /// The raw maps of `variants` for class `target`, made by `explain` unless this batch and
    /// target were seen before.
    fn get_or_explain(
        &self,
        variants: &NasTensor<4>,
        target: usize,
        explain: impl FnOnce(&NasTensor<4>) -> Result<Vec<Array2<f32>>>,
    ) -> Result<Vec<Array2<f32>>> {
        use std::hash::{Hash, Hasher};
        let values = variants
            .clone()
            .into_data()
            .into_vec::<f32>()
            .map_err(|e| NasError::InvalidInput(format!("cannot read perturbed photos: {e:?}")))?;
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        variants.dims().hash(&mut hasher);
        target.hash(&mut hasher);
        values.iter().for_each(|v| v.to_bits().hash(&mut hasher));
        let key = hasher.finish();
        if let Some((_, maps)) = self.made.borrow().iter().find(|(k, _)| *k == key) {
            return Ok(maps.clone());
        }
        let maps = explain(variants)?;
        self.made.borrow_mut().push((key, maps.clone()));
        Ok(maps)
    }
}

/// One figure of the results table: a statistic of one metric for one kind of map over all
/// photos (the rows of the paper's tables).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TableRow {
    /// Saliency method, with `+superpixel` when averaged over superpixels (`+LABEL` for the
    /// segmenter labelled LABEL when several ran).
    pub map: String,
    /// Metric name.
    pub metric: String,
    /// Statistic (`mean`, `std`, `MaxBoxAccV2`, ...).
    pub statistic: String,
    /// Its value.
    pub value: f64,
    /// Photos it summarises: those whose score is defined (not NaN) or carries data for the
    /// dataset's figure (a curve; `sensitivity-n`'s photos have no value of their own).
    pub images: usize,
}

impl Runner<'_> {
    /// The results table: each metric's statistics over all photos, per map, in the order the
    /// maps and metrics were first scored.
    pub fn table(&self, reports: &[ImageReport]) -> Result<Vec<TableRow>> {
        let mut groups: Vec<((String, String), Vec<Score>)> = Vec::new();
        for row in reports.iter().flat_map(|r| &r.scores) {
            let key = (row.map.clone(), row.metric.clone());
            let score = Score {
                value: row.value,
                curve: row.curve.clone(),
            };
            match groups.iter_mut().find(|(k, _)| *k == key) {
                Some((_, scores)) => scores.push(score),
                None => groups.push((key, vec![score])),
            }
        }
        let mut rows = Vec::new();
        for ((map, metric_name), scores) in groups {
            let Some((_, metric)) = self.metrics.iter().find(|(name, _)| *name == metric_name) else {
                return Err(NasError::InvalidInput(format!(
                    "pipeline: a score of unknown metric `{metric_name}`"
                )));
            };
            let refs: Vec<&Score> = scores.iter().collect();
            for Statistic { name, value } in metric.summarise(&refs)? {
                rows.push(TableRow {
                    map: map.clone(),
                    metric: metric_name.clone(),
                    statistic: name,
                    value,
                    images: scores.iter().filter(|s| !s.value.is_nan() || !s.curve.is_empty()).count(),
                });
            }
        }
        Ok(rows)
    }
}

/// Writes `summary.json` (every image report, the results table and the comparisons between
/// maps), `report.html` and, if there are scores, `scores.csv` (one row per photo), `table.csv`
/// (one row per statistic) and, when two maps share at least two photos, `comparisons.csv`
/// (paired significance tests, [`crate::comparison`]).
pub fn write_summary(out: &Path, reports: &[ImageReport], table: &[TableRow]) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let rows: Vec<&ScoreRow> = reports.iter().flat_map(|r| &r.scores).collect();
    let comparisons = crate::comparison::comparisons(&rows);
    let json = serde_json::to_vec_pretty(&serde_json::json!({ "images": reports, "table": table, "comparisons": comparisons }))
        .map_err(|e| NasError::io(out, std::io::Error::other(e)))?;
    let summary = out.join("summary.json");
    output::write_bytes(&summary, &json)?;
    written.push(summary);
    if !comparisons.is_empty() {
        let lines = comparisons.iter().map(|c| {
            [
                c.metric.clone(),
                c.map_a.clone(),
                c.map_b.clone(),
                c.pairs.to_string(),
                c.mean_a.to_string(),
                c.mean_b.to_string(),
                c.wilcoxon_statistic.to_string(),
                c.wilcoxon_p.to_string(),
                c.t_statistic.to_string(),
                c.t_p.to_string(),
            ]
        });
        written.push(output::write_csv(
            &out.join("comparisons.csv"),
            "metric,map_a,map_b,pairs,mean_a,mean_b,wilcoxon_statistic,wilcoxon_p,t_statistic,t_p",
            lines,
        )?);
    }
    if !rows.is_empty() {
        let scores = rows.iter().map(|r| {
            [
                r.image.clone(),
                r.map.clone(),
                r.metric.clone(),
                r.target.to_string(),
                r.value.to_string(),
            ]
        });
        written.push(output::write_csv(&out.join("scores.csv"), "image,map,metric,target,value", scores)?);
        let stats = table.iter().map(|r| {
            [
                r.map.clone(),
                r.metric.clone(),
                r.statistic.clone(),
                r.value.to_string(),
                r.images.to_string(),
            ]
        });
        written.push(output::write_csv(
            &out.join("table.csv"),
            "map,metric,statistic,value,images",
            stats,
        )?);
    }
    written.push(crate::report::write_html(out, reports, table, &comparisons)?);
    Ok(written)
}

/// The pipeline's `resize`, `resize_size` and `crop_size`: torchvision's centre crop (default
/// 256 then 224), wsolevaluation's stretch to `crop_size` square, or none.
fn resize_policy(top: &Params) -> Result<Option<Resize>> {
    let sizes_given = ["resize_size", "crop_size"].into_iter().find(|k| top.contains(k));
    let max = crate::photo::MAX_RESIZE_SIDE as usize;
    let resize_size = top.usize("resize_size", 256, 1, max)? as u32;
    let crop_size = top.usize("crop_size", 224, 1, max)? as u32;
    let centre_crop = || Resize::centre_crop(resize_size, crop_size).map(Some);
    match top.table().get("resize") {
        Some(toml::Value::String(s)) if s == "stretch" => {
            if top.contains("resize_size") {
                return Err(top.error(
                    "resize_size",
                    resize_size.to_string(),
                    "no resize size with resize = \"stretch\" (it stretches to crop_size x crop_size)",
                ));
            }
            Ok(Some(Resize::Stretch {
                width: crop_size,
                height: crop_size,
            }))
        }
        Some(toml::Value::String(s)) if s == "centre-crop" => centre_crop(),
        Some(toml::Value::String(s)) => Err(NasError::InvalidInput(format!(
            "pipeline: `resize` = \"{s}\": expected true, false, \"centre-crop\" or \"stretch\""
        ))),
        _ if top.bool("resize", true)? => centre_crop(),
        _ => match sizes_given {
            Some(key) => Err(top.error(
                key,
                "given",
                "resize = true (sizes apply to the resize, which `resize = false` turns off)",
            )),
            None => Ok(None),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::{Images, Pipeline, Target};
    use crate::photo::Resize;
    use std::path::Path;

    fn parse(text: &str) -> crate::Result<Pipeline> {
        let table = text
            .parse()
            .map_err(|e: toml::de::Error| crate::NasError::InvalidInput(e.to_string()))?;
        Pipeline::from_table(table, Path::new("base"))
    }

    #[test]
    fn resize_and_crop_sizes_follow_torchvision_transforms() -> crate::Result<()> {
        let images = "images = [\"a.png\"]\n";
        let p = parse(&format!("{images}resize_size = 236\n"))?;
        assert_eq!(p.resize, Some(Resize::centre_crop(236, 224)?));
        let p = parse(&format!("{images}resize = \"stretch\"\ncrop_size = 256\n"))?;
        assert_eq!(p.resize, Some(Resize::Stretch { width: 256, height: 256 }));
        assert_eq!(parse(images)?.resize, Some(Resize::default()));
        let refused = [
            (
                format!("{images}crop_size = 300\n"),
                "crop size 300 is larger than the resize size 256",
            ),
            (format!("{images}resize = false\nresize_size = 236\n"), "resize_size"),
            (format!("{images}resize = \"stretch\"\nresize_size = 236\n"), "resize_size"),
            (format!("{images}resize_size = 0\n"), "resize_size"),
        ];
        for (text, expected) in refused {
            let err = parse(&text).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(err.contains(expected), "{text:?}: {err:?} should name {expected:?}");
        }
        Ok(())
    }

    #[test]
    fn a_dataset_table_replaces_the_image_list() -> crate::Result<()> {
        let p = parse("resize = \"stretch\"\ntarget = \"label\"\n[dataset]\nformat = \"cub-200-2011\"\nroot = \"CUB\"\nper_class = 2\n")?;
        let Images::Dataset(spec) = p.images else {
            panic!("expected a dataset, got {:?}", p.images)
        };
        assert_eq!(
            (spec.root.as_path(), spec.split.as_str(), spec.per_class),
            (Path::new("base/CUB"), "test", Some(2))
        );
        assert_eq!((p.resize, p.target), (Some(Resize::STRETCH_224), Target::Label));
        Ok(())
    }

    #[test]
    fn dataset_mistakes_name_the_key() -> crate::Result<()> {
        let both = parse("images = [\"a.png\"]\n[dataset]\nformat = \"stl10\"\nroot = \"s\"\n").expect_err("both");
        assert!(both.to_string().contains("either `images` or a [dataset]"), "{both}");
        let format = parse("[dataset]\nformat = \"imagenet\"\nroot = \"s\"\n").expect_err("format");
        assert!(
            format.to_string().contains("cub-200-2011, image-folder, stl10, wsol-metadata"),
            "{format}"
        );
        let split = parse("[dataset]\nformat = \"stl10\"\nroot = \"s\"\nsplit = \"all\"\n").expect_err("split");
        assert!(split.to_string().contains("`split`"), "{split}");
        let images = parse("[dataset]\nformat = \"stl10\"\nroot = \"s\"\nimages = \"i\"\n").expect_err("images");
        assert!(images.to_string().contains("only used with format = \"wsol-metadata\""), "{images}");
        let wsol = parse("[dataset]\nformat = \"wsol-metadata\"\nroot = \"m\"\nimages = \"i\"\n")?;
        let Images::Dataset(spec) = wsol.images else {
            panic!("expected a dataset")
        };
        assert_eq!(spec.images.as_deref(), Some(Path::new("base/i")));
        let target = parse("images = \"a.png\"\ntarget = \"truth\"\n").expect_err("target");
        assert!(target.to_string().contains("\"predicted\" or \"label\""), "{target}");
        Ok(())
    }

    #[test]
    fn several_segmenters_need_distinct_labels() -> crate::Result<()> {
        let p = parse(
            "images = \"a.png\"\n[[segmenter]]\nname = \"nas\"\nk = 5\n[[segmenter]]\nname = \"nas\"\nlabel = \"nas-k10\"\nk = 10\n[[segmenter]]\nname = \"slic\"\n",
        )?;
        let labels: Vec<&str> = p.segmenters.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(labels, ["nas", "nas-k10", "slic"]);
        assert!(
            !p.segmenters[1].1.params.contains("label"),
            "the label is not a parameter of the segmenter"
        );
        let twice = parse("images = \"a.png\"\n[[segmenter]]\nname = \"slic\"\n[[segmenter]]\nname = \"slic\"\n").expect_err("same label");
        assert!(twice.to_string().contains("labelled `slic`"), "{twice}");
        let slash = parse("images = \"a.png\"\n[segmenter]\nname = \"slic\"\nlabel = \"a/b\"\n").expect_err("slash");
        assert!(slash.to_string().contains("`label`"), "{slash}");
        for (table, label) in [("saliency", "labels"), ("saliency", "a.superpixel"), ("metric", "clusters")] {
            let text = format!("images = \"a.png\"\n[[{table}]]\nname = \"gradient\"\nlabel = \"{label}\"\n");
            assert!(parse(&text).is_err(), "label `{label}` would name another file");
        }
        let shared = parse("images = \"a.png\"\n[[segmenter]]\nname = \"slic\"\n[[saliency]]\nname = \"gradient\"\nlabel = \"slic\"\n")
            .expect_err("shared label");
        assert!(shared.to_string().contains("both labelled `slic`"), "{shared}");
        Ok(())
    }

    #[test]
    fn remade_maps_are_made_once_per_batch_of_copies() -> crate::Result<()> {
        use crate::burn::tensor::TensorData;
        let device = crate::device::default_device();
        let batch = |value: f32| crate::NasTensor::<4>::from_data(TensorData::new(vec![value; 2 * 3 * 4 * 4], [2, 3, 4, 4]), &device);
        let remade = super::RemadeMaps::default();
        let calls = std::cell::Cell::new(0);
        let explain = |x: &crate::NasTensor<4>| -> crate::Result<Vec<ndarray::Array2<f32>>> {
            calls.set(calls.get() + 1);
            Ok(vec![ndarray::Array2::zeros((4, 4)); x.dims()[0]])
        };
        assert_eq!(remade.get_or_explain(&batch(0.5), 1, explain)?.len(), 2);
        remade.get_or_explain(&batch(0.5), 1, explain)?;
        assert_eq!(calls.get(), 1, "the same copies are explained once");
        remade.get_or_explain(&batch(0.25), 1, explain)?;
        assert_eq!(calls.get(), 2, "other copies are explained");
        remade.get_or_explain(&batch(0.25), 2, explain)?;
        assert_eq!(calls.get(), 3, "the same copies are explained again for another class");
        Ok(())
    }
}
