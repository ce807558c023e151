//! Photos: decoding any common image file into RGB, and the torchvision-style resize and crop.

use crate::annotation::BoundingBox;
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

/// How photos are resized before entering a network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Resize {
    /// torchvision's `Resize(shorter_side)` + `CenterCrop(crop)`: the usual ImageNet evaluation.
    CentreCrop {
        /// The shorter side is scaled to this many pixels (torchvision: 256).
        shorter_side: u32,
        /// Then the centre `crop x crop` square is kept (torchvision: 224).
        crop: u32,
    },
    /// Both sides scaled to a fixed size, as wsolevaluation does for localisation (224 x 224), so
    /// that no ground-truth box is cut.
    Stretch {
        /// Width after resizing.
        width: u32,
        /// Height after resizing.
        height: u32,
    },
}

impl Default for Resize {
    fn default() -> Self {
        Resize::CentreCrop {
            shorter_side: 256,
            crop: 224,
        }
    }
}

/// The largest side [`Resize::centre_crop`] accepts, to catch typos before a huge allocation.
pub const MAX_RESIZE_SIDE: u32 = 4096;

impl Resize {
    /// wsolevaluation's resize: 224 x 224, aspect ratio not kept.
    pub const STRETCH_224: Resize = Resize::Stretch { width: 224, height: 224 };

    /// torchvision's `Resize(resize_size)` + `CenterCrop(crop_size)` (a weight file's own
    /// `transforms()`: 236 and 224 for ConvNeXt-Tiny, 232 and 224 for ResNet-50's V2 weights), or
    /// an error naming the sizes when the crop would not fit or a side is out of range.
    pub fn centre_crop(resize_size: u32, crop_size: u32) -> Result<Resize> {
        let range = 1..=MAX_RESIZE_SIDE;
        if !range.contains(&resize_size) || !range.contains(&crop_size) {
            return Err(NasError::InvalidInput(format!(
                "resize size {resize_size} and crop size {crop_size}: expected sides of 1 to {MAX_RESIZE_SIDE} pixels"
            )));
        }
        if crop_size > resize_size {
            return Err(NasError::InvalidInput(format!(
                "crop size {crop_size} is larger than the resize size {resize_size}: the crop must fit in the resized photo's shorter side"
            )));
        }
        Ok(Resize::CentreCrop {
            shorter_side: resize_size,
            crop: crop_size,
        })
    }

    /// Where a `width x height` photo's pixels land under this resize.
    pub fn geometry(&self, width: u32, height: u32) -> ResizeGeometry {
        match *self {
            Resize::CentreCrop { shorter_side, crop } => {
                let short = f64::from(width.min(height).max(1));
                let scale = f64::from(shorter_side) / short;
                let (nw, nh) = if width <= height {
                    (shorter_side, ((f64::from(height) * scale) as u32).max(1))
                } else {
                    (((f64::from(width) * scale) as u32).max(1), shorter_side)
                };
                let crop = crop.min(nw).min(nh);
                ResizeGeometry {
                    source: (width, height),
                    scaled: (nw, nh),
                    offset: (
                        (f64::from(nw - crop) / 2.0).round() as u32,
                        (f64::from(nh - crop) / 2.0).round() as u32,
                    ),
                    size: (crop, crop),
                }
            }
            Resize::Stretch { width: nw, height: nh } => ResizeGeometry {
                source: (width, height),
                scaled: (nw.max(1), nh.max(1)),
                offset: (0, 0),
                size: (nw.max(1), nh.max(1)),
            },
        }
    }
}

/// A resize worked out for one photo: scale to `scaled`, then keep `size` pixels from `offset`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResizeGeometry {
    /// The photo's own `(width, height)`.
    pub source: (u32, u32),
    /// `(width, height)` after scaling.
    pub scaled: (u32, u32),
    /// Left and top of the kept window in the scaled photo.
    pub offset: (u32, u32),
    /// `(width, height)` of the kept window: the result.
    pub size: (u32, u32),
}

