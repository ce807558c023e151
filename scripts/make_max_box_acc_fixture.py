"""Reference for wsolevaluation's box metrics MaxBoxAcc / MaxBoxAccV2 (Choe et al., CVPR 2020,
github.com/clovaai/wsolevaluation), computed with OpenCV the way their code computes them, on the
saliency maps of chelsea-224 already kept under nas-plugins/tests/fixtures, with hand-drawn boxes.

    /work/venv-torch/bin/python scripts/make_max_box_acc_fixture.py \
        nas-plugins/tests/fixtures nas-plugins/tests/fixtures/max_box_acc [--check-contours N]

Needs numpy, opencv-python-headless (cv2), scipy (for --check-contours only). Written for this
project; it follows their procedure, not their files:

* `normalize_scoremap` (their inference.py): scoremaps reach the evaluator as float64, made
  `cam -= cam.min(); cam /= cam.max()` (all zeros when constant or with a NaN). Their CAMComputer
  first resizes each CAM to the input size with cv2.resize(INTER_CUBIC); our maps are already
  224 x 224, the input size, and cv2.resize to the same size is a copy, so there is no resize here.
  Before that, each map gets the transform written in cases.json, in float32 as stored:
  "none" (the map as saved) or "abs" (np.abs, exact in float32); then float32 -> float64 (exact)
  and the float64 normalisation above, in that operation order, which Rust can repeat exactly.
* `compute_bboxes_from_scoremaps` (their evaluation.py): image = (scoremap * 255).astype(uint8)
  (truncation); for each cam threshold t, cv2.threshold(image, int(t * image.max()), 255,
  THRESH_BINARY) (foreground: pixel > that int); cv2.findContours(RETR_TREE, CHAIN_APPROX_SIMPLE)
  (every contour, hole contours included); no contour -> the single box [0, 0, 0, 0]; with
  multi_contour_eval False only max(contours, key=cv2.contourArea) (the first of equal areas, in
  findContours' order); each contour -> cv2.boundingRect (x, y, w, h) -> box
  [x, y, min(x + w, W - 1), min(y + h, H - 1)] (x + w is one past the last column: right and
  bottom edges grow by one pixel, clipped).
* `calculate_multiple_iou`: inclusive pixel boxes, area = (x1 - x0 + 1) * (y1 - y0 + 1),
  intersection likewise with max(0, .) per side, IoU = inter / (area_a + area_b - inter) in
  float64 (0 where that denominator <= 0).
* `BoxEvaluator.accumulate` / `.compute` (+ `evaluate_wsol`, config.py `box_v2_metric`):
  cam_threshold_list = np.arange(0, 1, cam_curve_interval) (here 0.01: 100 thresholds i * 0.01);
  per image and threshold the best IoU over (estimated boxes x GT boxes); for each IoU threshold
  in [30, 50, 70], num_correct[thr] += 1 where best IoU >= thr / 100; accuracy =
  num_correct * 100. / count; MaxBoxAcc@thr = max over cam thresholds; MaxBoxAccV2 = mean of the
  three (multi_iou_eval) with multi_contour_eval True; the old MaxBoxAcc is the IoU-50 value with
  multi_contour_eval False.

Writes into OUT:
  cases.json                       the entries: map path (relative to the fixtures folder),
                                   transform, GT boxes (x0, y0, x1, y1 inclusive, 224 x 224 pixels),
                                   and a checksum of the uint8 image the evaluator thresholds
  best_iou.multi_contour.npy       float64 (entries, 100): best IoU per cam threshold
  best_iou.largest_contour.npy     float64 (entries, 100): same, multi_contour_eval False
  num_boxes.multi_contour.npy      int64 (entries, 100): boxes (= contours, holes included) found
                                   (multi_contour_eval False always has 1)
  boxes.largest_contour.npy        int64 (entries, 100, 4): the box kept with multi_contour_eval False
  box_acc.multi_contour.npy        float64 (3, 100): BoxAcc curves at IoU 30/50/70
  box_acc.largest_contour.npy      float64 (3, 100)
  results.json                     MaxBoxAcc@30/50/70 and their mean (MaxBoxAccV2 with
                                   multi_contour) for both settings, the uint8 cut per threshold,
                                   the OpenCV version

--check-contours N also checks, on every thresholded image above and on N random binary images,
that cv2.findContours(RETR_TREE, CHAIN_APPROX_SIMPLE) returns exactly what `find_contours` below
returns (points and order), and that its set of bounding rects is the rule in `rect_rule`.
"""
import argparse
import json
import os
import sys

