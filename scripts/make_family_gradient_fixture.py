"""References for `gradient` (gradient x input of the predicted logit, summed over colour
channels: Captum's InputXGradient reduced to 2-D) on one network of each torchvision family
beyond ResNet (tests/fixtures/gradient/resnet18-seed0.* covers that one), with nas's own
`random:0` weights (drawn as nas draws them: scripts/nas_random_weights.py), on chelsea-224.png.

    python scripts/make_family_gradient_fixture.py ../shared nas-plugins/tests/fixtures/gradient [ARCH...]
ARCH defaults to vgg16 densenet121 mobilenet_v2 vit_b_16 convnext_tiny efficientnet_b0 swin_t
resnext50_32x4d mobilenet_v3_large regnet_y_400mf alexnet googlenet inception_v3 squeezenet1_1
mnasnet0_5 shufflenet_v2_x0_5 swin_v2_t maxvit_t; writes
<arch>-random0.chelsea-224.npy (224, 224) float32 and prints the predicted class.
Needs torch, torchvision, numpy, pillow (a venv outside the repo)."""
import os, sys
import numpy as np, torch, torchvision
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nas_random_weights import random_state_dict

shared, out = sys.argv[1], sys.argv[2]
archs = sys.argv[3:] or ["vgg16", "densenet121", "mobilenet_v2", "vit_b_16", "convnext_tiny", "efficientnet_b0", "swin_t", "resnext50_32x4d", "mobilenet_v3_large", "regnet_y_400mf", "alexnet", "googlenet", "inception_v3", "squeezenet1_1", "mnasnet0_5", "shufflenet_v2_x0_5", "swin_v2_t", "maxvit_t"]
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
IMAGENET = ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
# GoogLeNet's and Inception v3's weights expect inputs normalised with 0.5 and 0.5
# (transform_input), as nas gives them.
MEAN_STD = {"googlenet": ([0.5] * 3, [0.5] * 3), "inception_v3": ([0.5] * 3, [0.5] * 3)}


def normalised(arch):
    mean, std = MEAN_STD.get(arch, IMAGENET)
    return torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))


os.makedirs(out, exist_ok=True)
for arch in archs:
    m = getattr(torchvision.models, arch)()
    m.load_state_dict(random_state_dict(m, 0))
    m.eval()
    for mod in m.modules():
        if isinstance(mod, torch.nn.ReLU):
            mod.inplace = False
    x = normalised(arch).requires_grad_()
    logits = m(x)
    target = int(logits.argmax())
    logits[0, target].backward()
    sal = (x.grad * x).sum(1)[0].detach().numpy().astype(np.float32)
    np.save(os.path.join(out, f"{arch}-random0.chelsea-224.npy"), sal)
    print(arch, "target", target, "max", abs(sal).max())
