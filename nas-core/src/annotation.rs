//! What a dataset knows about a photo besides its pixels: its class, its ground-truth boxes and,
//! where the dataset has them, its ground-truth masks.

use crate::photo::Photo;

/// An axis-aligned box in pixels, as CUB-200-2011 and wsolevaluation give them: `x0, y0` the
/// top-left corner, `x1 = x0 + width`, `y1 = y0 + height`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct BoundingBox {
    /// Left.
    pub x0: f64,
    /// Top.
    pub y0: f64,
    /// Left plus width.
    pub x1: f64,
    /// Top plus height.
    pub y1: f64,
}

/// A photo's labels, when it comes from an annotated dataset.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Annotation {
    /// The true class, counted from 0.
    pub label: Option<usize>,
    /// Ground-truth object boxes in the (resized) photo's pixels.
    pub boxes: Vec<BoundingBox>,
    /// Ground-truth boxes the resize's crop left nothing of: the photo had an object, but it is
    /// outside what the network sees.
    #[serde(skip_serializing_if = "is_zero")]
    pub boxes_cropped_away: usize,
    /// Ground truth per pixel of the (resized) photo, when the dataset has masks
    /// (wsolevaluation's OpenImages metadata): what pixel-wise metrics such as PxAP score.
    #[serde(skip)]
    pub mask: Option<PixelMask>,
}

/// What the ground truth says of one pixel, in wsolevaluation's three kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PixelTruth {
    /// Not on any object.
    Background,
    /// On an object of the photo's class (any instance's mask).
    Foreground,
    /// Neither counted as foreground nor as background: inside the ignore mask (OpenImages'
    /// boxes of objects nobody segmented) and outside every instance's mask.
    Ignored,
}

impl PixelTruth {
    /// The pixel as wsolevaluation's `get_mask` writes it: 0 background, 1 foreground, 255
    /// ignored.
    pub fn wsol_code(self) -> u8 {
        match self {
            PixelTruth::Background => 0,
            PixelTruth::Foreground => 1,
            PixelTruth::Ignored => 255,
        }
    }

    /// The pixel of wsolevaluation's code `code`: 0 background, 1 foreground, anything else
    /// ignored.
    pub fn from_wsol_code(code: u8) -> PixelTruth {
        match code {
            0 => PixelTruth::Background,
            1 => PixelTruth::Foreground,
            _ => PixelTruth::Ignored,
        }
    }
}

/// Ground truth per pixel, row by row, in the (resized) photo's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct PixelMask {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// `height * width` pixels, row-major.
    pub pixels: Vec<PixelTruth>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// A photo with its annotation: one item of a pipeline's input.
#[derive(Debug, Clone)]
pub struct Sample {
    /// The pixels.
    pub photo: Photo,
    /// Its class and boxes (empty for plain image files).
    pub annotation: Annotation,
}

impl Sample {
    /// A photo with no annotation.
    pub fn unannotated(photo: Photo) -> Sample {
        Sample {
            photo,
            annotation: Annotation::default(),
        }
    }
}
