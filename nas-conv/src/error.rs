//! The error type of this crate.

/// What was wrong with a convolution's weights or input.
#[derive(Debug, thiserror::Error)]
pub enum ConvError {
    /// A buffer had a different length than its declared shape needs.
    #[error("{what}: expected {expected} values for shape {shape}, got {actual}")]
    Length {
        /// Which buffer.
        what: &'static str,
        /// The declared shape, as text.
        shape: String,
        /// Values the shape needs.
        expected: usize,
        /// Values given.
        actual: usize,
    },
    /// The geometry cannot produce any output, or is not a valid convolution.
    #[error("invalid convolution: {0}")]
    Geometry(String),
}
