"""Reference for `attention-rollout` (Abnar & Zuidema 2020, "Quantifying Attention Flow in
Transformers"), written from the paper for this project (jacobgil's vit-explain offers the same
head fusions; its row normalisation divides by the wrong axis, so it is not followed there):
torchvision vit_b_16 with nas's `random:0` weights (scripts/nas_random_weights.py) on
chelsea-224.png normalised with ImageNet's mean and std. For each encoder block, the attention
probabilities of its heads (`self_attention(ln_1(x), ..., need_weights=True,
average_attn_weights=False)`, float32) fused by their mean, maximum or minimum; then, in float64,
A' = (A + I) / 2 with rows normalised to sum 1, R = A'_12 ... A'_1, the class token's row over the
patches divided by its maximum, as a 14x14 grid, resized to 224x224 by cv2.resize (bilinear).

    /work/venv-torch/bin/python scripts/make_attention_rollout_fixture.py ../shared nas-plugins/tests/fixtures/attention_rollout
Writes vit_b_16-random0.chelsea-224.<fusion>.npy (224, 224) float32 and <fusion>.grid.npy (14, 14).
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
for name, fuse in fusions.items():
    n = attentions[0].shape[-1]
    result = np.eye(n)
    for a in attentions:
        mixed = (fuse(a) + np.eye(n)) / 2
        mixed = mixed / mixed.sum(axis=-1, keepdims=True)
        result = mixed @ result
    mask = result[0, 1:]
    grid = (mask / mask.max()).reshape(14, 14).astype(np.float32)
    np.save(os.path.join(out, f"vit_b_16-random0.chelsea-224.{name}.grid.npy"), grid)
    np.save(os.path.join(out, f"vit_b_16-random0.chelsea-224.{name}.npy"), cv2.resize(grid, (224, 224)))
    print(name, "grid min", float(grid.min()), "argmax", int(grid.argmax()))
