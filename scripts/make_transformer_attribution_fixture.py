"""Reference for `transformer-attribution` (Chefer, Gur & Wolf, CVPR 2021, "Transformer
Interpretability Beyond Attention Visualization"), computed by the authors' own code: the
VisionTransformer of baselines/ViT/ViT_LRP.py and the LRP class of
baselines/ViT/ViT_explanation_generator.py in a checkout of hila-chefer/Transformer-Explainability
(its folder in TE_ROOT; it needs einops), method "grad" (the paper's method; later versions name
it "transformer_attribution"), start_layer 0, alpha 1, in float64: its rules divide by sums that
can nearly cancel, and in float32 its map is up to 0.32 from the float64 one here (printed, with
the attribution's time in each precision).

The network is torchvision's vit_b_16 with nas's `random:0` weights (scripts/nas_random_weights.py)
renamed into the authors' timm layout (conv_proj -> patch_embed.proj, in_proj -> qkv, ...), its
last LayerNorm's epsilon set to torchvision's 1e-6; its logits are checked against torchvision's.
The input is chelsea-224.png normalised with ImageNet's mean and std. The 14x14 map is resized to
224x224 by bilinear interpolation (scale 16) and scaled to [0, 1] by its minimum and maximum, as
the repository's ViT example notebook does.

    TE_ROOT=path/to/Transformer-Explainability /work/venv-torch/bin/python \
        scripts/make_transformer_attribution_fixture.py ../shared nas-plugins/tests/fixtures/transformer_attribution
Writes vit_b_16-random0.chelsea-224.<target>.npy (224, 224) float32 for targets 281 and 417, and
vit_b_16-random0.chelsea-224.281.full.npy: the same LRP carried to the pixels (method "full", the
paper's LRP baseline, through the position embeddings' sum and the patch embedding's z^B rule),
summed over colour channels, unscaled, float32 (224, 224).
Needs torch, torchvision, numpy, pillow, einops."""
import os, sys, time
import numpy as np, torch
import torch.nn.functional as F
from torchvision.models import vision_transformer
from fixture_networks import IMAGENET, normalised, photo, random_weights

sys.path.insert(0, os.environ["TE_ROOT"])
from baselines.ViT.ViT_LRP import vit_base_patch16_224  # noqa: E402
from baselines.ViT.ViT_explanation_generator import LRP  # noqa: E402

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
x = normalised(photo(shared, "chelsea-224"), IMAGENET)
tv = random_weights(vision_transformer.vit_b_16(), 0)
sd = tv.state_dict()

renamed = {
    "patch_embed.proj.weight": sd["conv_proj.weight"],
    "patch_embed.proj.bias": sd["conv_proj.bias"],
    "cls_token": sd["class_token"],
    "pos_embed": sd["encoder.pos_embedding"],
    "norm.weight": sd["encoder.ln.weight"],
    "norm.bias": sd["encoder.ln.bias"],
    "head.weight": sd["heads.head.weight"],
    "head.bias": sd["heads.head.bias"],
}
for i in range(12):
    p = f"encoder.layers.encoder_layer_{i}."
    for ours, theirs in [
        ("norm1", "ln_1"), ("attn.qkv", "self_attention.in_proj"), ("attn.proj", "self_attention.out_proj"),
        ("norm2", "ln_2"), ("mlp.fc1", "mlp.0"), ("mlp.fc2", "mlp.3"),
    ]:
        for kind in ("weight", "bias"):
            key = f"{p}{theirs}_{kind}" if theirs == "self_attention.in_proj" else f"{p}{theirs}.{kind}"
            renamed[f"blocks.{i}.{ours}.{kind}"] = sd[key]
model = vit_base_patch16_224()
model.load_state_dict(renamed)
model.norm.eps = 1e-6
model.eval()
with torch.no_grad():
    expected = tv(x)
got = model(x).detach()  # the authors' forward registers gradient hooks: no torch.no_grad
assert torch.allclose(got, expected, atol=1e-4), float((got - expected).abs().max())



def explain(net, x, target):
    return LRP(net).generate_LRP(x, index=target, method="grad", start_layer=0).detach().double()


def best_time(net, x):
    """The fastest of three attributions, in seconds (PyTorch on 2 threads)."""
    torch.set_num_threads(2)
    times = []
    for _ in range(3):
        start = time.perf_counter()
        explain(net, x, 281)
        times.append(time.perf_counter() - start)
    return min(times)


def scaled_map(grid):
    """The 14x14 grid resized to 224x224 bilinearly and scaled to [0, 1]."""
    up = F.interpolate(grid.reshape(1, 1, 14, 14), scale_factor=16, mode="bilinear")[0, 0].numpy()
    return (up - up.min()) / (up.max() - up.min())


single = {target: scaled_map(explain(model, x, target)) for target in (281, 417)}
seconds32 = best_time(model, x)
model = model.double()
print("attribution time, 2 threads: float32 %.2f s, float64 %.2f s" % (seconds32, best_time(model, x.double())))
for target in (281, 417):
    grid = explain(model, x.double(), target)
    up = scaled_map(grid)
    print(target, "float32 map vs float64 map, largest difference:", float(np.abs(single[target] - up).max()))
    np.save(os.path.join(out, f"vit_b_16-random0.chelsea-224.{target}.npy"), up.astype(np.float32))
    print(target, "grid argmax", int(grid.argmax()), "range", float(grid.min()), float(grid.max()))
full = LRP(model).generate_LRP(x.double(), index=281, method="full").detach()[0].numpy()
np.save(os.path.join(out, "vit_b_16-random0.chelsea-224.281.full.npy"), full.astype(np.float32))
print("full: sum", float(full.sum()), "range", float(full.min()), float(full.max()))
