//! Neuro-Activated Superpixels: cluster a classifier's upsampled depth-level activations and read
//! the label map as superpixels (DESIGN.md, "NAS, as we specify it").

use nas_core::component::{check_k, Features};
use nas_core::ndarray::{Array2, ArrayView2};
use nas_core::upsampled::{ImplicitScaling, UpsampledFeatures};
use nas_core::upsampled_batch::UpsampledBatch;
use nas_core::{
    connected_components, Backbone, Batch, Clusterer, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Result, Segmentation,
    Segmenter, LEVELS,
};
use rayon::prelude::*;
use std::time::{Duration, Instant};

/// How each channel is scaled before clustering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaling {
    /// Raw activations.
    None,
    /// Zero mean and unit variance per channel over the grid (default).
    Standardize,
    /// Each channel mapped to `[0, 1]` over the grid.
    MinMax,
    /// Each pixel's feature vector of a level scaled to unit length.
    L2,
}

/// How levels are weighted against each other before clustering.
#[derive(Debug, Clone, PartialEq)]
pub enum Weighting {
    /// No weighting.
    None,
    /// Level `l` multiplied by `1/sqrt(C_l)` so that wide deep levels do not drown the others (default).
    InverseSqrtChannels,
    /// One explicit factor per chosen level.
    Explicit(Vec<f32>),
}

/// Where the clusterer runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClusteringPlace {
    /// On the host, the images of a batch side by side (default).
    Host,
    /// Where the backbone runs (a GPU), the whole batch at once, when the clusterer and the
    /// scaling allow it; otherwise on the host.
    Device,
}

/// Time spent in each stage of one segmentation, for `nas bench`.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimes {
    /// Backbone forward pass.
    pub features: Duration,
    /// Reading the levels, and the per-channel statistics for scaling and weighting.
    pub upsample_scale: Duration,
    /// Clustering.
    pub clustering: Duration,
    /// Label upsampling and connected components.
    pub components: Duration,
}

/// The `nas` segmenter.
pub struct Nas {
    levels: Vec<usize>,
    k: usize,
    grid: Option<[usize; 2]>,
    scaling: Scaling,
    weighting: Weighting,
    clusterer: Box<dyn Clusterer>,
    place: ClusteringPlace,
}

/// Parameters of the `nas` segmenter.
pub const NAS_PARAMS: &[ParamSpec] = &[
    ParamSpec {
        name: "levels",
        kind: ParamKind::IntList,
        default: "[2, 3, 4]",
        doc: "depth levels whose activations are clustered (0..4)",
    },
    ParamSpec {
        name: "k",
        kind: ParamKind::Int,
        default: "5",
        doc: "number of clusters",
    },
    ParamSpec {
        name: "grid",
        kind: ParamKind::IntList,
        default: "input size",
        doc: "output grid [h, w] (or one side) the levels are upsampled to; labels are then upsampled to the image by nearest neighbour",
    },
    ParamSpec {
        name: "scaling",
        kind: ParamKind::Str,
        default: "\"standardize\"",
        doc: "per-channel scaling: none, standardize, minmax, l2",
    },
    ParamSpec {
        name: "weighting",
        kind: ParamKind::Str,
        default: "\"inverse-sqrt-channels\"",
        doc: "level weighting: none, inverse-sqrt-channels, explicit (with level_weights)",
    },
    ParamSpec {
        name: "level_weights",
        kind: ParamKind::FloatList,
        default: "",
        doc: "one factor per level, used with weighting = \"explicit\"",
    },
    ParamSpec {
        name: "clusterer",
        kind: ParamKind::Component,
        default: "\"kmeans\"",
        doc: "clusterer component (name, or a table with name and its parameters)",
    },
    ParamSpec {
        name: "clustering",
        kind: ParamKind::Str,
        default: "\"host\"",
        doc: "where k-means runs: host, or device (the backbone's GPU, whole batch at once; scaling none or standardize)",
    },
];

