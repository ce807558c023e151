//! Class-wise clustering (the paper's Section 4.2.3): the NAS features of sampled pixels of
//! every photo of one class are clustered together with Ward linkage, and a k-nearest-neighbour
//! vote over those pixels assigns the pixels of any new photo to the same clusters, so that a
//! cluster id means the same concept in every photo (scikit-learn's `AgglomerativeClustering`
//! and `KNeighborsClassifier`, as the paper uses them).

use nas_conv::matmul::Layout;
use nas_core::ndarray::{s, Array2, ArrayView2};
use nas_core::{Features, NasError, Result};
use std::collections::HashMap;
use std::path::Path;

/// A fitted class clustering: the sampled pixels' features and their Ward clusters.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassClustering {
    /// One row per sampled pixel.
    pub points: Array2<f32>,
    /// Ward cluster of each row, numbered in order of first appearance.
    pub labels: Vec<u32>,
    /// Number of clusters.
    pub clusters: usize,
    /// How the features were made (backbone, NAS parameters, photos), kept in the file.
    pub description: String,
}

/// Rows of `features` at the centres of a `per_side x per_side` grid of cells over the
/// `grid`-shaped feature map: the pixels a class clustering samples from one photo.
pub fn sample_rows(features: &Features<'_>, [height, width]: [usize; 2], per_side: usize) -> Array2<f32> {
    let per_side = per_side.clamp(1, height.min(width).max(1));
    let centre = |i: usize, side: usize| (2 * i + 1) * side / (2 * per_side);
    let pixels: Vec<usize> = (0..per_side)
        .flat_map(|r| (0..per_side).map(move |c| centre(r, height) * width + centre(c, width)))
        .collect();
    let rows: Vec<Vec<f32>> = match features {
        Features::Upsampled(f) => pixels.iter().map(|&p| f.pixel(p)).collect(),
        Features::Dense(m) => pixels.iter().map(|&p| m.row(p).to_vec()).collect(),
    };
    let dims = rows.first().map_or(0, Vec::len);
    Array2::from_shape_fn((rows.len(), dims), |(r, c)| rows[r][c])
}

impl ClassClustering {
    /// Clusters `points` into `clusters` groups with Ward linkage.
    pub fn fit(points: Array2<f32>, clusters: usize, description: String) -> Result<ClassClustering> {
        let mut cuts = nas_cluster::ward(points.view(), &[clusters], nas_cluster::WARD_DEFAULT_MAX_SAMPLES)
            .map_err(|e| NasError::InvalidInput(format!("class clustering: {e}")))?;
        let labels = cuts
            .pop()
            .ok_or_else(|| NasError::InvalidInput("class clustering: Ward returned no cut".into()))?;
        Ok(ClassClustering {
            points,
            labels,
            clusters,
            description,
        })
    }

    /// Feature dimension.
    pub fn dims(&self) -> usize {
        self.points.ncols()
    }

    /// Number of sampled pixels in each cluster.
    pub fn sizes(&self) -> Vec<usize> {
        let mut sizes = vec![0; self.clusters];
        for &l in &self.labels {
            sizes[l as usize] += 1;
        }
        sizes
    }

