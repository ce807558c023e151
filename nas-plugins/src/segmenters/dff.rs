//! Deep Feature Factorization (Collins, Achanta & Süsstrunk, ECCV 2018) as a segmenter, the
//! prior art closest to NAS: a depth level's activations, `(channels, positions)`, each channel
//! shifted by its minimum to be non-negative, are factorised by NMF into `k` concepts
//! ([`super::nmf`], scikit-learn's `NMF(init="random", random_state=seed)` as
//! pytorch-grad-cam's `dff` calls it); each concept's loadings over the positions, scaled to
//! [0, 1] and resized bilinearly to the photo (pytorch-grad-cam's `scale_cam_image`), compete per
//! pixel, and the strongest concept is the pixel's cluster (the colouring of its
//! `show_factorization_on_image`). Superpixels are the clusters' 4-connected regions, as NAS's.
//! pytorch-grad-cam factorises a batch of photos together (shared concepts); here each photo is
//! factorised alone, so a batch segments each photo as alone.

use super::nmf::Nmf;
use crate::saliency::cam::resize_linear;
use nas_core::component::check_k;
use nas_core::ndarray::Array2;
use nas_core::{connected_components, Backbone, Batch, Context, NasError, ParamKind, ParamSpec, Params, Result, Segmentation, Segmenter};

/// Parameters of `dff`.
pub const DFF_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "level",
        kind: ParamKind::Int,
        default: "4",
        doc: "depth level whose activations are factorised (4, the last, is pytorch-grad-cam's usual target layer)",
    },
    ParamSpec {
        name: "k",
        kind: ParamKind::Int,
        default: "5",
        doc: "number of concepts (NMF components), the clusters of the segmentation",
    },
    ParamSpec {
        name: "max_iter",
        kind: ParamKind::Int,
        default: "200",
        doc: "most coordinate descent passes of the NMF (scikit-learn's max_iter)",
    },
    ParamSpec {
        name: "tol",
        kind: ParamKind::Float,
        default: "1e-4",
        doc: "the NMF stops when a pass's projected gradient is this share of the first pass's (scikit-learn's tol)",
    },
    ParamSpec {
        name: "seed",
        kind: ParamKind::Int,
        default: "0",
        doc: "seed of the NMF's random start (scikit-learn's random_state, pytorch-grad-cam's 0)",
    },
];

/// The `dff` segmenter.
pub struct Dff {
    level: usize,
    nmf: Nmf,
}

impl Dff {
    /// The segmenter factorising depth level `level` with `nmf`.
    pub fn new(level: usize, nmf: Nmf) -> Dff {
        Dff { level, nmf }
    }

    /// The concepts' loadings `(k, h * w)` (NMF's `H`) for one image's activations `(channels,
    /// h * w)`, row-major, on `positions = h * w` positions.
    pub fn concepts(&self, activations: &[f32], channels: usize, positions: usize) -> Result<Array2<f64>> {
        let mut x = Array2::from_shape_fn((channels, positions), |(c, p)| {
            let v = f64::from(activations[c * positions + p]);
            if v.is_nan() {
                0.0
            } else {
                v
            }
        });
        for mut row in x.rows_mut() {
            let low = row.iter().copied().fold(f64::INFINITY, f64::min);
            row.mapv_inplace(|v| v - low);
        }
        Ok(self.nmf.fit(x.view())?.h)
    }

    /// Each concept's loadings over the photo's pixels, row-major, for one image's activations
    /// `(channels, h * w)` on an `[h, w]` grid resized to `[height, width]`.
    pub fn concept_maps(&self, activations: &[f32], channels: usize, grid: [usize; 2], size: [usize; 2]) -> Result<Vec<Vec<f32>>> {
        Ok(self
            .concepts(activations, channels, grid[0] * grid[1])?
            .rows()
            .into_iter()
            .map(|loadings| {
                let loadings: Vec<f32> = loadings.iter().map(|&v| v as f32).collect();
                let low = loadings.iter().copied().fold(f32::INFINITY, f32::min);
                let shifted: Vec<f32> = loadings.iter().map(|v| v - low).collect();
                let high = shifted.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let scaled: Vec<f32> = shifted.iter().map(|v| v / (1e-7 + high)).collect();
                resize_linear(&scaled, grid, size)
            })
            .collect())
    }
}

/// The index of the largest of `maps` at every pixel (the first on ties), as an `[height, width]`
/// cluster map.
fn strongest(maps: &[Vec<f32>], [height, width]: [usize; 2]) -> Array2<u32> {
    Array2::from_shape_fn((height, width), |(y, x)| {
        let at = y * width + x;
        let mut best = 0;
        for (c, map) in maps.iter().enumerate() {
            if map[at] > maps[best][at] {
                best = c;
            }
        }
        best as u32
    })
}

impl Segmenter for Dff {
    fn needs_backbone(&self) -> bool {
        true
    }

    fn segment(&self, batch: &Batch<'_>, backbone: Option<&dyn Backbone>) -> Result<Vec<Segmentation>> {
        let backbone = backbone.ok_or_else(|| NasError::InvalidInput("the dff segmenter needs a backbone".into()))?;
        let input = batch
            .input
            .clone()
            .ok_or_else(|| NasError::InvalidInput("dff needs the normalised input tensor".into()))?;
        let [_, _, height, width] = input.dims();
        check_k(self.nmf.components, height * width)?;
        let levels = backbone.forward(input).levels;
        let level = levels.get(self.level).cloned().ok_or_else(|| {
            NasError::InvalidInput(format!(
                "dff: level {} does not exist; {} has levels 0 to {}",
                self.level,
                backbone.info().name,
                levels.len().saturating_sub(1)
            ))
        })?;
        let [_, channels, gh, gw] = level.dims();
        let values = level
            .into_data()
            .to_vec::<f32>()
            .map_err(|e| NasError::InvalidInput(format!("dff: the level's values: {e:?}")))?;
        values
            .chunks_exact((channels * gh * gw).max(1))
            .map(|image| {
                let maps = self.concept_maps(image, channels, [gh, gw], [height, width])?;
                Ok(connected_components(&strongest(&maps, [height, width])))
            })
            .collect()
    }
}

fn build(params: &Params, _ctx: &Context<'_>) -> Result<Box<dyn Segmenter>> {
    Ok(Box::new(Dff {
        level: params.usize("level", 4, 0, 64)?,
        nmf: Nmf {
            components: params.usize("k", 5, 1, usize::MAX)?,
            max_iter: params.usize("max_iter", 200, 1, 1_000_000)?,
            tol: params.float("tol", 1e-4, 0.0, 1.0)?,
            seed: params.usize("seed", 0, 0, u32::MAX as usize)? as u32,
        },
    }))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "dff",
        summary: "Deep Feature Factorization (Collins et al.): NMF concepts of a backbone level's activations, each pixel given its strongest concept",
        params: DFF_PARAMS,
        factory: nas_core::Factory::Segmenter(build),
    }
}
