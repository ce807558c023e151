//! torchvision's `ImageFolder` layout: one subfolder per class under the root, classes numbered
//! in sorted order of their folder names, photos listed by class then by sorted file name.

use super::listed::{Listed, PhotoList};
use crate::error::{NasError, Result};
use std::path::{Path, PathBuf};

/// File extensions torchvision's `ImageFolder` accepts (`IMG_EXTENSIONS`) that this crate decodes.
const EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "bmp", "tif", "tiff", "webp"];

/// The sorted entries of a folder, as `(name, path)`.
fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| NasError::io(dir, e))? {
        let entry = entry.map_err(|e| NasError::io(dir, e))?;
        entries.push((entry.file_name().to_string_lossy().into_owned(), entry.path()));
    }
    entries.sort();
    Ok(entries)
}

/// Lists the photos of every class folder under `root`.
pub fn open(root: &Path) -> Result<PhotoList> {
    let folders: Vec<(String, PathBuf)> = sorted_entries(root)?.into_iter().filter(|(_, p)| p.is_dir()).collect();
    if folders.is_empty() {
        return Err(NasError::Dataset {
            path: root.to_path_buf(),
            reason: "no class folders; expected one subfolder of photos per class (torchvision's ImageFolder layout)".into(),
        });
    }
    let mut entries = Vec::new();
    for (label, (_, folder)) in folders.iter().enumerate() {
        for (name, path) in sorted_entries(folder)? {
            let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
            if path.is_file() && EXTENSIONS.contains(&extension.as_str()) {
                entries.push(Listed {
                    path,
                    label,
                    boxes: Vec::new(),
                });
            }
        }
    }
    Ok(PhotoList::new(entries, folders.into_iter().map(|(name, _)| name).collect()))
}