import cv2
import numpy as np

CAM_CURVE_INTERVAL = 0.01
IOU_THRESHOLDS = [30, 50, 70]
SIZE = 224

# Hand-drawn boxes on chelsea-224 (skimage's chelsea, shorter side resized to 256, centre crop
# 224), (x0, y0, x1, y1) inclusive. The crop is the cat's face, so the whole cat (and its head)
# fills the image; "face" is the eyes-nose-muzzle region; "background" is the blurred strip on the
# right edge below the right eye, where no map puts much weight.
BOXES = {
    "cat": [0, 0, 223, 223],
    "face": [30, 52, 218, 215],
    "left_eye": [34, 56, 100, 108],     # the eye on the image's left
    "right_eye": [170, 77, 216, 125],
    "nose": [128, 176, 168, 209],
    "background": [208, 136, 223, 223],
}

# (map relative to the fixtures folder, transform, GT box names). "abs" for the signed
# attribution maps (and LRP-vgg16, which has small negative values); "none" for maps that are
# already non-negative. One entry keeps a signed map as it is ("none" on xrai/chelsea-224.xrai):
# normalize_scoremap then shifts by a negative minimum.
CASES = [
    ("grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy", "none", ["cat"]),
    ("grad_cam/resnet18-seed0.chelsea-224.grad-cam-plus-plus.level4.npy", "none", ["face"]),
    ("grad_cam/resnet18-seed0.chelsea-224.grad-cam.level3.npy", "none", ["right_eye"]),
    ("grad_cam/efficientnet-lite0.chelsea-224.grad-cam-plus-plus.level4.npy", "none", ["face"]),
    ("gradient/resnet18-seed0.chelsea-224.npy", "abs", ["nose"]),
    ("integrated_gradients/efficientnet-lite0.chelsea-224.gausslegendre-16-zero.npy", "abs", ["face"]),
    ("integrated_gradients/efficientnet-lite0.chelsea-224.riemann_right-8-black.npy", "abs",
     ["left_eye", "right_eye"]),
    ("lrp/resnet18-seed0.chelsea-224-alpha2beta1.npy", "none", ["face"]),
    ("lrp/resnet18-seed0.chelsea-224.npy", "none", ["nose"]),
    ("lrp/resnet50-seed0.chelsea-224-alpha2beta1.npy", "none", ["left_eye"]),
    ("lrp/resnet50-seed0.chelsea-224.npy", "none", ["background"]),
    ("lrp/vgg16-seed0.chelsea-224-alpha2beta1.npy", "abs", ["left_eye"]),
    ("lrp/vgg16-seed0.chelsea-224.npy", "abs", ["cat"]),
    ("rise/efficientnet-lite0.chelsea-224.npy", "none", ["background"]),
    ("smoothgrad/efficientnet-lite0.chelsea-224.smoothgrad-0.5.npy", "abs", ["left_eye"]),
    ("smoothgrad/efficientnet-lite0.chelsea-224.vargrad-0.5.npy", "none", ["right_eye"]),
    ("xrai/chelsea-224.xrai.npy", "abs", ["left_eye"]),
    ("xrai/chelsea-224.xrai.npy", "none", ["face"]),
    ("xrai/efficientnet-lite0.chelsea-224.xrai-8.npy", "none", ["nose", "background"]),
]


# ---------------------------------------------------------------------------------------------
# The evaluator (their inference.normalize_scoremap and evaluation.py)

def load_scoremap(path, transform):
    """The float64 map in [0, 1] that their BoxEvaluator.accumulate receives."""
    m = np.load(path)
    assert m.dtype == np.float32 and m.shape == (SIZE, SIZE), (path, m.dtype, m.shape)
    if transform == "abs":
        m = np.abs(m)
    elif transform != "none":
        raise ValueError(transform)
    return normalize_scoremap(m.astype(np.float64))


def normalize_scoremap(cam):
    """As their inference.normalize_scoremap: shift by the minimum, divide by the new maximum."""
    if np.isnan(cam).any() or cam.min() == cam.max():
        return np.zeros_like(cam)
    cam = cam - cam.min()
    cam /= cam.max()
    return cam


