//! Weight files from a model hub that names each file after its content (torchvision's
//! `download.pytorch.org/models/<name>-<sha256 prefix>.pth`, which its `check_hash` verifies):
//! downloaded into the cache's `weights/` folder through a temporary file there, and kept only
//! when the content's sha256 starts with the prefix its name promises. nas reaches a hub only
//! when asked to (`nas weights --download`), and never in offline mode (`NAS_OFFLINE`).

use std::path::PathBuf;

use crate::cache::{persist, Cache};
use crate::catalog::AssetKind;
use crate::error::AssetError;
use crate::hash::sha256_file;
use crate::http;

/// Where torchvision publishes its weight files.
pub const TORCHVISION_MODELS: &str = "https://download.pytorch.org/models";
/// Environment variable naming another base URL for torchvision's files (a mirror).
pub const ENV_TORCHVISION_MODELS: &str = "NAS_TORCHVISION_MODELS";

/// The base URL of torchvision's weight files: `NAS_TORCHVISION_MODELS`, else
/// [`TORCHVISION_MODELS`]; no trailing slash.
pub fn torchvision_models_url() -> String {
    match std::env::var(ENV_TORCHVISION_MODELS) {
        Ok(v) if !v.trim().is_empty() => v.trim().trim_end_matches('/').to_owned(),
        _ => TORCHVISION_MODELS.to_owned(),
    }
}

/// The sha256 prefix a torchvision-style file name promises: the hex digits after its last `-`
/// (eight in most of torchvision's files, ten in the oldest, such as MNASNet's and ShuffleNet
/// V2's); `None` for names without one.
pub fn name_hash(file: &str) -> Option<&str> {
    file.strip_suffix(".pth")?
        .rsplit('-')
        .next()
        .filter(|h| h.len() >= 8 && h.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `file` in the cache's weights folder, downloaded from `base_url/file` unless a file whose
/// content matches its name is already there. A download whose sha256 does not start with the
/// name's prefix is refused and leaves nothing behind.
pub fn download_named(base_url: &str, file: &str, cache: &Cache) -> Result<PathBuf, AssetError> {
    let url = format!("{}/{file}", base_url.trim_end_matches('/'));
    let prefix = name_hash(file).ok_or_else(|| AssetError::UnverifiableName { file: file.to_owned() })?;
    let dest = cache.locate_file(AssetKind::Weights, file);
    if dest.is_file() && sha256_file(&dest)?.starts_with(prefix) {
        return Ok(dest);
    }
    if cache.is_offline() {
        return Err(AssetError::OfflineDownload { url, dest });
    }
    let temp = cache.temp_file(&cache.kind_dir(AssetKind::Weights))?;
    let got = http::download(&http::agent(), &url, None, temp, file)?;
    if !got.sha256.starts_with(prefix) {
        return Err(AssetError::Sha256Mismatch {
            what: url,
            expected: format!("{prefix}... (the prefix its name promises)"),
            actual: got.sha256,
        });
    }
    persist(got.file, &dest)?;
    Ok(dest)
}

#[cfg(test)]
mod tests {
    use super::name_hash;

    #[test]
    fn torchvision_names_carry_the_hash_prefix() {
        assert_eq!(name_hash("resnet18-f37072fd.pth"), Some("f37072fd"));
        assert_eq!(name_hash("efficientnet-lite0-57934424.pth"), Some("57934424"));
        assert_eq!(name_hash("shufflenetv2_x0.5-f707e7126e.pth"), Some("f707e7126e"));
        assert_eq!(name_hash("mine.pth"), None);
        assert_eq!(name_hash("resnet18-f37072fd.safetensors"), None);
    }
}