    /// The cluster of every row of `features`: the most common cluster among its `neighbours`
    /// nearest sampled pixels (Euclidean), the smallest id among equally common ones, as
    /// scikit-learn's `KNeighborsClassifier` with uniform weights.
    pub fn assign(&self, features: ArrayView2<'_, f32>, neighbours: usize) -> Result<Vec<u32>> {
        if features.ncols() != self.dims() {
            return Err(NasError::InvalidInput(format!(
                "class clustering: the pixels have {} features, the fitted clustering {}; use the backbone, levels and scaling it was fitted with ({})",
                features.ncols(),
                self.dims(),
                self.description
            )));
        }
        if self.labels.is_empty() {
            return Err(NasError::InvalidInput("class clustering: it holds no points to vote".into()));
        }
        let neighbours = neighbours.clamp(1, self.labels.len());
        let point_norms: Vec<f32> = self.points.rows().into_iter().map(|r| r.dot(&r)).collect();
        // The points as a (features, points) row-major matrix for the products.
        let (n, d) = (self.points.nrows(), self.dims());
        let transposed: Vec<f32> = self.points.t().iter().copied().collect();
        let threads = rayon::current_num_threads();
        let mut out = Vec::with_capacity(features.nrows());
        const BLOCK: usize = 256;
        let mut products = vec![0f32; BLOCK * n];
        for start in (0..features.nrows()).step_by(BLOCK) {
            let rows = BLOCK.min(features.nrows() - start);
            let block: Vec<f32> = features.slice(s![start..start + rows, ..]).iter().copied().collect();
            nas_conv::matmul::multiply(
                &mut products[..rows * n],
                Layout::dense(rows, n),
                &block,
                Layout::dense(rows, d),
                &transposed,
                Layout::dense(d, n),
                threads,
            );
            for row in products[..rows * n].chunks_exact(n) {
                // |x - p|^2 up to the row's own |x|^2, which does not change the order.
                let mut nearest: Vec<(f32, usize)> = Vec::with_capacity(neighbours + 1);
                for (j, (&dot, &norm)) in row.iter().zip(&point_norms).enumerate() {
                    let d = norm - 2.0 * dot;
                    if nearest.len() < neighbours || d < nearest[nearest.len() - 1].0 {
                        let at = nearest.partition_point(|&(e, _)| e <= d);
                        nearest.insert(at, (d, j));
                        nearest.truncate(neighbours);
                    }
                }
                let mut votes = vec![0usize; self.clusters];
                for &(_, j) in &nearest {
                    votes[self.labels[j] as usize] += 1;
                }
                let best = votes.iter().copied().max().unwrap_or(0);
                out.push(votes.iter().position(|&v| v == best).unwrap_or(0) as u32);
            }
        }
        Ok(out)
    }

