//! Pictures of results: superpixel boundaries over the photo with cluster colours, and heatmaps.

use crate::photo::Photo;
use crate::segmentation::Segmentation;
use image::{Rgb, RgbImage};
use ndarray::Array2;

/// A qualitative palette (Tableau 10) for cluster colours.
const PALETTE: [[u8; 3]; 10] = [
    [31, 119, 180],
    [255, 127, 14],
    [44, 160, 44],
    [214, 39, 40],
    [148, 103, 189],
    [140, 86, 75],
    [227, 119, 194],
    [127, 127, 127],
    [188, 189, 34],
    [23, 190, 207],
];

/// The photo tinted by cluster colour, with superpixel boundaries drawn in yellow.
pub fn overlay(photo: &Photo, segmentation: &Segmentation) -> RgbImage {
    let base = photo.to_rgb8();
    let labels = &segmentation.labels;
    let (h, w) = labels.dim();
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let (xu, yu) = (x as usize, y as usize);
        let s = labels[[yu, xu]];
        let boundary = (xu + 1 < w && labels[[yu, xu + 1]] != s) || (yu + 1 < h && labels[[yu + 1, xu]] != s);
        if boundary {
            return Rgb([255, 255, 0]);
        }
        let colour = PALETTE[segmentation.cluster_of[s as usize] as usize % PALETTE.len()];
        let p = base.get_pixel(x, y).0;
        Rgb([0, 1, 2].map(|c| ((u16::from(p[c]) * 3 + u16::from(colour[c]) * 2) / 5) as u8))
    })
}

/// A heatmap of `values` blended over the photo with a blue-white-red colour map. A map with
/// negative values (gradient x input, Integrated Gradients, LRP) is drawn around zero, as
/// Captum's `visualize_image_attr` draws `sign="all"`: white at 0, full colour at the magnitude
/// below which 98% of the map's absolute mass lies, larger values clipped (its `outlier_perc`
/// 2). A map without negative values (CAMs, probabilities) is stretched from its minimum (blue)
/// to its maximum (red).
pub fn heatmap(photo: &Photo, values: &Array2<f32>) -> RgbImage {
    let base = photo.to_rgb8();
    let (min, max) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let position: Box<dyn Fn(f32) -> f32> = if min < 0.0 {
        let scale = outlier_threshold(values.iter().map(|v| v.abs()).collect(), OUTLIER_SHARE);
        let scale = if scale > 0.0 { scale } else { 1.0 };
        Box::new(move |v| 0.5 + 0.5 * (v / scale).clamp(-1.0, 1.0))
    } else {
        let span = if max > min { max - min } else { 1.0 };
        Box::new(move |v| (v - min) / span)
    };
    let (h, w) = values.dim();
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let t = position(values[[y as usize, x as usize]]);
        let colour = if t < 0.5 {
            let u = t * 2.0;
            [u, u, 1.0]
        } else {
            let u = (1.0 - t) * 2.0;
            [1.0, u, u]
        };
        let p = base.get_pixel(x, y).0;
        Rgb([0, 1, 2].map(|c| (f32::from(p[c]) * 0.35 + colour[c] * 255.0 * 0.65).round() as u8))
    })
}

/// Share of a signed map's absolute mass drawn below full colour (Captum's `100 - outlier_perc`).
const OUTLIER_SHARE: f64 = 0.98;

/// The smallest of `magnitudes` at which their ascending running sum reaches `share` of the
/// total (Captum's `_cumulative_sum_threshold`); 0 for an empty or all-zero map.
fn outlier_threshold(mut magnitudes: Vec<f32>, share: f64) -> f32 {
    magnitudes.retain(|v| v.is_finite());
    magnitudes.sort_by(f32::total_cmp);
    let total: f64 = magnitudes.iter().map(|&v| f64::from(v)).sum();
    let mut running = 0.0;
    for &v in &magnitudes {
        running += f64::from(v);
        if running >= total * share {
            return v;
        }
    }
    0.0
}

/// The photo with the superpixel boundaries of several segmentations drawn over it: the more
/// segmentations agree on a boundary, the brighter it is (the consensus overlay of appendix B).
pub fn boundaries(photo: &Photo, segmentations: &[Segmentation]) -> RgbImage {
    let base = photo.to_rgb8();
    let (w, h) = base.dimensions();
    let mut votes = vec![0u32; (w * h) as usize];
    for seg in segmentations {
        let labels = &seg.labels;
        let (lh, lw) = labels.dim();
        for y in 0..lh {
            for x in 0..lw {
                let s = labels[[y, x]];
                if (x + 1 < lw && labels[[y, x + 1]] != s) || (y + 1 < lh && labels[[y + 1, x]] != s) {
                    votes[y * w as usize + x] += 1;
                }
            }
        }
    }
    let n = segmentations.len().max(1) as f32;
    RgbImage::from_fn(w, h, |x, y| {
        let share = votes[(y * w + x) as usize] as f32 / n;
        let p = base.get_pixel(x, y).0;
        if share == 0.0 {
            return Rgb(p.map(|c| (f32::from(c) * 0.6) as u8));
        }
        Rgb([255, (255.0 * share) as u8, 0])
    })
}

#[cfg(test)]
mod tests {
    use super::{heatmap, outlier_threshold};
    use crate::photo::Photo;
    use ndarray::Array2;

    #[test]
    fn the_threshold_leaves_the_top_two_percent_of_mass_above_it() {
        // 99 ones and one 100: the ones hold 49.7% of the mass, so 98% is reached only at 100.
        let mut values = vec![1.0f32; 99];
        values.push(100.0);
        assert_eq!(outlier_threshold(values, 0.98), 100.0);
        // 1..=100: 98% of 5050 is 4949, first reached at 99 (the sum to 99 is 4950).
        assert_eq!(outlier_threshold((1..=100).map(|v| v as f32).collect(), 0.98), 99.0);
        assert_eq!(outlier_threshold(vec![0.0; 4], 0.98), 0.0);
    }

    #[test]
    fn signed_maps_are_white_at_zero_and_saturate_at_the_threshold() {
        let photo = Photo::from_rgb8(
            std::path::Path::new("grey.png"),
            &image::RgbImage::from_pixel(3, 1, image::Rgb([128, 128, 128])),
        );
        let map = Array2::from_shape_vec((1, 3), vec![-1.0f32, 0.0, 1.0]).expect("map");
        let picture = heatmap(&photo, &map);
        let white = (128.0f32 * 0.35 + 255.0 * 0.65).round() as u8;
        let none = (128.0f32 * 0.35).round() as u8;
        assert_eq!(picture.get_pixel(1, 0).0, [white; 3], "zero is white");
        assert_eq!(picture.get_pixel(0, 0).0, [none, none, white], "-1 is blue");
        assert_eq!(picture.get_pixel(2, 0).0, [white, none, none], "+1 is red");
    }
}
