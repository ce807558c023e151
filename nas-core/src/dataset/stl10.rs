//! STL-10 in its published binary layout (`stl10_binary/`): `{split}_X.bin` holds 96 x 96 RGB
//! photos, each channel stored column by column; `{split}_y.bin` one class byte (1 to 10) per
//! photo; `class_names.txt` one name per line.

use super::annotate;
use crate::annotation::Sample;
use crate::error::{NasError, Result};
use crate::photo::{Photo, Resize};
use image::{DynamicImage, RgbImage};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Side of an STL-10 photo.
pub const SIDE: usize = 96;
const PHOTO_BYTES: usize = 3 * SIDE * SIDE;

/// STL-10's ten classes, for folders without `class_names.txt`.
const CLASSES: [&str; 10] = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"];

/// One split of STL-10: photos are read from the file one at a time.
#[derive(Debug)]
pub struct Stl10 {
    images: PathBuf,
    split: String,
    /// `(position in the file, class from 0)` of each kept photo.
    entries: Vec<(usize, Option<usize>)>,
    classes: Vec<String>,
}

impl Stl10 {
    /// Checks `{split}_X.bin` and reads `{split}_y.bin` (absent for `unlabeled`) under `root`.
    pub fn open(root: &Path, split: &str) -> Result<Stl10> {
        let images = root.join(format!("{split}_X.bin"));
        let bytes = std::fs::metadata(&images).map_err(|e| NasError::io(&images, e))?.len() as usize;
        if bytes == 0 || !bytes.is_multiple_of(PHOTO_BYTES) {
            return Err(NasError::Dataset {
                path: images,
                reason: format!("{bytes} bytes is not a whole number of {SIDE}x{SIDE} RGB photos ({PHOTO_BYTES} bytes each)"),
            });
        }
        let count = bytes / PHOTO_BYTES;
        let labels: Vec<Option<usize>> = if split == "unlabeled" {
            vec![None; count]
        } else {
            let path = root.join(format!("{split}_y.bin"));
            let raw = std::fs::read(&path).map_err(|e| NasError::io(&path, e))?;
            if raw.len() != count {
                return Err(NasError::Dataset {
                    path,
                    reason: format!("{} labels for {count} photos in {}", raw.len(), images.display()),
                });
            }
            raw.iter()
                .enumerate()
                .map(|(i, &b)| match b {
                    1..=10 => Ok(Some(usize::from(b) - 1)),
                    other => Err(NasError::Dataset {
                        path: path.clone(),
                        reason: format!("byte {i}: class {other} is not between 1 and 10"),
                    }),
                })
                .collect::<Result<_>>()?
        };
        let names = root.join("class_names.txt");
        let classes = match std::fs::read_to_string(&names) {
            Ok(text) => text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
            Err(_) => CLASSES.iter().map(|c| c.to_string()).collect(),
        };
        Ok(Stl10 {
            images,
            split: split.to_string(),
            entries: labels.into_iter().enumerate().collect(),
            classes,
        })
    }

    /// Keeps only the photos at `indices`.
    pub(super) fn keep(self, indices: &[usize]) -> Stl10 {
        Stl10 {
            entries: indices.iter().map(|&i| self.entries[i]).collect(),
            ..self
        }
    }

    /// Number of photos.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the split is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Class of photo `index`, from 0 (`None` in the unlabeled split).
    pub fn label(&self, index: usize) -> Option<usize> {
        self.entries[index].1
    }

    /// Class names.
    pub fn class_names(&self) -> &[String] {
        &self.classes
    }

    /// Reads photo `index`; it is named `stl10-{split}-{position}.png` for output files.
    pub fn load(&self, index: usize, resize: Option<Resize>) -> Result<Sample> {
        let (position, label) = self.entries[index];
        let mut raw = vec![0u8; PHOTO_BYTES];
        let mut file = std::fs::File::open(&self.images).map_err(|e| NasError::io(&self.images, e))?;
        file.seek(SeekFrom::Start((position * PHOTO_BYTES) as u64))
            .and_then(|_| file.read_exact(&mut raw))
            .map_err(|e| NasError::io(&self.images, e))?;
        let rgb = RgbImage::from_fn(SIDE as u32, SIDE as u32, |x, y| {
            let at = |c: usize| raw[c * SIDE * SIDE + x as usize * SIDE + y as usize];
            image::Rgb([at(0), at(1), at(2)])
        });
        let name = PathBuf::from(format!("stl10-{}-{position:05}.png", self.split));
        let (photo, geometry) = Photo::from_image(&name, &DynamicImage::ImageRgb8(rgb), resize);
        Ok(Sample {
            photo,
            annotation: annotate(label, &[], &geometry),
        })
    }
}
