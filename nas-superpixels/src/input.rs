//! Checks an RGB input image and copies it into the float64 working buffer.

use ndarray::ArrayView3;

use crate::error::SuperpixelError;
use crate::scratch;

/// Largest pixel count the segmenters accept: labels, pixel indices and
/// Felzenszwalb's edge indices (about four per pixel) are `u32`.
const MAX_PIXELS: usize = (u32::MAX / 4) as usize;

/// An RGB image as a row-major, channel-interleaved float64 buffer.
///
/// scikit-image computes in float64 on `uint8 / 255` inputs, so the segmenters
/// widen the caller's f32 values once and work in f64 from then on.
pub(crate) struct RgbImage {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// `height * width * 3` values, index `(y * width + x) * 3 + c`.
    pub data: Vec<f64>,
    /// Whether every value is `k as f32 / 255.0` for an integer `k` in
    /// 0..=255 (an 8-bit image), so per-value work can use a 256-entry table.
    pub u8_levels: bool,
}

/// Whether `v` is exactly an 8-bit level as the caller computes it (`u8 / 255` in f32).
fn is_u8_level(v: f32) -> bool {
    // `as` saturates (negative and NaN give 0); `+ 0.5` rounds without a libm call.
    let k = (v * 255.0 + 0.5) as u32;
    k <= 255 && k as f32 / 255.0 == v
}

/// A pixel value the segmenters accept: f32 (`u8 / 255` images) or f64 (images already in the
/// working precision, e.g. rescaled by the caller in f64 as scikit-image would be given them).
pub trait Sample: Copy {
    /// The value in f64.
    fn widen(self) -> f64;
    /// Whether it is exactly an 8-bit level `k / 255` as f32 computes it.
    fn is_u8_level(self) -> bool;
}

impl Sample for f32 {
    fn widen(self) -> f64 {
        f64::from(self)
    }
    fn is_u8_level(self) -> bool {
        is_u8_level(self)
    }
}

impl Sample for f64 {
    fn widen(self) -> f64 {
        self
    }
    fn is_u8_level(self) -> bool {
        false
    }
}

/// Validates `image` (non-empty, three channels, finite) and widens it to f64.
pub(crate) fn rgb_to_f64<T: Sample>(image: ArrayView3<T>) -> Result<RgbImage, SuperpixelError> {
    let (height, width, channels) = image.dim();
    if height == 0 || width == 0 || channels == 0 {
        return Err(SuperpixelError::EmptyImage { height, width, channels });
    }
    if channels != 3 {
        return Err(SuperpixelError::WrongChannels { height, width, channels });
    }
    if height.saturating_mul(width) > MAX_PIXELS {
        return Err(SuperpixelError::ImageTooLarge {
            height,
            width,
            max: MAX_PIXELS,
        });
    }
    let mut data: Vec<f64> = scratch::take(height * width * 3);
    let mut u8_levels = true;
    let mut convert = |(dst, &value): (&mut f64, &T)| {
        u8_levels &= value.is_u8_level();
        *dst = value.widen();
        dst.is_finite()
    };
    let all_finite = match image.as_slice() {
        Some(values) => data.iter_mut().zip(values).all(&mut convert),
        None => data.iter_mut().zip(image.iter()).all(&mut convert),
    };
    if !all_finite {
        let ((row, column, channel), value) = image
            .indexed_iter()
            .map(|(at, v)| (at, v.widen()))
            .find(|(_, v)| !v.is_finite())
            .unwrap_or(((0, 0, 0), f64::NAN));
        return Err(SuperpixelError::NonFiniteValue {
            row,
            column,
            channel,
            value: value as f32,
        });
    }
    Ok(RgbImage {
        height,
        width,
        data,
        u8_levels,
    })
}
