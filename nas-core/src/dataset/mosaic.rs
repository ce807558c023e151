//! Focus's mosaics (Arias-Duart et al. 2022, "Focus! Rating XAI methods and finding biases"):
//! 2 x 2 grids of a labelled dataset's photos, two of a target class and two of others, so that
//! a saliency map of the mosaic for the target class can be scored by how much of its positive
//! relevance lies on the target class's photos (the `focus` metric).
//!
//! The mosaics are Quantus 0.6's `mosaic_creation`, draw for draw: Python's `random.Random(seed)`
//! ([`PythonRandom`]); for each class in increasing order, its photos repeated enough times and
//! shuffled, `ceil(2 * per_class / (classes - 1))` photos of every other class chosen with
//! replacement, those shuffled together, then each of the class's `per_class` mosaics takes the
//! next two of its own and the next two others, in shuffled positions. Photos are placed at the
//! size the pipeline resizes them to, so a mosaic of 224 x 224 photos is 448 x 448 (Quantus
//! concatenates its inputs as they are). A mosaic's label is its target class and its boxes are
//! the target class's two quadrants (corners inclusive, as box masks read them).

use super::Source;
use crate::annotation::{Annotation, BoundingBox, Sample};
use crate::error::{NasError, Result};
use crate::photo::{Photo, Resize};
use crate::python_random::PythonRandom;
use ndarray::{s, Array3};
use std::path::PathBuf;

/// One mosaic: its photos, top-left, top-right, bottom-left, bottom-right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MosaicPlan {
    /// The photos' indices in the source.
    pub tiles: [usize; 4],
    /// Their classes.
    pub labels: [usize; 4],
    /// The class the mosaic is explained for.
    pub target: usize,
}

impl MosaicPlan {
    /// Which quadrants hold the target class (Quantus's `p_batch`).
    pub fn target_quadrants(&self) -> [bool; 4] {
        self.labels.map(|label| label == self.target)
    }
}

/// Quantus's `mosaic_creation(images, labels, per_class, seed)`, as indices: `per_class`
/// mosaics for every class, classes in increasing order.
pub fn plan(labels: &[usize], per_class: usize, seed: u64) -> std::result::Result<Vec<MosaicPlan>, String> {
    // Each class's photos, in index order, found once: a dataset of C classes draws from
    // every other class for each class.
    let mut by_class: std::collections::BTreeMap<usize, Vec<usize>> = std::collections::BTreeMap::new();
    for (index, &label) in labels.iter().enumerate() {
        by_class.entry(label).or_default().push(index);
    }
    let classes = by_class.len();
    if classes < 2 {
        return Err(format!(
            "mosaics need photos of at least two classes, and these photos have {classes}"
        ));
    }
    let mut random = PythonRandom::new(seed);
    let mut mosaics = Vec::with_capacity(classes * per_class);
    for (&target, own) in &by_class {
        let repetitions = (2 * per_class).div_ceil(own.len());
        let mut own: Vec<usize> = own.iter().copied().cycle().take(own.len() * repetitions).collect();
        random.shuffle(&mut own);
        let per_other = (2 * per_class).div_ceil(classes - 1);
        let mut drawn: Vec<(usize, usize)> = Vec::with_capacity(per_other * (classes - 1));
        for (&other, photos) in by_class.iter().filter(|(&c, _)| c != target) {
            drawn.extend(random.choices(photos.len(), per_other).into_iter().map(|k| (photos[k], other)));
        }
        random.shuffle(&mut drawn);
        for m in 0..per_class {
            let mut tiles = [(own[2 * m], target), (own[2 * m + 1], target), drawn[2 * m], drawn[2 * m + 1]];
            random.shuffle(&mut tiles);
            mosaics.push(MosaicPlan {
                tiles: tiles.map(|(index, _)| index),
                labels: tiles.map(|(_, label)| label),
                target,
            });
        }
    }
    Ok(mosaics)
}

/// A dataset's photos arranged in mosaics.
#[derive(Debug)]
pub struct Mosaics {
    source: Box<Source>,
    plan: Vec<MosaicPlan>,
    root: PathBuf,
}

impl Mosaics {
    /// `per_class` mosaics of every class of `source` (whose photos must all be labelled),
    /// drawn with `seed`; `root` names the dataset in errors and the mosaics' paths.
    pub fn new(source: Source, per_class: usize, seed: u64, root: PathBuf) -> Result<Mosaics> {
        let labels = (0..source.len())
            .map(|i| source.label(i))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| NasError::Dataset {
                path: root.clone(),
                reason: "`mosaics_per_class` needs a class label for every photo, and this split has unlabelled ones".into(),
            })?;
        let plan = plan(&labels, per_class, seed).map_err(|reason| NasError::Dataset {
            path: root.clone(),
            reason,
        })?;
        Ok(Mosaics {
            source: Box::new(source),
            plan,
            root,
        })
    }

    /// The mosaics.
    pub fn plan(&self) -> &[MosaicPlan] {
        &self.plan
    }

    /// Number of mosaics.
    pub fn len(&self) -> usize {
        self.plan.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.plan.is_empty()
    }

    /// The target class of mosaic `index`.
    pub fn label(&self, index: usize) -> usize {
        self.plan[index].target
    }

    /// The dataset's class names.
    pub fn class_names(&self) -> Option<&[String]> {
        self.source.class_names()
    }

    /// Mosaic `index`: its four photos, each resized, side by side; labelled with the target
    /// class, boxed at the target class's quadrants.
    pub fn load(&self, index: usize, resize: Option<Resize>) -> Result<Sample> {
        let mosaic = &self.plan[index];
        let tiles = mosaic
            .tiles
            .iter()
            .map(|&tile| self.source.load(tile, resize).map(|sample| sample.photo))
            .collect::<Result<Vec<Photo>>>()?;
        let (h, w) = (tiles[0].height(), tiles[0].width());
        if let Some(odd) = tiles.iter().find(|t| (t.height(), t.width()) != (h, w)) {
            return Err(NasError::Dataset {
                path: odd.path.clone(),
                reason: format!(
                    "is {}x{} but {} is {w}x{h}: a mosaic's photos must share a size; give the pipeline a resize",
                    odd.width(),
                    odd.height(),
                    tiles[0].path.display()
                ),
            });
        }
        let mut pixels = Array3::<f32>::zeros((2 * h, 2 * w, 3));
        let mut boxes = Vec::new();
        for (quadrant, tile) in tiles.iter().enumerate() {
            let (y0, x0) = ((quadrant / 2) * h, (quadrant % 2) * w);
            pixels.slice_mut(s![y0..y0 + h, x0..x0 + w, ..]).assign(&tile.pixels);
            if mosaic.labels[quadrant] == mosaic.target {
                boxes.push(BoundingBox {
                    x0: x0 as f64,
                    y0: y0 as f64,
                    x1: (x0 + w - 1) as f64,
                    y1: (y0 + h - 1) as f64,
                });
            }
        }
        Ok(Sample {
            photo: Photo {
                path: self.root.join(format!("mosaic-{index:05}.png")),
                pixels,
            },
            annotation: Annotation {
                label: Some(mosaic.target),
                boxes,
                boxes_cropped_away: 0,
                mask: None,
            },
        })
    }
}