def cam_thresholds(interval=CAM_CURVE_INTERVAL):
    t = np.arange(0, 1, interval)
    # numpy's arange is start + i * step: the same doubles as i * 0.01 in Rust
    assert all(float(v) == i * interval for i, v in enumerate(t))
    return list(t)


def to_uint8(scoremap):
    return (scoremap * 255).astype(np.uint8)


def boxes_at_thresholds(scoremap, thresholds, multi_contour_eval):
    """As their compute_bboxes_from_scoremaps: per threshold an (n, 4) int array of boxes."""
    height, width = scoremap.shape
    image = to_uint8(scoremap)
    peak = image.max()
    out = []
    for t in thresholds:
        _, binary = cv2.threshold(image, int(t * peak), 255, cv2.THRESH_BINARY)
        contours = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[-2]
        if len(contours) == 0:
            out.append(np.zeros((1, 4), np.int64))
            continue
        if not multi_contour_eval:
            contours = [max(contours, key=cv2.contourArea)]
        boxes = []
        for c in contours:
            x, y, w, h = cv2.boundingRect(c)
            boxes.append([x, y, min(x + w, width - 1), min(y + h, height - 1)])
        out.append(np.asarray(boxes, np.int64))
    return out


def multiple_iou(a, b):
    """As their calculate_multiple_iou: (len(a), len(b)) IoUs of inclusive pixel boxes."""
    a = np.asarray(a, np.int64)[:, None, :]
    b = np.asarray(b, np.int64)[None, :, :]
    assert (a >= 0).all() and (b >= 0).all()
    assert (a[..., 2] >= a[..., 0]).all() and (a[..., 3] >= a[..., 1]).all()
    assert (b[..., 2] >= b[..., 0]).all() and (b[..., 3] >= b[..., 1]).all()
    iw = np.maximum(0, np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]) + 1)
    ih = np.maximum(0, np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]) + 1)
    inter = iw * ih
    area_a = (a[..., 2] - a[..., 0] + 1) * (a[..., 3] - a[..., 1] + 1)
    area_b = (b[..., 2] - b[..., 0] + 1) * (b[..., 3] - b[..., 1] + 1)
    den = area_a + area_b - inter
    bad = den <= 0
    den = np.where(bad, 1, den)
    iou = inter / den
    iou[bad] = 0
    return iou


class BoxAccumulator:
    """As their BoxEvaluator (accumulate, compute), with the per-image curves kept."""

    def __init__(self, thresholds, multi_contour_eval):
        self.thresholds = thresholds
        self.multi = multi_contour_eval
        self.num_correct = {t: np.zeros(len(thresholds)) for t in IOU_THRESHOLDS}
        self.count = 0
        self.best_iou, self.num_boxes, self.kept_boxes = [], [], []

    def accumulate(self, scoremap, gt_boxes):
        per_threshold = boxes_at_thresholds(scoremap, self.thresholds, self.multi)
        best = np.array([multiple_iou(b, gt_boxes).max() for b in per_threshold])
        for t in IOU_THRESHOLDS:
            self.num_correct[t][np.where(best >= t / 100)[0]] += 1
        self.count += 1
        self.best_iou.append(best)
        self.num_boxes.append([len(b) for b in per_threshold])
        if not self.multi:
            self.kept_boxes.append(np.concatenate(per_threshold, 0))

    def curves(self):
        return np.stack([self.num_correct[t] * 100. / float(self.count) for t in IOU_THRESHOLDS])

    def compute(self):
        return [float(c.max()) for c in self.curves()]


# ---------------------------------------------------------------------------------------------
# What cv2.findContours(RETR_TREE, CHAIN_APPROX_SIMPLE) does, without OpenCV (checked below)

# direction codes as OpenCV numbers them: 0 E, 1 NE, 2 N, 3 NW, 4 W, 5 SW, 6 S, 7 SE (y down)
_DX = [1, 1, 0, -1, -1, -1, 0, 1]
_DY = [0, -1, -1, -1, 0, 1, 1, 1]


