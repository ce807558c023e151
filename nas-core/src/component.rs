//! The component traits besides `Backbone`: segmenters, clusterers, saliency methods and metrics.

use crate::annotation::Annotation;
use crate::backbone::Backbone;
use crate::device::NasTensor;
use crate::error::{NasError, Result};
use crate::photo::Photo;
use crate::segmentation::Segmentation;
use crate::upsampled::UpsampledFeatures;
use crate::upsampled_batch::UpsampledBatch;
use ndarray::{Array2, ArrayView2, CowArray, Ix2};

/// A batch of photos at the network's input size, with their normalised tensor.
pub struct Batch<'a> {
    /// The photos, `(H, W, 3)` in `[0, 1]`.
    pub photos: Vec<&'a Photo>,
    /// The same photos normalised for the backbone, `(batch, 3, H, W)`, when a backbone is in use.
    pub input: Option<NasTensor<4>>,
}

/// Splits an image into superpixels.
pub trait Segmenter: Send + Sync {
    /// Whether `segment` needs a backbone (NAS does, SLIC does not).
    fn needs_backbone(&self) -> bool;

    /// Segments every photo of the batch.
    fn segment(&self, batch: &Batch<'_>, backbone: Option<&dyn Backbone>) -> Result<Vec<Segmentation>>;
}

/// The pixels x features matrix handed to a clusterer: given as is, or held implicitly at low
/// resolution (see [`UpsampledFeatures`]) for clusterers that can exploit it.
pub enum Features<'a> {
    /// One row per pixel.
    Dense(ArrayView2<'a, f32>),
    /// Upsampled depth levels, never materialised unless asked for.
    Upsampled(&'a UpsampledFeatures),
}

impl Features<'_> {
    /// Number of rows (pixels).
    pub fn rows(&self) -> usize {
        match self {
            Features::Dense(m) => m.nrows(),
            Features::Upsampled(f) => f.pixels(),
        }
    }

    /// The dense matrix, built if it is held implicitly.
    pub fn dense(&self) -> CowArray<'_, f32, Ix2> {
        match self {
            Features::Dense(m) => CowArray::from(m.view()),
            Features::Upsampled(f) => CowArray::from(f.dense()),
        }
    }
}

/// Groups the rows of a feature matrix into `k` clusters.
pub trait Clusterer: Send + Sync {
    /// Cluster label of every row, in `0..k`.
    fn cluster(&self, features: &Features<'_>, k: usize) -> Result<Vec<u32>>;

    /// Clusters every image of a batch where its features live (a GPU, say): one label vector
    /// per image. `None` when this clusterer only runs on the host; the caller then reads the
    /// features back and calls [`Clusterer::cluster`] per image.
    fn cluster_batch(&self, _features: &UpsampledBatch, _k: usize) -> Option<Result<Vec<Vec<u32>>>> {
        None
    }
}

/// A saliency (attribution) method: how much each pixel matters for a target class.
pub trait Saliency: Send + Sync {
    /// One `(H, W)` map per photo of the batch, for class `targets[i]` of photo `i`.
    fn explain(&self, backbone: &dyn Backbone, input: &NasTensor<4>, targets: &[usize]) -> Result<Vec<Array2<f32>>>;

    /// [`Saliency::explain`] knowing which photos the batch holds, for methods that need their
    /// names (maps computed elsewhere and read from files); pipelines call this one.
    fn explain_photos(
        &self,
        backbone: &dyn Backbone,
        input: &NasTensor<4>,
        targets: &[usize],
        _photos: &[&Photo],
    ) -> Result<Vec<Array2<f32>>> {
        self.explain(backbone, input, targets)
    }

    /// Whether the method computes its maps from the input, so that it can remake them for
    /// perturbed photos (robustness metrics need that); maps read from files cannot be.
    fn remakes(&self) -> bool {
        true
    }
}

/// What a metric scores: one photo, its saliency map and, if any, its segmentation.
pub struct MetricInput<'a> {
    /// The backbone being explained.
    pub backbone: &'a dyn Backbone,
    /// The normalised photo, `(1, 3, H, W)`.
    pub input: &'a NasTensor<4>,
    /// Saliency map, `(H, W)`.
    pub saliency: &'a Array2<f32>,
    /// The superpixels the map was averaged over, if it was.
    pub segmentation: Option<&'a Segmentation>,
    /// Target class.
    pub target: usize,
    /// The photo's true class and ground-truth boxes, when it comes from an annotated dataset.
    pub annotation: &'a Annotation,
}

