"""Writes the dataset fixtures of tests/datasets.rs: real photos (scikit-image's data) laid out
as CUB-200-2011 folders and as STL-10 binaries, with what the reference readers make of them.

CUB-200-2011: the published layout (images.txt, image_class_labels.txt, bounding_boxes.txt with
`id x y width height`, train_test_split.txt, classes.txt, images/). The boxes were drawn by hand
around the cat's head, the cup and saucer, the astronaut (and her face: two boxes, as
wsolevaluation's metadata allows) and the rocket. expected_boxes.json holds each test photo's
boxes after wsolevaluation's resize to 224 x 224 (`resize_bbox`: `int(x * 224 / width)`), with
`x1 = x + width` as in its metadata.

wsolevaluation metadata (wsol/CUB/test: image_ids.txt, class_labels.txt, image_sizes.txt,
localization.txt with `path,x0,y0,x1,y1`) for the same CUB test photos, paths relative to
CUB_200_2011/images, as wsolevaluation's metadata/CUB/test lays them out.

torchvision's ImageFolder over CUB_200_2011/images: image_folder_expected.json lists its samples
(path relative to that folder, class index) and classes.

STL-10: `test_X.bin` holds the photos resized to 96 x 96 in STL-10's byte order (per photo,
channel by channel, column by column), `test_y.bin` one class byte (1 to 10) each. The classes are
only there to test the format (the coffee cup is not a truck). stl10-expected/ holds the photos as
torchvision's STL10 dataset decodes those files (its checksum test, which only accepts the real
dataset's files, is bypassed).

Run with a venv that has numpy, pillow, scikit-image and torchvision:
    /work/venv-torch/bin/python scripts/make_dataset_fixtures.py
"""
import json
import os
import shutil

import numpy as np
import skimage.data
from PIL import Image
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures", "datasets")

# id, photo, class id, is_train, boxes (x, y, width, height) in the photo's pixels
CUB = [
    (1, "chelsea", 1, 0, [(30, 0, 370, 300)]),
    (2, "coffee", 2, 0, [(75, 20, 405, 365)]),
    (3, "astronaut", 3, 1, [(30, 15, 330, 497)]),
    (4, "rocket", 4, 0, [(300, 125, 40, 285)]),
    (5, "astronaut", 3, 0, [(30, 15, 330, 497), (188, 60, 77, 110)]),
]
CLASSES = ["001.Cat", "002.Coffee_cup", "003.Astronaut", "004.Rocket"]
STL = [("chelsea", 4), ("rocket", 1), ("coffee", 10)]
STL_CLASSES = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]


def write_cub():
    root = os.path.join(OUT, "CUB_200_2011")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(os.path.join(root, "images"))
    lines = {name: [] for name in ["images", "image_class_labels", "bounding_boxes", "train_test_split", "classes"]}
    expected = []
    for c, name in enumerate(CLASSES, 1):
        lines["classes"].append(f"{c} {name}")
    for image_id, photo, class_id, is_train, boxes in CUB:
        folder = CLASSES[class_id - 1]
        relative = f"{folder}/{photo.capitalize()}_{image_id:04d}.jpg"
        os.makedirs(os.path.join(root, "images", folder), exist_ok=True)
        pixels = getattr(skimage.data, photo)()
        Image.fromarray(pixels).save(os.path.join(root, "images", relative), quality=90)
        lines["images"].append(f"{image_id} {relative}")
        lines["image_class_labels"].append(f"{image_id} {class_id}")
        lines["train_test_split"].append(f"{image_id} {is_train}")
        for x, y, w, h in boxes:
            lines["bounding_boxes"].append(f"{image_id} {x:.1f} {y:.1f} {w:.1f} {h:.1f}")
        if not is_train:
            height, width = pixels.shape[:2]
            resized = [
                [int(v * 224 / size) for v, size in zip((x, y, x + w, y + h), (width, height, width, height))]
                for x, y, w, h in boxes
            ]
            expected.append({"path": f"images/{relative}", "label": class_id - 1, "boxes": resized})
    for name, content in lines.items():
        with open(os.path.join(root, f"{name}.txt"), "w") as f:
            f.write("\n".join(content) + "\n")
    with open(os.path.join(OUT, "cub_expected_boxes.json"), "w") as f:
        json.dump(expected, f, indent=1)


def write_stl10():
    root = os.path.join(OUT, "stl10_binary")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    photos = [np.asarray(Image.fromarray(getattr(skimage.data, p)()).resize((96, 96), Image.BILINEAR)) for p, _ in STL]
    # (H, W, C) -> (C, W, H): channel by channel, column by column
    with open(os.path.join(root, "test_X.bin"), "wb") as f:
        for p in photos:
            f.write(np.ascontiguousarray(p.transpose(2, 1, 0)).tobytes())
    with open(os.path.join(root, "test_y.bin"), "wb") as f:
        f.write(bytes(c for _, c in STL))
    with open(os.path.join(root, "class_names.txt"), "w") as f:
        f.write("\n".join(STL_CLASSES) + "\n")
    torchvision.datasets.STL10._check_integrity = lambda self: True
    dataset = torchvision.datasets.STL10(OUT, split="test", download=False)
    expected = os.path.join(OUT, "stl10-expected")
    shutil.rmtree(expected, ignore_errors=True)
    os.makedirs(expected)
    for i, (image, label) in enumerate(dataset):
        assert label == STL[i][1] - 1
        image.save(os.path.join(expected, f"{i}-class{label}.png"))


def write_wsol_and_image_folder():
    root = os.path.join(OUT, "wsol", "CUB", "test")
    shutil.rmtree(os.path.join(OUT, "wsol"), ignore_errors=True)
    os.makedirs(root)
    ids, labels, sizes, boxes = [], [], [], []
    for image_id, photo, class_id, is_train, photo_boxes in CUB:
        if is_train:
            continue
        relative = f"{CLASSES[class_id - 1]}/{photo.capitalize()}_{image_id:04d}.jpg"
        height, width = getattr(skimage.data, photo)().shape[:2]
        ids.append(relative)
        labels.append(f"{relative},{class_id - 1}")
        sizes.append(f"{relative},{width},{height}")
        boxes += [f"{relative},{x},{y},{x + w},{y + h}" for x, y, w, h in photo_boxes]
    for name, lines in [("image_ids", ids), ("class_labels", labels), ("image_sizes", sizes), ("localization", boxes)]:
        with open(os.path.join(root, f"{name}.txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
    images = os.path.join(OUT, "CUB_200_2011", "images")
    folder = torchvision.datasets.ImageFolder(images)
    samples = [[os.path.relpath(p, images), c] for p, c in folder.samples]
    with open(os.path.join(OUT, "image_folder_expected.json"), "w") as f:
        json.dump({"classes": folder.classes, "samples": samples}, f, indent=1)


if __name__ == "__main__":
    write_cub()
    write_wsol_and_image_folder()
    write_stl10()