def find_contours(binary):
    """Suzuki & Abe (1985) border following, foreground 8-connected, background 4-connected, on
    the image framed by one pixel of background (pixels on the image edge are ordinary pixels).
    Raster scan; at pixel (x, y): an outer border starts where f(x, y) == 1 (unvisited) and
    f(x-1, y) == 0; else a hole border starts where f(x, y) >= 1 and f(x+1, y) == 0. Each border
    is traced as OpenCV's icvFetchContour does (CHAIN_APPROX_SIMPLE keeps the points where the
    chain code changes). Returned as OpenCV orders RETR_TREE output: depth-first, a contour before
    its children, and the children of a contour (the top level too) last-found first.
    Returns [(points [(x, y)], is_hole)]."""
    b = np.asarray(binary) != 0
    h, w = b.shape
    f = np.zeros((h + 2, w + 2), np.int64)
    f[1:-1, 1:-1] = b
    kind = {1: (True, None)}         # border id -> (is_hole, parent id); 1 is the frame
    found = []                       # (id, parent, points, is_hole) in order of discovery
    nbd = 1
    for y in range(1, h + 1):
        lnbd = 1
        for x in range(1, w + 1):
            v = f[y, x]
            start = None
            if v == 1 and f[y, x - 1] == 0:
                start = False
            elif v >= 1 and f[y, x + 1] == 0:
                start = True
                if v > 1:
                    lnbd = v
            if start is not None:
                is_hole = start
                nbd += 1
                last_hole, last_parent = kind[lnbd]
                # Suzuki & Abe, table 1
                parent = lnbd if (is_hole != last_hole) else last_parent
                kind[nbd] = (is_hole, parent)
                found.append((nbd, parent, _trace(f, x, y, is_hole, nbd), is_hole))
            if f[y, x] not in (0, 1):
                lnbd = abs(f[y, x])
    children = {}
    for c in found:
        children.setdefault(c[1], []).append(c)
    out = []

    def visit(pid):
        for c in reversed(children.get(pid, [])):
            out.append((c[2], c[3]))
            visit(c[0])
    visit(1)
    return out


def _trace(f, x0, y0, is_hole, nbd):
    pts = []
    s = s_end = 0 if is_hole else 4
    while True:                                 # clockwise from the start's background side
        s = (s - 1) & 7
        x1, y1 = x0 + _DX[s], y0 + _DY[s]
        if f[y1, x1] != 0 or s == s_end:
            break
    if f[y1, x1] == 0:                          # an isolated pixel
        f[y0, x0] = -nbd
        return [(x0 - 1, y0 - 1)]
    x3, y3 = x0, y0
    prev_s = s ^ 4
    px, py = x0, y0
    while True:
        s_end = s
        while True:                             # counter-clockwise from the previous pixel
            s += 1
            x4, y4 = x3 + _DX[s & 7], y3 + _DY[s & 7]
            if f[y4, x4] != 0:
                break
        s &= 7
        if 1 <= s <= s_end:                     # the pixel to the right was examined: 0
            f[y3, x3] = -nbd
        elif f[y3, x3] == 1:
            f[y3, x3] = nbd
        if s != prev_s:
            pts.append((px - 1, py - 1))
            prev_s = s
        px += _DX[s]
        py += _DY[s]
        if (x4, y4) == (x0, y0) and (x3, y3) == (x1, y1):
            break
        x3, y3 = x4, y4
        s = (s + 4) & 7
    return pts


def contour_area(pts):
    """cv2.contourArea: |shoelace| / 2 over the CHAIN_APPROX_SIMPLE points."""
    a = 0
    for i in range(len(pts)):
        (xa, ya), (xb, yb) = pts[i - 1], pts[i]
        a += xa * yb - xb * ya
    return abs(a) / 2.0


def rect_rule(binary):
    """The multiset of cv2.boundingRect over all RETR_TREE contours, from connected components:
    one rect per 8-connected foreground component (its pixel bounding box), plus one per
    4-connected background component that touches no image edge (a hole): its pixel bounding box
    grown by one pixel on every side (the hole border runs through the foreground pixels around
    the hole)."""
    from scipy import ndimage
    b = np.asarray(binary) != 0
    h, w = b.shape
    out = []
    lab, _ = ndimage.label(b, np.ones((3, 3), bool))
    for sl in ndimage.find_objects(lab):
        out.append((sl[1].start, sl[0].start, sl[1].stop - sl[1].start, sl[0].stop - sl[0].start))
    lab, _ = ndimage.label(~b, ndimage.generate_binary_structure(2, 1))
    for sl in ndimage.find_objects(lab):
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        if y0 == 0 or x0 == 0 or y1 == h or x1 == w:
            continue
        out.append((x0 - 1, y0 - 1, x1 - x0 + 2, y1 - y0 + 2))
    return sorted(out)


