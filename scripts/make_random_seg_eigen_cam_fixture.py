"""References for `random-cam` and `seg-eigen-cam`: pytorch-grad-cam's RandomCAM (each channel
weighted by np.random.uniform(-1, 1), a baseline that knows nothing of the class) and SegEigenCAM
(the first principal component of |gradient| x activation, sign-corrected; Chung and Ying 2025),
resnet18 with the seed-0 weights of ../shared/weights/resnet18-seed0.pth on chelsea-224.png,
target the predicted class:
  random-cam: np.random.seed(0) and level 4; np.random.seed(3) and levels [3, 4] (`layer3[-1]`,
    `layer4[-1]`: the draws for level 3 first);
  seg-eigen-cam: levels 3 and 4.

    python scripts/make_random_seg_eigen_cam_fixture.py ../shared nas-plugins/tests/fixtures/grad_cam
Needs torch, torchvision, grad-cam, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch, torchvision
from PIL import Image
from pytorch_grad_cam.random_cam import RandomCAM
from pytorch_grad_cam.seg_eigen_cam import SegEigenCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

shared, out = sys.argv[1], sys.argv[2]
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
targets = [ClassifierOutputTarget(int(model(x).argmax()))]
layers = {3: model.layer3[-1], 4: model.layer4[-1]}
for seed, levels in [(0, [4]), (3, [3, 4])]:
    np.random.seed(seed)
    with RandomCAM(model, [layers[l] for l in levels]) as cam:
        sal = cam(input_tensor=x, targets=targets)[0].astype(np.float32)
    tag = f"random-cam-seed{seed}.levels{''.join(map(str, levels))}"
    np.save(os.path.join(out, f"resnet18-seed0.chelsea-224.{tag}.npy"), sal)
    print(tag, "mean", sal.mean())
for level in [3, 4]:
    with SegEigenCAM(model, [layers[level]]) as cam:
        sal = cam(input_tensor=x, targets=targets)[0].astype(np.float32)
    np.save(os.path.join(out, f"resnet18-seed0.chelsea-224.seg-eigen-cam.level{level}.npy"), sal)
    print("seg-eigen-cam level", level, "mean", sal.mean())
