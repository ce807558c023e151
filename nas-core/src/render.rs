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

/// A heatmap of `values` normalised to `[0, 1]` (min to max) with a blue-white-red colour map,
/// blended over the photo.
pub fn heatmap(photo: &Photo, values: &Array2<f32>) -> RgbImage {
    let base = photo.to_rgb8();
    let (min, max) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let span = if max > min { max - min } else { 1.0 };
    let (h, w) = values.dim();
    RgbImage::from_fn(w as u32, h as u32, |x, y| {
        let t = (values[[y as usize, x as usize]] - min) / span;
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
