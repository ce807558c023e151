"""Reference for Swin-T on an input that is no multiple of its windows: the top-left 96x128
crop of chelsea-224.png (normalised as torchvision does), with nas's `random:0` weights (drawn
as nas draws them: scripts/nas_random_weights.py). Its stages are 24x32, 12x16, 6x8 and 3x4:
torchvision pads them to whole 7x7 windows, shifts only the dimensions wider than one window,
and pads odd maps before merging patches.

    python scripts/make_swin_padding_fixture.py ../shared nas-plugins/tests/fixtures/swin_t-random0
writes chelsea-96x128.logits.npy (1000,), chelsea-96x128.level3.npy (384, 6, 8) and
chelsea-96x128.level4.npy (768, 3, 4), float32. Needs torch, torchvision, numpy, pillow."""
import os, sys
import numpy as np, torch, torchvision
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nas_random_weights import random_values

shared, out = sys.argv[1], sys.argv[2]
m = torchvision.models.swin_t()
m.load_state_dict({k: (torch.from_numpy(random_values(0, k, tuple(v.shape))) if v.is_floating_point() else v)
                   for k, v in m.state_dict().items()})
m.eval()
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = torch.from_numpy(((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32))
x = x[:, :, :96, :128].contiguous()
levels, h = [], x
with torch.no_grad():
    for i, stage in enumerate(m.features):
        h = stage(h)
        if i == 0 or i % 2 == 1:
            levels.append(h.permute(0, 3, 1, 2)[0].numpy())
    logits = m.head(m.flatten(m.avgpool(m.permute(m.norm(h)))))[0].numpy()
    assert np.allclose(logits, m(x)[0].numpy(), atol=1e-5)
np.save(os.path.join(out, "chelsea-96x128.logits.npy"), logits.astype(np.float32))
for lv in (3, 4):
    np.save(os.path.join(out, f"chelsea-96x128.level{lv}.npy"), levels[lv].astype(np.float32))
print("levels", [l.shape for l in levels], "top1", int(logits.argmax()))
