//! wsolevaluation's metadata (github.com/clovaai/wsolevaluation, `metadata/CUB/test` and the
//! like), which the paper's localisation experiment uses: `image_ids.txt` (one photo path per
//! line), `class_labels.txt` (`path,class`), `localization.txt` (`path,x0,y0,x1,y1`, one line per
//! box; or, for OpenImages, `path,mask,ignore`, one line per object instance's mask, the ignore
//! mask given on the photo's first line only); photo paths are relative to the dataset's image
//! folder, mask paths to its mask folder.

use super::listed::{coordinate, Listed, PhotoList};
use super::pixel_masks::MaskFiles;
use crate::annotation::BoundingBox;
use crate::error::{NasError, Result};
use std::collections::HashMap;
use std::path::Path;

/// The comma-separated lines of a metadata file as `(line number, fields)`.
fn rows(path: &Path, fields: usize) -> Result<Vec<(usize, Vec<String>)>> {
    let text = std::fs::read_to_string(path).map_err(|e| NasError::io(path, e))?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let values: Vec<String> = line.split(',').map(|v| v.trim().to_string()).collect();
        if values.len() != fields {
            return Err(NasError::Dataset {
                path: path.to_path_buf(),
                reason: format!("line {}: `{line}` should have {fields} comma-separated fields", n + 1),
            });
        }
        out.push((n + 1, values));
    }
    Ok(out)
}

/// The number of comma-separated fields on the first non-empty line of `path` (0 if none).
fn first_line_fields(path: &Path) -> Result<usize> {
    let text = std::fs::read_to_string(path).map_err(|e| NasError::io(path, e))?;
    Ok(text.lines().find(|l| !l.trim().is_empty()).map_or(0, |l| l.split(',').count()))
}

/// `localization.txt`'s masks: each photo's instance masks and ignore mask under `root`.
fn mask_files(path: &Path, root: &Path) -> Result<HashMap<String, MaskFiles>> {
    let mut masks: HashMap<String, MaskFiles> = HashMap::new();
    for (line, values) in rows(path, 3)? {
        let file = |i: usize| -> Result<Option<std::path::PathBuf>> {
            if values[i].is_empty() {
                return Ok(None);
            }
            let file = root.join(&values[i]);
            if !file.exists() {
                return Err(NasError::Dataset {
                    path: path.to_path_buf(),
                    reason: format!("line {line}: mask `{}` not found at {}", values[i], file.display()),
                });
            }
            Ok(Some(file))
        };
        let instance = file(1)?.ok_or_else(|| NasError::Dataset {
            path: path.to_path_buf(),
            reason: format!("line {line}: no mask file (expected `path,mask,ignore`)"),
        })?;
        let ignore = file(2)?;
        let entry = masks.entry(values[0].clone()).or_insert(MaskFiles {
            instances: Vec::new(),
            ignore: None,
        });
        if ignore.is_some() && (entry.ignore.is_some() || !entry.instances.is_empty()) {
            return Err(NasError::Dataset {
                path: path.to_path_buf(),
                reason: format!("line {line}: `{}` has its ignore mask on its first line only", values[0]),
            });
        }
        entry.instances.push(instance);
        if ignore.is_some() {
            entry.ignore = ignore;
        }
    }
    Ok(masks)
}

/// Reads the metadata folder `metadata` of photos under `images`, whose mask files (if
/// `localization.txt` lists masks) are under `mask_root`.
pub fn open(metadata: &Path, images: &Path, mask_root: &Path) -> Result<PhotoList> {
    let ids = rows(&metadata.join("image_ids.txt"), 1)?;
    let labels_path = metadata.join("class_labels.txt");
    let mut labels = HashMap::new();
    for (line, values) in rows(&labels_path, 2)? {
        let label: usize = values[1].parse().map_err(|_| NasError::Dataset {
            path: labels_path.clone(),
            reason: format!("line {line}: class `{}` is not a whole number", values[1]),
        })?;
        labels.insert(values[0].clone(), label);
    }
    let boxes_path = metadata.join("localization.txt");
    let mut boxes: HashMap<String, Vec<BoundingBox>> = HashMap::new();
    let has_masks = boxes_path.exists() && first_line_fields(&boxes_path)? == 3;
    let mut masks = if has_masks {
        mask_files(&boxes_path, mask_root)?
    } else {
        HashMap::new()
    };
    if boxes_path.exists() && !has_masks {
        for (line, values) in rows(&boxes_path, 5)? {
            let number = |i: usize| coordinate(&values[i], &boxes_path, line, "path,x0,y0,x1,y1");
            let b = BoundingBox {
                x0: number(1)?,
                y0: number(2)?,
                x1: number(3)?,
                y1: number(4)?,
            };
            boxes.entry(values[0].clone()).or_default().push(b);
        }
    }
    let mut entries = Vec::with_capacity(ids.len());
    for (line, values) in ids {
        let id = &values[0];
        let label = *labels.get(id).ok_or_else(|| NasError::Dataset {
            path: labels_path.clone(),
            reason: format!("no class for `{id}` (image_ids.txt line {line})"),
        })?;
        entries.push(Listed {
            path: images.join(id),
            label,
            boxes: boxes.remove(id).unwrap_or_default(),
            masks: masks.remove(id),
        });
    }
    let classes = entries.iter().map(|e| e.label).max().map_or(0, |m| m + 1);
    Ok(PhotoList::new(entries, (0..classes).map(|c| c.to_string()).collect()))
}