    /// Writes the clustering as a safetensors file (`points` f32, `labels` u32, the cluster
    /// count and description in its metadata), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let points: Vec<u8> = self.points.iter().flat_map(|v| v.to_le_bytes()).collect();
        let labels: Vec<u8> = self.labels.iter().flat_map(|v| v.to_le_bytes()).collect();
        let failed = |e: safetensors::SafeTensorError| NasError::io(path, std::io::Error::other(e));
        let tensors = vec![
            (
                "points",
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![self.points.nrows(), self.dims()], &points)
                    .map_err(failed)?,
            ),
            (
                "labels",
                safetensors::tensor::TensorView::new(safetensors::Dtype::U32, vec![self.labels.len()], &labels).map_err(failed)?,
            ),
        ];
        let metadata = HashMap::from([
            ("format".to_string(), "nas-class-clustering".to_string()),
            ("clusters".to_string(), self.clusters.to_string()),
            ("description".to_string(), self.description.clone()),
        ]);
        let bytes = safetensors::tensor::serialize(tensors, Some(metadata)).map_err(failed)?;
        nas_core::output::write_bytes(path, &bytes)
    }

    /// Reads a clustering written by [`ClassClustering::save`].
    pub fn load(path: &Path) -> Result<ClassClustering> {
        let bad = |reason: String| NasError::InvalidInput(format!("class clustering {}: {reason}", path.display()));
        let bytes = std::fs::read(path).map_err(|e| NasError::io(path, e))?;
        let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).map_err(|e| {
            bad(format!(
                "not a safetensors file ({e}); expected a class clustering from `nas classwise`"
            ))
        })?;
        let metadata = header.metadata().clone().unwrap_or_default();
        if metadata.get("format").map(String::as_str) != Some("nas-class-clustering") {
            return Err(bad(
                "not a class clustering (no `format = nas-class-clustering` in its metadata); make one with `nas classwise`".into(),
            ));
        }
        let file = safetensors::SafeTensors::deserialize(&bytes).map_err(|e| bad(format!("damaged safetensors file: {e}")))?;
        let tensor = |name: &str, dtype| {
            let t = file.tensor(name).map_err(|_| bad(format!("tensor `{name}` is missing")))?;
            if t.dtype() != dtype {
                return Err(bad(format!("tensor `{name}` is {:?}, expected {dtype:?}", t.dtype())));
            }
            Ok((t.shape().to_vec(), t.data().to_vec()))
        };
        let (shape, raw) = tensor("points", safetensors::Dtype::F32)?;
        let [rows, dims] = shape[..] else {
            return Err(bad(format!("`points` has shape {shape:?}, expected [pixels, features]")));
        };
        let values = raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let points = Array2::from_shape_vec((rows, dims), values).map_err(|e| bad(format!("`points`: {e}")))?;
        let (shape, raw) = tensor("labels", safetensors::Dtype::U32)?;
        let labels: Vec<u32> = raw.chunks_exact(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let clusters: usize = metadata
            .get("clusters")
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| bad("metadata `clusters` is missing or not a number".into()))?;
        if rows == 0 || dims == 0 || clusters == 0 {
            return Err(bad(format!(
                "{rows} points of {dims} features in {clusters} clusters: nothing to assign pixels to"
            )));
        }
        if shape != [rows] || labels.iter().any(|&l| l as usize >= clusters) {
            return Err(bad(format!("`labels` must hold one cluster below {clusters} per point ({rows})")));
        }
        Ok(ClassClustering {
            points,
            labels,
            clusters,
            description: metadata.get("description").cloned().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ClassClustering;
    use nas_core::ndarray::array;

    #[test]
    fn neighbours_vote_and_ties_go_to_the_smaller_cluster() -> nas_core::Result<()> {
        let model = ClassClustering {
            points: array![[0.0f32, 0.0], [0.0, 1.0], [10.0, 10.0], [10.0, 11.0], [5.0, 5.2]],
            labels: vec![0, 0, 1, 1, 1],
            clusters: 2,
            description: String::new(),
        };
        let pixels = array![[0.1f32, 0.2], [9.0, 9.0], [5.0, 5.0]];
        assert_eq!(model.assign(pixels.view(), 1)?, vec![0, 1, 1]);
        // The two nearest of (5, 5) are (5, 5.2) in cluster 1 and (0, 1) in cluster 0: one vote
        // each, and the smaller id wins.
        assert_eq!(model.assign(pixels.view(), 2)?[2], 0);
        Ok(())
    }

    #[test]
    fn saved_clusterings_load_unchanged_and_other_files_are_refused() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let model = ClassClustering::fit(
            array![[0.0f32, 0.0], [0.0, 1.0], [10.0, 10.0], [10.0, 11.0], [20.0, 0.0]],
            3,
            "test points".into(),
        )?;
        assert_eq!(model.labels, vec![0, 0, 1, 1, 2]);
        let path = dir.path().join("c.safetensors");
        model.save(&path)?;
        assert_eq!(ClassClustering::load(&path)?, model);
        let empty = ClassClustering {
            points: nas_core::ndarray::Array2::zeros((0, 2)),
            labels: Vec::new(),
            clusters: 3,
            description: String::new(),
        };
        empty.save(&path)?;
        let err = ClassClustering::load(&path).expect_err("no points").to_string();
        assert!(err.contains("nothing to assign pixels to"), "{err}");
        assert!(empty.assign(array![[0.0f32, 0.0]].view(), 5).is_err(), "no points vote");
        std::fs::write(&path, b"not a clustering")?;
        let err = ClassClustering::load(&path).expect_err("garbage").to_string();
        assert!(err.contains("c.safetensors") && err.contains("nas classwise"), "{err}");
        Ok(())
    }
}
