//! Where a pipeline's photos come from: image files, or an annotated dataset in its published
//! layout (CUB-200-2011 folders, wsolevaluation's metadata, torchvision image folders, STL-10
//! binaries) with classes and ground-truth boxes.

mod cub;
mod image_folder;
mod listed;
pub mod mosaic;
mod pixel_masks;
mod stl10;
mod wsol_metadata;

pub use listed::{Listed, PhotoList};
pub use mosaic::Mosaics;
pub use pixel_masks::MaskFiles;
pub use stl10::Stl10;

use crate::annotation::{Annotation, Sample};
use crate::error::{NasError, Result};
use crate::params::{ParamKind, ParamSpec, Params};
use crate::photo::{Photo, Resize};
use std::path::{Path, PathBuf};

/// The dataset layouts the framework reads.
pub const FORMATS: &[&str] = &["cub-200-2011", "image-folder", "stl10", "wsol-metadata"];

/// The keys of a pipeline's `[dataset]` table.
pub const DATASET_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "format",
        kind: ParamKind::Str,
        default: "",
        doc: "cub-200-2011, image-folder, stl10 or wsol-metadata (required)",
    },
    ParamSpec {
        name: "root",
        kind: ParamKind::Str,
        default: "",
        doc: "the dataset's folder (required)",
    },
    ParamSpec {
        name: "images",
        kind: ParamKind::Str,
        default: "",
        doc: "wsol-metadata: the folder its photo paths are relative to",
    },
    ParamSpec {
        name: "masks",
        kind: ParamKind::Str,
        default: "",
        doc: "wsol-metadata: the folder its mask paths are relative to (default: `images`)",
    },
    ParamSpec {
        name: "split",
        kind: ParamKind::Str,
        default: "\"test\"",
        doc: "train or test (CUB also all, STL-10 also unlabeled)",
    },
    ParamSpec {
        name: "per_class",
        kind: ParamKind::Int,
        default: "",
        doc: "at most this many photos of each class",
    },
    ParamSpec {
        name: "limit",
        kind: ParamKind::Int,
        default: "",
        doc: "at most this many photos in all",
    },
    ParamSpec {
        name: "mosaics_per_class",
        kind: ParamKind::Int,
        default: "",
        doc: "replace the photos by this many Focus mosaics per class (2x2: two photos of the class, two of others; Quantus's mosaic_creation)",
    },
    ParamSpec {
        name: "mosaic_seed",
        kind: ParamKind::Int,
        default: "1",
        doc: "seed of the mosaics' draws (Python's random.Random(seed), as Quantus draws them)",
    },
];

/// Which annotated dataset to read, as the `[dataset]` table of a pipeline gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetSpec {
    /// One of [`FORMATS`].
    pub format: String,
    /// The dataset's folder (`CUB_200_2011`, `stl10_binary`, an image folder's root, or a
    /// wsolevaluation metadata folder such as `metadata/CUB/test`).
    pub root: PathBuf,
    /// For `wsol-metadata`: the folder the metadata's photo paths are relative to.
    pub images: Option<PathBuf>,
    /// For `wsol-metadata`: the folder its mask paths are relative to, if not `images`.
    pub masks: Option<PathBuf>,
    /// `train` or `test` (STL-10 also `unlabeled`; CUB also `all`); `all` for the formats whose
    /// root already is one split.
    pub split: String,
    /// Keep at most this many photos of each class (in file order), as the paper's "100 test
    /// images of each class".
    pub per_class: Option<usize>,
    /// Keep at most this many photos in all.
    pub limit: Option<usize>,
    /// Replace the (kept) photos by this many Focus mosaics of each class ([`mosaic`]).
    pub mosaics_per_class: Option<usize>,
    /// Seed of the mosaics' draws.
    pub mosaic_seed: u64,
}

