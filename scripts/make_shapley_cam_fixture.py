"""References for the `shapley-cam` saliency method: pytorch-grad-cam 1.5.7's ShapleyCAM (Cai et
al. 2025: each channel weighted by the spatial mean of the target's gradient minus half its
Hessian-vector product with the activations, the second-order term of the channel's Shapley
value) on EfficientNet-Lite0 with its ImageNet weights and chelsea-224.png (normalised with
mean 127/255 and std 128/255), for the predicted class. Target layers as nas's levels: level 4
the head's ReLU6 (LiteWithHead's identity after it), level 3 block 10 (`_blocks[10]`). Cases:
  rest-4: ClassifierOutputReST (the target logit minus the cross-entropy, the paper's choice),
    level 4;
  rest-3: the same at level 3;
  logit-4: ClassifierOutputTarget (the logit; pytorch-grad-cam's default targets), level 4,
    where the network after the level is linear, so the Hessian term vanishes and the map is
    Grad-CAM's (checked here).

    /work/venv-torch/bin/python scripts/make_shapley_cam_fixture.py ../shared nas-plugins/tests/fixtures/shapley_cam
Writes efficientnet-lite0.chelsea-224.CASE.npy (224 x 224, float32) and a json of the target.
Needs torch, grad-cam, efficientnet-lite-pytorch, numpy, pillow."""
import json, os, sys
import numpy as np, torch
from pytorch_grad_cam import GradCAM, ShapleyCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputReST, ClassifierOutputTarget
from fixture_networks import LITE, LiteWithHead, efficientnet_lite0, normalised, photo

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
net = LiteWithHead(efficientnet_lite0(shared)).eval()
x = normalised(photo(shared, "chelsea-224"), LITE)
with torch.no_grad():
    target = int(net(x).argmax())
layers = {3: net.m._blocks[10], 4: net.head}
for name, level, make in [("rest-4", 4, ClassifierOutputReST), ("rest-3", 3, ClassifierOutputReST),
                          ("logit-4", 4, ClassifierOutputTarget)]:
    with ShapleyCAM(net, [layers[level]]) as cam:
        sal = cam(x, targets=[make(target)])[0].astype(np.float32)
    with GradCAM(net, [layers[level]]) as plain:
        grad_cam = plain(x, targets=[make(target)])[0]
    np.save(os.path.join(out, f"efficientnet-lite0.chelsea-224.{name}.npy"), sal)
    print(name, "largest difference from Grad-CAM with the same target", np.abs(sal - grad_cam).max())
    if name == "logit-4":
        assert np.abs(sal - grad_cam).max() < 1e-6
with open(os.path.join(out, "shapley_cam.json"), "w") as f:
    json.dump({"target": target}, f)
