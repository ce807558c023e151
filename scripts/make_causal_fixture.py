"""Reference for the `causal` metric: RISE's deletion and insertion games as the authors'
CausalMetric (github.com/eclique/RISE, evaluation.py; written here from their procedure, not
copied): the model followed by a softmax, the photo's pixels in the order of
np.flip(np.argsort(explanation)), `step` pixels per step, deletion into zeros, insertion from the
photo blurred by conv2d with gkern(11, 5) (scipy's gaussian_filter of a delta, zero padding 5),
scores at every step, auc = (sum - first/2 - last/2) / steps.

On torchvision resnet18 with ../shared/weights/resnet18-seed0.pth, chelsea-224.png normalised
with ImageNet's mean and std, the explanation the gradient x input fixture
(nas-plugins/tests/fixtures/gradient/resnet18-seed0.chelsea-224.npy), step 1792 (28 steps).

    /work/venv-torch/bin/python scripts/make_causal_fixture.py ../shared nas-plugins/tests/fixtures/causal
"""
import os
import sys

import numpy as np
import torch
import torchvision
from PIL import Image
from scipy.ndimage import gaussian_filter

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
STEP = 1792

im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = torch.from_numpy(((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32))
net = torchvision.models.resnet18()
net.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"), map_location="cpu"))
model = torch.nn.Sequential(net, torch.nn.Softmax(dim=1)).eval()
explanation = np.load(os.path.join(os.path.dirname(out), "gradient/resnet18-seed0.chelsea-224.npy"))

delta = np.zeros((11, 11))
delta[5, 5] = 1
k = gaussian_filter(delta, 5)
kern = np.zeros((3, 3, 11, 11))
for c in range(3):
    kern[c, c] = k
kern = torch.from_numpy(kern.astype("float32"))
blur = lambda t: torch.nn.functional.conv2d(t, kern, padding=5)

hw = 224 * 224
n_steps = (hw + STEP - 1) // STEP
order = np.flip(np.argsort(explanation.reshape(-1, hw), axis=1, kind="stable"), axis=-1)
with torch.no_grad():
    c = int(model(x).argmax())
    for game in ["deletion", "insertion"]:
        start, finish = (x.clone(), torch.zeros_like(x)) if game == "deletion" else (blur(x), x.clone())
        scores = np.empty(n_steps + 1)
        for i in range(n_steps + 1):
            scores[i] = float(model(start)[0, c])
            if i < n_steps:
                coords = order[:, STEP * i:STEP * (i + 1)]
                start.numpy().reshape(1, 3, hw)[0, :, coords] = finish.numpy().reshape(1, 3, hw)[0, :, coords]
        auc = (scores.sum() - scores[0] / 2 - scores[-1] / 2) / (len(scores) - 1)
        np.save(os.path.join(out, f"resnet18-seed0.chelsea-224.{game}.npy"), scores)
        print(game, "class", c, "auc", auc)
np.save(os.path.join(out, "gkern.npy"), k.astype(np.float32))
