"""Quantus 0.6's faithfulness and robustness metrics timed on the inputs of nas's quantus_bench example
(resnet18 with ../shared/weights/resnet18-seed0.pth, chelsea-224, the gradient x input fixture
map, softmax probabilities; FaithfulnessEstimate on logits, its default), with the same
settings: PixelFlipping features_in_step=3*224, RegionPerturbation defaults (8x8 patches, 100
regions), Selectivity patch_size=16, IROF defaults, FaithfulnessEstimate features_in_step=3*224,
FaithfulnessCorrelation defaults, MaxSensitivity and LocalLipschitzEstimate with 20 samples and
nas's `gradient` method (gradient x input summed over channels) as explain_func.
Medians of `runs` after a warm-up, 2 torch threads. Run by scripts/bench-quantus.sh."""
import os
import sys
import time
import warnings

import numpy as np
import quantus
import torch
import torchvision
from PIL import Image
from quantus.functions.perturb_func import baseline_replacement_by_mask

if not hasattr(np, "trapz"):
    np.trapz = np.trapezoid
warnings.simplefilter("ignore")
shared, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
torch.set_num_threads(2)
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = ((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32)
net = torchvision.models.resnet18()
net.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"), map_location="cpu"))
net.eval()
with torch.no_grad():
    y = np.array([int(net(torch.from_numpy(x)).argmax())])
a = np.load(os.path.join(os.path.dirname(__file__), "..", "nas-plugins/tests/fixtures/gradient/resnet18-seed0.chelsea-224.npy"))[None, None]


class Unchecked:
    """Skips the check that H*W be a multiple of features_in_step (it forgets the channels)."""
    def custom_preprocess(self, **kwargs):
        return None


class PixelFlipping(Unchecked, quantus.PixelFlipping):
    pass


class FaithfulnessEstimate(Unchecked, quantus.FaithfulnessEstimate):
    pass


def by_mask(arr, mask, **kwargs):
    return baseline_replacement_by_mask(arr=arr, mask=np.broadcast_to(mask, arr.shape), **kwargs)


def gradient_x_input(model, inputs, targets, **kwargs):
    t = torch.tensor(np.asarray(inputs), dtype=torch.float32, requires_grad=True)
    logits = model(t)
    logits[torch.arange(len(t)), torch.as_tensor(np.asarray(targets))].sum().backward()
    return (t * t.grad).sum(dim=1, keepdim=True).detach().numpy()


cases = [
    ("pixel-flipping", PixelFlipping(features_in_step=3 * 224, disable_warnings=True), True),
    ("region-perturbation", quantus.RegionPerturbation(disable_warnings=True), True),
    ("selectivity", quantus.Selectivity(patch_size=16, disable_warnings=True), True),
    ("irof", quantus.IROF(perturb_func=by_mask, disable_warnings=True), True),
    ("faithfulness-estimate", FaithfulnessEstimate(features_in_step=3 * 224, disable_warnings=True), False),
    ("faithfulness-correlation", quantus.FaithfulnessCorrelation(disable_warnings=True), False),
    ("max-sensitivity", quantus.MaxSensitivity(nr_samples=20, disable_warnings=True), False),
    ("local-lipschitz-estimate", quantus.LocalLipschitzEstimate(nr_samples=20, disable_warnings=True), False),
]
for name, metric, softmax in cases:
    times = []
    for run in range(runs + 1):
        start = time.perf_counter()
        metric(model=net, x_batch=x, y_batch=y, a_batch=a, device="cpu", softmax=softmax, explain_func=gradient_x_input)
        if run > 0:
            times.append(time.perf_counter() - start)
    print(f"quantus {name}: {np.median(times) * 1e3:.0f} ms")
