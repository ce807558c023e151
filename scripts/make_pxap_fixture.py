"""References for ground-truth masks and PxAP (Choe et al., CVPR 2020, github.com/clovaai/
wsolevaluation), computed with OpenCV the way their code computes them. Written for this project;
it follows their procedure, not their files.

    /work/venv-torch/bin/python scripts/make_pxap_fixture.py

Needs numpy, pillow and opencv-python-headless (cv2). Writes two fixtures.

1. tests/fixtures/datasets/wsol/OpenImages/: wsolevaluation's OpenImages metadata layout
   (test/image_ids.txt, class_labels.txt, localization.txt with `path,mask,ignore` lines: one
   per object instance, the ignore mask on the photo's first line only) for the real photos of
   tests/fixtures/datasets/CUB_200_2011/images, with hand-drawn masks in masks/ (0 or 255; the
   astronaut's at half the photo's resolution; the coffee cup and its saucer as two instances;
   ignore masks on the coffee, rocket and astronaut photos). expected/<n>.png holds, for each
   photo in image_ids.txt order, wsolevaluation's `get_mask` at 224 x 224: each mask read as
   grey, `cv2.resize(..., (224, 224), interpolation=cv2.INTER_NEAREST)`, foreground where any
   instance is > 0.5, ignored (255) where the ignore mask is > 0.5 and no instance is, else 0.

2. nas-plugins/tests/fixtures/pxap/: PxAP on the 19 saliency maps of chelsea-224 that the
   max-box-acc fixture uses (their cases.json: map files and transforms), each against a
   hand-drawn mask of chelsea-224 (masks/<name>.png, 0 background, 1 foreground, 255 ignored),
   the mask named per case in cases.json. For each case, wsolevaluation's `MaskEvaluator` on that
   photo alone: the map transformed as the max-box-acc fixture does ("none" or "abs" in float32),
   made float64 and normalised (`cam -= cam.min(); cam /= cam.max()`, zeros if constant or NaN),
   `np.histogram` of its values at foreground and at background pixels over the edges
   `np.append(np.arange(0, 1, interval), [1, 2, 3])`, then `compute()`: tp and fp as the
   reversed cumulative sums, precision = tp / (tp + fp), recall = tp / (tp + fn),
   PxAP = 100 * sum(precision[1:] * diff(recall)) where tp + fp != 0. results.json holds, for
   intervals 0.01 and 0.001, each case's tp and fp counts and PxAP, and the PxAP of all 19 photos
   accumulated in one evaluator.
"""
import json
import os

import cv2
import numpy as np
from PIL import Image, ImageDraw

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = os.path.join(REPO, "tests/fixtures/datasets")
OPEN_IMAGES = os.path.join(DATASETS, "wsol/OpenImages")
PLUGIN_FIXTURES = os.path.join(REPO, "nas-plugins/tests/fixtures")
SIZE = 224


def draw(size, shapes, value=255):
    """A mask of `size` (width, height) with `shapes`: ("ellipse" | "rectangle" | "polygon", xy)."""
    mask = Image.new("L", size, 0)
    pen = ImageDraw.Draw(mask)
    for kind, xy in shapes:
        getattr(pen, kind)(xy, fill=value)
    return mask


# Hand-drawn on each photo (its own pixels): instances, then the ignore mask (or None).
PHOTOS = [
    ("001.Cat/Chelsea_0001.jpg", 0, (451, 300),
     [[("ellipse", (40, 5, 395, 298))]], None),
    ("002.Coffee_cup/Coffee_0002.jpg", 1, (600, 400),
     [[("ellipse", (150, 40, 420, 300)), ("rectangle", (400, 120, 470, 200))],
      [("ellipse", (75, 230, 480, 385))]],
     [("rectangle", (0, 0, 600, 60))]),
    ("004.Rocket/Rocket_0004.jpg", 3, (640, 427),
     [[("polygon", [(320, 125), (338, 180), (340, 410), (300, 410), (302, 180)])]],
     [("rectangle", (250, 100, 380, 427))]),
    ("003.Astronaut/Astronaut_0005.jpg", 2, (512, 512),
     [[("ellipse", (188, 60, 265, 170))]],
     [("rectangle", (30, 15, 360, 511))]),
]
# The astronaut's masks are drawn at half resolution (wsolevaluation resizes every mask to 224
# whatever its own size).
HALF = {"003.Astronaut/Astronaut_0005.jpg"}


def write_dataset():
    test = os.path.join(OPEN_IMAGES, "test")
    masks = os.path.join(OPEN_IMAGES, "masks")
    expected = os.path.join(OPEN_IMAGES, "expected")
    for d in (test, masks, expected):
        os.makedirs(d, exist_ok=True)
    ids, labels, lines = [], [], []
    for n, (path, label, size, instances, ignore) in enumerate(PHOTOS):
        stem = os.path.splitext(os.path.basename(path))[0]
        scale = 0.5 if path in HALF else 1.0
        mask_size = (int(size[0] * scale), int(size[1] * scale))

        def scaled(shapes):
            out = []
            for kind, xy in shapes:
                if kind == "polygon":
                    out.append((kind, [(x * scale, y * scale) for x, y in xy]))
                else:
                    out.append((kind, tuple(v * scale for v in xy)))
            return out

        instance_files = []
        for i, shapes in enumerate(instances):
            name = f"{stem}_{i}.png"
            draw(mask_size, scaled(shapes)).save(os.path.join(masks, name))
            instance_files.append("masks/" + name)
        ignore_file = ""
        if ignore is not None:
            ignore_file = f"masks/{stem}_ignore.png"
            draw(mask_size, scaled(ignore)).save(os.path.join(OPEN_IMAGES, ignore_file))
        ids.append(path)
        labels.append(f"{path},{label}")
        for i, f in enumerate(instance_files):
            lines.append(f"{path},{f},{ignore_file if i == 0 else ''}")
        truth = get_mask(OPEN_IMAGES, instance_files, ignore_file)
        Image.fromarray(truth).save(os.path.join(expected, f"{n}.png"))
        print(path, "foreground", int((truth == 1).sum()), "ignored", int((truth == 255).sum()))
    for name, rows in (("image_ids.txt", ids), ("class_labels.txt", labels), ("localization.txt", lines)):
        with open(os.path.join(test, name), "w") as f:
            f.write("\n".join(rows) + "\n")