def same_as_cv2(binary):
    """(points and order equal, rect rule holds) for one binary image."""
    cs = cv2.findContours(binary.astype(np.uint8) * 255, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)[-2]
    theirs = [[tuple(p) for p in c.reshape(-1, 2).tolist()] for c in cs]
    ours = find_contours(binary)
    same = theirs == [p for p, _ in ours]
    if same:
        assert [cv2.contourArea(c) for c in cs] == [contour_area(p) for p, _ in ours]
    rects = sorted(cv2.boundingRect(c) for c in cs)
    return same, rects == rect_rule(binary)


def random_binary(rng):
    from scipy import ndimage
    h, w = (int(v) for v in rng.integers(5, 65, 2))
    kind = int(rng.integers(0, 4))
    if kind == 0:                       # independent pixels, several densities
        return rng.random((h, w)) < rng.choice([0.05, 0.2, 0.4, 0.5, 0.6, 0.8, 0.95])
    if kind == 1:                       # smooth blobs
        z = ndimage.gaussian_filter(rng.standard_normal((h, w)), rng.uniform(0.7, 4),
                                    mode="wrap" if rng.random() < 0.5 else "reflect")
        return z > np.quantile(z, rng.uniform(0.2, 0.9))
    if kind == 2:                       # rectangles (xor: rings, holes) and lines
        b = np.zeros((h, w), bool)
        for _ in range(int(rng.integers(1, 8))):
            y0, x0 = int(rng.integers(0, h)), int(rng.integers(0, w))
            y1, x1 = min(h, y0 + int(rng.integers(1, 20))), min(w, x0 + int(rng.integers(1, 20)))
            if rng.random() < 0.5:
                b[y0:y1, x0:x1] ^= True
            else:
                b[y0:y1, x0] = True
                b[y0, x0:x1] = True
        return b
    z = ndimage.gaussian_filter(rng.random((h, w)), rng.uniform(0.5, 3))   # as the evaluator
    u8 = to_uint8((z - z.min()) / (z.max() - z.min() + 1e-12))
    return u8 > int(rng.uniform(0, 1) * u8.max())


# ---------------------------------------------------------------------------------------------

