"""Baseline for `nas bench`: the plain PyTorch + scikit-learn NAS pipeline of DESIGN.md, timed
stage by stage on the same photo (run it right after `nas bench`, on the same machine).

    python scripts/bench_pytorch_nas.py --weights resnet18-seed0.pth [--runs 5] [--threads 2]

Needs torch, torchvision, scikit-learn, scikit-image (or pillow) in a venv outside the repo.
Levels [2, 3, 4] of resnet18 -> bicubic upsampling to 224x224 -> per-channel standardisation ->
1/sqrt(C) weighting -> KMeans(K=5, k-means++, n_init=1, seed 0) -> connected components."""
import argparse, time, numpy as np, torch, torchvision
from PIL import Image
from sklearn.cluster import KMeans
from scipy import ndimage

p = argparse.ArgumentParser()
p.add_argument("--weights", required=True); p.add_argument("--image", default="examples/images/chelsea.png")
p.add_argument("--runs", type=int, default=5); p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
m = torchvision.models.resnet18(); m.load_state_dict(torch.load(a.weights, map_location="cpu")); m.eval()
im = np.asarray(Image.open(a.image).convert("RGB").resize((224, 224)), np.float32) / 255
x = torch.from_numpy(((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32))

def once():
    t = [time.perf_counter()]
    with torch.no_grad():
        h = m.maxpool(m.relu(m.bn1(m.conv1(x)))); levels = []
        for layer in (m.layer1, m.layer2, m.layer3, m.layer4):
            h = layer(h); levels.append(h)
    t.append(time.perf_counter())
    feats = []
    for l in levels[1:]:
        u = torch.nn.functional.interpolate(l, size=(224, 224), mode="bicubic", align_corners=False)[0]
        u = (u - u.mean((1, 2), keepdim=True)) / u.std((1, 2), unbiased=False, keepdim=True).clamp_min(1e-12)
        feats.append(u.reshape(u.shape[0], -1).T / u.shape[0] ** 0.5)
    f = torch.cat(feats, 1).numpy()
    t.append(time.perf_counter())
    labels = KMeans(5, n_init=1, random_state=0).fit_predict(f).reshape(224, 224)
    t.append(time.perf_counter())
    for c in range(5): ndimage.label(labels == c)
    t.append(time.perf_counter())
    return np.diff(t)

once()
times = np.median([once() for _ in range(a.runs)], axis=0) * 1e3
print("pytorch+sklearn resnet18  features %.1f ms  upsample+scale %.1f ms  clustering %.1f ms  components %.1f ms  total %.1f ms" % (*times, times.sum()))
