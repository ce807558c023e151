"""Captum's IntegratedGradients (50 Gauss-Legendre steps, zero baseline, internal_batch_size 10)
on torchvision resnet18 at 224x224: the baseline for `nas explain --method integrated-gradients`.
    python scripts/bench_captum_ig.py --weights resnet18.pth --runs 3 --threads 2"""
import argparse, time, numpy as np, torch, torchvision
from PIL import Image
from captum.attr import IntegratedGradients

p = argparse.ArgumentParser()
p.add_argument("--weights", required=True)
p.add_argument("--image", default="examples/images/chelsea.png")
p.add_argument("--runs", type=int, default=3)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
m = torchvision.models.resnet18(); m.load_state_dict(torch.load(a.weights, map_location="cpu")); m.eval()
im = Image.open(a.image).convert("RGB")
im = im.resize((224, 224))
x = (np.asarray(im, np.float32) / 255 - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]
x = torch.from_numpy(x.transpose(2, 0, 1)[None].astype(np.float32))
target = int(m(x).argmax())
ig = IntegratedGradients(m)
times = []
for _ in range(a.runs + 1):
    start = time.perf_counter()
    ig.attribute(x, target=target, n_steps=50, internal_batch_size=10)
    times.append(time.perf_counter() - start)
print("captum integrated gradients, 50 steps, resnet18: median %.0f ms of %d runs after one warm-up"
      % (1000 * sorted(times[1:])[len(times[1:]) // 2], a.runs))
