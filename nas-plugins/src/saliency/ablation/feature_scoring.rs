//! Attributions that give each feature (superpixel) of a photo one value: the trait they
//! implement, the loop that segments a batch and spreads the values over the pixels, and the
//! macro that makes them saliency methods.

use super::superpixel_features::{FeatureMask, SuperpixelFeatures};
use nas_core::ndarray::Array2;
use nas_core::progress::Task;
use nas_core::{Backbone, NasTensor, Photo, Result};

/// An attribution that scores each feature of a photo.
pub trait FeatureScoring {
    /// The method's name, for errors and progress.
    fn name(&self) -> &'static str;

    /// Forward passes needed for a photo with these features, or an error when too many.
    fn copies(&self, mask: &FeatureMask) -> Result<usize>;

    /// One value per feature for class `target` of `photo` `(1, 3, H, W)`.
    fn attribute(&self, backbone: &dyn Backbone, photo: &NasTensor<4>, target: usize, mask: &FeatureMask, task: &Task) -> Result<Vec<f64>>;
}

/// The maps of `scoring` for every photo of `input`: each feature's value on its pixels.
pub fn explain_features(
    scoring: &dyn FeatureScoring,
    features: &SuperpixelFeatures,
    backbone: &dyn Backbone,
    input: &NasTensor<4>,
    targets: &[usize],
    photos: Option<&[&Photo]>,
) -> Result<Vec<Array2<f32>>> {
    let images = crate::saliency::photos_with_targets(scoring.name(), input, targets)?;
    let [_, _, h, w] = input.dims();
    let masks = features.masks(backbone, input, photos)?;
    let copies = masks.iter().map(|mask| scoring.copies(mask)).collect::<Result<Vec<_>>>()?;
    let task = nas_core::progress::task(scoring.name(), copies.iter().sum::<usize>() as u64);
    images
        .iter()
        .zip(&masks)
        .map(|((photo, target), mask)| mask.spread(&scoring.attribute(backbone, photo, *target, mask, &task)?, [h, w]))
        .collect()
}

/// Makes a [`FeatureScoring`] type with a `features: SuperpixelFeatures` field and a
/// `from_params(params, ctx)` constructor a saliency method, registered as `$name`.
macro_rules! superpixel_attribution {
    ($method:ident, $name:literal, $params:expr, $summary:literal) => {
        impl nas_core::Saliency for $method {
            fn explain(
                &self,
                backbone: &dyn nas_core::Backbone,
                input: &nas_core::NasTensor<4>,
                targets: &[usize],
            ) -> nas_core::Result<Vec<nas_core::ndarray::Array2<f32>>> {
                $crate::saliency::ablation::feature_scoring::explain_features(self, &self.features, backbone, input, targets, None)
            }

            fn explain_photos(
                &self,
                backbone: &dyn nas_core::Backbone,
                input: &nas_core::NasTensor<4>,
                targets: &[usize],
                photos: &[&nas_core::Photo],
            ) -> nas_core::Result<Vec<nas_core::ndarray::Array2<f32>>> {
                $crate::saliency::ablation::feature_scoring::explain_features(self, &self.features, backbone, input, targets, Some(photos))
            }
        }

        nas_core::inventory::submit! {
            nas_core::ComponentEntry {
                name: $name,
                summary: $summary,
                params: $params,
                factory: nas_core::Factory::Saliency(|params, ctx| Ok(Box::new($method::from_params(params, ctx)?))),
            }
        }
    };
}
pub(crate) use superpixel_attribution;
