//! torchvision's `ImageFolder` layout: one subfolder per class under the root, classes numbered
//! in sorted order of their folder names; each class's photos found at any depth below its
//! folder and listed folder by folder in sorted order, then by sorted file name (torchvision's
//! `sorted(os.walk(...))`); a class without photos is an error, as there.

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

/// The photos at any depth below `folder`: `os.walk`'s folders in sorted order of their paths,
/// each folder's files in sorted order.
fn photos_below(folder: &Path) -> Result<Vec<PathBuf>> {
    let mut pending = vec![folder.to_path_buf()];
    // Folders already walked, by their real path, so that a link back up is followed once.
    let mut seen = std::collections::HashSet::new();
    let mut folders = Vec::new();
    while let Some(dir) = pending.pop() {
        let real = std::fs::canonicalize(&dir).map_err(|e| NasError::io(&dir, e))?;
        if seen.insert(real) {
            pending.extend(sorted_entries(&dir)?.into_iter().map(|(_, p)| p).filter(|p| p.is_dir()));
            folders.push(dir);
        }
    }
    // By the path as a string, as Python sorts os.walk's tuples (`a-b` before `a/b`).
    folders.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    let mut photos = Vec::new();
    for dir in folders {
        for (name, path) in sorted_entries(&dir)? {
            let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
            if path.is_file() && EXTENSIONS.contains(&extension.as_str()) {
                photos.push(path);
            }
        }
    }
    Ok(photos)
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
    for (label, (class, folder)) in folders.iter().enumerate() {
        let before = entries.len();
        for path in photos_below(folder)? {
            entries.push(Listed {
                path,
                label,
                boxes: Vec::new(),
                masks: None,
            });
        }
        if entries.len() == before {
            return Err(NasError::Dataset {
                path: folder.clone(),
                reason: format!("class `{class}` has no photo ({})", EXTENSIONS.join(", ")),
            });
        }
    }
    Ok(PhotoList::new(entries, folders.into_iter().map(|(name, _)| name).collect()))
}
