"""Reference for the ViTs in timm's layout: timm 1.0.31's `deit_tiny_patch16_224` and
`vit_base_patch16_224` (torch 2.15) with nas's `random:0` weights (nas_random_weights.py draws
them for torchvision's VisionTransformer of the same shape; they are renamed into timm's layout,
the mapping nas's loader undoes, and loaded strictly) on chelsea-224.png, normalised with
ImageNet's mean and std for DeiT and with 0.5, 0.5 for timm's ViT-B/16.

Saved per network: the logits (1000, float32), and for each depth level (the outputs of blocks
2, 4, 6, 8, 10, 0-based; patch tokens as a (dim, 14, 14) grid) the per-channel means and the
first 8 channels in full.

    /work/venv-torch/bin/python scripts/make_timm_vit_fixture.py ../shared nas-plugins/tests/fixtures/timm_vit
Also writes deit_tiny-timm-layout.json: each timm key with its torchvision name and shape, from
which the Rust test writes a timm-layout file of nas's random:0 values (drawn by torchvision
name) to load it through the renaming. Needs torch,
torchvision, timm, numpy, pillow."""
import json, os, sys
import numpy as np, timm, torch, torchvision
from fixture_networks import IMAGENET, normalised, photo
from nas_random_weights import random_state_dict

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def timm_key(key):
    """timm's name for a torchvision ViT key (the inverse of nas's timm_layout)."""
    fixed = {"class_token": "cls_token", "encoder.pos_embedding": "pos_embed", "conv_proj.weight": "patch_embed.proj.weight",
             "conv_proj.bias": "patch_embed.proj.bias", "encoder.ln.weight": "norm.weight", "encoder.ln.bias": "norm.bias",
             "heads.head.weight": "head.weight", "heads.head.bias": "head.bias"}
    if key in fixed:
        return fixed[key]
    index, part = key[len("encoder.layers.encoder_layer_"):].split(".", 1)
    for tv, tm in [("ln_1.", "norm1."), ("self_attention.in_proj_weight", "attn.qkv.weight"),
                   ("self_attention.in_proj_bias", "attn.qkv.bias"), ("self_attention.out_proj.", "attn.proj."),
                   ("ln_2.", "norm2."), ("mlp.0.", "mlp.fc1."), ("mlp.3.", "mlp.fc2.")]:
        if part.startswith(tv):
            return f"blocks.{index}.{tm}{part[len(tv):]}"
    raise KeyError(key)


cases = [("deit_tiny_patch16_224", dict(num_heads=3, hidden_dim=192, mlp_dim=768), IMAGENET),
         ("vit_base_patch16_224", dict(num_heads=12, hidden_dim=768, mlp_dim=3072), (np.array([0.5] * 3), np.array([0.5] * 3)))]
summary = {}
for name, shape, stats in cases:
    torchvision_net = torchvision.models.VisionTransformer(image_size=224, patch_size=16, num_layers=12, **shape)
    drawn = random_state_dict(torchvision_net, 0)
    timm_state = {timm_key(k): v for k, v in drawn.items()}
    net = timm.create_model(name, pretrained=False).eval()
    net.load_state_dict(timm_state, strict=True)
    x = normalised(photo(shared, "chelsea-224"), stats)
    seen = {}
    hooks = [net.blocks[i].register_forward_hook(lambda m, i_, o, i=i: seen.__setitem__(i, o.detach())) for i in (2, 4, 6, 8, 10)]
    with torch.no_grad():
        logits = net(x)[0].numpy().astype(np.float32)
    for h in hooks:
        h.remove()
    grids = [seen[i][0, 1:].T.reshape(-1, 14, 14).numpy() for i in (2, 4, 6, 8, 10)]
    np.save(os.path.join(out, f"{name}.logits.npy"), logits)
    np.save(os.path.join(out, f"{name}.level-means.npy"), np.stack([g.mean((1, 2)) for g in grids]).astype(np.float32))
    np.save(os.path.join(out, f"{name}.level-first8.npy"), np.stack([g[:8] for g in grids]).astype(np.float32))
    summary[name] = {"class": int(logits.argmax()), "largest_logit": float(np.abs(logits).max())}
    if name == "deit_tiny_patch16_224":
        with open(os.path.join(out, "deit_tiny-timm-layout.json"), "w") as f:
            json.dump({timm_key(k): {"torchvision": k, "shape": list(v.shape)} for k, v in drawn.items()}, f)
    print(name, summary[name])
with open(os.path.join(out, "timm.json"), "w") as f:
    json.dump(summary, f, indent=1)
