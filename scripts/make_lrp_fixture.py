"""References for the `lrp` saliency method: zennit 0.5.1's EpsilonPlusFlat,
EpsilonAlpha2Beta1Flat (written `-alpha2beta1`) and EpsilonGammaBox (written `-gammabox`; ZBox
bounds: the normalised values of black and white pixels, per channel) composites, and for
resnet18 and vgg16 (`random:0`) also EpsilonPlus (`-epsilonplus`) and EpsilonAlpha2Beta1
(`-epsilonalpha2beta1`), whose first convolution takes the others' rule, and ExcitationBackprop
(`-excitation`: ZPlus for every convolution and dense layer), with the canonizer of each network (ResNetCanonizer; VGG-16 has no BatchNorm), Gradient attributor with
the predicted class's one-hot vector as output relevance, summed over colour channels, on
chelsea-224.png, for torchvision networks with seeded weights:
  resnet18: ../shared/weights/resnet18-seed0.pth (committed beside the tests' other data);
  resnet50, vgg16, alexnet, resnext50_32x4d (grouped convolutions), regnet_x_400mf (zennit has no RegNet
  canonizer: RegNetBlockCanonizer below splits each block's residual sum as zennit's
  ResNetBottleneckCanonizer splits ResNet's), mnasnet0_5 (MnasnetBlockCanonizer below, likewise):
  nas's `random:0` weights, drawn here as nas draws them
  (scripts/nas_random_weights.py), so that the test needs no weight file;
  and, given a third argument, resnet50 and vgg16 with the seed-0 files of
  scripts/parity_fixtures.py in that folder (`resnet50-seed0.*`, `vgg16-seed0.*`): the lrp test no
  longer reads these, but the max-box-acc, complexity and relevance fixtures use them as real maps.

    python scripts/make_lrp_fixture.py ../shared nas-plugins/tests/fixtures/lrp [/work/parity-weights]
Needs torch, torchvision, zennit, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch, torchvision
from PIL import Image
from zennit.attribution import Gradient
from zennit.composites import (EpsilonAlpha2Beta1, EpsilonAlpha2Beta1Flat, EpsilonGammaBox, EpsilonPlus, EpsilonPlusFlat,
                               ExcitationBackprop)
from zennit.canonizers import AttributeCanonizer, CompositeCanonizer, SequentialMergeBatchNorm
from zennit.layer import Sum
from zennit.torchvision import ResNetCanonizer
from torchvision.models.regnet import ResBottleneckBlock
from torchvision.models.mnasnet import _InvertedResidual as MnasnetInvertedResidual


class RegNetBlockCanonizer(AttributeCanonizer):
    """A RegNet block's `proj(x) + f(x)` through zennit's `Sum` layer (relevance split by the
    Norm rule), as ResNetBottleneckCanonizer does for torchvision's Bottleneck."""

    def __init__(self):
        super().__init__(self._attribute_map)

    @classmethod
    def _attribute_map(cls, name, module):
        if isinstance(module, ResBottleneckBlock):
            return {"forward": cls.forward.__get__(module), "canonizer_sum": Sum()}
        return None

    @staticmethod
    def forward(self, x):
        identity = x if self.proj is None else self.proj(x)
        out = self.canonizer_sum(torch.stack([identity, self.f(x)], dim=-1))
        return self.activation(out)


def regnet_canonizer():
    return CompositeCanonizer((SequentialMergeBatchNorm(), RegNetBlockCanonizer()))


class MnasnetBlockCanonizer(AttributeCanonizer):
    """An MNASNet inverted-residual block's `layers(x) + x` through zennit's `Sum` layer, as
    RegNetBlockCanonizer does for RegNet's blocks."""

    def __init__(self):
        super().__init__(self._attribute_map)

    @classmethod
    def _attribute_map(cls, name, module):
        if isinstance(module, MnasnetInvertedResidual) and module.apply_residual:
            return {"forward": cls.forward.__get__(module), "canonizer_sum": Sum()}
        return None

    @staticmethod
    def forward(self, x):
        return self.canonizer_sum(torch.stack([x, self.layers(x)], dim=-1))


def mnasnet_canonizer():
    return CompositeCanonizer((SequentialMergeBatchNorm(), MnasnetBlockCanonizer()))


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nas_random_weights import random_state_dict

shared, out = sys.argv[1], sys.argv[2]
parity = sys.argv[3] if len(sys.argv) > 3 else None
os.makedirs(out, exist_ok=True)
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = torch.from_numpy(((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32))
cases = [("resnet18", "resnet18-seed0", [ResNetCanonizer()]),
         ("resnet50", "resnet50-random0", [ResNetCanonizer()]),
         ("vgg16", "vgg16-random0", []),
         ("resnext50_32x4d", "resnext50_32x4d-random0", [ResNetCanonizer()]),
         ("regnet_x_400mf", "regnet_x_400mf-random0", [regnet_canonizer()]),
         ("alexnet", "alexnet-random0", []),
         ("mnasnet0_5", "mnasnet0_5-random0", [mnasnet_canonizer()])]
# NAS_LRP_ONLY="arch ..." remakes only those networks' fixtures.
only = os.environ.get("NAS_LRP_ONLY", "").split()
cases = [c for c in cases if not only or c[0] in only]
if parity:
    cases += [("resnet50", "resnet50-seed0", [ResNetCanonizer()]), ("vgg16", "vgg16-seed0", [])]
for arch, label, canonizers in cases:
    m = getattr(torchvision.models, arch)()
    if label.endswith("seed0"):
        folder = os.path.join(shared, "weights") if arch == "resnet18" else parity
        m.load_state_dict(torch.load(os.path.join(folder, f"{arch}-seed0.pth"), map_location="cpu"))
    else:
        m.load_state_dict(random_state_dict(m, 0))
    if arch.startswith("mnasnet"):
        # MNASNet averages with `x.mean`, a function, which zennit's rules do not see: relevance
        # would spread evenly over the head's map. As a module (ResNet's `avgpool`), it gets the
        # Norm rule, as nas gives every global average.
        m.avgpool = torch.nn.AdaptiveAvgPool2d(1)
        m.forward = lambda t, m=m: m.classifier(torch.flatten(m.avgpool(m.layers(t)), 1))
    m.eval()
    target = int(m(x).argmax())
    bounds = [torch.tensor([(v - m) / sd for m, sd in zip([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])], dtype=torch.float32)[None, :, None, None].expand_as(x) for v in (0.0, 1.0)]
    gamma_box = lambda canonizers: EpsilonGammaBox(low=bounds[0], high=bounds[1], canonizers=canonizers)
    composites = [("", EpsilonPlusFlat), ("-alpha2beta1", EpsilonAlpha2Beta1Flat), ("-gammabox", gamma_box)]
    if label in ("resnet18-seed0", "vgg16-random0"):
        composites += [("-epsilonplus", EpsilonPlus), ("-epsilonalpha2beta1", EpsilonAlpha2Beta1), ("-excitation", ExcitationBackprop)]
    for suffix, composite in composites:
        with Gradient(model=m, composite=composite(canonizers=canonizers)) as attributor:
            _, relevance = attributor(x.clone(), torch.eye(1000)[[target]])
        sal = relevance.sum(1)[0].detach().numpy().astype(np.float32)
        np.save(os.path.join(out, f"{label}.chelsea-224{suffix}.npy"), sal)
        print(arch + suffix, "target", target, "relevance sum", float(sal.sum()), "max", float(abs(sal).max()))