impl MetricInput<'_> {
    /// The photo's height and width, after checking that the input holds one image the size of
    /// the saliency map, as metrics that perturb the photo need; `metric` names the caller.
    pub fn single_image(&self, metric: &str) -> Result<(usize, usize)> {
        let [b, channels, h, w] = self.input.dims();
        if b != 1 || (h, w) != self.saliency.dim() {
            return Err(NasError::InvalidInput(format!(
                "{metric}: expected one image matching the {:?} saliency map, got input {:?}",
                self.saliency.dim(),
                [b, channels, h, w]
            )));
        }
        Ok((h, w))
    }

    /// The normalised photo's values, `(1, 3, H, W)` in NCHW order, for metrics that perturb it
    /// on the host.
    pub fn photo_values(&self) -> Result<Vec<f32>> {
        self.input
            .clone()
            .into_data()
            .into_vec::<f32>()
            .map_err(|e| NasError::InvalidInput(format!("cannot read the photo: {e:?}")))
    }
}

/// A metric's result: a score and, for curve-based metrics, the curve.
#[derive(Debug, Clone, PartialEq)]
pub struct Score {
    /// The score.
    pub value: f64,
    /// The points `(x, y)` of the curve the score integrates, if any.
    pub curve: Vec<(f64, f64)>,
}

/// Remakes a map the way the scored one was made (same method and, for a superpixelified map,
/// the same segmentation) for other inputs or another class: a batch `(n, 3, H, W)` of variants
/// of the photo and a target class give `n` maps for that class. Robustness metrics explain
/// perturbed photos with it (for the scored map's target), randomisation metrics other classes.
pub type Explainer<'a> = dyn Fn(&NasTensor<4>, usize) -> Result<Vec<Array2<f32>>> + 'a;

/// Scores a saliency map.
pub trait Metric: Send + Sync {
    /// Scores one photo's map.
    fn score(&self, input: &MetricInput<'_>) -> Result<Score>;

    /// Scores one photo's map, able to remake it for other inputs with `explain`; pipelines call
    /// this one. The default ignores `explain`: only metrics that re-explain override it.
    fn score_explained(&self, input: &MetricInput<'_>, explain: &Explainer<'_>) -> Result<Score> {
        let _ = explain;
        self.score(input)
    }

    /// Whether the metric only applies to maps averaged over superpixels (it scores the
    /// superpixels themselves); pipelines then skip the raw maps.
    fn needs_segmentation(&self) -> bool {
        false
    }

    /// Whether a report should plot the score's curve; metrics that carry other data in it for
    /// [`Metric::summarise`] say no.
    fn plots_curve(&self) -> bool {
        true
    }

    /// The figures a results table shows for one map over a whole dataset, from every photo's
    /// score: by default their mean and standard deviation. Metrics defined over a dataset
    /// (MaxBoxAccV2 takes the best threshold for all photos at once) override it.
    fn summarise(&self, scores: &[&Score]) -> Result<Vec<Statistic>> {
        Ok(mean_and_std(scores))
    }
}

/// One figure of a results table: a statistic of a metric over a dataset.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Statistic {
    /// What it is (`mean`, `std`, `MaxBoxAccV2`, ...).
    pub name: String,
    /// Its value.
    pub value: f64,
}

/// Mean and sample standard deviation (0 for one score) of the scores' values; NaN values (a
/// score undefined for that photo) are left out, and both are NaN when no value is defined.
pub fn mean_and_std(scores: &[&Score]) -> Vec<Statistic> {
    let values: Vec<f64> = scores.iter().map(|s| s.value).filter(|v| !v.is_nan()).collect();
    let n = values.len() as f64;
    let mean = if values.is_empty() {
        f64::NAN
    } else {
        values.iter().sum::<f64>() / n
    };
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    vec![
        Statistic {
            name: "mean".into(),
            value: mean,
        },
        Statistic {
            name: "std".into(),
            value: if values.is_empty() { f64::NAN } else { var.sqrt() },
        },
    ]
}

/// Checks that `k` clusters can be formed from `pixels` pixels.
pub fn check_k(k: usize, pixels: usize) -> Result<()> {
    if k < 1 {
        return Err(NasError::InvalidInput("K = 0: at least one cluster is needed".into()));
    }
    if k > pixels {
        return Err(NasError::InvalidInput(format!(
            "K = {k} is larger than the number of pixels ({pixels}); choose K <= {pixels}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{mean_and_std, Score};

    #[test]
    fn summaries_leave_undefined_scores_out() {
        let score = |value| Score { value, curve: Vec::new() };
        let (a, b, c) = (score(1.0), score(f64::NAN), score(3.0));
        let stats = mean_and_std(&[&a, &b, &c]);
        assert_eq!((stats[0].value, stats[1].value), (2.0, 2f64.sqrt()));
        assert!(
            mean_and_std(&[&b]).iter().all(|s| s.value.is_nan()),
            "nothing defined, nothing to report"
        );
    }
}
