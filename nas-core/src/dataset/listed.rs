//! A dataset held as a list of photo files with their classes, boxes and masks: what CUB-200-2011
//! folders, wsolevaluation's metadata and torchvision-style image folders all come down to.

use super::annotate;
use super::pixel_masks::MaskFiles;
use crate::annotation::{BoundingBox, Sample};
use crate::error::{NasError, Result};
use crate::photo::{Photo, Resize};
use std::path::{Path, PathBuf};

/// One photo of a list.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The photo file.
    pub path: PathBuf,
    /// Its class, from 0.
    pub label: usize,
    /// Its ground-truth boxes in the file's pixels.
    pub boxes: Vec<BoundingBox>,
    /// Its ground-truth mask files, when the dataset has them.
    pub masks: Option<MaskFiles>,
}

/// Photo files with their classes and boxes, and the class names.
#[derive(Debug)]
pub struct PhotoList {
    entries: Vec<Listed>,
    classes: Vec<String>,
}

impl PhotoList {
    /// A list of photos and the names of the classes their labels count.
    pub fn new(entries: Vec<Listed>, classes: Vec<String>) -> PhotoList {
        PhotoList { entries, classes }
    }

    /// Keeps only the photos at `indices`.
    pub(super) fn keep(self, indices: &[usize]) -> PhotoList {
        PhotoList {
            entries: indices.iter().map(|&i| self.entries[i].clone()).collect(),
            classes: self.classes,
        }
    }

    /// Number of photos.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Class of photo `index`, from 0.
    pub fn label(&self, index: usize) -> usize {
        self.entries[index].label
    }

    /// File of photo `index`.
    pub fn path(&self, index: usize) -> &Path {
        &self.entries[index].path
    }

    /// Class names.
    pub fn class_names(&self) -> &[String] {
        &self.classes
    }

    /// Decodes photo `index` with its class, boxes and masks.
    pub fn load(&self, index: usize, resize: Option<Resize>) -> Result<Sample> {
        let entry = &self.entries[index];
        let (photo, geometry) = Photo::open_with_geometry(&entry.path, resize)?;
        let mut annotation = annotate(Some(entry.label), &entry.boxes, &geometry);
        annotation.mask = entry.masks.as_ref().map(|m| m.load(&geometry)).transpose()?;
        Ok(Sample { photo, annotation })
    }
}

/// A box coordinate read from line `line` of an annotation file: a finite, non-negative number,
/// or an error naming the file, the line and the line's expected `form`.
pub(super) fn coordinate(text: &str, path: &Path, line: usize, form: &str) -> Result<f64> {
    text.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| NasError::Dataset {
            path: path.to_path_buf(),
            reason: format!("line {line}: `{text}` is not a non-negative number (expected `{form}`)"),
        })
}
