//! Plugins end to end: the dynamic `nas-plugin-edges` is built with cargo, loaded and run on a real
//! photo; a build declaring another nas-core, a shared library that is not a plugin and a missing
//! file are refused; the static `nas-plugin-static` is in `Registry::builtin()` once linked.

use nas_core::backbone::normalise;
use nas_core::registry::Origin;
use nas_core::{
    Backbone, BackboneInfo, Batch, Context, Device, Kind, LevelHook, MetricInput, NasError, NasTensor, Params, Photo, Registry, Resize,
};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The two builds of the dynamic plugin, copied to distinct names.
struct Built {
    good: PathBuf,
    mismatched: PathBuf,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

fn photo_path() -> PathBuf {
    workspace().join("examples/images/chelsea.png")
}

/// Cargo arguments that reproduce this test binary's profile (and target triple, if any), so the
/// plugin shares every setting that matters with the host; and the folder the library lands in.
fn profile_args() -> (Vec<String>, String) {
    // This binary is <target>/[<triple>/]<profile dir>/deps/plugins-<hash>.
    let exe = std::env::current_exe().unwrap_or_default();
    let profile_dir = exe.parent().and_then(Path::parent).map(Path::to_path_buf).unwrap_or_default();
    let dir_name = profile_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "debug".into());
    let profile = if dir_name == "debug" { "dev".to_string() } else { dir_name.clone() };
    let mut args = vec!["--profile".to_string(), profile];
    let mut output = dir_name;
    let outer_target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().and_then(|p| p.canonicalize().ok());
    let above_profile = profile_dir.parent().and_then(|p| p.canonicalize().ok());
    if let (Some(outer), Some(above)) = (outer_target, above_profile) {
        if outer != above {
            if let Some(triple) = above.file_name() {
                let triple = triple.to_string_lossy().into_owned();
                args.extend(["--target".to_string(), triple.clone()]);
                output = format!("{triple}/{output}");
            }
        }
    }
    (args, output)
}

fn cargo_build(target_dir: &Path, features: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let (profile, _) = profile_args();
    let mut command = Command::new(&cargo);
    command
        .current_dir(workspace())
        .args(["build", "-p", "nas-plugin-edges", "--target-dir"])
        .arg(target_dir)
        .args(&profile);
    if !features.is_empty() {
        command.args(["--features", &features.join(",")]);
    }
    let output = command.output().map_err(|e| format!("cannot run {cargo}: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        return Err(format!(
            "{command:?} failed:\n{}",
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ));
    }
    Ok(())
}

/// Copies through a temporary name, so a library another process has mapped is never rewritten.
fn copy_as(from: &Path, to: &Path) -> Result<(), String> {
    let temporary = to.with_extension(format!("tmp{}", std::process::id()));
    std::fs::copy(from, &temporary).map_err(|e| format!("cannot copy {} to {}: {e}", from.display(), temporary.display()))?;
    std::fs::rename(&temporary, to).map_err(|e| format!("cannot rename {} to {}: {e}", temporary.display(), to.display()))
}

fn build_plugins() -> Result<Built, String> {
    // A target folder of its own: the outer `cargo test` holds the lock on its target folder.
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new("target"))
        .join("plugin-tests");
    let (_, output) = profile_args();
    let library = target_dir.join(output).join(format!(
        "{}nas_plugin_edges{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    let named = |variant: &str| {
        target_dir.join(format!(
            "{}nas_plugin_edges_{variant}{}",
            std::env::consts::DLL_PREFIX,
            std::env::consts::DLL_SUFFIX
        ))
    };
    let built = Built {
        good: named("good"),
        mismatched: named("mismatched"),
    };
    cargo_build(&target_dir, &["test-mismatched-core"])?;
    copy_as(&library, &built.mismatched)?;
    cargo_build(&target_dir, &[])?;
    copy_as(&library, &built.good)?;
    Ok(built)
}

/// Builds both variants once for all tests of this binary (they run on parallel threads).
fn plugins() -> &'static Built {
    static BUILT: OnceLock<Result<Built, String>> = OnceLock::new();
    match BUILT.get_or_init(build_plugins) {
        Ok(built) => built,
        Err(e) => panic!("building nas-plugin-edges: {e}"),
    }
}

fn context(registry: &Registry) -> Context<'_> {
    Context {
        registry,
        device: nas_core::device::default_device(),
        cache_dir: std::env::temp_dir(),
    }
}

fn chelsea() -> Photo {
    Photo::open(&photo_path(), Some(Resize::default())).expect("examples/images/chelsea.png")
}

fn registry() -> Registry {
    nas_plugins::link();
    nas_plugin_static::link();
    Registry::builtin()
}

