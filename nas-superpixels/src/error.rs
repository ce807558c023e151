//! Errors reported for bad input, so that callers never see a panic.

use thiserror::Error;

/// Why a segmenter (or [`crate::adjusted_rand_index`]) refused its input.
///
/// Every message names the offending argument, the value it had and what was
/// expected, so it can be shown to a user as it is.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum SuperpixelError {
    /// The image has no pixels.
    #[error("image is empty: shape ({height}, {width}, {channels}); expected an (H, W, 3) RGB image with H, W >= 1")]
    EmptyImage {
        /// Rows of the image.
        height: usize,
        /// Columns of the image.
        width: usize,
        /// Channels of the image.
        channels: usize,
    },
    /// The image does not have exactly three (RGB) channels.
    #[error("image has {channels} channels (shape ({height}, {width}, {channels})); expected 3 (RGB, channel last)")]
    WrongChannels {
        /// Rows of the image.
        height: usize,
        /// Columns of the image.
        width: usize,
        /// Channels of the image.
        channels: usize,
    },
    /// The image holds a NaN or an infinity.
    #[error("image value at (row {row}, column {column}, channel {channel}) is {value}; expected finite values (RGB in [0, 1])")]
    NonFiniteValue {
        /// Row of the first bad value.
        row: usize,
        /// Column of the first bad value.
        column: usize,
        /// Channel of the first bad value.
        channel: usize,
        /// The bad value itself.
        value: f32,
    },
    /// The image has more pixels than the label type can count.
    #[error("image of {height}x{width} pixels is too large; expected at most {max} pixels")]
    ImageTooLarge {
        /// Rows of the image.
        height: usize,
        /// Columns of the image.
        width: usize,
        /// Largest supported pixel count.
        max: usize,
    },
    /// A parameter is out of its valid range.
    #[error("parameter `{name}` is {value}; expected {expected}")]
    InvalidParameter {
        /// The parameter's name, as in scikit-image.
        name: &'static str,
        /// The value that was given, formatted.
        value: String,
        /// What the parameter accepts.
        expected: &'static str,
    },
    /// An invariant of this crate failed (a bug: please report it). Returned
    /// instead of panicking; no input is known to cause it.
    #[error("internal error: {0}")]
    Internal(&'static str),
    /// Two label maps that should be compared have different shapes.
    #[error("label maps have different shapes: {left:?} and {right:?}; expected equal shapes")]
    ShapeMismatch {
        /// Shape of the first label map.
        left: (usize, usize),
        /// Shape of the second label map.
        right: (usize, usize),
    },
}

impl SuperpixelError {
    /// Shorthand for an [`SuperpixelError::InvalidParameter`].
    pub(crate) fn param(name: &'static str, value: impl std::fmt::Display, expected: &'static str) -> Self {
        Self::InvalidParameter {
            name,
            value: value.to_string(),
            expected,
        }
    }
}
