//! The box of wsolevaluation's original MaxBoxAcc (`multi_contour_eval = False`): of all the
//! contours OpenCV's `findContours` (`RETR_TREE`, `CHAIN_APPROX_SIMPLE`) returns, only
//! `max(contours, key=cv2.contourArea)` gives a box, the first of equal areas in OpenCV's order.
//!
//! Without OpenCV, that contour is found as follows (checked against OpenCV 5.0's own choice on
//! some 60,000 random, nested-ring and equal-area binary images, with the port of its border
//! following in scripts/make_max_box_acc_fixture.py):
//!
//! * it is always the outer border of an 8-connected foreground region: a hole border never
//!   has more area than the outer border around it, and comes after it, and a region inside a
//!   hole has strictly less area than that hole, so no nested contour is ever the first largest;
//! * a border's `contourArea` is the shoelace area of the pixel centres that Suzuki & Abe's
//!   border following visits (compressing straight runs, as `CHAIN_APPROX_SIMPLE` does, drops
//!   only points in the middle of straight runs, which leaves the shoelace sum unchanged); so a
//!   single pixel or a line has area 0 and a filled `3 x 3` block has area 4;
//! * OpenCV lists the top-level regions last-found first, and finds them in raster order of
//!   their first pixel: of equal areas, the region whose first pixel comes last wins.

use super::boxes::{contour_box, regions, PixelBox, NO_BOX};

/// Column steps of OpenCV's chain codes 0..8: east, north-east, north, ..., south-east (rows
/// grow downwards).
const DX: [i64; 8] = [1, 1, 0, -1, -1, -1, 0, 1];
/// Row steps of OpenCV's chain codes 0..8.
const DY: [i64; 8] = [0, -1, -1, -1, 0, 1, 1, 1];
/// Chain code pointing west, where an outer border's first pixel has its background.
const WEST: usize = 4;

/// The box of the contour wsolevaluation keeps with `multi_contour_eval = False`, for
/// `foreground` (row-major, `width x height`); the single `[0, 0, 0, 0]` box when there is no
/// foreground (pixels missing from a too short `foreground` count as background).
pub fn largest_contour_box(foreground: &[bool], width: usize, height: usize) -> PixelBox {
    let mut best: Option<(i64, PixelBox)> = None;
    for region in regions(width, height, |p| foreground.get(p) == Some(&true), true) {
        let area = twice_outer_border_area(foreground, width, height, region.first);
        // `>=`: regions come in raster order of their first pixel and the last of equal areas
        // is the one OpenCV lists first.
        if best.is_none_or(|(largest, _)| area >= largest) {
            let (x0, y0, x1, y1) = (region.x0 as i64, region.y0 as i64, region.x1 as i64, region.y1 as i64);
            best = Some((area, contour_box(x0, y0, x1, y1, width, height)));
        }
    }
    best.map_or(NO_BOX, |(_, b)| b)
}

/// Twice OpenCV's `contourArea` of the outer border of the 8-connected region whose first pixel
/// in raster order is `first`: the shoelace sum over the border as Suzuki & Abe's algorithm (and
/// OpenCV's `icvFetchContour`) traces it, kept doubled so that areas compare exactly.
fn twice_outer_border_area(foreground: &[bool], width: usize, height: usize, first: usize) -> i64 {
    let is_set = |x: i64, y: i64| {
        x >= 0
            && y >= 0
            && (x as usize) < width
            && (y as usize) < height
            && foreground.get(y as usize * width + x as usize).copied().unwrap_or(false)
    };
    if width == 0 {
        return 0;
    }
    let (x0, y0) = ((first % width) as i64, (first / width) as i64);
    if !is_set(x0, y0) {
        return 0;
    }
    // Clockwise from the background on the west, the first foreground neighbour: the pixel the
    // border reaches the start from, and where the trace stops.
    let mut s = WEST;
    let mut last = None;
    for _ in 0..8 {
        s = (s + 7) % 8;
        if is_set(x0 + DX[s], y0 + DY[s]) {
            last = Some((x0 + DX[s], y0 + DY[s]));
            break;
        }
    }
    let Some(last) = last else {
        return 0; // an isolated pixel
    };
    // Each step turns counter-clockwise from the pixel it came from to the next foreground
    // neighbour; the border ends where it leaves `last` for the start. A border passes each
    // pixel at most four times, so the bound only guards against a broken invariant.
    let (mut x, mut y) = (x0, y0);
    let mut twice_area = 0;
    for _ in 0..8 * (foreground.len() + 1) {
        let Some(next) = (1..=8).map(|turn| (s + turn) % 8).find(|&d| is_set(x + DX[d], y + DY[d])) else {
            break;
        };
        let (nx, ny) = (x + DX[next], y + DY[next]);
        twice_area += x * ny - nx * y;
        if (nx, ny) == (x0, y0) && (x, y) == last {
            break;
        }
        (x, y) = (nx, ny);
        s = (next + 4) % 8;
    }
    twice_area.abs()
}

