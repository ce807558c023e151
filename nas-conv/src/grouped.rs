//! Grouped convolutions (neither ordinary nor depthwise, as ResNeXt's 3x3 convolutions): `groups`
//! independent convolutions, each from its own slice of the input channels to its own slice of
//! the output channels. Each group runs as an ordinary prepared convolution on its channels,
//! gathered from every image, and its output is written back in place.

use crate::geometry::ConvGeometry;

/// The geometry of one group of `g`: its share of the channels, ungrouped.
pub(crate) fn group_geometry(g: &ConvGeometry) -> ConvGeometry {
    ConvGeometry {
        in_channels: g.in_channels / g.groups,
        out_channels: g.out_channels / g.groups,
        groups: 1,
        ..*g
    }
}

/// Channels `group * per_group .. (group + 1) * per_group` of every image of `values`
/// `(batch, channels, plane)`, as `(batch, per_group, plane)`.
pub(crate) fn gather(values: &[f32], channels: usize, plane: usize, per_group: usize, group: usize) -> Vec<f32> {
    let image = channels * plane;
    if image == 0 {
        return Vec::new();
    }
    values
        .chunks_exact(image)
        .flat_map(|img| &img[group * per_group * plane..(group + 1) * per_group * plane])
        .copied()
        .collect()
}

/// Writes `part` `(batch, per_group, plane)` into channels `group * per_group ..` of every image
/// of `values` `(batch, channels, plane)`.
pub(crate) fn scatter(part: &[f32], values: &mut [f32], channels: usize, plane: usize, per_group: usize, group: usize) {
    let (image, share) = (channels * plane, per_group * plane);
    if image == 0 || share == 0 {
        return;
    }
    for (img, src) in values.chunks_exact_mut(image).zip(part.chunks_exact(share)) {
        img[group * share..(group + 1) * share].copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_and_scatter_are_inverse() {
        let (batch, channels, plane, groups) = (2, 6, 3, 3);
        let values: Vec<f32> = (0..batch * channels * plane).map(|i| i as f32).collect();
        let per_group = channels / groups;
        let mut rebuilt = vec![0f32; values.len()];
        for g in 0..groups {
            let part = gather(&values, channels, plane, per_group, g);
            assert_eq!(part.len(), batch * per_group * plane);
            scatter(&part, &mut rebuilt, channels, plane, per_group, g);
        }
        assert_eq!(rebuilt, values);
        assert_eq!(gather(&values, channels, plane, per_group, 1)[..3], [6.0, 7.0, 8.0]);
    }
}
