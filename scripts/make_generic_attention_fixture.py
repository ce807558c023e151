"""Reference for `generic-attention` (Chefer, Gur & Wolf, ICCV 2021, "Generic Attention-model
Explainability for Interpreting Bi-Modal and Encoder-Decoder Transformers", the ViT example of
their repository Transformer-MM-Explainability): torchvision vit_b_16 with nas's `random:0`
weights (scripts/nas_random_weights.py) on chelsea-224.png normalised with ImageNet's mean and
std. Each encoder block's attention is recomputed from its packed projection (checked against
torchvision's own logits) so that the probabilities A keep their gradient G = d(target logit)/dA
(float32, autograd). Then, in float64: R = I; for each block, R += mean over heads of
max(G * A, 0) @ R; the class token's row over the patches as a 14x14 grid, resized to 224x224 by
bilinear interpolation (`torch.nn.functional.interpolate`, scale 16), scaled to [0, 1] by its
minimum and maximum.

    /work/venv-torch/bin/python scripts/make_generic_attention_fixture.py ../shared nas-plugins/tests/fixtures/generic_attention
Writes vit_b_16-random0.chelsea-224.<target>.npy (224, 224) float32 for targets 281 and 417.
Needs torch, torchvision, numpy, pillow."""
import os, sys
import numpy as np, torch
import torch.nn.functional as F
from torchvision.models import vision_transformer
from fixture_networks import IMAGENET, normalised, photo, random_weights

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
x = normalised(photo(shared, "chelsea-224"), IMAGENET)
m = random_weights(vision_transformer.vit_b_16(), 0)


def forward(x):
    """The logits and every block's attention probabilities (1, heads, n, n), retaining grads."""
    h = m._process_input(x)
    h = torch.cat([m.class_token.expand(1, -1, -1), h], 1) + m.encoder.pos_embedding
    probabilities = []
    for block in m.encoder.layers:
        attn = block.self_attention
        d, heads = attn.embed_dim, attn.num_heads
        qkv = F.linear(block.ln_1(h), attn.in_proj_weight, attn.in_proj_bias)
        q, k, v = (t.reshape(1, -1, heads, d // heads).transpose(1, 2) for t in qkv.split(d, -1))
        a = torch.softmax(q @ k.transpose(-1, -2) / (d // heads) ** 0.5, -1)
        a.retain_grad()
        probabilities.append(a)
        y = h + attn.out_proj((a @ v).transpose(1, 2).reshape(1, -1, d))
        h = y + block.mlp(block.ln_2(y))
    return m.heads(m.encoder.ln(h)[:, 0]), probabilities


with torch.no_grad():
    expected = m(x)
for target in (281, 417):
    logits, probabilities = forward(x)
    assert torch.allclose(logits, expected, atol=1e-4), float((logits - expected).abs().max())
    logits[0, target].backward()
    n = probabilities[0].shape[-1]
    relevance = np.eye(n)
    for a in probabilities:
        cam = (a.grad[0].double() * a[0].detach().double()).clamp(min=0).mean(0).numpy()
        relevance = relevance + cam @ relevance
    grid = torch.from_numpy(relevance[0, 1:].reshape(1, 1, 14, 14))
    up = F.interpolate(grid, scale_factor=16, mode="bilinear")[0, 0].numpy()
    up = (up - up.min()) / (up.max() - up.min())
    np.save(os.path.join(out, f"vit_b_16-random0.chelsea-224.{target}.npy"), up.astype(np.float32))
    print(target, "grid argmax", int(relevance[0, 1:].argmax()), "relevance range", float(relevance[0, 1:].min()), float(relevance[0, 1:].max()))