impl ResizeGeometry {
    /// A ground-truth box in the photo's pixels, moved to the resized photo's pixels: scaled as
    /// wsolevaluation's `resize_bbox` does (`x * new_width / width`), shifted by the crop and
    /// clipped to it. `None` when the crop leaves nothing of the box.
    pub fn map_box(&self, b: &BoundingBox) -> Option<BoundingBox> {
        let (w, h) = (f64::from(self.source.0), f64::from(self.source.1));
        let (nw, nh) = (f64::from(self.scaled.0), f64::from(self.scaled.1));
        let (left, top) = (f64::from(self.offset.0), f64::from(self.offset.1));
        let (cw, ch) = (f64::from(self.size.0), f64::from(self.size.1));
        let x = |v: f64| (v * nw / w - left).clamp(0.0, cw);
        let y = |v: f64| (v * nh / h - top).clamp(0.0, ch);
        let mapped = BoundingBox {
            x0: x(b.x0),
            y0: y(b.y0),
            x1: x(b.x1),
            y1: y(b.y1),
        };
        (mapped.x1 > mapped.x0 && mapped.y1 > mapped.y0).then_some(mapped)
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
        Ok(Photo::open_with_geometry(path, resize)?.0)
    }

    /// [`Photo::open`], also saying where the file's pixels went (for moving annotations).
    pub fn open_with_geometry(path: &Path, resize: Option<Resize>) -> Result<(Photo, ResizeGeometry)> {
        Ok(Photo::from_image(path, &decode(path)?, resize))
    }

    /// A decoded image as a photo named `path`, resized; with where its pixels went.
    pub fn from_image(path: &Path, image: &DynamicImage, resize: Option<Resize>) -> (Photo, ResizeGeometry) {
        let geometry = resize
            .unwrap_or(Resize::Stretch {
                width: image.width(),
                height: image.height(),
            })
            .geometry(image.width(), image.height());
        let rgb = match resize {
            Some(r) => resize_and_crop(image, r),
            None => image.to_rgb8(),
        };
        (Photo::from_rgb8(path, &rgb), geometry)
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

/// Decodes an image file, refusing unknown formats and sizes outside [`MIN_SIDE`, `MAX_SIDE`]
/// with errors that name the file.
pub(crate) fn decode(path: &Path) -> Result<DynamicImage> {
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

/// Applies a [`Resize`] (scale with an antialiased bilinear filter, then crop).
pub fn resize_and_crop(image: &DynamicImage, resize: Resize) -> RgbImage {
    let rgb = image.to_rgb8();
    let (w, h) = rgb.dimensions();
    let g = resize.geometry(w, h);
    let resized = image::imageops::resize(&rgb, g.scaled.0, g.scaled.1, FilterType::Triangle);
    image::imageops::crop_imm(&resized, g.offset.0, g.offset.1, g.size.0, g.size.1).to_image()
}

#[cfg(test)]
mod tests {
    use super::Resize;
    use crate::annotation::BoundingBox;

    #[test]
    fn centre_crop_moves_boxes_and_drops_those_it_cuts_away() -> Result<(), &'static str> {
        // 400 x 200: scaled to 512 x 256, the 224 window starts at (144, 16).
        let g = Resize::default().geometry(400, 200);
        assert_eq!((g.scaled, g.offset, g.size), ((512, 256), (144, 16), (224, 224)));
        let inside = BoundingBox {
            x0: 200.0,
            y0: 100.0,
            x1: 300.0,
            y1: 150.0,
        };
        let moved = g.map_box(&inside).ok_or("the box is inside the crop")?;
        assert_eq!((moved.x0, moved.y0, moved.x1, moved.y1), (112.0, 112.0, 224.0, 176.0));
        let left_edge = BoundingBox {
            x0: 0.0,
            y0: 0.0,
            x1: 50.0,
            y1: 50.0,
        };
        assert_eq!(g.map_box(&left_edge), None);
        Ok(())
    }

    #[test]
    fn stretch_scales_each_side_on_its_own() -> Result<(), &'static str> {
        let g = Resize::STRETCH_224.geometry(448, 112);
        let b = g
            .map_box(&BoundingBox {
                x0: 10.0,
                y0: 10.0,
                x1: 448.0,
                y1: 56.0,
            })
            .ok_or("a stretch keeps every box")?;
        assert_eq!((b.x0, b.y0, b.x1, b.y1), (5.0, 20.0, 224.0, 112.0));
        Ok(())
    }
}
