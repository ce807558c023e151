"""Reference for Focus (Arias-Duart et al. 2022): Quantus 0.6.0's `mosaic_creation` and `Focus`.

mosaics.json: quantus.functions.mosaic_func.mosaic_creation(images, labels, mosaics_per_class,
seed) on the labels of two dataset fixtures, in nas's order: CUB-200-2011's `all` split
(tests/fixtures/datasets/CUB_200_2011, 5 photos, classes 0 1 2 3 2) and STL-10's test split
(tests/fixtures/datasets/stl10_binary, 3 photos, classes 3 0 9; test_y.bin counts from 1).
Only the draws matter, so `images` is each photo's index as a (1, 1, 1) array; the mosaics'
indices, labels, target-class positions (p_batch) and targets are saved.

focus.json: quantus.Focus()(model, x_batch, y_batch, a_batch, custom_batch=p_batch) with its
defaults (normalise=True: divided by the largest magnitude; positive values only) on two map
fixtures taken as 224 x 224 "mosaic" maps (quadrants 112 x 112): the resnet18 gradient map with
p_batch (1, 0, 0, 1) and the resnet18 Grad-CAM level-4 map with (0, 1, 1, 0). Focus reads only
the maps and the quadrants; the model and x_batch are resnet18 seed 0 and zeros, which it
checks for but does not use.

    /work/venv-torch/bin/python scripts/make_focus_fixture.py ../shared tests/fixtures/focus
"""
import json, os, sys
import numpy as np, quantus, torch, torchvision
from quantus.functions.mosaic_func import mosaic_creation

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
fixtures = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
cases = []
stl10 = np.fromfile(os.path.join(fixtures, "tests/fixtures/datasets/stl10_binary/test_y.bin"), np.uint8).astype(int) - 1
for name, labels, per_class, seed in [("cub-all", [0, 1, 2, 3, 2], 3, 3), ("stl10-test", list(stl10), 2, 11)]:
    images = np.arange(len(labels)).reshape(-1, 1, 1, 1)
    _, indices, mosaic_labels, p_batch, targets = mosaic_creation(images, np.array(labels), per_class, seed)
    cases.append(dict(name=name, labels=[int(v) for v in labels], per_class=per_class, seed=seed,
                      tiles=[[int(i) for i in m] for m in indices], tile_labels=[[int(v) for v in m] for m in mosaic_labels],
                      p_batch=[[int(v) for v in m] for m in p_batch], targets=[int(t) for t in targets]))
    print(name, cases[-1]["tiles"], cases[-1]["targets"])
with open(os.path.join(out, "mosaics.json"), "w") as f:
    json.dump(cases, f, indent=1)

net = torchvision.models.resnet18()
net.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"), map_location="cpu"))
net.eval()
focus = []
for path, quadrants in [("nas-plugins/tests/fixtures/gradient/resnet18-seed0.chelsea-224.npy", (1, 0, 0, 1)),
                        ("nas-plugins/tests/fixtures/grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy", (0, 1, 1, 0))]:
    a = np.load(os.path.join(fixtures, path)).astype(np.float32).reshape(1, 1, 224, 224)
    score = quantus.Focus(disable_warnings=True)(model=net, x_batch=np.zeros((1, 3, 224, 224), np.float32),
                                                 y_batch=np.array([0]), a_batch=a, custom_batch=[quadrants], device="cpu")
    focus.append(dict(map=path, p_batch=list(quadrants), score=float(score[0])))
    print(path, quadrants, score)
with open(os.path.join(out, "focus.json"), "w") as f:
    json.dump(focus, f, indent=1)
