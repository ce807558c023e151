//! Shared by the fixture tests and the `bench` example: finds the shared
//! photos, decodes them, and reads the scikit-image fixtures written by
//! `scripts/make_fixtures.py`.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};

use nas_superpixels::{FelzenszwalbParams, SlicParams};
use ndarray::{Array2, Array3};
use serde_json::Value;

/// The crate's root folder.
pub fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared folder with `images/`: `$NAS_SHARED`, else `<crate>/../../shared`,
/// else `/work/shared`. Panics with the places tried when none exists.
pub fn shared_dir() -> PathBuf {
    let mut tried = Vec::new();
    let candidates = std::env::var_os("NAS_SHARED")
        .map(PathBuf::from)
        .into_iter()
        .chain([crate_dir().join("../../shared"), PathBuf::from("/work/shared")]);
    for dir in candidates {
        if dir.join("images").is_dir() {
            return dir;
        }
        tried.push(dir.display().to_string());
    }
    panic!(
        "no shared folder with images/ found (tried {}); set NAS_SHARED to the folder holding images/",
        tried.join(", ")
    );
}

/// Decodes a photo to `(H, W, 3)` f32 RGB in [0, 1] (`u8 / 255`).
pub fn load_rgb(path: &Path) -> Array3<f32> {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("cannot decode {}: {e}", path.display()))
        .to_rgb8();
    let (w, h) = img.dimensions();
    Array3::from_shape_fn((h as usize, w as usize, 3), |(y, x, c)| {
        f32::from(img.get_pixel(x as u32, y as u32)[c]) / 255.0
    })
}

/// One fixture of the manifest.
pub struct Fixture {
    pub file: String,
    pub image: String,
    /// For JPEG photos: the decoded pixels scikit-image was given.
    pub pixels: Option<String>,
    pub algorithm: String,
    pub setting: String,
    pub params: Value,
    pub n_segments: usize,
    pub skimage_ms: f64,
    pub skimage_min_ms: f64,
}

impl Fixture {
    /// The SLIC parameters of this fixture (scikit-image defaults elsewhere).
    pub fn slic_params(&self) -> SlicParams {
        let p = &self.params;
        let d = SlicParams::default();
        SlicParams {
            n_segments: p["n_segments"].as_u64().map_or(d.n_segments, |v| v as usize),
            compactness: p["compactness"].as_f64().unwrap_or(d.compactness),
            sigma: p["sigma"].as_f64().unwrap_or(d.sigma),
            slic_zero: p["slic_zero"].as_bool().unwrap_or(d.slic_zero),
            enforce_connectivity: p["enforce_connectivity"].as_bool().unwrap_or(d.enforce_connectivity),
            start_label: p["start_label"].as_u64().map_or(d.start_label, |v| v as u32),
            ..d
        }
    }

    /// The Felzenszwalb parameters of this fixture.
    pub fn felzenszwalb_params(&self) -> FelzenszwalbParams {
        let p = &self.params;
        let d = FelzenszwalbParams::default();
        FelzenszwalbParams {
            scale: p["scale"].as_f64().unwrap_or(d.scale),
            sigma: p["sigma"].as_f64().unwrap_or(d.sigma),
            min_size: p["min_size"].as_u64().map_or(d.min_size, |v| v as usize),
        }
    }

    /// The photo decoded by the `image` crate from the shared folder.
    pub fn decoded(&self) -> Array3<f32> {
        load_rgb(&shared_dir().join("images").join(&self.image))
    }

    /// The exact pixels scikit-image segmented: the stored ones for JPEG
    /// photos (after checking that they are this photo), else the decoded photo.
    pub fn skimage_input(&self) -> Array3<f32> {
        let decoded = self.decoded();
        let Some(pixels) = &self.pixels else {
            return decoded;
        };
        let stored = read_pixels(&fixtures_dir().join(pixels));
        assert_eq!(stored.dim(), decoded.dim(), "{pixels} does not match {}", self.image);
        let max_diff = stored
            .iter()
            .zip(decoded.iter())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0_f32, f32::max);
        assert!(
            max_diff <= 8.0 / 255.0,
            "{pixels} differs from {} by {} levels",
            self.image,
            max_diff * 255.0
        );
        stored
    }

    /// scikit-image's label map.
    pub fn labels(&self) -> Array2<u32> {
        read_labels(&fixtures_dir().join(&self.file))
    }
}

