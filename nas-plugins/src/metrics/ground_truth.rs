//! What localisation metrics (`max-box-acc`, `pointing-game`) know of a photo's object: its
//! ground-truth boxes, or that the resize's crop removed them all (a miss, whatever the map).

use nas_core::{Annotation, BoundingBox, NasError, Result};

/// The photo's boxes; `None` when its object lies outside the crop; an error when it has none.
pub fn boxes(annotation: &Annotation) -> Result<Option<&[BoundingBox]>> {
    if !annotation.boxes.is_empty() {
        return Ok(Some(&annotation.boxes));
    }
    if annotation.boxes_cropped_away > 0 {
        return Ok(None);
    }
    Err(NasError::InvalidInput(
        "needs ground-truth boxes: read the photos from a [dataset] with boxes (format = \"cub-200-2011\" or \"wsol-metadata\")".into(),
    ))
}
