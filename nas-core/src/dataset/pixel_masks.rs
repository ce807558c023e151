//! Ground-truth masks read from image files, as wsolevaluation's OpenImages metadata lists them:
//! one mask per object instance (foreground where a pixel is not 0) and one optional ignore mask
//! per photo. Each is scaled to the resized photo with OpenCV's nearest-neighbour rule
//! (`cv2.resize(..., INTER_NEAREST)`, as wsolevaluation's `load_mask_image`) and cropped as the
//! photo is; then a pixel is foreground if any instance covers it, ignored if only the ignore
//! mask does (wsolevaluation's `get_mask`), background otherwise.

use crate::annotation::{PixelMask, PixelTruth};
use crate::error::Result;
use crate::photo::ResizeGeometry;
use image::GrayImage;
use std::path::PathBuf;

/// The mask files of one photo.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskFiles {
    /// One mask per object instance.
    pub instances: Vec<PathBuf>,
    /// Where nobody segmented the objects that are there (OpenImages' ignore boxes), if given.
    pub ignore: Option<PathBuf>,
}

impl MaskFiles {
    /// Reads the masks and moves them to the pixels the photo's resize `geometry` keeps.
    pub fn load(&self, geometry: &ResizeGeometry) -> Result<PixelMask> {
        let (width, height) = (geometry.size.0 as usize, geometry.size.1 as usize);
        let mut foreground = vec![false; width * height];
        for path in &self.instances {
            for (pixel, covered) in foreground.iter_mut().zip(covered(path, geometry)?) {
                *pixel |= covered;
            }
        }
        let ignored = match &self.ignore {
            Some(path) => covered(path, geometry)?,
            None => vec![false; width * height],
        };
        let pixels = foreground
            .iter()
            .zip(&ignored)
            .map(|(&object, &ignore)| match (object, ignore) {
                (true, _) => PixelTruth::Foreground,
                (false, true) => PixelTruth::Ignored,
                (false, false) => PixelTruth::Background,
            })
            .collect();
        Ok(PixelMask { width, height, pixels })
    }
}

/// Which of the kept pixels mask file `path` covers (a non-zero grey value), row-major.
fn covered(path: &std::path::Path, geometry: &ResizeGeometry) -> Result<Vec<bool>> {
    let grey = crate::photo::decode(path)?.to_luma8();
    let (width, height) = geometry.size;
    let (left, top) = geometry.offset;
    let columns = nearest_sources(grey.width(), geometry.scaled.0);
    let rows = nearest_sources(grey.height(), geometry.scaled.1);
    Ok((top..top + height)
        .flat_map(|y| (left..left + width).map(move |x| (x, y)))
        .map(|(x, y)| value(&grey, columns[x as usize], rows[y as usize]) > 0)
        .collect())
}

fn value(grey: &GrayImage, x: u32, y: u32) -> u8 {
    grey.get_pixel(x, y)[0]
}

/// For each of `target` output positions, the source position OpenCV's `INTER_NEAREST` reads:
/// `floor(i * (1 / (target / source)))`, at most `source - 1`.
fn nearest_sources(source: u32, target: u32) -> Vec<u32> {
    let step = 1.0 / (f64::from(target) / f64::from(source));
    (0..target)
        .map(|i| ((f64::from(i) * step).floor() as u32).min(source - 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::nearest_sources;

    /// Values printed by OpenCV 5.0.0: `cv2.resize(np.arange(n)[None].astype(np.float32),
    /// (m, 1), interpolation=cv2.INTER_NEAREST)`.
    #[test]
    fn nearest_neighbour_reads_the_pixels_opencv_reads() {
        assert_eq!(nearest_sources(5, 3), vec![0, 1, 3]);
        assert_eq!(nearest_sources(3, 7), vec![0, 0, 0, 1, 1, 2, 2]);
        assert_eq!(nearest_sources(4, 4), vec![0, 1, 2, 3]);
    }
}