def self_test():
    """Their evaluation_test.py cases for compute_bboxes_from_scoremaps and calculate_multiple_iou."""
    t = list(np.arange(0, 1, 0.2))
    uni = np.array([[0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.4, 0.4, 0.4, 0.6],
                    [0.0, 0.4, 1.0, 0.8, 0.6], [0.0, 0.4, 0.4, 0.4, 0.6]])
    assert [b[0].tolist() for b in boxes_at_thresholds(uni, t, False)] == \
        [[1, 1, 4, 3], [1, 1, 4, 3], [2, 1, 4, 3], [2, 2, 4, 3], [2, 2, 3, 3]]
    multi = np.array([[0.4, 0.0, 0.2, 0.2, 0.2], [0.4, 0.4, 0.0, 0.4, 0.0],
                      [0.0, 0.0, 0.0, 0.4, 0.0], [1.0, 0.6, 0.8, 0.2, 0.2]])
    assert [b[0].tolist() for b in boxes_at_thresholds(multi, t, False)] == \
        [[0, 0, 4, 3], [0, 0, 2, 2], [0, 3, 3, 3], [2, 3, 3, 3], [0, 3, 1, 3]]
    assert [b[0].tolist() for b in boxes_at_thresholds(np.zeros((3, 3)), t, False)] == [[0, 0, 0, 0]] * 5
    assert abs(multiple_iou([[1, 2, 5, 6]], [[3, 1, 4, 5]])[0, 0] - 8. / 27) < 1e-12
    assert (multiple_iou(np.zeros((3, 4)), np.zeros((5, 4))) == 1).all()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("fixtures")
    ap.add_argument("out")
    ap.add_argument("--check-contours", type=int, default=0, metavar="N",
                    help="also check find_contours/rect_rule against cv2 on the fixture's images "
                         "and on N random binary images")
    args = ap.parse_args()
    self_test()
    thresholds = cam_thresholds()
    os.makedirs(args.out, exist_ok=True)

    runs = {"multi_contour": BoxAccumulator(thresholds, True),
            "largest_contour": BoxAccumulator(thresholds, False)}
    cases, checked = [], {}
    for path, transform, names in CASES:
        scoremap = load_scoremap(os.path.join(args.fixtures, path), transform)
        gt = [BOXES[n] for n in names]
        for run in runs.values():
            run.accumulate(scoremap, gt)
        image = to_uint8(scoremap)
        # f32 normalisation instead of their f64 one: does it change the uint8 image?
        m32 = np.load(os.path.join(args.fixtures, path))
        m32 = np.abs(m32) if transform == "abs" else m32
        m32 = m32 - m32.min()
        m32 = m32 / m32.max()
        f32_diff = int(((m32 * np.float32(255)).astype(np.uint8) != image).sum())
        cases.append({"map": path, "transform": transform, "gt_names": names, "gt_boxes": gt,
                      "uint8_sum": int(image.astype(np.int64).sum()),
                      "uint8_count_255": int((image == 255).sum()),
                      "uint8_pixels_differing_if_normalised_in_f32": f32_diff})
        if args.check_contours and (path, transform) not in checked:
            peak = image.max()
            ok = [same_as_cv2(image > int(t * peak)) for t in thresholds]
            checked[(path, transform)] = ok
            print(f"{path} {transform}: {sum(a for a, _ in ok)}/100 contour lists, "
                  f"{sum(b for _, b in ok)}/100 rect rules agree", file=sys.stderr)

    results = {"opencv": cv2.__version__, "numpy": np.__version__,
               "cam_curve_interval": CAM_CURVE_INTERVAL, "iou_thresholds": IOU_THRESHOLDS,
               "entries": len(CASES),
               "uint8_cut_per_threshold": [int(t * 255) for t in thresholds]}
    for key, run in runs.items():
        acc = run.compute()
        results[key] = {"max_box_acc": dict(zip(map(str, IOU_THRESHOLDS), acc)),
                        "mean_over_iou_thresholds": float(np.average(acc)),
                        "best_cam_threshold_index": [int(c.argmax()) for c in run.curves()]}
        np.save(os.path.join(args.out, f"best_iou.{key}.npy"), np.stack(run.best_iou).astype(np.float64))
        np.save(os.path.join(args.out, f"box_acc.{key}.npy"), run.curves().astype(np.float64))
    results["MaxBoxAccV2"] = results["multi_contour"]["mean_over_iou_thresholds"]
    results["MaxBoxAcc"] = results["largest_contour"]["max_box_acc"]["50"]
    np.save(os.path.join(args.out, "num_boxes.multi_contour.npy"),
            np.array(runs["multi_contour"].num_boxes, np.int64))
    assert (np.array(runs["largest_contour"].num_boxes) == 1).all()
    np.save(os.path.join(args.out, "boxes.largest_contour.npy"),
            np.stack(runs["largest_contour"].kept_boxes).astype(np.int64))
    with open(os.path.join(args.out, "cases.json"), "w") as fh:
        json.dump({"about": "wsolevaluation MaxBoxAcc/MaxBoxAccV2 reference; see "
                            "scripts/make_max_box_acc_fixture.py",
                   "maps_relative_to": "nas-plugins/tests/fixtures",
                   "box_convention": "x0, y0, x1, y1 inclusive pixels of the 224 x 224 map",
                   "boxes": BOXES, "cases": cases}, fh, indent=1)
    with open(os.path.join(args.out, "results.json"), "w") as fh:
        json.dump(results, fh, indent=1)
    print(json.dumps({k: results[k] for k in ("MaxBoxAccV2", "MaxBoxAcc", "multi_contour",
                                              "largest_contour")}, indent=1))

    if args.check_contours:
        rng = np.random.default_rng(0)
        n_same = n_rule = 0
        for _ in range(args.check_contours):
            same, rule = same_as_cv2(random_binary(rng))
            n_same += same
            n_rule += rule
        print(f"random images: {n_same}/{args.check_contours} contour lists, "
              f"{n_rule}/{args.check_contours} rect rules agree with cv2 {cv2.__version__}",
              file=sys.stderr)
        bad = [k for k, v in checked.items() if not all(a and b for a, b in v)]
        if bad or n_same != args.check_contours or n_rule != args.check_contours:
            sys.exit(f"contour check failed: {bad}")


if __name__ == "__main__":
    main()
