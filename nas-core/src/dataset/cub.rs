//! CUB-200-2011 in its published folder layout: `images.txt`, `image_class_labels.txt`,
//! `bounding_boxes.txt`, `train_test_split.txt`, `classes.txt` and `images/`.

use super::listed::{coordinate, Listed, PhotoList};
use crate::annotation::BoundingBox;
use crate::error::{NasError, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Reads the index files of a CUB-200-2011 folder and keeps `split` (`train`, `test` or `all`).
pub fn open(root: &Path, split: &str) -> Result<PhotoList> {
    if !root.is_dir() {
        return Err(NasError::Dataset {
            path: root.to_path_buf(),
            reason: "not a folder; expected CUB-200-2011's folder (with images.txt and images/)".into(),
        });
    }
    let images = read_table(&root.join("images.txt"), 1)?;
    let labels = read_table(&root.join("image_class_labels.txt"), 1)?;
    let splits = read_table(&root.join("train_test_split.txt"), 1)?;
    let boxes_file = root.join("bounding_boxes.txt");
    let classes_file = root.join("classes.txt");
    let mut boxes: HashMap<String, Vec<BoundingBox>> = HashMap::new();
    for (line, id, fields) in read_rows(&boxes_file, 4)? {
        let number = |i: usize| coordinate(&fields[i], &boxes_file, line, "id x y width height");
        let (x, y, w, h) = (number(0)?, number(1)?, number(2)?, number(3)?);
        boxes.entry(id).or_default().push(BoundingBox {
            x0: x,
            y0: y,
            x1: x + w,
            y1: y + h,
        });
    }
    let classes: Vec<String> = read_rows(&classes_file, 1)?.into_iter().map(|(_, _, f)| f[0].clone()).collect();
    let mut entries = Vec::new();
    for (id, path) in &images.rows {
        let find = |table: &Table, what: &str| -> Result<String> {
            table.get(id).ok_or_else(|| NasError::Dataset {
                path: table.path.clone(),
                reason: format!("no line for image id {id} ({what}); images.txt lists it"),
            })
        };
        let class = find(&labels, "its class")?;
        let label = class
            .parse::<usize>()
            .ok()
            .filter(|c| (1..=classes.len()).contains(c))
            .ok_or_else(|| NasError::Dataset {
                path: labels.path.clone(),
                reason: format!(
                    "image id {id}: class `{class}` is not between 1 and {} (classes.txt)",
                    classes.len()
                ),
            })?;
        let is_train = match find(&splits, "its split")?.as_str() {
            "1" => true,
            "0" => false,
            other => {
                return Err(NasError::Dataset {
                    path: splits.path.clone(),
                    reason: format!("image id {id}: `{other}` is not 1 (train) or 0 (test)"),
                })
            }
        };
        let wanted = match split {
            "train" => is_train,
            "test" => !is_train,
            _ => true,
        };
        if wanted {
            entries.push(Listed {
                path: root.join("images").join(path),
                label: label - 1,
                boxes: boxes.get(id).cloned().unwrap_or_default(),
                masks: None,
            });
        }
    }
    Ok(PhotoList::new(entries, classes))
}

/// An `id value` index file, in file order.
struct Table {
    path: PathBuf,
    rows: Vec<(String, String)>,
    by_id: HashMap<String, usize>,
}

impl Table {
    fn get(&self, id: &str) -> Option<String> {
        self.by_id.get(id).map(|&i| self.rows[i].1.clone())
    }
}

fn read_table(path: &Path, fields: usize) -> Result<Table> {
    let mut rows = Vec::new();
    let mut by_id = HashMap::new();
    for (line, id, values) in read_rows(path, fields)? {
        if by_id.insert(id.clone(), rows.len()).is_some() {
            return Err(NasError::Dataset {
                path: path.to_path_buf(),
                reason: format!("line {line}: image id {id} appears twice"),
            });
        }
        rows.push((id, values.join(" ")));
    }
    Ok(Table {
        path: path.to_path_buf(),
        rows,
        by_id,
    })
}

/// The non-empty lines of a CUB index file as `(line number, id, fields)`; every line must have
/// an id and `fields` more values (the last one may contain spaces when `fields` is 1).
fn read_rows(path: &Path, fields: usize) -> Result<Vec<(usize, String, Vec<String>)>> {
    let text = std::fs::read_to_string(path).map_err(|e| NasError::io(path, e))?;
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (id, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let values: Vec<String> = if fields == 1 {
            vec![rest.trim().to_string()]
        } else {
            rest.split_whitespace().map(str::to_string).collect()
        };
        if values.len() != fields || values.iter().any(String::is_empty) {
            return Err(NasError::Dataset {
                path: path.to_path_buf(),
                reason: format!("line {}: `{line}` should be an id and {fields} value(s)", n + 1),
            });
        }
        rows.push((n + 1, id.to_string(), values));
    }
    Ok(rows)
}