fn plugin_error(result: nas_core::Result<Vec<String>>) -> (PathBuf, String) {
    match result {
        Err(NasError::Plugin { path, reason }) => (path, reason),
        Err(other) => panic!("expected a plugin error, got {other}"),
        Ok(names) => panic!("expected a refusal, the plugin was loaded with {names:?}"),
    }
}

#[test]
fn dynamic_plugin_adds_a_working_grid_segmenter() {
    let built = plugins();
    let mut registry = registry();
    assert!(!registry.names(Kind::Segmenter).contains(&"grid".to_string()));
    let before = registry.entries().count();
    let names = registry
        .load_plugin(&built.good)
        .expect("the plugin built from this workspace is accepted");
    assert_eq!(names, vec!["segmenter grid".to_string()]);
    assert_eq!(registry.entries().count(), before + 1);
    let origin = registry.entries().find(|(e, _)| e.name == "grid").map(|(_, o)| o.clone());
    assert!(matches!(origin, Some(Origin::Plugin(ref p)) if p == &built.good), "{origin:?}");
    // Built-ins are still there next to the plugin's component.
    assert!(registry.names(Kind::Segmenter).contains(&"nas".to_string()));

    let photo = chelsea();
    assert_eq!((photo.height(), photo.width()), (224, 224));
    let batch = Batch {
        photos: vec![&photo, &photo],
        input: None,
    };
    let ctx = context(&registry);

    let grid = registry
        .segmenter("grid", &Params::empty("grid"), &ctx)
        .expect("grid with defaults");
    assert!(!grid.needs_backbone());
    let segmentations = grid.segment(&batch, None).expect("grid segments any photo");
    assert_eq!(segmentations.len(), 2);
    let side = 224usize.div_ceil(16);
    assert_eq!(segmentations[0].count(), side * side);
    assert!(segmentations[0].sizes().iter().all(|&s| s == 16 * 16));
    assert_eq!(segmentations[0].labels[[0, 0]], 0);
    assert_eq!(segmentations[0].labels[[223, 223]] as usize, side * side - 1);

    // A side that does not divide 224: 12 x 12 cells, the last row and column 4 pixels thick.
    let mut params = Params::empty("grid");
    params.set_from_str("size", "20");
    let grid = registry.segmenter("grid", &params, &ctx).expect("grid with size = 20");
    let segmentation = grid.segment(&batch, None).expect("segments").remove(0);
    assert_eq!(segmentation.count(), 224usize.div_ceil(20).pow(2));
    let sizes = segmentation.sizes();
    assert_eq!(sizes.iter().sum::<usize>(), 224 * 224);
    assert_eq!((sizes[0], sizes[11], sizes[143]), (400, 80, 16));
    assert_eq!(segmentation.labels[[19, 20]], 1);
    assert_eq!(segmentation.labels[[20, 19]], 12);

    // Parameters are validated by the plugin, and unknown ones by the registry's `finish`.
    let mut params = Params::empty("grid");
    params.set_from_str("size", "0");
    let err = registry
        .segmenter("grid", &params, &ctx)
        .err()
        .expect("size = 0 is refused")
        .to_string();
    assert!(err.contains("`size`") && err.contains("[1, 16384]"), "{err}");
    let mut params = Params::empty("grid");
    params.set_from_str("sise", "8");
    let err = registry
        .segmenter("grid", &params, &ctx)
        .err()
        .expect("a typo is refused")
        .to_string();
    assert!(err.contains("sise") && err.contains("valid parameters: size"), "{err}");
}

#[test]
fn plugin_built_against_another_core_is_refused() {
    let built = plugins();
    let mut registry = registry();
    let before = registry.entries().count();
    let (path, reason) = plugin_error(registry.load_plugin(&built.mismatched));
    assert_eq!(path, built.mismatched);
    assert!(reason.contains("refused plugin `nas-plugin-edges`"), "{reason}");
    assert!(reason.contains("nas-core 0.0.0-mismatch"), "{reason}");
    assert!(
        reason.contains(&format!("this nas is {}", nas_core::plugin::CORE_VERSION)),
        "{reason}"
    );
    assert_eq!(registry.entries().count(), before);
    assert!(!registry.names(Kind::Segmenter).contains(&"grid".to_string()));
}

