"""Reference for `monotonicity` (Arya et al. 2019) and `non-sensitivity` (Nguyen & Martínez 2020):
Quantus 0.6.0's Monotonicity and NonSensitivity (torch 2.15, numpy 2.4) on EfficientNet-Lite0 with
its ImageNet weights (../shared/weights), the top-left corners of the six shared photos astronaut,
chelsea, china, coffee, motorcycle and rocket (images/NAME-224.png, RGB, /255, normalised with
EfficientNet-Lite0's mean 127/255 and std 128/255), each explained for its own predicted class by
gradient x input summed over colour channels (PyTorch's autograd, float32), saved as the maps both
sides read. Every call: softmax=True (probabilities), device="cpu", Quantus's other defaults
(abs=True, normalise=True: a / max|a|, then |.|, broadcast over the colour channels).

Monotonicity, 48x48 corners, features_in_step=3*768 (3 steps of 768 whole pixels):
  Quantus's own run, as it is, returns True for every photo: it fills an image with the baseline
  ("black", the photo's minimum over all channels) and then "adds" each step's values with its
  default perturb_func, baseline_replacement_by_indices, which sets them to the baseline again,
  so the image never changes and its probabilities never fall. Asserted below.
  The reference: the same metric with a perturb_func that gives each step's values back their
  values in the photo (np.put_along_axis on the flattened image, what Arya et al. describe):
  order np.argsort over the flattened broadcast (3, 48, 48) map, ascending (each pixel's three
  copies tie and lie side by side, so each step of 3*768 values is 768 whole pixels); curve[i] =
  p(image after step i+1); score = all(diff(curve) >= 0). The curves come from Quantus's own
  evaluate_batch with a model wrapper that records its predictions, checked against its scores.

NonSensitivity, 32x32 corners of astronaut and chelsea, features_in_step=1 (its default; with any
  other value its final XOR broadcasts a (batch, steps) array against a (batch, values) one and
  fails), eps=1e-5, perturb_baseline="black": every one of the 3*32*32 values of the photo alone
  set to the photo's minimum; a value is insensitive when |p(perturbed) - p(photo)| < eps and a
  non-feature when its map value (abs, /max) < eps; score = number of values where exactly one
  holds. The maps here are the positive part of gradient x input (max(a, 0)), so that a share
  of the values are non-features. The per-value changes are recorded as for Monotonicity.

    /work/venv-torch/bin/python scripts/make_monotonicity_non_sensitivity_fixture.py ../shared nas-plugins/tests/fixtures/monotonicity
Writes monotonicity-maps.npy ((6, 48, 48) float32), monotonicity-curves.npy ((6, 3) float64),
non-sensitivity-maps.npy ((2, 32, 32) float32), non-sensitivity-changes.npy ((2, 3072) float64,
|p(perturbed) - p(photo)|) and quantus.json. Needs torch, numpy, pillow, quantus,
efficientnet-lite-pytorch."""
import json, os, sys
import numpy as np, quantus, torch
from fixture_networks import LITE, efficientnet_lite0, normalised, photo

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
net = efficientnet_lite0(shared)
names = ["astronaut", "chelsea", "china", "coffee", "motorcycle", "rocket"]


def explained(names, size):
    """The size x size corners, their classes and their gradient x input maps (N, size, size)."""
    x = np.concatenate([normalised(photo(shared, f"{n}-224")[:size, :size], LITE).numpy() for n in names])
    inputs = torch.from_numpy(x).requires_grad_(True)
    logits = net(inputs)
    targets = logits.argmax(1)
    logits.gather(1, targets[:, None]).sum().backward()
    return x, targets.numpy(), (inputs.grad * inputs).sum(1).detach().numpy().astype(np.float32)


class Recording(torch.nn.Module):
    """The network, keeping every batch of probabilities Quantus asks it for."""
    def __init__(self, net):
        super().__init__()
        self.net, self.seen = net, []

    def forward(self, x):
        logits = self.net(x)
        self.seen.append(torch.softmax(logits, -1).detach().numpy().astype(np.float64))
        return logits


def restore_from(x):
    """Quantus's perturb_func for Monotonicity that gives the indexed values their photo's values."""
    flat = x.reshape(len(x), -1)

    def restore(arr, indices, perturb_baseline=None, **kwargs):
        arr = arr.copy()
        np.put_along_axis(arr, indices, np.take_along_axis(flat, indices, 1), 1)
        return arr
    return restore


# Monotonicity.
size, step = 48, 768
x, targets, maps = explained(names, size)
print("monotonicity targets", targets.tolist())
kwargs = dict(features_in_step=3 * step, disable_warnings=True, display_progressbar=False)
as_is = quantus.Monotonicity(**kwargs)(model=net, x_batch=x, y_batch=targets, a_batch=maps[:, None], device="cpu", softmax=True)
assert all(as_is), as_is  # the default never changes the image
recorder = Recording(net).eval()
scores = quantus.Monotonicity(perturb_func=restore_from(x), **kwargs)(
    model=recorder, x_batch=x, y_batch=targets, a_batch=maps[:, None], device="cpu", softmax=True)
# Quantus wraps the model with its own softmax; the recorder sees logits and computes the same.
curves = np.stack([p[np.arange(len(x)), targets] for p in recorder.seen], 1)
assert curves.shape == (6, size * size // step), curves.shape
assert [bool(np.all(np.diff(c) >= 0)) for c in curves] == [bool(s) for s in scores], (curves, scores)
print("monotonicity", scores, "smallest |step change|", np.abs(np.diff(curves)).min())
np.save(os.path.join(out, "monotonicity-maps.npy"), maps)
np.save(os.path.join(out, "monotonicity-curves.npy"), curves)
monotonicity = {"photos": names, "size": size, "step": step, "targets": targets.tolist(),
                "scores": [bool(s) for s in scores], "quantus_as_is": [bool(s) for s in as_is]}

# NonSensitivity.
size, pair = 32, names[:2]
x, targets, gradient = explained(pair, size)
maps = np.maximum(gradient, 0)
recorder = Recording(net).eval()
counts = quantus.NonSensitivity(features_in_step=1, disable_warnings=True, display_progressbar=False)(
    model=recorder, x_batch=x, y_batch=targets, a_batch=maps[:, None], device="cpu", softmax=True)
seen = [p[np.arange(len(x)), targets] for p in recorder.seen]
unperturbed, perturbed = seen[0], np.stack(seen[1:], 1)
changes = np.abs(perturbed - unperturbed[:, None])
features = np.broadcast_to((maps / np.abs(maps).reshape(2, -1).max(1)[:, None, None])[:, None], x.shape).reshape(2, -1)
again = ((changes < 1e-5) ^ (features < 1e-5)).sum(1)
assert again.tolist() == [int(c) for c in counts], (again, counts)
margin = np.abs(changes - 1e-5).min()
print("non-sensitivity targets", targets.tolist(), "counts", counts, "insensitive", (changes < 1e-5).sum(1),
      "non-features", (features < 1e-5).sum(1), "closest change to eps", margin)
np.save(os.path.join(out, "non-sensitivity-maps.npy"), maps.astype(np.float32))
np.save(os.path.join(out, "non-sensitivity-changes.npy"), changes)
with open(os.path.join(out, "quantus.json"), "w") as f:
    json.dump({"monotonicity": monotonicity,
               "non_sensitivity": {"photos": pair, "size": size, "targets": targets.tolist(),
                                   "counts": [int(c) for c in counts], "eps": 1e-5}}, f, indent=1)
