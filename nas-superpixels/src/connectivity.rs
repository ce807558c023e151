//! SLIC's post-processing: make every label a connected region.
//!
//! Reimplements scikit-image's `_enforce_label_connectivity_cython` for 2D
//! label maps. Pixels are scanned in raster order; each unvisited pixel starts
//! a breadth-first search (4-connectivity, neighbours tried in the order
//! right, left, down, up) over pixels of its k-means label, stopping once the
//! region reaches `max_size` pixels. A region smaller than `min_size` takes
//! the label of the last differently labelled, already relabelled neighbour
//! met during its search (the original SLIC paper's rule); otherwise it gets a
//! fresh label. The quirks are kept on purpose: a small region with no such
//! neighbour keeps the current label, which the next region then shares, and
//! a region cut at `max_size` continues as a new region.

/// Marks a pixel without a label (scikit-image's `mask_label`).
pub(crate) const NO_LABEL: u32 = u32::MAX;

/// Relabels `labels` (`height * width`, raster order) into connected regions.
///
/// `labels` holds k-means labels, with [`NO_LABEL`] for pixels that no
/// cluster reached. The result counts from `start_label`; unreached pixels
/// stay [`NO_LABEL`].
pub(crate) fn enforce_connectivity(
    labels: &[u32],
    height: usize,
    width: usize,
    min_size: usize,
    max_size: usize,
    start_label: u32,
) -> Vec<u32> {
    let mut connected = vec![NO_LABEL; labels.len()];
    let mut current = start_label;
    // The region's pixels as (row, column), as scikit-image keeps them (no
    // divisions to recover coordinates).
    let mut region: Vec<(usize, usize)> = Vec::with_capacity(max_size.min(labels.len()).max(1));
    for start in 0..labels.len() {
        let label = labels[start];
        if label == NO_LABEL || connected[start] != NO_LABEL {
            continue;
        }
        let mut adjacent = current;
        connected[start] = current;
        region.clear();
        region.push((start / width, start % width));
        let mut visited = 0;
        'search: while visited < region.len() && region.len() < max_size {
            let (y, x) = region[visited];
            let p = y * width + x;
            let neighbours = [
                (x + 1 < width, p + 1, y, x + 1),
                (x > 0, p.wrapping_sub(1), y, x.wrapping_sub(1)),
                (y + 1 < height, p + width, y + 1, x),
                (y > 0, p.wrapping_sub(width), y.wrapping_sub(1), x),
            ];
            for (inside, q, qy, qx) in neighbours {
                if !inside {
                    continue;
                }
                match connected[q] {
                    NO_LABEL if labels[q] == label => {
                        connected[q] = current;
                        region.push((qy, qx));
                        if region.len() >= max_size {
                            break 'search;
                        }
                    }
                    NO_LABEL => {}
                    other if other != current => adjacent = other,
                    _ => {}
                }
            }
            visited += 1;
        }
        if region.len() < min_size {
            for &(y, x) in &region {
                connected[y * width + x] = adjacent;
            }
        } else {
            current += 1;
        }
    }
    connected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_disconnected_labels_and_absorbs_small_regions() {
        // Label 0 forms two separate regions (2 and 3); the single pixels of
        // labels 2 and 1 are below min_size and join the last differently
        // relabelled neighbour their search met (up, then left).
        #[rustfmt::skip]
        let labels = [
            1, 1, 0, 0,
            1, 1, 0, 0,
            0, 0, 2, 0,
            0, 0, 0, 1,
        ];
        let out = enforce_connectivity(&labels, 4, 4, 2, 100, 1);
        #[rustfmt::skip]
        let expected = [
            1, 1, 2, 2,
            1, 1, 2, 2,
            3, 3, 2, 2,
            3, 3, 3, 2,
        ];
        assert_eq!(out, expected);
    }

    #[test]
    fn regions_are_cut_at_max_size() {
        let labels = [0; 6];
        let out = enforce_connectivity(&labels, 1, 6, 0, 4, 0);
        assert_eq!(out, [0, 0, 0, 0, 1, 1]);
    }
}