impl DatasetSpec {
    /// Reads a `[dataset]` table; `root` is relative to `base` (the pipeline file's folder).
    pub fn from_params(params: &Params, base: &Path) -> Result<DatasetSpec> {
        if !params.contains("format") {
            return Err(params.error("format", "(missing)", format!("one of {}", FORMATS.join(", "))));
        }
        let format = params.choice("format", FORMATS[0], FORMATS)?;
        let root = params
            .string("root")?
            .ok_or_else(|| params.error("root", "(missing)", "the dataset's folder"))?;
        let (splits, default): (&[&str], &str) = match format.as_str() {
            "stl10" => (&["train", "test", "unlabeled"], "test"),
            "cub-200-2011" => (&["train", "test", "all"], "test"),
            _ => (&["all"], "all"),
        };
        if splits == ["all"] && params.contains("split") {
            return Err(params.error(
                "split",
                params.string("split").ok().flatten().unwrap_or_default(),
                format!("{format} has no splits: its `root` is one split"),
            ));
        }
        let split = params.choice("split", default, splits)?;
        let images = match (format.as_str(), params.string("images")?) {
            ("wsol-metadata", Some(images)) => Some(crate::pipeline::join_clean(base, &images)),
            ("wsol-metadata", None) => {
                return Err(params.error("images", "(missing)", "the folder the metadata's photo paths are relative to"))
            }
            (_, Some(images)) => return Err(params.error("images", images, "only used with format = \"wsol-metadata\"")),
            (_, None) => None,
        };
        let masks = match (format.as_str(), params.string("masks")?) {
            ("wsol-metadata", masks) => masks.map(|m| crate::pipeline::join_clean(base, &m)),
            (_, Some(masks)) => return Err(params.error("masks", masks, "only used with format = \"wsol-metadata\"")),
            (_, None) => None,
        };
        let optional = |key: &str| -> Result<Option<usize>> {
            Ok(if params.contains(key) {
                Some(params.usize(key, 1, 1, usize::MAX)?)
            } else {
                None
            })
        };
        if params.contains("mosaic_seed") && !params.contains("mosaics_per_class") {
            return Err(params.error(
                "mosaic_seed",
                params.usize("mosaic_seed", 1, 0, usize::MAX)?.to_string(),
                "only used with `mosaics_per_class`",
            ));
        }
        let spec = DatasetSpec {
            format,
            root: crate::pipeline::join_clean(base, &root),
            images,
            masks,
            split,
            per_class: optional("per_class")?,
            limit: optional("limit")?,
            mosaics_per_class: optional("mosaics_per_class")?,
            // Quantus's `mosaic_creation` treats seed 0 as no seed at all.
            mosaic_seed: params.usize("mosaic_seed", 1, 1, usize::MAX)? as u64,
        };
        params.finish(DATASET_PARAMS)?;
        Ok(spec)
    }
}

/// A pipeline's input, before anything is read.
#[derive(Debug, Clone, PartialEq)]
pub enum Images {
    /// Photo files, unannotated.
    Files(Vec<PathBuf>),
    /// An annotated dataset.
    Dataset(DatasetSpec),
}

/// A pipeline's input, opened: its index read, photos decoded on demand.
#[derive(Debug)]
pub enum Source {
    /// Photo files.
    Files(Vec<PathBuf>),
    /// Photo files with classes and boxes (CUB-200-2011, wsolevaluation metadata, image folders).
    Listed(PhotoList),
    /// STL-10.
    Stl10(Stl10),
    /// Another source's photos arranged in Focus mosaics.
    Mosaics(Mosaics),
}

impl Source {
    /// Reads the index of a dataset (checking that its files are there), or takes the file list.
    pub fn open(images: &Images) -> Result<Source> {
        match images {
            Images::Files(paths) => Ok(Source::Files(paths.clone())),
            Images::Dataset(spec) => {
                let source = match (spec.format.as_str(), &spec.images) {
                    ("stl10", _) => Source::Stl10(Stl10::open(&spec.root, &spec.split)?),
                    ("image-folder", _) => Source::Listed(image_folder::open(&spec.root)?),
                    ("wsol-metadata", Some(images)) => {
                        Source::Listed(wsol_metadata::open(&spec.root, images, spec.masks.as_ref().unwrap_or(images))?)
                    }
                    ("wsol-metadata", None) => {
                        return Err(NasError::Dataset {
                            path: spec.root.clone(),
                            reason: "wsolevaluation metadata needs `images`, the folder its photo paths are relative to".into(),
                        })
                    }
                    ("cub-200-2011", _) => Source::Listed(cub::open(&spec.root, &spec.split)?),
                    (other, _) => {
                        return Err(NasError::Dataset {
                            path: spec.root.clone(),
                            reason: format!("unknown format `{other}`; valid formats: {}", FORMATS.join(", ")),
                        })
                    }
                };
                let labels = (0..source.len()).map(|i| source.label(i)).collect::<Vec<_>>();
                if spec.per_class.is_some() && labels.iter().any(Option::is_none) {
                    return Err(NasError::Dataset {
                        path: spec.root.clone(),
                        reason: "`per_class` needs class labels, and this split has none; use `limit`".into(),
                    });
                }
                let keep = subset(&labels, spec.per_class, spec.limit);
                let kept = match source {
                    Source::Stl10(s) => Source::Stl10(s.keep(&keep)),
                    Source::Listed(c) => Source::Listed(c.keep(&keep)),
                    other => other,
                };
                Ok(match spec.mosaics_per_class {
                    Some(per_class) => Source::Mosaics(Mosaics::new(kept, per_class, spec.mosaic_seed, spec.root.clone())?),
                    None => kept,
                })
            }
        }
    }

