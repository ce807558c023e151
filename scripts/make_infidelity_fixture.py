"""Reference for the `infidelity` metric: Quantus 0.6.0's Infidelity (Yeh et al. 2019), run as it
is, on chelsea-224.png with torchvision resnet18 (../shared/weights/resnet18-seed0.pth), its
predicted class, logits (Quantus's default softmax=False), and two maps already among the fixtures:
  A: gradient x input, nas-plugins/tests/fixtures/gradient/resnet18-seed0.chelsea-224.npy;
  B: Grad-CAM of layer4, nas-plugins/tests/fixtures/grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy.
What Quantus computes (abs=False, normalise=False, perturb_baseline="black", loss "mse"): for
each patch size, starting from the photo, the patch_size x patch_size blocks are set one after
another (row-major, all colour channels, cumulatively) to the image's smallest value; after each
block k, pred_delta_k = f(x) - f(x_k) and a_sum_k = sum(a * (x - x_k)) (the map broadcast over the
channels); the patch size's value is the mean over k of (pred_delta_k - a_sum_k)^2, the score the
mean over patch sizes, averaged over n_perturb_samples repeats of that deterministic computation.

    python scripts/make_infidelity_fixture.py ../shared nas-plugins/tests/fixtures/infidelity
Writes quantus.json ({"target_class", "cases": {case: {map, perturb_patch_sizes,
n_perturb_samples, score}}}). Needs torch, torchvision, quantus 0.6, numpy, pillow."""
import json, os, sys
import numpy as np, quantus, torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_networks import IMAGENET, photo, normalised, resnet18_seed0

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
fixtures = os.path.dirname(os.path.normpath(out))
x = normalised(photo(shared, "chelsea-224"), IMAGENET).numpy()
net = resnet18_seed0(shared)
with torch.no_grad():
    c = int(net(torch.from_numpy(x)).argmax())
maps = {"A": "gradient/resnet18-seed0.chelsea-224.npy", "B": "grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy"}
a_maps = {k: np.load(os.path.join(fixtures, p)).astype(np.float32).reshape(1, 1, 224, 224) for k, p in maps.items()}
cases = {"a-16": ("A", [16], 1), "a-16-repeated": ("A", [16], 10), "b-28-56": ("B", [28, 56], 1)}
summary = {"target_class": c, "maps": {k: "nas-plugins/tests/fixtures/" + p for k, p in maps.items()}, "cases": {}}
for name, (m, sizes, samples) in cases.items():
    metric = quantus.Infidelity(perturb_patch_sizes=sizes, n_perturb_samples=samples, disable_warnings=True, display_progressbar=False)
    score = float(metric(model=net, x_batch=x, y_batch=np.array([c]), a_batch=a_maps[m], device="cpu")[0])
    summary["cases"][name] = {"map": m, "perturb_patch_sizes": sizes, "n_perturb_samples": samples, "score": score}
    print(name, score)
with open(os.path.join(out, "quantus.json"), "w") as f:
    json.dump(summary, f, indent=1)
