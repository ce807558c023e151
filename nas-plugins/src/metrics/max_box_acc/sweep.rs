//! The best IoU of the boxes of every cut level at once, in two sweeps of union-find over the
//! 8-bit map instead of labelling regions afresh at each threshold. Lowering the level only adds
//! foreground pixels, so 8-connected foreground regions only grow and merge; raising it only adds
//! background pixels, so the 4-connected background regions (whose enclosed ones are the holes)
//! only grow and merge. Each sweep keeps every region's extent at its root and, at each level a
//! threshold asks for, scores the regions present: the same boxes as [`super::contour_boxes`]
//! at that level, found in near-linear time for all levels together.

use super::boxes::{contour_box, PixelBox, NO_BOX};

/// Union-find over pixels with each root's extent, and the list of current roots.
struct Regions {
    parent: Vec<u32>,
    extent: Vec<[i64; 4]>,
    touches_border: Vec<bool>,
    /// Current roots, and each root's place in that list.
    roots: Vec<u32>,
    place: Vec<u32>,
}

impl Regions {
    fn new(pixels: usize) -> Regions {
        Regions {
            parent: (0..pixels as u32).collect(),
            extent: vec![[0; 4]; pixels],
            touches_border: vec![false; pixels],
            roots: Vec::new(),
            place: vec![0; pixels],
        }
    }

    fn find(&mut self, mut p: u32) -> u32 {
        while self.parent[p as usize] != p {
            let grand = self.parent[self.parent[p as usize] as usize];
            self.parent[p as usize] = grand;
            p = grand;
        }
        p
    }

    /// A new one-pixel region.
    fn add(&mut self, p: usize, x: i64, y: i64, on_border: bool) {
        self.extent[p] = [x, y, x, y];
        self.touches_border[p] = on_border;
        self.place[p] = self.roots.len() as u32;
        self.roots.push(p as u32);
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return;
        }
        // `rb` joins `ra`: its extent and border flag merge in, and it leaves the root list.
        self.parent[rb as usize] = ra;
        let (ea, eb) = (self.extent[ra as usize], self.extent[rb as usize]);
        self.extent[ra as usize] = [ea[0].min(eb[0]), ea[1].min(eb[1]), ea[2].max(eb[2]), ea[3].max(eb[3])];
        self.touches_border[ra as usize] |= self.touches_border[rb as usize];
        let at = self.place[rb as usize] as usize;
        self.roots.swap_remove(at);
        if let Some(&moved) = self.roots.get(at) {
            self.place[moved as usize] = at as u32;
        }
    }
}

/// The best IoU with any of `truth` among `boxes`.
fn best(boxes: impl Iterator<Item = PixelBox>, truth: &[PixelBox]) -> f64 {
    boxes
        .flat_map(|b| truth.iter().map(move |g| b.iou(g)))
        .fold(f64::NEG_INFINITY, f64::max)
}

/// Pixels of each 8-bit value, in raster order.
fn by_value(quantised: &[u8]) -> Vec<Vec<u32>> {
    let mut lists = vec![Vec::new(); 256];
    for (p, &v) in quantised.iter().enumerate() {
        lists[usize::from(v)].push(p as u32);
    }
    lists
}