def load_mask_image(path):
    mask = np.float32(cv2.imread(path, cv2.IMREAD_GRAYSCALE))
    return cv2.resize(mask, (SIZE, SIZE), interpolation=cv2.INTER_NEAREST)


def get_mask(root, instance_files, ignore_file):
    """wsolevaluation's get_mask; an empty ignore path means no ignore mask."""
    foreground = np.stack([load_mask_image(os.path.join(root, f)) > 0.5 for f in instance_files]).any(0)
    if ignore_file:
        ignore = np.logical_and(load_mask_image(os.path.join(root, ignore_file)) > 0.5, ~foreground)
    else:
        ignore = np.zeros_like(foreground)
    return foreground.astype(np.uint8) + 255 * ignore.astype(np.uint8)


# Hand-drawn masks of chelsea-224 (the cat's face fills the crop), 224 x 224.
CHELSEA_MASKS = {
    "head": ([("ellipse", (20, 30, 223, 223))], [("rectangle", (0, 0, 223, 25))]),
    "face": ([("ellipse", (30, 52, 218, 215))], None),
    "eyes": ([("ellipse", (34, 56, 100, 108)), ("ellipse", (170, 77, 216, 125))], [("ellipse", (20, 40, 223, 140))]),
    "nose": ([("polygon", [(128, 176), (168, 176), (148, 209)])], None),
    "background": ([("rectangle", (208, 136, 223, 223))], [("rectangle", (180, 0, 223, 135))]),
}
# The box names of the max-box-acc cases, each given the mask drawn for the same region.
MASK_FOR_BOX = {"cat": "head", "face": "face", "left_eye": "eyes", "right_eye": "eyes", "nose": "nose",
                "background": "background"}


def mask_evaluator(pairs, interval):
    """wsolevaluation's MaskEvaluator over (scoremap, gt mask) pairs: (tp, fp, PxAP)."""
    thresholds = list(np.arange(0, 1, interval))
    edges = np.append(thresholds, [1.0, 2.0, 3.0])
    true_hist = np.zeros(len(thresholds) + 2)
    false_hist = np.zeros(len(thresholds) + 2)
    for scoremap, gt in pairs:
        true_hist += np.histogram(scoremap[gt == 1], bins=edges)[0].astype(np.float64)
        false_hist += np.histogram(scoremap[gt == 0], bins=edges)[0].astype(np.float64)
    tp = true_hist[::-1].cumsum()
    fn = true_hist.sum() - tp
    fp = false_hist[::-1].cumsum()
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = tp / (tp + fp)
        recall = tp / (tp + fn)
    non_zero = (tp + fp) != 0
    auc = (precision[1:] * np.diff(recall))[non_zero[1:]].sum() * 100
    return tp, fp, float(auc)


def normalise(cam):
    cam = cam.astype(np.float64)
    if np.isnan(cam).any() or cam.min() == cam.max():
        return np.zeros_like(cam)
    cam -= cam.min()
    cam /= cam.max()
    return cam


def write_pxap():
    out = os.path.join(PLUGIN_FIXTURES, "pxap")
    os.makedirs(os.path.join(out, "masks"), exist_ok=True)
    masks = {}
    for name, (instances, ignore) in CHELSEA_MASKS.items():
        foreground = np.asarray(draw((SIZE, SIZE), instances)) > 0
        ignored = (np.asarray(draw((SIZE, SIZE), ignore)) > 0) & ~foreground if ignore else np.zeros_like(foreground)
        truth = foreground.astype(np.uint8) + 255 * ignored.astype(np.uint8)
        Image.fromarray(truth).save(os.path.join(out, "masks", name + ".png"))
        masks[name] = truth
    boxes = json.load(open(os.path.join(PLUGIN_FIXTURES, "max_box_acc/cases.json")))
    cases, maps = [], []
    for case in boxes["cases"]:
        cam = np.load(os.path.join(PLUGIN_FIXTURES, case["map"])).astype(np.float32)
        if case["transform"] == "abs":
            cam = np.abs(cam)
        mask = MASK_FOR_BOX[case["gt_names"][0]]
        cases.append({"map": case["map"], "transform": case["transform"], "mask": mask})
        maps.append((normalise(cam), masks[mask]))
    results = {"about": "wsolevaluation MaskEvaluator (PxAP) reference; see scripts/make_pxap_fixture.py",
               "opencv": cv2.__version__, "numpy": np.__version__}
    for interval in (0.01, 0.001):
        per_case = []
        for pair in maps:
            tp, fp, auc = mask_evaluator([pair], interval)
            per_case.append({"tp": tp.tolist(), "fp": fp.tolist(), "pxap": auc})
        results[str(interval)] = {"cases": per_case, "pxap_all": mask_evaluator(maps, interval)[2]}
        print(interval, "PxAP over all", results[str(interval)]["pxap_all"], "per case",
              [round(c["pxap"], 2) for c in per_case])
    with open(os.path.join(out, "cases.json"), "w") as f:
        json.dump({"about": "maps (relative to nas-plugins/tests/fixtures), transforms and masks of the PxAP fixture",
                   "cases": cases}, f, indent=1)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    write_dataset()
    write_pxap()
