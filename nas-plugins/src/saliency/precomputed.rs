//! `precomputed`: saliency maps made elsewhere (Captum, pytorch-grad-cam, zennit, ...) read from
//! `.npy` files named after each photo, so that superpixelification and every metric apply to
//! them as to the built-in methods.

use super::gradient::ChannelReduction;
use nas_core::ndarray::{Array2, ArrayD, Axis, Ix2};
use nas_core::{npy, Backbone, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Photo, Result, Saliency};
use std::path::{Path, PathBuf};

/// The `precomputed` saliency method.
pub struct Precomputed {
    folder: PathBuf,
    pattern: String,
    reduction: ChannelReduction,
}

/// Parameters of `precomputed`.
pub const PRECOMPUTED_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "folder",
        kind: ParamKind::Str,
        default: "",
        doc: "folder of the maps (required)",
    },
    ParamSpec {
        name: "pattern",
        kind: ParamKind::Str,
        default: "\"{stem}.npy\"",
        doc: "file name of a photo's map; {stem} is the photo's file stem",
    },
    ParamSpec {
        name: "reduce",
        kind: ParamKind::Str,
        default: "\"sum\"",
        doc: "how the channels of (C, H, W) or (1, C, H, W) maps are combined: sum (signed), abs-sum or max-abs",
    },
];

/// A `.npy` array of float32 or float64 values.
fn read_floats(path: &Path) -> Result<ArrayD<f32>> {
    match npy::read::<f32>(path) {
        Ok(a) => Ok(a),
        Err(first) => npy::read::<f64>(path).map(|a| a.mapv(|v| v as f32)).map_err(|_| first),
    }
}

impl Precomputed {
    /// The map of one photo, reduced to `(height, width)`.
    fn map(&self, photo: &Photo, [height, width]: [usize; 2]) -> Result<Array2<f32>> {
        let path = self.folder.join(self.pattern.replace("{stem}", &photo.stem()));
        let mut array = read_floats(&path)?;
        while array.ndim() > 3 && array.shape()[0] == 1 {
            array = array.index_axis_move(Axis(0), 0);
        }
        if array.ndim() == 3 {
            array = match self.reduction {
                ChannelReduction::Sum => array.sum_axis(Axis(0)),
                ChannelReduction::AbsSum => array.mapv(f32::abs).sum_axis(Axis(0)),
                // NaN, like the sums, spreads rather than losing to `max`.
                ChannelReduction::MaxAbs => {
                    array
                        .mapv(f32::abs)
                        .fold_axis(Axis(0), 0.0, |m, v| if *v > *m || v.is_nan() { *v } else { *m })
                }
            };
        }
        let shape = array.shape().to_vec();
        let map = array.into_dimensionality::<Ix2>().map_err(|_| {
            NasError::InvalidInput(format!(
                "{}: a map of shape {shape:?}; expected (H, W), (C, H, W) or (1, C, H, W)",
                path.display()
            ))
        })?;
        if map.dim() != (height, width) {
            return Err(NasError::InvalidInput(format!(
                "{}: the map is {:?} but the photo enters the network at {height} x {width}; compute the map on the same resized photo (or change the pipeline's `resize`)",
                path.display(),
                map.dim()
            )));
        }
        if let Some(v) = map.iter().find(|v| !v.is_finite()) {
            return Err(NasError::InvalidInput(format!(
                "{}: the map holds {v}; expected finite values",
                path.display()
            )));
        }
        Ok(map)
    }
}

impl Saliency for Precomputed {
    fn explain(&self, _backbone: &dyn Backbone, _input: &NasTensor<4>, _targets: &[usize]) -> Result<Vec<Array2<f32>>> {
        Err(NasError::InvalidInput(
            "precomputed maps are found by photo name: run them through a pipeline (nas run / nas explain)".into(),
        ))
    }

    fn explain_photos(
        &self,
        _backbone: &dyn Backbone,
        input: &NasTensor<4>,
        _targets: &[usize],
        photos: &[&Photo],
    ) -> Result<Vec<Array2<f32>>> {
        let [_, _, height, width] = input.dims();
        photos.iter().map(|p| self.map(p, [height, width])).collect()
    }

    fn remakes(&self) -> bool {
        false
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Saliency>> {
    let folder = params
        .string("folder")?
        .map(PathBuf::from)
        .ok_or_else(|| params.error("folder", "(missing)", "the folder holding one .npy map per photo"))?;
    let pattern = params.string("pattern")?.unwrap_or_else(|| "{stem}.npy".into());
    if !pattern.contains("{stem}") {
        return Err(params.error("pattern", pattern, "a file name containing {stem}"));
    }
    Ok(Box::new(Precomputed {
        folder,
        pattern,
        reduction: ChannelReduction::from_params(params)?,
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "precomputed",
        summary: "maps computed elsewhere (Captum, pytorch-grad-cam, ...) read from {stem}.npy files, to superpixelify and score them",
        params: PRECOMPUTED_PARAMS,
        factory: nas_core::Factory::Saliency(build),
    }
}
