//! torchvision-format state dicts: `.pth` (zip or legacy pickle, through burn-store) and
//! `.safetensors`, consumed key by key so that missing, extra and mis-shaped keys are reported.

use crate::device::{Device, NasTensor};
use crate::error::{NasError, Result};
use burn::tensor::{Shape, TensorData};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

/// A raw tensor read from a weight file.
struct RawTensor {
    shape: Vec<usize>,
    values: Vec<f32>,
}

/// The tensors of a weight file, taken one by one by a network as it builds itself.
pub struct StateDict {
    path: PathBuf,
    tensors: Tensors,
    device: Device,
    /// `Some(seed)` for `random:SEED`: every key is drawn on request (see `random_weights`).
    random: Option<u64>,
    /// The modules with weights in the file's order, for PyTorch files (safetensors writers sort
    /// their keys, `random:SEED` has no file).
    modules: Option<Vec<String>>,
    /// Modules whose tensors are replaced by seeded random ones (model randomisation checks).
    randomised: Option<(u64, HashSet<String>)>,
}

/// Keys that carry no weights and may be present or not: BatchNorm's step counter, and the
/// Swin Transformers' tables of relative positions and (V2) of their log-spaced coordinates,
/// which the network derives from its window size (the bias table or MLP they feed is checked
/// against that size).
fn is_bookkeeping(key: &str) -> bool {
    key.ends_with("num_batches_tracked") || key.ends_with("relative_position_index") || key.ends_with("relative_coords_table")
}

impl StateDict {
    /// Reads a `.pth`/`.pt` or `.safetensors` file onto `device`; `random:SEED` gives seeded
    /// random weights of whatever shapes the network asks for.
    pub fn open(path: &Path, device: &Device) -> Result<StateDict> {
        if let Some(seed) = crate::random_weights::seed_of(path) {
            return Ok(StateDict {
                path: path.to_path_buf(),
                tensors: BTreeMap::new(),
                device: device.clone(),
                random: Some(seed?),
                modules: None,
                randomised: None,
            });
        }
        if !path.exists() {
            return Err(NasError::Weights {
                path: path.to_path_buf(),
                reason: "file not found".into(),
            });
        }
        let (tensors, modules) = read_cached(path)?;
        Ok(StateDict {
            path: path.to_path_buf(),
            tensors,
            device: device.clone(),
            random: None,
            modules,
            randomised: None,
        })
    }

    /// The modules with weights, in the file's order (for `model.state_dict()`, the order the
    /// network defines them: torchvision's, input to output); refused for safetensors files,
    /// whose writers sort the keys, and for `random:SEED`.
    pub fn modules(&self) -> Result<&[String]> {
        self.modules.as_deref().ok_or_else(|| NasError::Weights {
            path: self.path.clone(),
            reason: if self.random.is_some() {
                RANDOM_HAS_NO_ORDER.into()
            } else {
                SAFETENSORS_HAVE_NO_ORDER.into()
            },
        })
    }

    /// Replaces the tensors of `modules` (state-dict prefixes such as `layer4.1.conv2`) with
    /// seeded random ones, drawn as `random:SEED` draws them, when the network takes them; their
    /// shapes are still checked against the file. This is how model randomisation checks
    /// (Adebayo et al. 2018) randomise a trained network layer by layer.
    pub fn randomise(&mut self, seed: u64, modules: impl IntoIterator<Item = String>) {
        self.randomised = Some((seed, modules.into_iter().collect()));
    }

    /// Renames the file's keys that `rename` maps to a new name (an older layout of the same
    /// network: torchvision's DenseNet files still say `norm.1` for `norm1`).
    pub fn rename_keys(&mut self, rename: impl Fn(&str) -> Option<String>) {
        let renamed: Vec<(String, String)> = self.tensors.keys().filter_map(|k| rename(k).map(|n| (k.clone(), n))).collect();
        for (old, new) in renamed {
            if let Some(tensor) = self.tensors.remove(&old) {
                self.tensors.insert(new, tensor);
            }
        }
        if let Some(modules) = &mut self.modules {
            for module in modules.iter_mut() {
                if let Some(new) = rename(&format!("{module}.weight")).and_then(|k| k.strip_suffix(".weight").map(str::to_string)) {
                    *module = new;
                }
            }
        }
    }

    /// Drops every key of module `prefix` and its submodules, present or not: parts of a
    /// network that inference never runs, such as GoogLeNet's auxiliary classifiers, which its
    /// files carry from training.
    pub fn drop_module(&mut self, prefix: &str) {
        let inside = format!("{prefix}.");
        self.tensors.retain(|key, _| !key.starts_with(&inside));
    }

    /// The device tensors are created on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The file the tensors came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The shape of `key` in the file, if the file has it (`None` for `random:SEED`, which has
    /// whatever shape is asked for): for networks whose files come in more than one layout,
    /// such as MNASNet's older fixed-width stem.
    pub fn shape_of(&self, key: &str) -> Option<&[usize]> {
        self.tensors.get(key).map(|raw| raw.shape.as_slice())
    }

