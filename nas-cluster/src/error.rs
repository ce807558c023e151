//! The one error type of this crate.

use thiserror::Error;

/// Why a clustering call refused its input.
///
/// Every variant carries the numbers needed to fix the call, so that the message can be
/// shown to a user as it is (the NAS pipeline clusters pixels, hence the wording).
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ClusterError {
    /// The data has no rows or no columns (a 0 x d or n x 0 matrix, or an empty label vector).
    #[error("empty input: {what} has {rows} rows and {cols} columns")]
    EmptyData {
        /// Which input was empty.
        what: &'static str,
        /// Its number of rows (points).
        rows: usize,
        /// Its number of columns (features); 1 for label vectors.
        cols: usize,
    },
    /// K was zero.
    #[error("K = 0: the number of clusters must be at least 1")]
    ZeroClusters,
    /// K exceeds the number of points, so some cluster would have to stay empty.
    #[error("K = {k} is larger than the number of pixels ({n})")]
    TooManyClusters {
        /// The requested number of clusters.
        k: usize,
        /// The number of points (pixels).
        n: usize,
    },
    /// A feature value is NaN or infinite (the first such value in raster order).
    #[error("pixel row {row}, feature {col} is not finite ({value}); clean or rescale the features first")]
    NonFinite {
        /// The row (pixel) of the first non-finite value.
        row: usize,
        /// Its column (feature).
        col: usize,
        /// The value itself (NaN or +-inf).
        value: f32,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    InvalidParameter {
        /// The parameter's name as in the params struct or function signature.
        name: &'static str,
        /// The offending value, formatted.
        value: String,
        /// What the valid range is.
        reason: &'static str,
    },
    /// Exact Ward linkage needs an n x n distance matrix and n is above the caller's limit.
    #[error(
        "Ward linkage on {n} pixels needs a condensed distance matrix of {bytes_needed} bytes ({gib:.2} GiB), \
         above the limit of max_samples = {max_samples} pixels; use a smaller output grid (e.g. 56 x 56 = 3136 pixels) \
         and upsample the labels, or cluster with k-means",
        gib = *bytes_needed as f64 / (1u64 << 30) as f64
    )]
    TooManySamples {
        /// The number of points.
        n: usize,
        /// The limit the caller set.
        max_samples: usize,
        /// The bytes the distance matrix would take (n (n - 1) / 2 f64 values).
        bytes_needed: u64,
    },
    /// Two label vectors that must describe the same points have different lengths.
    #[error("label vector {index} has {found} labels, expected {expected} (all must label the same points)")]
    LengthMismatch {
        /// Which vector (0-based) is off.
        index: usize,
        /// The length of the first vector.
        expected: usize,
        /// The length of the offending one.
        found: usize,
    },
    /// A computation needs more label vectors (runs) than it was given.
    #[error("{what} needs at least {needed} label vectors, got {got}")]
    TooFewRuns {
        /// What was computed.
        what: &'static str,
        /// The minimum number of runs.
        needed: usize,
        /// The number given.
        got: usize,
    },
    /// Consensus found more distinct label tuples than its linkage limit allows.
    #[error(
        "consensus found {distinct} distinct label combinations across the runs, above the limit of {max_distinct} \
         (its linkage needs a {distinct} x {distinct} matrix); use fewer runs, a smaller K, or raise max_distinct"
    )]
    TooManyDistinct {
        /// The number of distinct label tuples.
        distinct: usize,
        /// The caller's limit.
        max_distinct: usize,
    },
}
