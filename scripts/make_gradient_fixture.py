"""Reference for the `gradient` saliency method: PyTorch's gradient x input of the predicted
logit, summed over colour channels (Captum's InputXGradient, reduced to 2-D), for torchvision
resnet18 with the seed-0 weights of ../shared/weights/resnet18-seed0.pth on chelsea-224.png.

    python scripts/make_gradient_fixture.py ../shared nas-plugins/tests/fixtures/gradient
Also Captum's Saliency reduced by the largest channel (`vanilla-gradient`).
Needs torch, torchvision, captum, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch, torchvision
from PIL import Image
shared, out = sys.argv[1], sys.argv[2]
m = torchvision.models.resnet18(); m.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); m.eval()
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = torch.from_numpy(((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32)).requires_grad_()
logits = m(x); target = int(logits.argmax())
logits[0, target].backward()
sal = (x.grad * x).sum(1)[0].detach().numpy().astype(np.float32)
os.makedirs(out, exist_ok=True)
np.save(os.path.join(out, "resnet18-seed0.chelsea-224.npy"), sal)
print("target", target, "max", abs(sal).max())

# `vanilla-gradient`: Captum's Saliency (the gradient's absolute value), reduced to 2-D by the
# largest of the three channels (Simonyan et al. 2014).
from captum.attr import Saliency
x = x.detach().requires_grad_()
vanilla = Saliency(m).attribute(x, target=target, abs=True).max(1).values[0].detach().numpy().astype(np.float32)
np.save(os.path.join(out, "resnet18-seed0.chelsea-224.vanilla-gradient.npy"), vanilla)
print("vanilla gradient max", vanilla.max())
