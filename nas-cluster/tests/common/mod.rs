//! Test support: real NAS-like matrices from the shared PyTorch references, and the
//! scikit-learn fixtures written by `scripts/make_fixtures.py`.
//!
//! The matrices are built exactly as that script builds them (see its docstring), so that
//! fixture labels refer to the same rows. Also used by `examples/cluster_bench.rs`.
#![allow(dead_code)]

use ndarray::{Array1, Array2, Array3, Axis};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The shared folder: `NAS_SHARED`, else `<crate>/../../shared`, else `/work/shared`.
pub fn shared_dir() -> PathBuf {
    let mut tried = Vec::new();
    if let Ok(p) = std::env::var("NAS_SHARED") {
        tried.push(PathBuf::from(p));
    }
    tried.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    tried.push(PathBuf::from("/work/shared"));
    for p in &tried {
        if p.join("reference").is_dir() {
            return p.clone();
        }
    }
    panic!(
        "the shared folder with reference/<arch>/*.npy was not found (tried {tried:?}); \
         set NAS_SHARED to its path"
    );
}

/// The committed fixtures folder (`NAS_CLUSTER_FIXTURES` overrides it, for a binary run
/// away from its source tree).
pub fn fixtures_dir() -> PathBuf {
    match std::env::var("NAS_CLUSTER_FIXTURES") {
        Ok(p) => PathBuf::from(p),
        Err(_) => Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
    }
}

/// `tests/fixtures/manifest.json`.
pub fn manifest() -> Value {
    let path = fixtures_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A uint8 label vector of the fixtures.
pub fn load_labels(file: &str) -> Vec<u32> {
    let path = fixtures_dir().join(file);
    let a: Array1<u8> = ndarray_npy::read_npy(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    a.iter().map(|&v| u32::from(v)).collect()
}

/// A uint16 2-D map of the fixtures.
pub fn load_map_u16(file: &str) -> Array2<u32> {
    let path = fixtures_dir().join(file);
    let a: Array2<u16> = ndarray_npy::read_npy(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    a.mapv(u32::from)
}

/// One reference activation `(C, h, w)`.
pub fn level(arch: &str, image: &str, lvl: u64) -> Array3<f32> {
    let path = shared_dir()
        .join("reference")
        .join(arch)
        .join(format!("{image}-224.level{lvl}.npy"));
    ndarray_npy::read_npy(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `(h*w, C)` rows of one level, row = y * w + x.
pub fn raw_matrix(arch: &str, image: &str, lvl: u64) -> Array2<f32> {
    let a = level(arch, image, lvl);
    let (c, h, w) = a.dim();
    let flat = a.into_shape_with_order((c, h * w)).expect("reshape");
    flat.t().as_standard_layout().into_owned()
}

/// Source indices and weights of torch's bilinear interpolation, align_corners=False.
fn bilinear_axis(n_in: usize, n_out: usize) -> Vec<(usize, usize, f64, f64)> {
    let scale = n_in as f64 / n_out as f64;
    (0..n_out)
        .map(|o| {
            let src = ((o as f64 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (src.floor() as usize).min(n_in - 1);
            let i1 = (i0 + 1).min(n_in - 1);
            let w1 = src - i0 as f64;
            (i0, i1, 1.0 - w1, w1)
        })
        .collect()
}

/// Bilinear `(C, h, w)` -> `(C, size, size)` in f64, rows first then columns (as numpy).
fn upsample(a: &Array3<f32>, size: usize) -> Array3<f64> {
    let (c, h, w) = a.dim();
    let ys = bilinear_axis(h, size);
    let xs = bilinear_axis(w, size);
    let mut rows = Array3::<f64>::zeros((c, size, w));
    for ch in 0..c {
        for (oy, &(y0, y1, wy0, wy1)) in ys.iter().enumerate() {
            for x in 0..w {
                rows[[ch, oy, x]] = f64::from(a[[ch, y0, x]]) * wy0 + f64::from(a[[ch, y1, x]]) * wy1;
            }
        }
    }
    let mut out = Array3::<f64>::zeros((c, size, size));
    for ch in 0..c {
        for oy in 0..size {
            for (ox, &(x0, x1, wx0, wx1)) in xs.iter().enumerate() {
                out[[ch, oy, ox]] = rows[[ch, oy, x0]] * wx0 + rows[[ch, oy, x1]] * wx1;
            }
        }
    }
    out
}

/// The NAS feature matrix: levels upsampled to `size x size`, standardised per channel,
/// weighted by `1/sqrt(C)`, concatenated: `(size*size, sum C)`.
pub fn nas_matrix(arch: &str, image: &str, levels: &[u64], size: usize) -> Array2<f32> {
    let mut parts: Vec<Array2<f32>> = Vec::new();
    for &lvl in levels {
        let u = upsample(&level(arch, image, lvl), size);
        let c = u.dim().0;
        let flat = u.into_shape_with_order((c, size * size)).expect("reshape");
        let mut z = Array2::<f32>::zeros((size * size, c));
        for (ch, row) in flat.axis_iter(Axis(0)).enumerate() {
            let p = row.len() as f64;
            let mean = row.sum() / p;
            let std = (row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / p).sqrt();
            for (i, &v) in row.iter().enumerate() {
                let s = if std > 0.0 { (v - mean) / std } else { 0.0 };
                z[[i, ch]] = (s / (c as f64).sqrt()) as f32;
            }
        }
        parts.push(z);
    }
    let views: Vec<_> = parts.iter().map(|p| p.view()).collect();
    let m = ndarray::concatenate(Axis(1), &views).expect("concatenate");
    m.as_standard_layout().into_owned()
}

/// The matrix of a manifest dataset entry (`kind`, `arch`, `image`, `levels`, `size`).
pub fn build(spec: &Value) -> Array2<f32> {
    let arch = spec["arch"].as_str().expect("arch");
    let image = spec["image"].as_str().expect("image");
    let levels: Vec<u64> = spec["levels"]
        .as_array()
        .expect("levels")
        .iter()
        .map(|v| v.as_u64().expect("level"))
        .collect();
    let m = match spec["kind"].as_str().expect("kind") {
        "raw" => raw_matrix(arch, image, levels[0]),
        _ => nas_matrix(arch, image, &levels, spec["size"].as_u64().expect("size") as usize),
    };
    let shape: Vec<usize> = spec["shape"]
        .as_array()
        .expect("shape")
        .iter()
        .map(|v| v.as_u64().expect("dim") as usize)
        .collect();
    assert_eq!(m.shape(), &shape[..], "matrix shape differs from the fixture's");
    // The same matrix as the fixture script's (it recorded its sums and first values).
    if let Some(ck) = spec.get("checksum") {
        let sum: f64 = m.iter().map(|&v| f64::from(v)).sum();
        let sum_sq: f64 = m.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
        let (es, esq) = (ck["sum"].as_f64().expect("sum"), ck["sum_sq"].as_f64().expect("sum_sq"));
        assert!(
            (sum - es).abs() <= 1e-6 * (1.0 + esq.sqrt() * (m.len() as f64).sqrt()),
            "sum {sum} vs {es}"
        );
        assert!((sum_sq - esq).abs() <= 1e-6 * esq, "sum of squares {sum_sq} vs {esq}");
        for (a, b) in m.row(0).iter().zip(ck["row0_head"].as_array().expect("row0_head")) {
            assert_eq!(*a, b.as_f64().expect("value") as f32, "first row differs from the fixture's");
        }
    }
    m
}

/// The matrix of the named fixture dataset.
pub fn dataset(name: &str) -> Array2<f32> {
    build(&manifest()["datasets"][name])
}
