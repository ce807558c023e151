//! Photos: decoding any common image file into RGB, and the torchvision-style resize and crop.

use crate::error::{NasError, Result};
use image::{imageops::FilterType, DynamicImage, RgbImage};
use ndarray::Array3;
use std::path::{Path, PathBuf};

/// Largest accepted width or height: bigger files are refused rather than exhausting memory.
pub const MAX_SIDE: u32 = 16_384;
/// Smallest accepted width or height: below this no backbone has a meaningful deepest level.
pub const MIN_SIDE: u32 = 8;

/// An RGB photo as the framework sees it: `(H, W, 3)` floats in `[0, 1]`, and where it came from.
#[derive(Debug, Clone)]
pub struct Photo {
    /// The file it was read from (or a descriptive name).
    pub path: PathBuf,
    /// Pixels, `(height, width, 3)`, RGB, in `[0, 1]`.
    pub pixels: Array3<f32>,
}

/// How photos are resized before entering a network, as torchvision's `Resize` + `CenterCrop`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resize {
    /// The shorter side is scaled to this many pixels (torchvision: 256).
    pub shorter_side: u32,
    /// Then the centre `crop x crop` square is kept (torchvision: 224).
    pub crop: u32,
}

impl Default for Resize {
    fn default() -> Self {
        Resize {
            shorter_side: 256,
            crop: 224,
        }
    }
}

impl Photo {
    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.pixels.shape()[0]
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.pixels.shape()[1]
    }

    /// The file stem, used to name output files.
    pub fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "image".to_string())
    }

    /// Reads a photo file: PNG, JPEG, TIFF, BMP or WebP; grayscale, alpha and 16-bit images are
    /// converted to 8-bit RGB (alpha is dropped), and an optional resize-and-crop is applied.
    pub fn open(path: &Path, resize: Option<Resize>) -> Result<Photo> {
        let image = decode(path)?;
        let rgb = match resize {
            Some(r) => resize_and_crop(&image, r),
            None => image.to_rgb8(),
        };
        Ok(Photo::from_rgb8(path, &rgb))
    }

    /// Wraps an 8-bit RGB image.
    pub fn from_rgb8(path: &Path, rgb: &RgbImage) -> Photo {
        let (w, h) = rgb.dimensions();
        let pixels = Array3::from_shape_fn((h as usize, w as usize, 3), |(y, x, c)| {
            f32::from(rgb.get_pixel(x as u32, y as u32)[c]) / 255.0
        });
        Photo {
            path: path.to_path_buf(),
            pixels,
        }
    }

    /// The photo as 8-bit RGB, for drawing overlays.
    pub fn to_rgb8(&self) -> RgbImage {
        let (h, w) = (self.height() as u32, self.width() as u32);
        RgbImage::from_fn(w, h, |x, y| {
            let px = |c| (self.pixels[[y as usize, x as usize, c]] * 255.0).round().clamp(0.0, 255.0) as u8;
            image::Rgb([px(0), px(1), px(2)])
        })
    }
}

fn decode(path: &Path) -> Result<DynamicImage> {
    let bad = |reason: String| NasError::Image {
        path: path.to_path_buf(),
        reason,
    };
    let reader = image::ImageReader::open(path)
        .map_err(|e| NasError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| NasError::io(path, e))?;
    if reader.format().is_none() {
        return Err(bad("not a recognised image format (expected PNG, JPEG, TIFF, BMP or WebP)".into()));
    }
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| bad(format!("cannot read the image header: {e}")))?;
    if w > MAX_SIDE || h > MAX_SIDE {
        return Err(bad(format!(
            "{w}x{h} pixels is larger than the {MAX_SIDE}x{MAX_SIDE} limit; downscale it first"
        )));
    }
    if w < MIN_SIDE || h < MIN_SIDE {
        return Err(bad(format!("{w}x{h} pixels is smaller than the {MIN_SIDE}x{MIN_SIDE} minimum")));
    }
    let reader = image::ImageReader::open(path)
        .map_err(|e| NasError::io(path, e))?
        .with_guessed_format()
        .map_err(|e| NasError::io(path, e))?;
    reader
        .decode()
        .map_err(|e| bad(format!("cannot decode ({e}); the file may be truncated or corrupt")))
}

/// torchvision's `Resize(shorter_side)` then `CenterCrop(crop)`, with an antialiased bilinear filter.
pub fn resize_and_crop(image: &DynamicImage, resize: Resize) -> RgbImage {
    let rgb = image.to_rgb8();
    let (w, h) = rgb.dimensions();
    let short = w.min(h).max(1) as f64;
    let scale = f64::from(resize.shorter_side) / short;
    let (nw, nh) = if w <= h {
        (resize.shorter_side, ((f64::from(h) * scale) as u32).max(1))
    } else {
        (((f64::from(w) * scale) as u32).max(1), resize.shorter_side)
    };
    let resized = image::imageops::resize(&rgb, nw, nh, FilterType::Triangle);
    let crop = resize.crop.min(nw).min(nh);
    let left = ((f64::from(nw - crop)) / 2.0).round() as u32;
    let top = ((f64::from(nh - crop)) / 2.0).round() as u32;
    image::imageops::crop_imm(&resized, left, top, crop, crop).to_image()
}
