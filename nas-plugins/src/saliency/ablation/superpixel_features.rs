//! The features that `feature-ablation`, `shapley` and `lime` remove: superpixels (or their clusters) of
//! any segmenter, NAS by default, so that a photo is explained in terms of the network's own
//! regions; Captum users pass the same thing as a `feature_mask`.

use nas_core::backbone::denormalise;
use nas_core::ndarray::Array2;
use nas_core::upsampled_batch::to_host;
use nas_core::{Backbone, Batch, Context, NasError, NasTensor, ParamKind, ParamSpec, Params, Photo, Result, Segmenter};
use std::collections::{BTreeSet, HashMap};

/// One photo's features: the feature of every pixel and how many there are.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureMask {
    /// Feature index of every pixel (row-major), in `0..count`: the rank of its label among the
    /// distinct labels, so that labels `0..count` keep their numbers (LIME's columns).
    pub pixels: Vec<usize>,
    /// Number of features.
    pub count: usize,
}

impl FeatureMask {
    /// The mask of a label map; labels need not be consecutive.
    pub fn from_labels(labels: &Array2<u32>) -> FeatureMask {
        let distinct: BTreeSet<u32> = labels.iter().copied().collect();
        let index: HashMap<u32, usize> = distinct.iter().enumerate().map(|(i, label)| (*label, i)).collect();
        FeatureMask {
            pixels: labels.iter().map(|label| index[label]).collect(),
            count: distinct.len(),
        }
    }

    /// One value per feature spread over its pixels, as an `h x w` map.
    pub fn spread(&self, values: &[f64], [h, w]: [usize; 2]) -> Result<Array2<f32>> {
        Array2::from_shape_vec((h, w), self.pixels.iter().map(|&f| values[f] as f32).collect())
            .map_err(|e| NasError::InvalidInput(e.to_string()))
    }
}

/// Which labels of a segmentation are the features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Grouping {
    /// Each cluster (for NAS: all superpixels of one k-means cluster; for SLIC and Felzenszwalb
    /// the superpixels themselves).
    Clusters,
    /// Each connected superpixel.
    Superpixels,
}

/// A segmenter and the grouping of its output into features.
pub struct SuperpixelFeatures {
    segmenter: Box<dyn Segmenter>,
    grouping: Grouping,
}

/// Parameters `segmentation` and `features` (not `segmenter`: on the command line
/// `--param segmenter.*` reaches the pipeline's segmenter).
pub const SUPERPIXEL_FEATURE_PARAMS: [ParamSpec; 2] = [
    ParamSpec {
        name: "segmentation",
        kind: ParamKind::Component,
        default: "\"nas\"",
        doc: "segmenter whose superpixels are the features (name, or a table with name and its parameters)",
    },
    ParamSpec {
        name: "features",
        kind: ParamKind::Str,
        default: "\"clusters\"",
        doc: "clusters (NAS: one feature per k-means cluster; classic segmenters: per superpixel) or superpixels (each connected region)",
    },
];

impl SuperpixelFeatures {
    /// Builds the segmenter named by `segmentation` (default `nas`) and reads `features`.
    pub fn from_params(params: &Params, ctx: &Context<'_>) -> Result<SuperpixelFeatures> {
        let (name, segmenter_params) = params.component_param("segmentation", "nas")?;
        Ok(SuperpixelFeatures {
            segmenter: ctx.registry.segmenter(&name, &segmenter_params, ctx)?,
            grouping: match params.choice("features", "clusters", &["clusters", "superpixels"])?.as_str() {
                "superpixels" => Grouping::Superpixels,
                _ => Grouping::Clusters,
            },
        })
    }

    /// The features of every image of `input` `(b, 3, H, W)`, segmenting `photos` when given
    /// (and the size of the input), otherwise the photos the normalised input shows.
    pub fn masks(&self, backbone: &dyn Backbone, input: &NasTensor<4>, photos: Option<&[&Photo]>) -> Result<Vec<FeatureMask>> {
        let [batch, _, h, w] = input.dims();
        let fits = |photos: &&[&Photo]| photos.len() == batch && photos.iter().all(|p| (p.height(), p.width()) == (h, w));
        let rebuilt: Vec<Photo>;
        let photos: Vec<&Photo> = match photos.filter(fits) {
            Some(given) => given.to_vec(),
            None => {
                let values = to_host(input.clone())?;
                let image = values.len() / batch.max(1);
                rebuilt = values
                    .chunks(image.max(1))
                    .map(|one| Photo {
                        path: "input".into(),
                        pixels: denormalise(one, backbone.info(), [h, w]),
                    })
                    .collect();
                rebuilt.iter().collect()
            }
        };
        let segmentations = self.segmenter.segment(
            &Batch {
                photos,
                input: Some(input.clone()),
            },
            Some(backbone),
        )?;
        segmentations
            .iter()
            .map(|segmentation| {
                if segmentation.labels.dim() != (h, w) {
                    return Err(NasError::InvalidInput(format!(
                        "the segmenter gave a {:?} label map for a {h}x{w} photo",
                        segmentation.labels.dim()
                    )));
                }
                Ok(match self.grouping {
                    Grouping::Clusters => FeatureMask::from_labels(&segmentation.clusters()),
                    Grouping::Superpixels => FeatureMask::from_labels(&segmentation.labels),
                })
            })
            .collect()
    }
}