impl Nas {
    /// Builds the segmenter from its parameters.
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<Nas> {
        let levels: Vec<usize> = params
            .int_list("levels", &[2, 3, 4], 0, LEVELS as i64 - 1)?
            .into_iter()
            .map(|l| l as usize)
            .collect();
        let k = params.usize("k", 5, 1, usize::MAX)?;
        let grid = if params.contains("grid") {
            let g = params.int_list("grid", &[224], 1, 8192)?;
            match g.as_slice() {
                [s] => Some([*s as usize, *s as usize]),
                [h, w] => Some([*h as usize, *w as usize]),
                _ => return Err(params.error("grid", format!("{g:?}"), "expected one side or [height, width]")),
            }
        } else {
            None
        };
        let scaling = match params
            .choice("scaling", "standardize", &["none", "standardize", "minmax", "l2"])?
            .as_str()
        {
            "none" => Scaling::None,
            "minmax" => Scaling::MinMax,
            "l2" => Scaling::L2,
            _ => Scaling::Standardize,
        };
        let weighting = match params
            .choice("weighting", "inverse-sqrt-channels", &["none", "inverse-sqrt-channels", "explicit"])?
            .as_str()
        {
            "none" => Weighting::None,
            "explicit" => {
                let w = params.float_list("level_weights")?.ok_or_else(|| {
                    params.error(
                        "level_weights",
                        "(missing)",
                        "weighting = \"explicit\" needs level_weights, one per level",
                    )
                })?;
                if w.len() != levels.len() {
                    return Err(params.error(
                        "level_weights",
                        format!("{w:?}"),
                        format!("expected {} factors, one per level of {levels:?}", levels.len()),
                    ));
                }
                Weighting::Explicit(w.into_iter().map(|v| v as f32).collect())
            }
            _ => Weighting::InverseSqrtChannels,
        };
        if !matches!(weighting, Weighting::Explicit(_)) {
            params.float_list("level_weights")?;
        }
        let (name, clusterer_params) = params.component_param("clusterer", "kmeans")?;
        let clusterer = ctx.registry.clusterer(&name, &clusterer_params, ctx)?;
        let place = match params.choice("clustering", "host", &["host", "device"])?.as_str() {
            "device" => ClusteringPlace::Device,
            _ => ClusteringPlace::Host,
        };
        Ok(Nas {
            levels,
            k,
            grid,
            scaling,
            weighting,
            clusterer,
            place,
        })
    }

    /// Segments a batch and reports the time of each stage.
    pub fn segment_timed(&self, batch: &Batch<'_>, backbone: &dyn Backbone) -> Result<(Vec<Segmentation>, StageTimes)> {
        let input = batch
            .input
            .clone()
            .ok_or_else(|| NasError::InvalidInput("nas needs the normalised input tensor".into()))?;
        let [_, _, in_h, in_w] = input.dims();
        let [gh, gw] = self.grid.unwrap_or([in_h, in_w]);
        check_k(self.k, gh * gw)?;
        let mut times = StageTimes::default();
        let start = Instant::now();
        let forward = backbone.forward(input);
        let chosen: Vec<NasTensor<4>> = self.levels.iter().map(|&l| forward.levels[l].clone()).collect();
        // Nothing else may hold the chosen levels: the CPU backend hands an unshared buffer over
        // without copying, and copies a shared one slowly.
        drop(forward);
        // Devices run asynchronously: wait for the forward pass so that its time is its own.
        nas_core::device::synchronize(backbone.device())?;
        times.features = start.elapsed();

        let labels = match self.cluster_on_device(&chosen, [gh, gw], &mut times)? {
            Some(labels) => labels,
            None => {
                let start = Instant::now();
                let images = self.image_features(chosen, [gh, gw])?;
                times.upsample_scale = start.elapsed();
                // Images are independent: cluster them side by side (each run is seeded, so the
                // result does not depend on the order).
                let start = Instant::now();
                let labels = images
                    .par_iter()
                    .map(|image| self.clusterer.cluster(&image.as_features(), self.k))
                    .collect::<Result<Vec<_>>>()?;
                times.clustering = start.elapsed();
                labels
            }
        };
        let start = Instant::now();
        let out = labels
            .into_par_iter()
            .zip(batch.photos.par_iter())
            .map(|(labels, photo)| self.to_segmentation(labels, [gh, gw], photo))
            .collect::<Result<Vec<_>>>()?;
        times.components = start.elapsed();
        Ok((out, times))
    }

