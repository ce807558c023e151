"""References for the `road` metric: pytorch-grad-cam 1.5.7's ROAD (`RemoveMostRelevantFirst`,
`RemoveLeastRelevantFirst` with its `NoisyLinearImputer`, scored by `PerturbationConfidenceMetric`)
on resnet18 with the seeded weights of ../shared, chelsea-224.png, its predicted class and the
Grad-CAM map of nas-plugins/tests/fixtures/grad_cam (level 4). The imputer's noise is set to 0
(its draws come from torch's generator); the script also runs pytorch-grad-cam's own
`ROADCombined` with the default noise (0.01, `torch.manual_seed(0)`) to show how little the noise
moves the score. Writes road.json (per-percentile score changes, logit and softmax probability)
and the photo imputed for MoRF at the 50th percentile.

    python scripts/make_road_fixture.py ../shared nas-plugins/tests/fixtures/road
Needs torch, torchvision, grad-cam, numpy, pillow (a venv outside the repo)."""
import json, os, sys
import numpy as np, torch, torchvision
from PIL import Image
from pytorch_grad_cam.metrics.road import NoisyLinearImputer, ROADCombined
from pytorch_grad_cam.metrics.perturbation_confidence import (PerturbationConfidenceMetric,
                                                              RemoveMostRelevantFirst, RemoveLeastRelevantFirst)
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget, ClassifierOutputSoftmaxTarget

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
here = os.path.dirname(os.path.abspath(__file__))
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
cam = np.load(os.path.join(here, "../nas-plugins/tests/fixtures/grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy"))
with torch.no_grad():
    target = int(model(x).argmax())
percentiles = [10, 20, 30, 40, 50, 60, 70, 80, 90]
result = {"target_class": target, "percentiles": percentiles}
for scores, make in [("logit", ClassifierOutputTarget), ("probability", ClassifierOutputSoftmaxTarget)]:
    for order, remove in [("morf", RemoveMostRelevantFirst), ("lerf", RemoveLeastRelevantFirst)]:
        metric = lambda p: PerturbationConfidenceMetric(remove(p, NoisyLinearImputer(noise=0)))
        result[f"{order}_{scores}"] = [float(metric(p)(x, cam[None], [make(target)], model)[0]) for p in percentiles]
imputed = RemoveMostRelevantFirst(50, NoisyLinearImputer(noise=0))(x[0], torch.from_numpy(cam))
np.save(os.path.join(out, "chelsea-224.morf50.imputed.npy"), imputed.numpy().astype(np.float32))
torch.manual_seed(0)
result["combined_logit_default_noise"] = float(ROADCombined(percentiles)(x, cam[None], [ClassifierOutputTarget(target)], model)[0])
json.dump(result, open(os.path.join(out, "road.json"), "w"), indent=1)
combined = np.mean([(l - m) / 2 for l, m in zip(result["lerf_logit"], result["morf_logit"])])
print("target", target, "combined (no noise)", combined, "with pytorch-grad-cam's noise", result["combined_logit_default_noise"])
print(json.dumps(result)[:600])
