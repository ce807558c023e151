//! Segmentations: superpixel label maps that remember which cluster each superpixel came from.

use ndarray::Array2;

/// A segmentation of one image into superpixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Segmentation {
    /// Superpixel id of every pixel, `(H, W)`, ids `0..count` in raster order of first appearance.
    pub labels: Array2<u32>,
    /// For every superpixel, the cluster it belongs to (for SLIC and Felzenszwalb, its own id).
    pub cluster_of: Vec<u32>,
}

impl Segmentation {
    /// A segmentation whose superpixels are their own clusters (classic superpixel methods).
    pub fn from_labels(labels: Array2<u32>) -> Segmentation {
        let count = labels.iter().copied().max().map_or(0, |m| m as usize + 1);
        Segmentation {
            labels,
            cluster_of: (0..count as u32).collect(),
        }
    }

    /// Number of superpixels.
    pub fn count(&self) -> usize {
        self.cluster_of.len()
    }

    /// Cluster id of every pixel.
    pub fn clusters(&self) -> Array2<u32> {
        self.labels.mapv(|s| self.cluster_of[s as usize])
    }

    /// Number of pixels in each superpixel.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0usize; self.count()];
        for &s in &self.labels {
            sizes[s as usize] += 1;
        }
        sizes
    }
}

/// Superpixel ids of each pixel of a cluster map, as 4-connected components of equal clusters.
/// Returns the superpixel map and the cluster of every superpixel.
pub fn connected_components(clusters: &Array2<u32>) -> Segmentation {
    let (h, w) = clusters.dim();
    let mut labels = Array2::<u32>::from_elem((h, w), u32::MAX);
    let mut cluster_of = Vec::new();
    let mut stack = Vec::new();
    for y in 0..h {
        for x in 0..w {
            if labels[[y, x]] != u32::MAX {
                continue;
            }
            let id = cluster_of.len() as u32;
            let cluster = clusters[[y, x]];
            cluster_of.push(cluster);
            labels[[y, x]] = id;
            stack.push((y, x));
            while let Some((cy, cx)) = stack.pop() {
                let mut visit = |ny: usize, nx: usize| {
                    if labels[[ny, nx]] == u32::MAX && clusters[[ny, nx]] == cluster {
                        labels[[ny, nx]] = id;
                        stack.push((ny, nx));
                    }
                };
                if cy > 0 {
                    visit(cy - 1, cx);
                }
                if cy + 1 < h {
                    visit(cy + 1, cx);
                }
                if cx > 0 {
                    visit(cy, cx - 1);
                }
                if cx + 1 < w {
                    visit(cy, cx + 1);
                }
            }
        }
    }
    Segmentation { labels, cluster_of }
}

/// Replaces every pixel's saliency by the mean saliency of its superpixel ("superpixelification").
pub fn superpixelify(saliency: &Array2<f32>, segmentation: &Segmentation) -> Array2<f32> {
    let n = segmentation.count();
    let mut sums = vec![0f64; n];
    let mut counts = vec![0usize; n];
    for (&s, &v) in segmentation.labels.iter().zip(saliency.iter()) {
        sums[s as usize] += f64::from(v);
        counts[s as usize] += 1;
    }
    let means: Vec<f32> = sums
        .iter()
        .zip(&counts)
        .map(|(s, c)| if *c > 0 { (*s / *c as f64) as f32 } else { 0.0 })
        .collect();
    segmentation.labels.mapv(|s| means[s as usize])
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn components_split_disconnected_clusters() {
        let clusters = array![[0, 0, 1], [1, 1, 1], [0, 2, 0]];
        let seg = connected_components(&clusters);
        assert_eq!(seg.labels, array![[0, 0, 1], [1, 1, 1], [2, 3, 4]]);
        assert_eq!(seg.cluster_of, vec![0, 1, 0, 2, 0]);
        assert_eq!(seg.clusters(), clusters);
    }

    #[test]
    fn superpixelify_averages_within_superpixels() {
        let seg = Segmentation::from_labels(array![[0, 0], [1, 1]]);
        let out = superpixelify(&array![[1.0, 3.0], [-1.0, 5.0]], &seg);
        assert_eq!(out, array![[2.0, 2.0], [2.0, 2.0]]);
        let seg = Segmentation::from_labels(array![[0, 1], [0, 1]]);
        let out = superpixelify(&array![[1.0, 3.0], [-1.0, 5.0]], &seg);
        assert_eq!(out, array![[0.0, 4.0], [0.0, 4.0]]);
    }
}
