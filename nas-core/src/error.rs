//! The one error type of the framework: every failure names the file, key or value at fault.

use std::path::PathBuf;

/// Result alias used throughout nas.
pub type Result<T, E = NasError> = std::result::Result<T, E>;

/// Everything that can go wrong in nas, with enough context to fix it without a debugger.
#[derive(Debug, thiserror::Error)]
pub enum NasError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file at fault.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// An image could not be decoded or is unusable.
    #[error("image {path}: {reason}")]
    Image {
        /// The image file.
        path: PathBuf,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A weight file is missing, unreadable or does not fit the network.
    #[error("weights {path}: {reason}")]
    Weights {
        /// The weight file (or where it was expected).
        path: PathBuf,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// A tensor in a weight file has another shape than the network needs.
    #[error("weights {path}: key `{key}` has shape {found:?}, the network expects {expected:?}")]
    ShapeMismatch {
        /// The weight file.
        path: PathBuf,
        /// The state-dict key.
        key: String,
        /// Shape the architecture needs.
        expected: Vec<usize>,
        /// Shape found in the file.
        found: Vec<usize>,
    },
    /// No component of that kind is registered under that name.
    #[error("unknown {kind} `{name}`; valid choices: {}", valid.join(", "))]
    UnknownComponent {
        /// Component kind (backbone, segmenter, ...).
        kind: String,
        /// The name asked for.
        name: String,
        /// Every registered name of that kind.
        valid: Vec<String>,
    },
    /// A component parameter has a bad value, a bad type or an unknown name.
    #[error("{component}: parameter `{key}` = {value}: {expected}")]
    Param {
        /// Component that owns the parameter.
        component: String,
        /// The parameter name (TOML key).
        key: String,
        /// The offending value as written.
        value: String,
        /// What was expected instead.
        expected: String,
    },
    /// A pipeline file is malformed.
    #[error("pipeline {path}: {reason}")]
    Pipeline {
        /// The TOML file.
        path: PathBuf,
        /// What is wrong, naming the key.
        reason: String,
    },
    /// A dataset folder or file is missing a part or has a malformed line.
    #[error("dataset {path}: {reason}")]
    Dataset {
        /// The file or folder at fault.
        path: PathBuf,
        /// What is wrong (with the line number) and what was expected.
        reason: String,
    },
    /// A dynamic plugin could not be loaded or was built against another nas-core.
    #[error("plugin {path}: {reason}")]
    Plugin {
        /// The shared library.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// The input to an algorithm is invalid (K larger than the pixel count, empty batch, ...).
    #[error("{0}")]
    InvalidInput(String),
    /// The run was interrupted by the user.
    #[error("interrupted")]
    Interrupted,
}

impl NasError {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        NasError::Io { path: path.into(), source }
    }

    /// Process exit code for this error, so scripts can tell user errors from I/O failures.
    pub fn exit_code(&self) -> i32 {
        match self {
            NasError::Io { .. } => 74,
            NasError::Interrupted => 130,
            NasError::Plugin { .. } => 69,
            NasError::UnknownComponent { .. } | NasError::Param { .. } | NasError::Pipeline { .. } => 64,
            _ => 65,
        }
    }
}
