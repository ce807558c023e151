//! Superpixels of a label map: the connected components of each cluster.

use ndarray::{Array2, ArrayView2};

/// Which neighbours touch: the 4 sharing an edge, or the 8 sharing an edge or a corner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connectivity {
    /// Edge neighbours only (scipy.ndimage.label's default, and skimage's `connectivity=1`).
    /// The default: a diagonal touch does not join two regions, so thin diagonal chains of a
    /// cluster stay separate superpixels rather than snaking across the image.
    #[default]
    Four,
    /// Edge and corner neighbours (skimage's `connectivity=2`): fewer, larger superpixels.
    Eight,
}

/// Superpixels of `labels` (h x w cluster labels) with 4-connectivity; see
/// [`connected_components_with`].
pub fn connected_components(labels: ArrayView2<u32>) -> (Array2<u32>, Vec<u32>) {
    connected_components_with(labels, Connectivity::Four)
}

/// Superpixels of a label map: the connected components of each cluster.
///
/// Returns the superpixel id of every pixel, numbered `0..m` in raster order of each
/// superpixel's first pixel, and for each superpixel the cluster label it came from. An
/// empty map gives an empty result.
pub fn connected_components_with(labels: ArrayView2<u32>, connectivity: Connectivity) -> (Array2<u32>, Vec<u32>) {
    let (h, w) = labels.dim();
    let mut ids = Array2::<u32>::from_elem((h, w), u32::MAX);
    let mut clusters = Vec::new();
    let mut stack: Vec<(usize, usize)> = Vec::new();
    let four: &[(isize, isize)] = &[(-1, 0), (1, 0), (0, -1), (0, 1)];
    let eight: &[(isize, isize)] = &[(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)];
    let offsets = match connectivity {
        Connectivity::Four => four,
        Connectivity::Eight => eight,
    };
    for y in 0..h {
        for x in 0..w {
            if ids[[y, x]] != u32::MAX {
                continue;
            }
            let id = clusters.len() as u32;
            let label = labels[[y, x]];
            clusters.push(label);
            ids[[y, x]] = id;
            stack.push((y, x));
            while let Some((cy, cx)) = stack.pop() {
                for &(dy, dx) in offsets {
                    let (ny, nx) = (cy as isize + dy, cx as isize + dx);
                    if ny < 0 || nx < 0 || ny >= h as isize || nx >= w as isize {
                        continue;
                    }
                    let (ny, nx) = (ny as usize, nx as usize);
                    if ids[[ny, nx]] == u32::MAX && labels[[ny, nx]] == label {
                        ids[[ny, nx]] = id;
                        stack.push((ny, nx));
                    }
                }
            }
        }
    }
    (ids, clusters)
}