    /// Clusters the whole batch where the levels live, when `clustering`, the scaling and the
    /// clusterer allow it; `None` means the host path must run.
    fn cluster_on_device(&self, levels: &[NasTensor<4>], grid: [usize; 2], times: &mut StageTimes) -> Result<Option<Vec<Vec<u32>>>> {
        let Some(scaling) = self.implicit_scaling() else {
            return Ok(None);
        };
        if self.place == ClusteringPlace::Host {
            return Ok(None);
        }
        let start = Instant::now();
        let channels: Vec<usize> = levels.iter().map(|l| l.dims()[1]).collect();
        let features = UpsampledBatch::new(levels.to_vec(), grid, scaling, &self.level_weights(&channels))?;
        times.upsample_scale = start.elapsed();
        let start = Instant::now();
        let labels = self.clusterer.cluster_batch(&features, self.k).transpose()?;
        times.clustering = start.elapsed();
        Ok(labels)
    }

    /// Grid labels to a segmentation at the photo's size.
    fn to_segmentation(&self, labels: Vec<u32>, [gh, gw]: [usize; 2], photo: &nas_core::Photo) -> Result<Segmentation> {
        let grid = Array2::from_shape_vec((gh, gw), labels).map_err(|e| NasError::InvalidInput(e.to_string()))?;
        Ok(connected_components(&nearest_upsample(grid.view(), photo.height(), photo.width())))
    }

    /// Computes each photo's features once and hands them to `cluster`, which returns any number
    /// of label vectors over the grid (several K of one tree, several seeds, ...); each becomes a
    /// segmentation at the photo's size. Used by the hierarchy and consensus commands.
    pub fn segment_many(
        &self,
        batch: &Batch<'_>,
        backbone: &dyn Backbone,
        cluster: &dyn Fn(&Features<'_>) -> Result<Vec<Vec<u32>>>,
    ) -> Result<Vec<Vec<Segmentation>>> {
        let input = batch
            .input
            .clone()
            .ok_or_else(|| NasError::InvalidInput("nas needs the normalised input tensor".into()))?;
        let [_, _, in_h, in_w] = input.dims();
        let [gh, gw] = self.grid.unwrap_or([in_h, in_w]);
        let forward = backbone.forward(input);
        let chosen: Vec<NasTensor<4>> = self.levels.iter().map(|&l| forward.levels[l].clone()).collect();
        // Nothing else may hold the chosen levels: the CPU backend hands an unshared buffer over
        // without copying, and copies a shared one slowly.
        drop(forward);
        let images = self.image_features(chosen, [gh, gw])?;
        images
            .iter()
            .zip(&batch.photos)
            .map(|(image, photo)| {
                cluster(&image.as_features())?
                    .into_iter()
                    .map(|labels| self.to_segmentation(labels, [gh, gw], photo))
                    .collect()
            })
            .collect()
    }

    /// The grid the features are computed on for an input of `[height, width]`.
    pub fn grid(&self, input: [usize; 2]) -> [usize; 2] {
        self.grid.unwrap_or(input)
    }

    /// The number of clusters.
    pub fn k(&self) -> usize {
        self.k
    }

    /// The scaling as the implicit (low-resolution) features can apply it; `None` for the
    /// scalings that are not affine (min-max, L2), which need the dense matrix.
    fn implicit_scaling(&self) -> Option<ImplicitScaling> {
        match self.scaling {
            Scaling::None => Some(ImplicitScaling::None),
            Scaling::Standardize => Some(ImplicitScaling::Standardize),
            Scaling::MinMax | Scaling::L2 => None,
        }
    }

    /// One factor per chosen level.
    fn level_weights(&self, channels: &[usize]) -> Vec<f32> {
        match &self.weighting {
            Weighting::None => vec![1.0; channels.len()],
            Weighting::InverseSqrtChannels => channels.iter().map(|c| 1.0 / (*c as f32).sqrt()).collect(),
            Weighting::Explicit(w) => w.clone(),
        }
    }

    /// The features of every image of the batch: held implicitly for the linear scalings, built
    /// densely for min-max and L2 scaling.
    fn image_features(&self, levels: Vec<NasTensor<4>>, grid: [usize; 2]) -> Result<Vec<ImageFeatures>> {
        let mut per_level = Vec::with_capacity(levels.len());
        let mut channels = Vec::with_capacity(levels.len());
        let mut batch = 0;
        for level in levels {
            let [b, c, h, w] = level.dims();
            batch = b;
            channels.push(c);
            let values: Vec<f32> = level
                .detach()
                .into_data()
                .into_vec()
                .map_err(|e| NasError::InvalidInput(format!("cannot read activations: {e:?}")))?;
            per_level.push((c, h, w, values));
        }
        let weights = self.level_weights(&channels);
        let implicit = self.implicit_scaling();
        (0..batch)
            .into_par_iter()
            .map(|i| {
                let levels: Vec<_> = per_level
                    .iter()
                    .map(|(c, h, w, v)| (*c, *h, *w, v[i * c * h * w..(i + 1) * c * h * w].to_vec()))
                    .collect();
                Ok(match implicit {
                    Some(scaling) => ImageFeatures::Upsampled(UpsampledFeatures::new(levels, grid, scaling, &weights)),
                    None => {
                        let raw = UpsampledFeatures::new(levels, grid, ImplicitScaling::None, &vec![1.0; channels.len()]).dense();
                        ImageFeatures::Dense(scale_dense(raw, &channels, &weights, self.scaling))
                    }
                })
            })
            .collect()
    }
}

/// Features of one image in the form its scaling allows.
enum ImageFeatures {
    Upsampled(UpsampledFeatures),
    Dense(Array2<f32>),
}

impl ImageFeatures {
    /// A view for a clusterer.
    fn as_features(&self) -> Features<'_> {
        match self {
            ImageFeatures::Upsampled(f) => Features::Upsampled(f),
            ImageFeatures::Dense(m) => Features::Dense(m.view()),
        }
    }
}

