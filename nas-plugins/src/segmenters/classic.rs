//! The classic superpixel baselines of the paper, `slic` and `felzenszwalb`, and `quickshift`
//! (the LIME package's default segmentation), with scikit-image's parameter names and defaults
//! (nas-superpixels).

use crate::numpy_random::NumpyRandom;
use nas_core::ndarray::Array2;
use nas_core::{Backbone, Batch, Context, NasError, ParamKind, ParamSpec, Params, Result, Segmentation, Segmenter};
use nas_superpixels::{FelzenszwalbParams, QuickshiftParams, SlicParams};

/// Turns a label map into a segmentation with ids `0..n` in raster order of first appearance,
/// keeping scikit-image's segments as they are; each superpixel is its own cluster.
fn to_segmentation(labels: Array2<u32>) -> Segmentation {
    let mut ids = std::collections::HashMap::new();
    let relabelled = labels.mapv(|l| {
        let next = ids.len() as u32;
        *ids.entry(l).or_insert(next)
    });
    Segmentation::from_labels(relabelled)
}

/// Runs a per-photo superpixel algorithm over a batch, naming the photo in errors.
fn segment_each<E: std::fmt::Display>(
    batch: &Batch<'_>,
    method: &str,
    run: impl Fn(nas_core::ndarray::ArrayView3<'_, f32>) -> std::result::Result<Array2<u32>, E>,
) -> Result<Vec<Segmentation>> {
    batch
        .photos
        .iter()
        .map(|photo| {
            run(photo.pixels.view())
                .map(to_segmentation)
                .map_err(|e| NasError::InvalidInput(format!("{method} on {}: {e}", photo.path.display())))
        })
        .collect()
}

/// The `slic` segmenter.
pub struct Slic {
    params: SlicParams,
}

/// The `sigma` parameter of `slic` and `quickshift`.
const SIGMA_PARAM: ParamSpec = ParamSpec {
    name: "sigma",
    kind: ParamKind::Float,
    default: "0.0",
    doc: "Gaussian smoothing before segmenting",
};

/// The `convert2lab` parameter of `slic` and `quickshift`.
const CONVERT2LAB_PARAM: ParamSpec = ParamSpec {
    name: "convert2lab",
    kind: ParamKind::Bool,
    default: "true",
    doc: "segment in CIELAB",
};

/// Parameters of `slic` (scikit-image's names and defaults).
pub const SLIC_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "n_segments",
        kind: ParamKind::Int,
        default: "100",
        doc: "approximate number of superpixels",
    },
    ParamSpec {
        name: "compactness",
        kind: ParamKind::Float,
        default: "10.0",
        doc: "colour vs space balance; higher is more square",
    },
    ParamSpec {
        name: "max_num_iter",
        kind: ParamKind::Int,
        default: "10",
        doc: "k-means iterations",
    },
    SIGMA_PARAM,
    CONVERT2LAB_PARAM,
    ParamSpec {
        name: "enforce_connectivity",
        kind: ParamKind::Bool,
        default: "true",
        doc: "merge small disconnected pieces",
    },
    ParamSpec {
        name: "min_size_factor",
        kind: ParamKind::Float,
        default: "0.5",
        doc: "smallest segment kept, relative to the expected size",
    },
    ParamSpec {
        name: "max_size_factor",
        kind: ParamKind::Float,
        default: "3.0",
        doc: "largest connected segment, relative to the expected size",
    },
    ParamSpec {
        name: "slic_zero",
        kind: ParamKind::Bool,
        default: "false",
        doc: "SLIC-zero (adaptive compactness)",
    },
    ParamSpec {
        name: "start_label",
        kind: ParamKind::Int,
        default: "1",
        doc: "first label of scikit-image's output (ids in nas files start at 0)",
    },
];

impl Segmenter for Slic {
    fn needs_backbone(&self) -> bool {
        false
    }

    fn segment(&self, batch: &Batch<'_>, _backbone: Option<&dyn Backbone>) -> Result<Vec<Segmentation>> {
        segment_each(batch, "slic", |image| nas_superpixels::slic(image, &self.params))
    }
}

fn build_slic(p: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Segmenter>> {
    let d = SlicParams::default();
    let params = SlicParams {
        n_segments: p.usize("n_segments", d.n_segments, 1, usize::MAX)?,
        compactness: p.float("compactness", d.compactness, f64::MIN_POSITIVE, f64::MAX)?,
        max_num_iter: p.usize("max_num_iter", d.max_num_iter, 0, 100_000)?,
        sigma: p.float("sigma", d.sigma, 0.0, 1e6)?,
        convert2lab: p.bool("convert2lab", d.convert2lab)?,
        enforce_connectivity: p.bool("enforce_connectivity", d.enforce_connectivity)?,
        min_size_factor: p.float("min_size_factor", d.min_size_factor, 0.0, 1e6)?,
        max_size_factor: p.float("max_size_factor", d.max_size_factor, 0.0, 1e6)?,
        slic_zero: p.bool("slic_zero", d.slic_zero)?,
        start_label: p.usize("start_label", d.start_label as usize, 0, 1)? as u32,
    };
    Ok(Box::new(Slic { params }))
}

/// The `felzenszwalb` segmenter.
pub struct Felzenszwalb {
    params: FelzenszwalbParams,
}

/// Parameters of `felzenszwalb` (scikit-image's names and defaults).
pub const FELZENSZWALB_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "scale",
        kind: ParamKind::Float,
        default: "1.0",
        doc: "higher means larger segments",
    },
    ParamSpec {
        name: "sigma",
        kind: ParamKind::Float,
        default: "0.8",
        doc: "Gaussian smoothing before segmenting",
    },
    ParamSpec {
        name: "min_size",
        kind: ParamKind::Int,
        default: "20",
        doc: "smallest segment, merged away in post-processing",
    },
];