    /// Removes `key` and returns it as a tensor of rank `D`, checking its shape against `expected`.
    pub fn take<const D: usize>(&mut self, key: &str, expected: [usize; D]) -> Result<NasTensor<D>> {
        let values = self.take_values(key, &expected)?;
        Ok(NasTensor::<D>::from_data(
            TensorData::new(values, Shape::new(expected)),
            &self.device,
        ))
    }

    /// Removes `key` and returns its values, checking the shape.
    pub fn take_values(&mut self, key: &str, expected: &[usize]) -> Result<Vec<f32>> {
        if let Some(seed) = self.random {
            return Ok(crate::random_weights::values(seed, key, expected));
        }
        let raw = self.tensors.remove(key).ok_or_else(|| NasError::Weights {
            path: self.path.clone(),
            reason: format!("missing key `{key}` (expected shape {expected:?})"),
        })?;
        if raw.shape != expected {
            return Err(NasError::ShapeMismatch {
                path: self.path.clone(),
                key: key.to_string(),
                expected: expected.to_vec(),
                found: raw.shape.clone(),
            });
        }
        match &self.randomised {
            Some((seed, modules)) if modules.contains(module_of(key)) => Ok(crate::random_weights::values(*seed, key, expected)),
            // The only holder hands its values over; a file kept parsed is copied from.
            _ => Ok(Arc::try_unwrap(raw).map_or_else(|shared| shared.values.clone(), |raw| raw.values)),
        }
    }

    /// Fails if any key was not consumed: an extra key means the file is for another architecture.
    pub fn finish(self) -> Result<()> {
        let extra: Vec<String> = self
            .tensors
            .iter()
            .filter(|(k, _)| !is_bookkeeping(k))
            .map(|(k, t)| format!("`{k}` {:?}", t.shape))
            .collect();
        if extra.is_empty() {
            return Ok(());
        }
        let shown: Vec<&str> = extra.iter().take(5).map(String::as_str).collect();
        Err(NasError::Weights {
            path: self.path,
            reason: format!(
                "{} unexpected key(s), e.g. {}; is this a weight file for this architecture?",
                extra.len(),
                shown.join(", ")
            ),
        })
    }
}

/// The module a state-dict key belongs to: the key without its last component (`layer1.0.bn1`
/// for `layer1.0.bn1.running_var`), or the key itself for a parameter of the network's root.
pub fn module_of(key: &str) -> &str {
    key.rsplit_once('.').map_or(key, |(module, _)| module)
}

/// The modules with weights of a state-dict file, in the file's order (see
/// [`StateDict::modules`]).
pub fn module_order(path: &Path) -> Result<Vec<String>> {
    let refused = |reason: &str| NasError::Weights {
        path: path.to_path_buf(),
        reason: reason.into(),
    };
    if crate::random_weights::seed_of(path).is_some() {
        return Err(refused(RANDOM_HAS_NO_ORDER));
    }
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("safetensors")) {
        return Err(refused(SAFETENSORS_HAVE_NO_ORDER));
    }
    Ok(StateDict::open(path, &crate::device::default_device())?.modules()?.to_vec())
}

/// Why `random:SEED` weights cannot be randomised layer by layer.
const RANDOM_HAS_NO_ORDER: &str = "random weights have no layer order to randomise; give the trained .pth state dict";

/// Why a safetensors file cannot be randomised layer by layer.
const SAFETENSORS_HAVE_NO_ORDER: &str = "a safetensors file does not keep the order of the network's layers; give the .pth state dict";

/// The distinct modules of `keys`, in order of first appearance, bookkeeping keys left out.
fn modules_in_order<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut modules: Vec<String> = Vec::new();
    for key in keys.filter(|key| !is_bookkeeping(key)) {
        let module = module_of(key);
        if !modules.iter().any(|m| m == module) {
            modules.push(module.to_string());
        }
    }
    modules
}

/// A file's tensors by key, shared with the parsed copy kept for the next open.
type Tensors = BTreeMap<String, Arc<RawTensor>>;

/// A parsed weight file kept for the next open, and what identifies its contents.
struct ParsedFile {
    path: PathBuf,
    length: u64,
    modified: Option<SystemTime>,
    tensors: Tensors,
    modules: Option<Vec<String>>,
}

/// Whether weight files are kept parsed (how many [`KeepParsed`] guards live), and the last one.
static PARSED: Mutex<(usize, Option<ParsedFile>)> = Mutex::new((0, None));

/// While a guard lives, the last weight file opened stays parsed in memory and opening it again
/// (unchanged on disk) takes no parsing: a model randomisation check builds the network once
/// per step from the same file. Dropping the last guard frees it.
pub struct KeepParsed(());