/// Min-max or L2 scaling of a dense `(pixels, features)` matrix, level by level, then weighting.
fn scale_dense(mut m: Array2<f32>, channels: &[usize], weights: &[f32], scaling: Scaling) -> Array2<f32> {
    let mut offset = 0;
    for (&c, &weight) in channels.iter().zip(weights) {
        let mut block = m.slice_mut(nas_core::ndarray::s![.., offset..offset + c]);
        match scaling {
            Scaling::MinMax => {
                for mut col in block.columns_mut() {
                    let (lo, hi) = col
                        .iter()
                        .fold((f32::INFINITY, f32::NEG_INFINITY), |(a, b), v| (a.min(*v), b.max(*v)));
                    let range = if hi - lo > 1e-12 { hi - lo } else { 1.0 };
                    col.mapv_inplace(|v| (v - lo) / range * weight);
                }
            }
            _ => {
                for mut row in block.rows_mut() {
                    let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
                    let norm = if norm > 1e-12 { norm } else { 1.0 };
                    row.mapv_inplace(|v| v / norm * weight);
                }
            }
        }
        offset += c;
    }
    m
}

/// Nearest-neighbour upsampling of a label grid to `(height, width)`.
pub fn nearest_upsample(grid: ArrayView2<'_, u32>, height: usize, width: usize) -> Array2<u32> {
    let (gh, gw) = grid.dim();
    if (gh, gw) == (height, width) {
        return grid.to_owned();
    }
    Array2::from_shape_fn((height, width), |(y, x)| {
        grid[[(y * gh / height).min(gh - 1), (x * gw / width).min(gw - 1)]]
    })
}

impl Segmenter for Nas {
    fn needs_backbone(&self) -> bool {
        true
    }

    fn segment(&self, batch: &Batch<'_>, backbone: Option<&dyn Backbone>) -> Result<Vec<Segmentation>> {
        let backbone = backbone.ok_or_else(|| NasError::InvalidInput("the nas segmenter needs a backbone".into()))?;
        Ok(self.segment_timed(batch, backbone)?.0)
    }
}

fn build(params: &Params, ctx: &Context<'_>) -> Result<Box<dyn Segmenter>> {
    Ok(Box::new(Nas::from_params(params, ctx)?))
}

nas_core::inventory::submit! {
    nas_core::ComponentEntry {
        name: "nas",
        summary: "Neuro-Activated Superpixels: clusters of a backbone's upsampled activations",
        params: NAS_PARAMS,
        factory: nas_core::Factory::Segmenter(build),
    }
}
