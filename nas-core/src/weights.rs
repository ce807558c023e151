//! torchvision-format state dicts: `.pth` (zip or legacy pickle, through burn-store) and
//! `.safetensors`, consumed key by key so that missing, extra and mis-shaped keys are reported.

use crate::device::{Device, NasTensor};
use crate::error::{NasError, Result};
use burn::tensor::{Shape, TensorData};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A raw tensor read from a weight file.
struct RawTensor {
    shape: Vec<usize>,
    values: Vec<f32>,
}

/// The tensors of a weight file, taken one by one by a network as it builds itself.
pub struct StateDict {
    path: PathBuf,
    tensors: BTreeMap<String, RawTensor>,
    device: Device,
    /// `Some(seed)` for `random:SEED`: every key is drawn on request (see `random_weights`).
    random: Option<u64>,
}

/// Keys that carry no weights (BatchNorm's step counter) and may be present or not.
fn is_bookkeeping(key: &str) -> bool {
    key.ends_with("num_batches_tracked")
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
            });
        }
        if !path.exists() {
            return Err(NasError::Weights {
                path: path.to_path_buf(),
                reason: "file not found".into(),
            });
        }
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let tensors = if ext == "safetensors" {
            read_safetensors(path)?
        } else {
            read_pytorch(path)?
        };
        Ok(StateDict {
            path: path.to_path_buf(),
            tensors,
            device: device.clone(),
            random: None,
        })
    }

    /// The device tensors are created on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The file the tensors came from.
    pub fn path(&self) -> &Path {
        &self.path
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
                found: raw.shape,
            });
        }
        Ok(raw.values)
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

fn read_pytorch(path: &Path) -> Result<BTreeMap<String, RawTensor>> {
    let tensors = crate::torch_pickle::read_state_dict(path).map_err(|reason| NasError::Weights {
        path: path.to_path_buf(),
        reason: format!("not a readable PyTorch state dict: {reason}"),
    })?;
    Ok(tensors
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
        .collect())
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