/// For every level `L` with `wanted[L]`, the best IoU with `truth` of the boxes of the contours
/// of `quantised > L` (`NEG_INFINITY` for levels not wanted).
pub fn best_iou_by_level(quantised: &[u8], width: usize, height: usize, wanted: &[bool; 256], truth: &[PixelBox]) -> [f64; 256] {
    let pixels = width * height;
    let lists = by_value(quantised);
    let mut out = [f64::NEG_INFINITY; 256];
    let peak = quantised.iter().copied().max().unwrap_or(0);
    let coords = |p: u32| ((p as usize % width) as i64, (p as usize / width) as i64);

    // Foreground (value > L), 8-connected, from the top level down.
    let mut inside = vec![false; pixels];
    let mut regions = Regions::new(pixels);
    for level in (0..=255usize).rev() {
        if level < 255 {
            for &p in &lists[level + 1] {
                let (x, y) = coords(p);
                inside[p as usize] = true;
                regions.add(p as usize, x, y, false);
                for (dx, dy) in [(-1, -1), (0, -1), (1, -1), (-1, 0), (1, 0), (-1, 1), (0, 1), (1, 1)] {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx >= 0 && ny >= 0 && nx < width as i64 && ny < height as i64 {
                        let q = (ny as usize * width + nx as usize) as u32;
                        if inside[q as usize] {
                            regions.union(q, p);
                        }
                    }
                }
            }
        }
        if wanted[level] {
            out[level] = if level >= usize::from(peak) {
                best(std::iter::once(NO_BOX), truth)
            } else {
                let boxes = regions.roots.iter().map(|&r| {
                    let [x0, y0, x1, y1] = regions.extent[r as usize];
                    contour_box(x0, y0, x1, y1, width, height)
                });
                best(boxes, truth)
            };
        }
    }

    // Background (value <= L), 4-connected, from the bottom level up: regions that do not touch
    // the border are holes, whose traced border lies one pixel outside them.
    let mut outside = vec![false; pixels];
    let mut regions = Regions::new(pixels);
    for (level, list) in lists.iter().enumerate() {
        for &p in list {
            let (x, y) = coords(p);
            outside[p as usize] = true;
            let on_border = x == 0 || y == 0 || x + 1 == width as i64 || y + 1 == height as i64;
            regions.add(p as usize, x, y, on_border);
            for (dx, dy) in [(0, -1), (-1, 0), (1, 0), (0, 1)] {
                let (nx, ny) = (x + dx, y + dy);
                if nx >= 0 && ny >= 0 && nx < width as i64 && ny < height as i64 {
                    let q = (ny as usize * width + nx as usize) as u32;
                    if outside[q as usize] {
                        regions.union(q, p);
                    }
                }
            }
        }
        if wanted[level] && level < usize::from(peak) {
            let holes = regions.roots.iter().filter(|&&r| !regions.touches_border[r as usize]).map(|&r| {
                let [x0, y0, x1, y1] = regions.extent[r as usize];
                contour_box(x0 - 1, y0 - 1, x1 + 1, y1 + 1, width, height)
            });
            out[level] = out[level].max(best(holes, truth));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::boxes::{contour_boxes, PixelBox};
    use super::best_iou_by_level;

    /// A small deterministic generator (64-bit LCG), enough to vary the maps.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, below: u64) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 33) % below
        }
    }

    #[test]
    fn every_level_scores_as_labelling_it_afresh() {
        let mut rng = Lcg(7);
        for case in 0..300 {
            let (width, height) = (1 + rng.next(40) as usize, 1 + rng.next(40) as usize);
            // Few distinct values (many ties and nested regions) or many (noise).
            let values = [3, 8, 256][case % 3];
            let map: Vec<u8> = (0..width * height).map(|_| rng.next(values) as u8).collect();
            let truth: Vec<PixelBox> = (0..1 + rng.next(2))
                .map(|_| {
                    let (x0, y0) = (rng.next(width as u64) as i64, rng.next(height as u64) as i64);
                    PixelBox {
                        x0,
                        y0,
                        x1: x0 + rng.next(width as u64) as i64,
                        y1: y0 + rng.next(height as u64) as i64,
                    }
                })
                .collect();
            let wanted = [true; 256];
            let swept = best_iou_by_level(&map, width, height, &wanted, &truth);
            for level in 0..=255u8 {
                let foreground: Vec<bool> = map.iter().map(|&v| v > level).collect();
                let fresh = contour_boxes(&foreground, width, height)
                    .iter()
                    .flat_map(|b| truth.iter().map(move |g| b.iou(g)))
                    .fold(f64::NEG_INFINITY, f64::max);
                assert_eq!(swept[usize::from(level)], fresh, "case {case} ({width} x {height}) level {level}");
            }
        }
    }
}
