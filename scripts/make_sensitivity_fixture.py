"""Reference for the `max-sensitivity`, `avg-sensitivity` and `local-lipschitz-estimate` metrics:
Quantus 0.6's MaxSensitivity and AvgSensitivity (Yeh et al. 2019) with their defaults (uniform noise in
[-0.2, 0.2] added to every value of the normalised input, the difference of the explanations'
Frobenius norm divided by the original's, no normalisation, no abs), and LocalLipschitzEstimate
(Alvarez-Melis & Jaakkola 2018) with its defaults (normal noise of standard deviation 0.1, maps
divided by their largest magnitude, |a - a'| / (|x - x'| + 1e-10)), nr_samples=8, on
torchvision resnet18 with ../shared/weights/resnet18-seed0.pth and chelsea-224.png normalised
with ImageNet's mean and std, for the predicted class. The explanation is nas's `gradient`
method: gradient x input of the target logit, summed over colour channels
(nas-plugins/tests/fixtures/gradient/resnet18-seed0.chelsea-224.npy is the original map).
Quantus draws its noise from numpy's global RandomState, seeded here with np.random.seed(SEED)
before each metric; the first draws after that seed are saved too, so that nas's MT19937 can be
checked on its own, and so are the per-sample ratios (Quantus returns only their max or mean),
recomputed by the same procedure and checked against Quantus's aggregates.

    /work/venv-torch/bin/python scripts/make_sensitivity_fixture.py ../shared nas-plugins/tests/fixtures/sensitivity
"""
import json
import os
import sys
import warnings

import numpy as np
import quantus
import torch
import torchvision
from PIL import Image

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
SEED, SAMPLES = 7, 8

im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = ((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32)
net = torchvision.models.resnet18()
net.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"), map_location="cpu"))
net.eval()
with torch.no_grad():
    y = np.array([int(net(torch.from_numpy(x)).argmax())])


def gradient_x_input(model, inputs, targets, **kwargs):
    """nas's `gradient`: the input times the gradient of the target logit, summed over channels."""
    t = torch.tensor(np.asarray(inputs), dtype=torch.float32, requires_grad=True)
    logits = model(t)
    logits[torch.arange(len(t)), torch.as_tensor(np.asarray(targets))].sum().backward()
    return (t * t.grad).sum(dim=1, keepdim=True).detach().numpy()


a = gradient_x_input(net, x, y)
reference = np.load(os.path.join(os.path.dirname(os.path.normpath(out)), "gradient", "resnet18-seed0.chelsea-224.npy"))
print("original map vs the gradient fixture: max abs difference", float(np.abs(a[0, 0] - reference).max()))

np.random.seed(SEED)
draws = np.random.uniform(low=-0.2, high=0.2, size=6)
result = {"seed": SEED, "samples": SAMPLES, "target": int(y[0]), "first_draws": draws.tolist()}
for name, metric in [("max-sensitivity", quantus.MaxSensitivity), ("avg-sensitivity", quantus.AvgSensitivity)]:
    np.random.seed(SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = metric(nr_samples=SAMPLES, disable_warnings=True, display_progressbar=False)(
            model=net, x_batch=x, y_batch=y, a_batch=a, explain_func=gradient_x_input, device="cpu", softmax=False)
    result[name] = float(score[0])
    print(name, result[name])
# Quantus returns only the aggregate: the per-sample ratios again, by its procedure (same draws).
np.random.seed(SEED)
ratios = []
for _ in range(SAMPLES):
    noisy = x.reshape(1, -1) + np.random.uniform(low=-0.2, high=0.2, size=(1, x.size))
    moved = gradient_x_input(net, noisy.reshape(x.shape), y).reshape(1, -1)
    ratios.append(float(np.linalg.norm(a.reshape(1, -1) - moved, axis=-1)[0] / np.linalg.norm(a.reshape(1, -1), axis=-1)[0]))
assert abs(max(ratios) - result["max-sensitivity"]) < 1e-6 and abs(np.mean(ratios) - result["avg-sensitivity"]) < 1e-6
result["ratios"] = ratios
print("ratios", ratios)
# LocalLipschitzEstimate: normal noise (std 0.1), maps divided by their largest magnitude
# (normalise=True, its default), |a - a'| / (|x - x'| + 1e-10), the largest over the samples.
np.random.seed(SEED)
result["first_normal_draws"] = np.random.normal(loc=0.0, scale=0.1, size=7).tolist()
np.random.seed(SEED)
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    score = quantus.LocalLipschitzEstimate(nr_samples=SAMPLES, disable_warnings=True, display_progressbar=False)(
        model=net, x_batch=x, y_batch=y, a_batch=a, explain_func=gradient_x_input, device="cpu", softmax=False)
result["local-lipschitz-estimate"] = float(score[0])
np.random.seed(SEED)
by_max = lambda m: m / np.max(np.abs(m))
lipschitz = []
for _ in range(SAMPLES):
    noisy = x.reshape(1, -1) + np.random.normal(loc=0.0, scale=0.1, size=(1, x.size))
    moved = by_max(gradient_x_input(net, noisy.reshape(x.shape), y).reshape(1, -1))
    lipschitz.append(float(np.linalg.norm(by_max(a.reshape(1, -1)) - moved) / (np.linalg.norm(x.reshape(1, -1) - noisy) + 1e-10)))
assert abs(max(lipschitz) - result["local-lipschitz-estimate"]) < 1e-6 * max(lipschitz), (max(lipschitz), score)
result["lipschitz_ratios"] = lipschitz
print("local-lipschitz-estimate", result["local-lipschitz-estimate"], lipschitz)
with open(os.path.join(out, "quantus.json"), "w") as f:
    json.dump(result, f, indent=1)
