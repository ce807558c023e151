"""Reference for `lrp` on vit_b_16: LRP-eXplains-Transformers (lxt) 2.1's CP-LRP patches for
torchvision's vision transformer (`lxt.efficient.monkey_patch(vision_transformer)`, its default
map for that module: the identity rule on GELU, LayerNorm's standard deviation held constant,
no gradient through the attention's queries and keys, i.e. its softmax; Ali et al. 2022,
"XAI for Transformers: Better Explanations through Conservative Propagation", and AttnLRP's
identity rule), relevance = input x gradient of the predicted class's logit, summed over colour
channels. torchvision vit_b_16 with nas's `random:0` weights (scripts/nas_random_weights.py) on
chelsea-224.png normalised with ImageNet's mean and std; the plain gradient x input of the
unpatched network is saved beside it, for the test to show the two differ.

    /work/venv-torch/bin/python scripts/make_lrp_vit_fixture.py ../shared nas-plugins/tests/fixtures/lrp
Needs torch, torchvision, lxt 2.1 (pip install --no-deps lxt==2.1; it imports transformers<4.58).
"""
import os, sys
import numpy as np, torch
from torchvision.models import vision_transformer
from fixture_networks import IMAGENET, normalised, photo, random_weights

shared, out = sys.argv[1], sys.argv[2]
x = normalised(photo(shared, "chelsea-224"), IMAGENET)


def relevance(model):
    """Input x gradient of the predicted logit, summed over channels, and the class."""
    inputs = x.clone().requires_grad_(True)
    logits = model(inputs)
    target = int(logits.argmax())
    logits[0, target].backward()
    return (inputs * inputs.grad).sum(1)[0].detach().numpy().astype(np.float32), target


plain, target = relevance(random_weights(vision_transformer.vit_b_16(), 0))
import lxt.efficient as lxe  # noqa: E402 (patches torchvision's classes from here on)
lxe.monkey_patch(vision_transformer, verbose=True)
conservative, patched_target = relevance(random_weights(vision_transformer.vit_b_16(), 0))
assert patched_target == target
np.save(os.path.join(out, "vit_b_16-random0.chelsea-224.cp-lrp.npy"), conservative)
np.save(os.path.join(out, "vit_b_16-random0.chelsea-224.gradient.npy"), plain)
print("target", target, "sum", conservative.sum(), "correlation with gradient x input",
      np.corrcoef(conservative.ravel(), plain.ravel())[0, 1])
