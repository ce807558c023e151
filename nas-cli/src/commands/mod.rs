//! One module per `nas` subcommand.

pub mod bench;
pub mod classwise;
pub mod features;
pub mod list;
pub mod pipeline;
pub mod predict;
pub mod sanity;
pub mod variants;
pub mod weights;

use crate::cli::ModelArgs;
use crate::session::Session;
use nas_core::{Backbone, NasError, Params, Photo, Resize, Result};

/// Creates the backbone named on the command line.
pub fn load_backbone(session: &Session, model: &ModelArgs) -> Result<Box<dyn Backbone>> {
    session
        .registry
        .backbone(&model.backbone, &backbone_params(model), &session.context())
}

/// The backbone's parameters from the command line.
pub fn backbone_params(model: &ModelArgs) -> Params {
    let mut params = Params::empty(model.backbone.clone());
    if let Some(w) = &model.weights {
        params.set("weights", toml::Value::String(w.display().to_string()));
    }
    params
}

/// The resize policy from the command line.
pub fn resize(model: &ModelArgs) -> Result<Option<Resize>> {
    if model.no_resize {
        return Ok(None);
    }
    let Resize::CentreCrop { shorter_side, crop } = Resize::default() else {
        return Ok(Some(Resize::default()));
    };
    Resize::centre_crop(model.resize_size.unwrap_or(shorter_side), model.crop_size.unwrap_or(crop))
        .map(Some)
        .map_err(|e| NasError::InvalidInput(format!("--resize-size / --crop-size: {e}")))
}

/// Opens a chunk of images.
pub fn open_all(paths: &[std::path::PathBuf], resize: Option<Resize>) -> Result<Vec<Photo>> {
    paths.iter().map(|p| Photo::open(p, resize)).collect()
}
