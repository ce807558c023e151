"""PyTorch's own GPU-vs-CPU difference for the `gradient` map (input x gradient of the top
logit, summed over colour channels), with TF32 on (PyTorch's default for convolutions) and off,
so that nas's GPU-vs-CPU difference can be judged against it. Writes ResNet-18 with
torchvision's initialisation after torch.manual_seed(0) (the ../shared resnet18-seed0.pth) to
WEIGHTS for nas to load, and the maps as .npy files under OUT.
    python3 scripts/gpu_gradient_reference.py WEIGHTS IMAGE OUT"""
import os, sys
import numpy as np
import torch, torchvision
from PIL import Image
from torchvision import transforms

weights, image, out = sys.argv[1:4]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
net = torchvision.models.resnet18().eval()
torch.save(net.state_dict(), weights)
prepare = transforms.Compose([
    transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
x = prepare(Image.open(image).convert("RGB"))[None]
target = int(net(x)[0].argmax())

def gradient_map(device, tf32):
    torch.backends.cudnn.allow_tf32 = tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    model = net.to(device)
    xi = x.to(device).clone().requires_grad_(True)
    model(xi)[0, target].backward()
    return (xi.grad * xi).sum(1)[0].detach().cpu().numpy().astype(np.float32)

def compare(a, b):
    worst = np.abs(a - b).max() / np.abs(b).max()
    overall = np.linalg.norm(a - b) / np.linalg.norm(b)
    return "relative error %.2e (overall %.2e, correlation %.5f)" % (worst, overall, np.corrcoef(a.ravel(), b.ravel())[0, 1])

reference = gradient_map("cpu", False)
np.save(os.path.join(out, "cpu.npy"), reference)
print("PyTorch, class %d" % target)
if torch.cuda.is_available():
    for tf32 in (True, False):
        name = "cuda-tf32" if tf32 else "cuda-f32"
        gpu = gradient_map("cuda", tf32)
        np.save(os.path.join(out, name + ".npy"), gpu)
        print("PyTorch %s vs CPU map: %s" % (name, compare(gpu, reference)))
else:
    print("PyTorch: no CUDA device")