/// Keeps weight files parsed for as long as the returned guard lives (see [`KeepParsed`]).
pub fn keep_parsed() -> KeepParsed {
    if let Ok(mut parsed) = PARSED.lock() {
        parsed.0 += 1;
    }
    KeepParsed(())
}

impl Drop for KeepParsed {
    fn drop(&mut self) {
        if let Ok(mut parsed) = PARSED.lock() {
            parsed.0 = parsed.0.saturating_sub(1);
            if parsed.0 == 0 {
                parsed.1 = None;
            }
        }
    }
}

/// The tensors of a weight file (and its modules in the file's order, for PyTorch files), from
/// the file kept parsed when that is this one and unchanged.
fn read_cached(path: &Path) -> Result<(Tensors, Option<Vec<String>>)> {
    let metadata = std::fs::metadata(path).map_err(|e| NasError::io(path, e))?;
    let (length, modified) = (metadata.len(), metadata.modified().ok());
    let mut parsed = PARSED
        .lock()
        .map_err(|_| NasError::InvalidInput("the parsed-weights cache is poisoned".into()))?;
    if parsed.0 > 0 {
        if let Some(file) = parsed
            .1
            .as_ref()
            .filter(|f| f.path == path && f.length == length && f.modified == modified)
        {
            return Ok((file.tensors.clone(), file.modules.clone()));
        }
    }
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let (tensors, modules) = if ext == "safetensors" {
        (read_safetensors(path)?, None)
    } else {
        let (tensors, modules) = read_pytorch(path)?;
        (tensors, Some(modules))
    };
    let tensors: Tensors = tensors.into_iter().map(|(k, t)| (k, Arc::new(t))).collect();
    if parsed.0 > 0 {
        parsed.1 = Some(ParsedFile {
            path: path.to_path_buf(),
            length,
            modified,
            tensors: tensors.clone(),
            modules: modules.clone(),
        });
    }
    Ok((tensors, modules))
}

/// The tensors of a PyTorch file and its modules in the file's order.
fn read_pytorch(path: &Path) -> Result<(BTreeMap<String, RawTensor>, Vec<String>)> {
    let tensors = crate::torch_pickle::read_state_dict(path).map_err(|reason| NasError::Weights {
        path: path.to_path_buf(),
        reason: format!("not a readable PyTorch state dict: {reason}"),
    })?;
    let modules = modules_in_order(tensors.iter().map(|(key, _)| key.as_str()));
    let tensors = tensors
        .into_iter()
        .map(|(key, t)| {
            (
                key,
                RawTensor {
                    shape: t.shape,
                    values: t.values,
                },
            )
        })
        .collect();
    Ok((tensors, modules))
}

fn read_safetensors(path: &Path) -> Result<BTreeMap<String, RawTensor>> {
    let bad = |reason: String| NasError::Weights {
        path: path.to_path_buf(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| NasError::io(path, e))?;
    let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(format!("not a valid safetensors file: {e}")))?;
    let mut out = BTreeMap::new();
    for (key, view) in file.tensors() {
        let shape = view.shape().to_vec();
        let raw = view.data();
        let values: Vec<f32> = match view.dtype() {
            safetensors::Dtype::F32 => raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
            safetensors::Dtype::F16 => raw
                .chunks_exact(2)
                .map(|b| burn::tensor::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            safetensors::Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|b| burn::tensor::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            safetensors::Dtype::F64 => raw
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
                .collect(),
            _ if is_bookkeeping(&key) => Vec::new(),
            other => {
                return Err(bad(format!(
                    "key `{key}`: unsupported dtype {other:?}, expected F32, F16, BF16 or F64"
                )))
            }
        };
        out.insert(key.strip_prefix("module.").unwrap_or(&key).to_string(), RawTensor { shape, values });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::StateDict;

    #[test]
    fn renamed_keys_are_taken_by_their_new_names() -> crate::Result<()> {
        let dir = tempfile::tempdir().map_err(|e| crate::NasError::io(std::path::Path::new("tempdir"), e))?;
        let path = dir.path().join("legacy.safetensors");
        let values: Vec<u8> = [1.5f32, -2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &values)
            .map_err(|e| crate::NasError::InvalidInput(e.to_string()))?;
        let bytes = safetensors::tensor::serialize([("block.norm.1.weight", view)], None)
            .map_err(|e| crate::NasError::InvalidInput(e.to_string()))?;
        std::fs::write(&path, bytes).map_err(|e| crate::NasError::io(&path, e))?;
        let mut sd = StateDict::open(&path, &crate::device::default_device())?;
        sd.rename_keys(|key| key.strip_prefix("block.norm.1.").map(|rest| format!("block.norm1.{rest}")));
        assert_eq!(sd.take_values("block.norm1.weight", &[2])?, vec![1.5, -2.0]);
        sd.finish()
    }
}
