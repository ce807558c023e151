//! The boxes wsolevaluation estimates from a thresholded map: OpenCV's `findContours`
//! (`RETR_TREE`) returns the outer border of every 8-connected foreground region and the border
//! of every hole (4-connected background region enclosed by it); each border's
//! `boundingRect`, right and bottom edges clipped to the last pixel, is one estimated box.

/// A box in wsolevaluation's integer convention: corners `x0, y0, x1, y1`, areas counted with
/// `+ 1` on each side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PixelBox {
    /// Left.
    pub x0: i64,
    /// Top.
    pub y0: i64,
    /// Right.
    pub x1: i64,
    /// Bottom.
    pub y1: i64,
}

impl PixelBox {
    /// wsolevaluation's `calculate_multiple_iou` for one pair (0 for degenerate boxes).
    pub fn iou(&self, other: &PixelBox) -> f64 {
        let w = (self.x1.min(other.x1) - self.x0.max(other.x0) + 1).max(0);
        let h = (self.y1.min(other.y1) - self.y0.max(other.y0) + 1).max(0);
        let intersection = w * h;
        let area = |b: &PixelBox| (b.x1 - b.x0 + 1) * (b.y1 - b.y0 + 1);
        let union = area(self) + area(other) - intersection;
        if union <= 0 {
            return 0.0;
        }
        intersection as f64 / union as f64
    }
}

/// Extent of a region: smallest and largest column and row, and where it starts.
#[derive(Debug, Clone, Copy)]
pub(super) struct Extent {
    /// Left-most column.
    pub(super) x0: usize,
    /// Top row.
    pub(super) y0: usize,
    /// Right-most column.
    pub(super) x1: usize,
    /// Bottom row.
    pub(super) y1: usize,
    /// Whether a pixel lies on the image's edge.
    pub(super) touches_border: bool,
    /// Index of its first pixel in raster order (top row, then left-most column), where
    /// OpenCV's border following starts its outer border.
    pub(super) first: usize,
}

/// Labels the regions of pixels where `inside` holds, with 8- or 4-connectivity, and returns
/// each region's extent, in raster order of their first pixels.
pub(super) fn regions(width: usize, height: usize, inside: impl Fn(usize) -> bool, eight: bool) -> Vec<Extent> {
    let mut seen = vec![false; width * height];
    let mut extents = Vec::new();
    let mut stack = Vec::new();
    for start in 0..width * height {
        if seen[start] || !inside(start) {
            continue;
        }
        seen[start] = true;
        stack.push(start);
        let mut e = Extent {
            x0: usize::MAX,
            y0: usize::MAX,
            x1: 0,
            y1: 0,
            touches_border: false,
            first: start,
        };
        while let Some(p) = stack.pop() {
            let (x, y) = (p % width, p / width);
            e.x0 = e.x0.min(x);
            e.x1 = e.x1.max(x);
            e.y0 = e.y0.min(y);
            e.y1 = e.y1.max(y);
            e.touches_border |= x == 0 || y == 0 || x + 1 == width || y + 1 == height;
            for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    if (dx == 0 && dy == 0) || (!eight && dx != 0 && dy != 0) {
                        continue;
                    }
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    if nx < 0 || ny < 0 || nx >= width as i64 || ny >= height as i64 {
                        continue;
                    }
                    let q = ny as usize * width + nx as usize;
                    if !seen[q] && inside(q) {
                        seen[q] = true;
                        stack.push(q);
                    }
                }
            }
        }
        extents.push(e);
    }
    extents
}

/// wsolevaluation's single box when no contour is found.
pub(super) const NO_BOX: PixelBox = PixelBox {
    x0: 0,
    y0: 0,
    x1: 0,
    y1: 0,
};

/// The box wsolevaluation makes from a contour whose points span columns `x0..=x1` and rows
/// `y0..=y1` of a `width x height` map: `boundingRect`'s `x + w` and `y + h`, one past the last
/// column and row, clipped to the last pixel.
pub(super) fn contour_box(x0: i64, y0: i64, x1: i64, y1: i64, width: usize, height: usize) -> PixelBox {
    PixelBox {
        x0,
        y0,
        x1: (x1 + 1).min(width as i64 - 1),
        y1: (y1 + 1).min(height as i64 - 1),
    }
}

/// The boxes of every contour of `foreground` (row-major, `width x height`); wsolevaluation's
/// single `[0, 0, 0, 0]` box when there is no foreground. Pixels missing from a too short
/// `foreground` count as background.
pub fn contour_boxes(foreground: &[bool], width: usize, height: usize) -> Vec<PixelBox> {
    let rect = |x0: i64, y0: i64, x1: i64, y1: i64| contour_box(x0, y0, x1, y1, width, height);
    let mut boxes: Vec<PixelBox> = regions(width, height, |p| foreground.get(p) == Some(&true), true)
        .into_iter()
        .map(|e| rect(e.x0 as i64, e.y0 as i64, e.x1 as i64, e.y1 as i64))
        .collect();
    if boxes.is_empty() {
        return vec![NO_BOX];
    }
    boxes.extend(
        regions(width, height, |p| foreground.get(p) != Some(&true), false)
            .into_iter()
            .filter(|e| !e.touches_border)
            .map(|e| rect(e.x0 as i64 - 1, e.y0 as i64 - 1, e.x1 as i64 + 1, e.y1 as i64 + 1)),
    );
    boxes
}

#[cfg(test)]
mod tests {
    use super::{contour_boxes, PixelBox};

    fn grid(rows: &[&str]) -> (Vec<bool>, usize, usize) {
        let cells = rows.iter().flat_map(|r| r.chars().map(|c| c == '#')).collect();
        (cells, rows[0].len(), rows.len())
    }

    #[test]
    fn a_ring_gives_its_outer_box_and_its_hole_box() {
        let (fg, w, h) = grid(&["......", ".####.", ".#..#.", ".####.", "......", "......"]);
        let boxes = contour_boxes(&fg, w, h);
        let b = |x0, y0, x1, y1| PixelBox { x0, y0, x1, y1 };
        assert_eq!(boxes, vec![b(1, 1, 5, 4), b(1, 1, 5, 4)]);
    }

    #[test]
    fn diagonal_pixels_are_one_region_and_empty_maps_give_the_zero_box() {
        let (fg, w, h) = grid(&["#...", ".#..", "..#.", "...."]);
        assert_eq!(contour_boxes(&fg, w, h).len(), 1);
        let (empty, w, h) = grid(&["...", "..."]);
        assert_eq!(
            contour_boxes(&empty, w, h),
            vec![PixelBox {
                x0: 0,
                y0: 0,
                x1: 0,
                y1: 0
            }]
        );
    }

    #[test]
    fn iou_counts_pixels_inclusively() {
        let a = PixelBox {
            x0: 0,
            y0: 0,
            x1: 9,
            y1: 9,
        };
        let b = PixelBox {
            x0: 5,
            y0: 0,
            x1: 14,
            y1: 9,
        };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-12);
        assert_eq!(a.iou(&a), 1.0);
    }
}
