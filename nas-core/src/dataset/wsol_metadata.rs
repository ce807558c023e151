//! wsolevaluation's metadata (github.com/clovaai/wsolevaluation, `metadata/CUB/test` and the
//! like), which the paper's localisation experiment uses: `image_ids.txt` (one photo path per
//! line), `class_labels.txt` (`path,class`), `localization.txt` (`path,x0,y0,x1,y1`, one line per
//! box); photo paths are relative to the dataset's image folder.

use super::listed::{coordinate, Listed, PhotoList};
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

/// Reads the metadata folder `metadata` of photos under `images`.
pub fn open(metadata: &Path, images: &Path) -> Result<PhotoList> {
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
    if boxes_path.exists() {
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
        });
    }
    let classes = entries.iter().map(|e| e.label).max().map_or(0, |m| m + 1);
    Ok(PhotoList::new(entries, (0..classes).map(|c| c.to_string()).collect()))
}
