"""Reference for the `continuity` metric: Quantus 0.6's Continuity (Montavon et al. 2018) with its
defaults (nr_steps=28, abs=True, normalise=True: maps divided by their largest magnitude, then
absolute values) on torchvision resnet18 with ../shared/weights/resnet18-seed0.pth and
chelsea-224.png normalised with ImageNet's mean and std, for the predicted class; the explanation
is nas's `gradient` method (gradient x input of the target logit, summed over colour channels).
What Quantus computes: dx = (2W + 1) // nr_steps; for step k = 0..nr_steps-1 the photo is shifted
along x by t = -W + dx (k + 1) pixels (content moving left for t < 0, right for t > 0), the
uncovered columns set to the photo's smallest value over all channels ("black"); the shifted
photo is explained for the same class, and the step's ratio is |a - a'|_1 / (|x - x'|_2 + 1e-9);
the score is the largest ratio. Quantus returns only that; the script recomputes every step's
ratio the same way (the explanation of the photo at t = 0 is the photo's own, ratio 0) and checks
its maximum against Quantus's.

    python scripts/make_continuity_fixture.py ../shared nas-plugins/tests/fixtures/continuity
Writes quantus.json ({"target", "score", "translations", "ratios"}). Needs torch, torchvision,
quantus 0.6, numpy, pillow."""
import json, os, sys, warnings
import numpy as np, quantus, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_networks import IMAGENET, photo, normalised, resnet18_seed0
from quantus.functions.perturb_func import batched_translation

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
x = normalised(photo(shared, "chelsea-224"), IMAGENET).numpy()
net = resnet18_seed0(shared)
with torch.no_grad():
    y = np.array([int(net(torch.from_numpy(x)).argmax())])


def gradient_x_input(model, inputs, targets, **kwargs):
    """nas's `gradient`: the input times the gradient of the target logit, summed over channels."""
    t = torch.tensor(np.asarray(inputs), dtype=torch.float32, requires_grad=True)
    logits = model(t)
    logits[torch.arange(len(t)), torch.as_tensor(np.asarray(targets))].sum().backward()
    return (t * t.grad).sum(dim=1, keepdim=True).detach().numpy()


def prepared(a):
    a = a / np.max(np.abs(a))
    return np.abs(a).reshape(-1)


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    score = float(quantus.Continuity(disable_warnings=True, display_progressbar=False)(
        model=net, x_batch=x, y_batch=y, a_batch=None, explain_func=gradient_x_input, device="cpu")[0])
steps, width = 28, x.shape[3]
dx = (2 * width + 1) // steps
a = prepared(gradient_x_input(net, x, y))
translations, ratios = [], []
for k in range(steps):
    t = -width + dx * (k + 1)
    shifted = batched_translation(x, "black", t, direction="x")
    moved = prepared(gradient_x_input(net, shifted, y))
    ratios.append(float(np.abs(a - moved).sum() / (np.linalg.norm((x - shifted).reshape(-1)) + 1e-9)))
    translations.append(t)
print("target", int(y[0]), "Quantus", score, "recomputed max", max(ratios))
# float32 sums in another order than Quantus's: about 1e-6 apart.
assert abs(max(ratios) - score) <= 1e-5 * score
with open(os.path.join(out, "quantus.json"), "w") as f:
    json.dump({"target": int(y[0]), "score": score, "translations": translations, "ratios": ratios}, f, indent=1)