impl Segmenter for Felzenszwalb {
    fn needs_backbone(&self) -> bool {
        false
    }

    fn segment(&self, batch: &Batch<'_>, _backbone: Option<&dyn Backbone>) -> Result<Vec<Segmentation>> {
        segment_each(batch, "felzenszwalb", |image| nas_superpixels::felzenszwalb(image, &self.params))
    }
}

fn build_felzenszwalb(p: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Segmenter>> {
    let d = FelzenszwalbParams::default();
    let params = FelzenszwalbParams {
        scale: p.float("scale", d.scale, 0.0, f64::MAX)?,
        sigma: p.float("sigma", d.sigma, 0.0, 1e6)?,
        min_size: p.usize("min_size", d.min_size, 0, usize::MAX)?,
    };
    Ok(Box::new(Felzenszwalb { params }))
}

/// The `quickshift` segmenter.
pub struct Quickshift {
    params: QuickshiftParams,
    seed: u32,
}

/// Parameters of `quickshift` (scikit-image's names and defaults).
pub const QUICKSHIFT_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "ratio",
        kind: ParamKind::Float,
        default: "1.0",
        doc: "weight of colour against position, in (0, 1] (LIME: 0.2)",
    },
    ParamSpec {
        name: "kernel_size",
        kind: ParamKind::Float,
        default: "5.0",
        doc: "width of the density kernel in pixels, 1 to 50; higher means fewer segments (LIME: 4)",
    },
    ParamSpec {
        name: "max_dist",
        kind: ParamKind::Float,
        default: "10.0",
        doc: "longest link kept; higher means fewer segments (LIME: 200)",
    },
    SIGMA_PARAM,
    CONVERT2LAB_PARAM,
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "42",
        doc: "seed of the density tie-breaking noise, NumPy's RandomState(seed).normal(scale=1e-5) per pixel (scikit-image up to 0.21; 0.22 and later draw from a PCG64 generator)",
    },
];

/// scikit-image's standard deviation of the noise that breaks density ties.
const TIE_NOISE: f64 = 1e-5;

impl Segmenter for Quickshift {
    fn needs_backbone(&self) -> bool {
        false
    }

    fn segment(&self, batch: &Batch<'_>, _backbone: Option<&dyn Backbone>) -> Result<Vec<Segmentation>> {
        segment_each(batch, "quickshift", |image| {
            let (height, width, _) = image.dim();
            let mut random = NumpyRandom::new(self.seed);
            let noise: Vec<f64> = (0..height * width).map(|_| random.normal(0.0, TIE_NOISE)).collect();
            nas_superpixels::quickshift(image, &self.params, Some(&noise))
        })
    }
}

fn build_quickshift(p: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Segmenter>> {
    let d = QuickshiftParams::default();
    let params = QuickshiftParams {
        ratio: p.float("ratio", d.ratio, f64::MIN_POSITIVE, 1.0)?,
        kernel_size: p.float("kernel_size", d.kernel_size, 1.0, 50.0)?,
        max_dist: p.float("max_dist", d.max_dist, 0.0, f64::MAX)?,
        sigma: p.float("sigma", d.sigma, 0.0, 1000.0)?,
        convert2lab: p.bool("convert2lab", d.convert2lab)?,
    };
    let seed = p.usize("seed", 42, 0, u32::MAX as usize)? as u32;
    Ok(Box::new(Quickshift { params, seed }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "quickshift",
        summary: "quick shift superpixels (scikit-image's quickshift; with ratio 0.2, kernel_size 4, max_dist 200, the LIME package's default segmentation)",
        params: QUICKSHIFT_PARAMS,
        factory: nas_core::Factory::Segmenter(build_quickshift),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "slic",
        summary: "SLIC superpixels (scikit-image's slic: parameters, defaults and labels)",
        params: SLIC_PARAMS,
        factory: nas_core::Factory::Segmenter(build_slic),
    }
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "felzenszwalb",
        summary: "Felzenszwalb graph-based superpixels (scikit-image's felzenszwalb on colour images)",
        params: FELZENSZWALB_PARAMS,
        factory: nas_core::Factory::Segmenter(build_felzenszwalb),
    }
}