#[cfg(test)]
mod tests {
    use super::{largest_contour_box, twice_outer_border_area, PixelBox};

    fn grid(rows: &[&str]) -> (Vec<bool>, usize, usize) {
        let cells = rows.iter().flat_map(|r| r.chars().map(|c| c == '#')).collect();
        (cells, rows[0].len(), rows.len())
    }

    /// Twice the area of the region whose first pixel is at (`x`, `y`).
    fn twice_area(rows: &[&str], x: usize, y: usize) -> i64 {
        let (fg, w, h) = grid(rows);
        twice_outer_border_area(&fg, w, h, y * w + x)
    }

    fn b(x0: i64, y0: i64, x1: i64, y1: i64) -> PixelBox {
        PixelBox { x0, y0, x1, y1 }
    }

    #[test]
    fn a_three_by_three_block_has_area_four() {
        assert_eq!(twice_area(&[".....", ".###.", ".###.", ".###.", "....."], 1, 1), 8);
    }

    #[test]
    fn single_pixels_and_lines_have_no_area() {
        assert_eq!(twice_area(&["...", ".#.", "..."], 1, 1), 0);
        assert_eq!(twice_area(&["#"], 0, 0), 0);
        assert_eq!(twice_area(&["....", "####", "...."], 0, 1), 0);
        assert_eq!(twice_area(&["#...", ".#..", "..#.", "...#"], 0, 0), 0);
    }

    #[test]
    fn a_ring_counts_its_hole_and_a_diagonal_pinch_adds_both_lobes() {
        // The outer border of a ring encloses its hole: 4 x 3 between pixel centres.
        assert_eq!(twice_area(&["#####", "#...#", "#...#", "#####"], 0, 0), 24);
        // Two 2 x 2 blocks touching at a corner: two unit squares.
        assert_eq!(twice_area(&["##..", "##..", "..##", "..##"], 0, 0), 4);
        // A plus sign: the diamond through its four tips.
        assert_eq!(twice_area(&[".#.", "###", ".#."], 1, 0), 4);
    }

    #[test]
    fn equal_areas_keep_the_region_found_last() {
        let (fg, w, h) = grid(&["##....", "##....", "......", "....##", "....##"]);
        assert_eq!(largest_contour_box(&fg, w, h), b(4, 3, 5, 4));
        // A larger region wins wherever it is; the box grows by one pixel, clipped.
        let (fg, w, h) = grid(&["###...", "###...", "###...", "....##", "....##"]);
        assert_eq!(largest_contour_box(&fg, w, h), b(0, 0, 3, 3));
        // Areas of 0 tie too: of two single pixels the later one.
        let (fg, w, h) = grid(&["#..", "...", "..#"]);
        assert_eq!(largest_contour_box(&fg, w, h), b(2, 2, 2, 2));
    }

    #[test]
    fn a_region_inside_a_hole_is_never_kept() {
        let (fg, w, h) = grid(&["#######", "#.....#", "#.###.#", "#.###.#", "#.###.#", "#.....#", "#######"]);
        assert_eq!(largest_contour_box(&fg, w, h), b(0, 0, 6, 6));
    }

    #[test]
    fn degenerate_maps_give_a_box_without_panicking() {
        assert_eq!(largest_contour_box(&[], 0, 0), b(0, 0, 0, 0));
        assert_eq!(largest_contour_box(&[false], 1, 1), b(0, 0, 0, 0));
        assert_eq!(largest_contour_box(&[true], 1, 1), b(0, 0, 0, 0));
        assert_eq!(largest_contour_box(&[true; 12], 4, 3), b(0, 0, 3, 2));
        assert_eq!(largest_contour_box(&[true; 3], 4, 3), b(0, 0, 3, 1));
    }
}