fn find_libc() -> Option<PathBuf> {
    let roots = ["/lib", "/usr/lib", "/lib64", "/usr/lib64"];
    for root in roots {
        let root = Path::new(root);
        let direct = root.join("libc.so.6");
        if direct.is_file() {
            return Some(direct);
        }
        for entry in std::fs::read_dir(root).into_iter().flatten().flatten() {
            let candidate = entry.path().join("libc.so.6");
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

#[test]
fn shared_library_without_declaration_is_refused() {
    let libc = find_libc().expect("libc.so.6 under /lib or /usr/lib");
    let mut registry = registry();
    let before = registry.entries().count();
    let (_, reason) = plugin_error(registry.load_plugin(&libc));
    assert!(reason.contains("not a nas plugin"), "{reason}");
    assert_eq!(registry.entries().count(), before);
}

#[test]
fn missing_file_is_refused() {
    let mut registry = registry();
    let missing = workspace().join("target/no-such-plugin.so");
    let (path, reason) = plugin_error(registry.load_plugin(&missing));
    assert_eq!(path, missing);
    assert_eq!(reason, "file not found");
    let err = NasError::Plugin { path, reason };
    assert_eq!(err.exit_code(), 69);
}

/// A stand-in classifier with two classes: class 0 scores 4 x the mean of the normalised input,
/// class 1 scores 0. Each pixel's evidence for class 0 is the sum of its channels.
struct MeanColour {
    info: BackboneInfo,
    device: Device,
}

impl MeanColour {
    fn new() -> MeanColour {
        MeanColour {
            info: BackboneInfo {
                name: "mean-colour".into(),
                mean: [0.5; 3],
                std: [0.25; 3],
                level_channels: [3; 5],
                level_strides: [1; 5],
                min_input_side: 0,
                num_classes: 2,
            },
            device: nas_core::device::default_device(),
        }
    }
}

impl Backbone for MeanColour {
    fn info(&self) -> &BackboneInfo {
        &self.info
    }

    fn device(&self) -> &Device {
        &self.device
    }

    fn forward_hooked(&self, input: NasTensor<4>, _hook: &mut dyn LevelHook) -> NasTensor<2> {
        let [n, c, h, w] = input.dims();
        let evidence = input.reshape([n, c * h * w]).mean_dim(1) * 4.0;
        let other = evidence.zeros_like();
        NasTensor::cat(vec![evidence, other], 1)
    }
}

#[test]
fn static_plugin_metric_is_builtin_when_linked() {
    let registry = registry();
    assert!(registry.names(Kind::Metric).contains(&"deletion-auc".to_string()));
    assert!(registry.names(Kind::Metric).contains(&"auc-lerf".to_string()));
    let origin = registry.entries().find(|(e, _)| e.name == "deletion-auc").map(|(_, o)| o.clone());
    assert!(matches!(origin, Some(Origin::BuiltIn)), "{origin:?}");

    let backbone = MeanColour::new();
    let photo = chelsea();
    let input = normalise(&[&photo], backbone.info(), backbone.device()).expect("normalised photo");
    // Evidence of each pixel for class 0 (a faithful map), and its opposite.
    let evidence = photo
        .pixels
        .map_axis(nas_core::ndarray::Axis(2), |rgb| rgb.iter().map(|v| (v - 0.5) / 0.25).sum::<f32>());
    let opposite = evidence.mapv(|v| -v);

    let mut params = Params::empty("deletion-auc");
    params.set_from_str("steps", "20");
    let ctx = context(&registry);
    let metric = registry.metric("deletion-auc", &params, &ctx).expect("deletion-auc");
    let score = |saliency| {
        metric
            .score(&MetricInput {
                backbone: &backbone,
                input: &input,
                saliency,
                segmentation: None,
                target: 0,
                annotation: &Default::default(),
            })
            .expect("scores")
    };
    let faithful = score(&evidence);
    let reversed = score(&opposite);
    assert_eq!(faithful.curve.len(), 21);
    assert_eq!(faithful.curve[0].0, 0.0);
    assert!((faithful.curve[20].0 - 1.0).abs() < 1e-12);
    // With everything removed both classes score 0: probability 1/2.
    assert!((faithful.curve[20].1 - 0.5).abs() < 1e-5, "{:?}", faithful.curve[20]);
    assert!((faithful.curve[0].1 - reversed.curve[0].1).abs() < 1e-6);
    assert!((0.0..=1.0).contains(&faithful.value) && (0.0..=1.0).contains(&reversed.value));
    assert!(
        faithful.value + 0.05 < reversed.value,
        "faithful {} vs reversed {}",
        faithful.value,
        reversed.value
    );
    // Removing the most positive evidence first makes the curve fall below the last point.
    assert!(faithful.curve[1].1 < faithful.curve[0].1);

    let mut params = Params::empty("deletion-auc");
    params.set_from_str("score", "softmax");
    let err = registry
        .metric("deletion-auc", &params, &ctx)
        .err()
        .expect("bad choice refused")
        .to_string();
    assert!(err.contains("probability, logit"), "{err}");
}