pub fn fixtures_dir() -> PathBuf {
    crate_dir().join("tests/fixtures")
}

/// All fixtures listed in `tests/fixtures/manifest.json`.
pub fn manifest() -> Vec<Fixture> {
    let path = fixtures_dir().join("manifest.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let json: Value = serde_json::from_str(&text).expect("manifest.json is valid JSON");
    json["fixtures"]
        .as_array()
        .expect("manifest has a `fixtures` list")
        .iter()
        .map(|f| Fixture {
            file: f["fixture"].as_str().expect("fixture name").to_owned(),
            image: f["image"].as_str().expect("image name").to_owned(),
            pixels: f["pixels"].as_str().map(str::to_owned),
            algorithm: f["algorithm"].as_str().expect("algorithm").to_owned(),
            setting: f["setting"].as_str().expect("setting").to_owned(),
            params: f["params"].clone(),
            n_segments: f["n_segments"].as_u64().expect("n_segments") as usize,
            skimage_ms: f["skimage_ms"].as_f64().expect("skimage_ms"),
            skimage_min_ms: f["skimage_min_ms"].as_f64().unwrap_or(f64::NAN),
        })
        .collect()
}

/// Reads a gzip'd `.npy` file: its dtype string (`<u2`, `|u1`, ...), shape
/// and raw C-order data bytes.
pub fn read_npy_gz(path: &Path) -> (String, Vec<usize>, Vec<u8>) {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    let mut bytes = Vec::new();
    flate2::read::GzDecoder::new(file)
        .read_to_end(&mut bytes)
        .unwrap_or_else(|e| panic!("cannot gunzip {}: {e}", path.display()));
    assert_eq!(&bytes[..6], b"\x93NUMPY", "{} is not .npy", path.display());
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        _ => (u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize, 12),
    };
    let header = std::str::from_utf8(&bytes[start..start + header_len]).expect("ASCII header");
    assert!(header.contains("'fortran_order': False"), "expected C order in {header}");
    let field = |key: &str, open: &str, close: char| {
        header
            .split(&format!("'{key}': {open}"))
            .nth(1)
            .and_then(|s| s.split(close).next())
            .unwrap_or_else(|| panic!("no {key} in {header}"))
            .to_owned()
    };
    let descr = field("descr", "'", '\'');
    let shape = field("shape", "(", ')')
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().expect("shape entry"))
        .collect();
    (descr, shape, bytes[start + header_len..].to_vec())
}

/// Reads a gzip'd `.npy` label map: 2D, little-endian uint16.
pub fn read_labels(path: &Path) -> Array2<u32> {
    let (descr, shape, data) = read_npy_gz(path);
    assert_eq!(descr, "<u2", "{}", path.display());
    assert_eq!(shape.len(), 2, "expected a 2D array in {}", path.display());
    let data = data.chunks_exact(2).map(|b| u32::from(u16::from_le_bytes([b[0], b[1]]))).collect();
    Array2::from_shape_vec((shape[0], shape[1]), data).expect("data matches shape")
}

/// Reads a gzip'd `.npy` uint8 RGB image (H, W, 3) as f32 `value / 255`.
pub fn read_pixels(path: &Path) -> Array3<f32> {
    let (descr, shape, data) = read_npy_gz(path);
    assert_eq!(descr, "|u1", "{}", path.display());
    assert_eq!(shape.len(), 3, "expected (H, W, 3) in {}", path.display());
    let data = data.iter().map(|&v| f32::from(v) / 255.0).collect();
    Array3::from_shape_vec((shape[0], shape[1], shape[2]), data).expect("data matches shape")
}

/// Number of distinct labels.
pub fn count_segments(labels: &Array2<u32>) -> usize {
    let mut seen: Vec<u32> = labels.iter().copied().collect();
    seen.sort_unstable();
    seen.dedup();
    seen.len()
}
