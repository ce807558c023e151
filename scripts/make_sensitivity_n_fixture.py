"""Reference for `sensitivity-n`: Quantus 0.6.0's SensitivityN, run as it is (torch 2.15, numpy 2.4,
scipy), on EfficientNet-Lite0 with its ImageNet weights (../shared/weights) and the top-left
96x96 corners of the six shared photos astronaut, chelsea, china, coffee, motorcycle and rocket
(images/NAME-224.png, RGB, /255, normalised with EfficientNet-Lite0's mean 127/255 and std
128/255), each explained for its own predicted class by gradient x input summed over colour
channels (PyTorch's autograd, float32), saved here as the maps both sides read.

SensitivityN(features_in_step=3*96, n_max_percentage=0.8, perturb_baseline="black", abs=False,
normalise=True, return_aggregate=True), softmax=True: for every photo, the broadcast (3, 96, 96)
map's values ranked by np.argsort(-a), 3*96 channel values (96 whole pixels) set to the image's
minimum per step, cumulatively; per step the map's sum over them and the probability drop; per
step k < floor(0.8 * 96 * 96 // 288) = 25, Pearson's r over the six photos; the mean over k.
Its per-photo steps are also recomputed with Quantus's own evaluate_batch on the maps as it
normalises them (one maximum over the whole batch: `scale`, by which its sums are divided).

    /work/venv-torch/bin/python scripts/make_sensitivity_n_fixture.py ../shared nas-plugins/tests/fixtures/sensitivity_n
Writes maps.npy ((6, 96, 96) float32), relevance.npy and drops.npy ((6, 96) float64, every step)
and quantus.json (targets, scale, the score). Needs torch, numpy, pillow, quantus,
efficientnet-lite-pytorch."""
import json, os, sys
import numpy as np, quantus, torch
from quantus.functions.normalise_func import normalise_by_max
from quantus.helpers import utils
from fixture_networks import LITE, efficientnet_lite0, normalised, photo

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
names = ["astronaut", "chelsea", "china", "coffee", "motorcycle", "rocket"]
x = np.concatenate([normalised(photo(shared, f"{n}-224")[:96, :96], LITE).numpy() for n in names])
net = efficientnet_lite0(shared)
inputs = torch.from_numpy(x).requires_grad_(True)
logits = net(inputs)
targets = logits.argmax(1)
logits.gather(1, targets[:, None]).sum().backward()
maps = (inputs.grad * inputs).sum(1).detach().numpy().astype(np.float32)
targets = targets.numpy()
print("targets", targets.tolist())

step = 96
metric = quantus.SensitivityN(features_in_step=3 * step, n_max_percentage=0.8, perturb_baseline="black", abs=False,
                              normalise=True, return_aggregate=True, disable_warnings=True, display_progressbar=False)
score = float(np.asarray(metric(model=net, x_batch=x, y_batch=targets, a_batch=maps[:, None], device="cpu",
                                softmax=True)).reshape(-1)[0])
scale = float(np.abs(maps).max())
model = utils.get_wrapped_model(model=net, channel_first=True, softmax=True, device="cpu")
steps = metric.evaluate_batch(model=model, x_batch=x, y_batch=targets, a_batch=normalise_by_max(maps[:, None]))[0]
kept = int(0.8 * 96 * 96 // (3 * step))
again = np.mean([np.corrcoef(steps["pred_deltas"][:, k], steps["att_sums"][:, k])[0, 1] for k in range(kept)])
assert abs(again - score) < 1e-7, (again, score)  # float32 sums
np.save(os.path.join(out, "maps.npy"), maps)
np.save(os.path.join(out, "relevance.npy"), steps["att_sums"].astype(np.float64))
np.save(os.path.join(out, "drops.npy"), steps["pred_deltas"].astype(np.float64))
with open(os.path.join(out, "quantus.json"), "w") as f:
    json.dump({"photos": names, "targets": targets.tolist(), "step": step, "steps_kept": kept, "scale": scale,
               "score": score}, f, indent=1)
print("steps", steps["att_sums"].shape, "kept", kept, "score", score)
