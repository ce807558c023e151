"""Reference for `attention-rollout` (Abnar & Zuidema 2020, "Quantifying Attention Flow in
Transformers"), written from the paper for this project (jacobgil's vit-explain offers the same
head fusions; its row normalisation divides by the wrong axis, so it is not followed there):
torchvision vit_b_16 with nas's `random:0` weights (scripts/nas_random_weights.py) on
chelsea-224.png normalised with ImageNet's mean and std. For each encoder block, the attention
probabilities of its heads (`self_attention(ln_1(x), ..., need_weights=True,
average_attn_weights=False)`, float32) fused by their mean, maximum or minimum; then, in float64,
A' = (A + I) / 2 with rows normalised to sum 1, R = A'_12 ... A'_1, the class token's row over the
patches divided by its maximum, as a 14x14 grid, resized to 224x224 by cv2.resize (bilinear).
With vit-explain's discard ratio (mean fusion, 0.9, its suggested value): before the mix, the
int(0.9 * n^2) smallest fused values of each block (torch.topk with largest=False) set to zero,
except the class token's attention to itself (flat index 0), as vit-explain does.

    /work/venv-torch/bin/python scripts/make_attention_rollout_fixture.py ../shared nas-plugins/tests/fixtures/attention_rollout
Writes vit_b_16-random0.chelsea-224.<fusion>.npy (224, 224) float32 and <fusion>.grid.npy (14, 14),
and vit_b_16-random0.chelsea-224.mean-discard0.9.npy.
Needs torch, torchvision, numpy, pillow, opencv-python-headless."""
import os, sys
import cv2
import numpy as np, torch
from torchvision.models import vision_transformer
from fixture_networks import IMAGENET, normalised, photo, random_weights

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
x = normalised(photo(shared, "chelsea-224"), IMAGENET)
m = random_weights(vision_transformer.vit_b_16(), 0)
attentions = []
with torch.no_grad():
    h = m._process_input(x)
    h = torch.cat([m.class_token.expand(1, -1, -1), h], 1) + m.encoder.pos_embedding
    for block in m.encoder.layers:
        t = block.ln_1(h)
        _, weights = block.self_attention(t, t, t, need_weights=True, average_attn_weights=False)
        attentions.append(weights[0].double().numpy())
        h = block(h)
fusions = {"mean": lambda a: a.mean(0), "max": lambda a: a.max(0), "min": lambda a: a.min(0)}


def discarded(fused, ratio):
    """vit-explain's filter: the smallest int(ratio * n^2) values set to zero, but index 0."""
    flat = torch.from_numpy(fused.astype(np.float32)).flatten()
    _, indices = flat.topk(int(flat.numel() * ratio), -1, False)
    indices = indices[indices != 0]
    flat[indices] = 0
    return flat.reshape(fused.shape).double().numpy()


def mean_as_nas(a):
    """The heads' mean as nas fuses them: float32, head by head, each divided by the count."""
    fused = np.zeros(a.shape[1:], np.float32)
    for head in a.astype(np.float32):
        fused = fused + head / np.float32(a.shape[0])
    return fused.astype(np.float64)


def rollout_mask(fuse, ratio=0.0):
    n = attentions[0].shape[-1]
    result = np.eye(n)
    for a in attentions:
        fused = fuse(a)
        if ratio > 0:
            fused = discarded(fused, ratio)
        mixed = (fused + np.eye(n)) / 2
        mixed = mixed / mixed.sum(axis=-1, keepdims=True)
        result = mixed @ result
    mask = result[0, 1:]
    return (mask / mask.max()).reshape(14, 14).astype(np.float32)


# Which values fall below the cut depends on their last bits: fused as nas fuses them.
grid = rollout_mask(mean_as_nas, 0.9)
np.save(os.path.join(out, "vit_b_16-random0.chelsea-224.mean-discard0.9.npy"), cv2.resize(grid, (224, 224)))
print("mean, discard 0.9: grid min", float(grid.min()), "argmax", int(grid.argmax()))
for name, fuse in fusions.items():
    grid = rollout_mask(fuse)
    np.save(os.path.join(out, f"vit_b_16-random0.chelsea-224.{name}.grid.npy"), grid)
    np.save(os.path.join(out, f"vit_b_16-random0.chelsea-224.{name}.npy"), cv2.resize(grid, (224, 224)))
    print(name, "grid min", float(grid.min()), "argmax", int(grid.argmax()))