    /// Refuses photos whose file stems repeat (`a/x.png` and `b/x.jpg`): output files are named
    /// by stem, so one would overwrite the other.
    pub fn check_unique_stems(&self) -> Result<()> {
        let paths: Vec<&Path> = match self {
            Source::Files(paths) => paths.iter().map(PathBuf::as_path).collect(),
            Source::Listed(list) => (0..list.len()).map(|i| list.path(i)).collect(),
            Source::Stl10(_) | Source::Mosaics(_) => return Ok(()),
        };
        let mut seen: std::collections::HashMap<String, &Path> = std::collections::HashMap::new();
        for path in paths {
            let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(first) = seen.insert(stem.clone(), path) {
                return Err(NasError::Dataset {
                    path: path.to_path_buf(),
                    reason: format!(
                        "has the same file stem `{stem}` as {}; output files are named by stem, so rename one (or run them separately)",
                        first.display()
                    ),
                });
            }
        }
        Ok(())
    }

    /// Number of photos.
    pub fn len(&self) -> usize {
        match self {
            Source::Files(paths) => paths.len(),
            Source::Listed(c) => c.len(),
            Source::Stl10(s) => s.len(),
            Source::Mosaics(m) => m.len(),
        }
    }

    /// Whether there are no photos.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The class of photo `index`, if known without decoding it.
    pub fn label(&self, index: usize) -> Option<usize> {
        match self {
            Source::Files(_) => None,
            Source::Listed(c) => Some(c.label(index)),
            Source::Stl10(s) => s.label(index),
            Source::Mosaics(m) => Some(m.label(index)),
        }
    }

    /// Decodes photo `index`, resized, with its annotation moved to the resized pixels.
    pub fn load(&self, index: usize, resize: Option<Resize>) -> Result<Sample> {
        match self {
            Source::Files(paths) => Ok(Sample::unannotated(Photo::open(&paths[index], resize)?)),
            Source::Listed(c) => c.load(index, resize),
            Source::Stl10(s) => s.load(index, resize),
            Source::Mosaics(m) => m.load(index, resize),
        }
    }

    /// Human-readable names of the classes, when the dataset has them.
    pub fn class_names(&self) -> Option<&[String]> {
        match self {
            Source::Files(_) => None,
            Source::Listed(c) => Some(c.class_names()),
            Source::Stl10(s) => Some(s.class_names()),
            Source::Mosaics(m) => m.class_names(),
        }
    }
}

/// Indices kept by `per_class` then `limit`, in order.
fn subset(labels: &[Option<usize>], per_class: Option<usize>, limit: Option<usize>) -> Vec<usize> {
    let mut seen = std::collections::HashMap::<Option<usize>, usize>::new();
    labels
        .iter()
        .enumerate()
        .filter(|(_, label)| {
            let count = seen.entry(**label).or_default();
            *count += 1;
            per_class.is_none_or(|n| *count <= n)
        })
        .map(|(i, _)| i)
        .take(limit.unwrap_or(usize::MAX))
        .collect()
}

/// An annotation's boxes moved through a resize; boxes the crop removes entirely are dropped.
fn annotate(label: Option<usize>, boxes: &[crate::annotation::BoundingBox], geometry: &crate::photo::ResizeGeometry) -> Annotation {
    let kept: Vec<_> = boxes.iter().filter_map(|b| geometry.map_box(b)).collect();
    Annotation {
        label,
        boxes_cropped_away: boxes.len() - kept.len(),
        boxes: kept,
        mask: None,
    }
}

#[cfg(test)]
mod tests {
    use super::{subset, DatasetSpec};
    use crate::params::Params;
    use std::path::Path;

    fn read(text: &str) -> crate::Result<DatasetSpec> {
        let table: toml::Table = text.parse().map_err(|e| crate::NasError::InvalidInput(format!("{e}")))?;
        DatasetSpec::from_params(&Params::new("dataset", table), Path::new("/data"))
    }

    #[test]
    fn mosaic_settings_are_read_and_checked() -> crate::Result<()> {
        let spec = read("format = \"cub-200-2011\"\nroot = \"cub\"\nmosaics_per_class = 3\nmosaic_seed = 7")?;
        assert_eq!((spec.mosaics_per_class, spec.mosaic_seed), (Some(3), 7));
        let alone = read("format = \"cub-200-2011\"\nroot = \"cub\"\nmosaic_seed = 7");
        assert!(alone.is_err_and(|e| e.to_string().contains("only used with `mosaics_per_class`")));
        let zero = read("format = \"cub-200-2011\"\nroot = \"cub\"\nmosaics_per_class = 1\nmosaic_seed = 0");
        assert!(zero.is_err_and(|e| e.to_string().contains("mosaic_seed")));
        Ok(())
    }

    #[test]
    fn per_class_and_limit_keep_the_first_photos_in_file_order() {
        let labels = [Some(0), Some(1), Some(0), Some(0), Some(1), Some(2)];
        assert_eq!(subset(&labels, Some(2), None), vec![0, 1, 2, 4, 5]);
        assert_eq!(subset(&labels, Some(1), Some(2)), vec![0, 1]);
        assert_eq!(subset(&labels, None, None), vec![0, 1, 2, 3, 4, 5]);
    }
}
