"""References for the `confidence-change`, `coherency` and `arcc` metrics: pytorch-grad-cam 1.5.7's
CamMultImageConfidenceChange, DropInConfidence and IncreaseInConfidence (the normalised photo
multiplied by the map, the change of the target's score), with ClassifierOutputTarget (logit) and
ClassifierOutputSoftmaxTarget (probability), on chelsea-224.png and the predicted class:
resnet18 with the seeded weights of ../shared and its Grad-CAM map
(nas-plugins/tests/fixtures/grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy), and
EfficientNet-Lite0 with its ImageNet weights and its Grad-CAM++ map (efficientnet-lite0.
chelsea-224.grad-cam-plus-plus.level4.npy); and its Coherency (Poppi et al. 2021) on resnet18 with
GradCAM at `layer4[-1]` and `layer3[-1]` and LayerCAM at `layer4[-1]` as the base method, the
maps of the same fixtures as the scored ones; and its ARCC (the same base methods; its ROAD part
once with the imputer's noise set to 0, once with its default noise after torch.manual_seed(0)).

    python scripts/make_confidence_fixture.py ../shared nas-plugins/tests/fixtures/confidence
Needs torch, torchvision, grad-cam, efficientnet-lite-pytorch, numpy, pillow (a venv outside the
repo)."""
import json, os, sys
import numpy as np, torch, torchvision
from PIL import Image
from efficientnet_lite_pytorch import EfficientNet
from pytorch_grad_cam.metrics.cam_mult_image import CamMultImageConfidenceChange, DropInConfidence, IncreaseInConfidence
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget, ClassifierOutputSoftmaxTarget
from pytorch_grad_cam.metrics.arcc import ARCC, Coherency
import pytorch_grad_cam.metrics.road as road_module
from pytorch_grad_cam import GradCAM, LayerCAM

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
normalise = lambda mean, std: torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
r18 = torchvision.models.resnet18()
r18.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); r18.eval()
lite = EfficientNet.from_name("efficientnet-lite0")
lite.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu")); lite.eval()
cases = [("resnet18", r18, normalise(np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])),
          "resnet18-seed0.chelsea-224.grad-cam.level4.npy"),
         ("efficientnet-lite0", lite, normalise(np.array([127.0 / 255] * 3), np.array([128.0 / 255] * 3)),
          "efficientnet-lite0.chelsea-224.grad-cam-plus-plus.level4.npy")]
result = {}
for arch, model, x, map_file in cases:
    cam = np.load(os.path.join(here, "../nas-plugins/tests/fixtures/grad_cam", map_file))[None]
    with torch.no_grad():
        target = int(model(x).argmax())
    entry = {"target": target, "map": map_file}
    for scores, make in [("logit", ClassifierOutputTarget), ("probability", ClassifierOutputSoftmaxTarget)]:
        for kind, metric in [("change", CamMultImageConfidenceChange), ("drop", DropInConfidence), ("increase", IncreaseInConfidence)]:
            entry[f"{kind}-{scores}"] = float(metric()(x, cam, [make(target)], model)[0])
    result[arch] = entry
    print(arch, entry)
x = cases[0][2]
target = result["resnet18"]["target"]
coherency = {}
for method, cam_class, level, layer in [("grad-cam", GradCAM, 4, r18.layer4[-1]), ("grad-cam", GradCAM, 3, r18.layer3[-1]),
                                        ("layer-cam", LayerCAM, 4, r18.layer4[-1])]:
    cam = np.load(os.path.join(here, f"../nas-plugins/tests/fixtures/grad_cam/resnet18-seed0.chelsea-224.{method}.level{level}.npy"))[None]
    with cam_class(model=r18, target_layers=[layer]) as base:
        coherency[f"{method}.level{level}"] = float(Coherency()(x, cam, [ClassifierOutputTarget(target)], r18, base)[0])
result["coherency"] = coherency
arcc = {}
for noise in [0.0, 0.01]:
    # ARCC's ROADCombined builds its imputers with their default noise: set it.
    road_module.NoisyLinearImputer.__init__.__defaults__ = (noise, road_module.neighbors_weights)
    for method, cam_class, level, layer in [("grad-cam", GradCAM, 4, r18.layer4[-1]), ("layer-cam", LayerCAM, 4, r18.layer4[-1])]:
        cam = np.load(os.path.join(here, f"../nas-plugins/tests/fixtures/grad_cam/resnet18-seed0.chelsea-224.{method}.level{level}.npy"))[None]
        torch.manual_seed(0)
        with cam_class(model=r18, target_layers=[layer]) as base:
            arcc[f"{method}.level{level}.noise{noise}"] = float(ARCC(base)(x, cam, [ClassifierOutputTarget(target)], r18)[0])
result["arcc"] = arcc
print("arcc", arcc)
print("coherency", coherency)
json.dump(result, open(os.path.join(out, "pytorch_grad_cam.json"), "w"), indent=1)
