"""Reference for the `relative-input-stability`, `relative-output-stability` and
`relative-representation-stability` metrics: Quantus 0.6's RelativeInputStability,
RelativeOutputStability and RelativeRepresentationStability (Agarwal et al. 2022) with their
defaults (uniform noise in [0.02, 0.2) added to every value of the normalised input, no
normalisation, no abs, eps_min 1e-6, NaN for a sample whose predicted class changed, the largest
ratio over the samples, NaN if any is), nr_samples=8, on torchvision resnet18 with
../shared/weights/resnet18-seed0.pth and chelsea-224.png normalised with ImageNet's mean and std,
for the predicted class. The explanation is nas's `gradient` method (gradient x input of the
target logit, summed over colour channels). Quantus draws its noise from NumPy's global
RandomState, seeded here with np.random.seed(SEED) before each metric; the per-sample ratios
(Quantus returns only their max) are recomputed by the same procedure, and their largest is
checked against Quantus's score. RelativeRepresentationStability is given
layer_names=["layer4.1"] (Quantus hooks no Sequential, so not "layer4"; the last block's output
is the same tensor), nas's depth level 4 of resnet18.

    /work/venv-torch/bin/python scripts/make_relative_stability_fixture.py ../shared nas-plugins/tests/fixtures/relative_stability
"""
import json, os, sys, warnings
import numpy as np, quantus, torch, torchvision
from PIL import Image

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
SEED, SAMPLES, EPS = 7, 8, 1e-6
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = ((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32)
net = torchvision.models.resnet18()
net.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"), map_location="cpu"))
net.eval()
logits = lambda inputs: net(torch.from_numpy(np.asarray(inputs, np.float32))).detach().numpy()
with torch.no_grad():
    y = np.array([int(logits(x).argmax())])


def gradient_x_input(model, inputs, targets, **kwargs):
    """nas's `gradient`: the input times the gradient of the target logit, summed over channels."""
    t = torch.tensor(np.asarray(inputs), dtype=torch.float32, requires_grad=True)
    out = model(t)
    out[torch.arange(len(t)), torch.as_tensor(np.asarray(targets))].sum().backward()
    return (t * t.grad).sum(dim=1, keepdim=True).detach().numpy()


a = gradient_x_input(net, x, y)
result = {"seed": SEED, "samples": SAMPLES, "target": int(y[0])}
LAYER = "layer4.1"
for name, metric, extra in [("relative-input-stability", quantus.RelativeInputStability, {}),
                            ("relative-output-stability", quantus.RelativeOutputStability, {}),
                            ("relative-representation-stability", quantus.RelativeRepresentationStability,
                             {"layer_names": [LAYER]})]:
    np.random.seed(SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = metric(nr_samples=SAMPLES, disable_warnings=True, display_progressbar=False, **extra)(
            model=net, x_batch=x, y_batch=y, a_batch=a, explain_func=gradient_x_input, device="cpu", softmax=False)
    result[name] = float(score[0])
# The per-sample ratios by the same procedure and draws.
relative = lambda new, old: (old - new) / (old + (old == 0) * EPS)


def representation(inputs):
    """The output of LAYER, flattened per photo."""
    saved = []
    handle = dict(net.named_modules())[LAYER].register_forward_hook(lambda m, i, o: saved.append(o))
    with torch.no_grad():
        net(torch.from_numpy(np.asarray(inputs, np.float32)))
    handle.remove()
    return saved[0].numpy().reshape(len(inputs), -1)


with torch.no_grad():
    h = logits(x)
for name in ["relative-input-stability", "relative-output-stability", "relative-representation-stability"]:
    np.random.seed(SEED)
    ratios = []
    for _ in range(SAMPLES):
        noisy = x.reshape(1, -1).copy()
        noisy[:] = noisy + np.random.uniform(low=0.02, high=0.2, size=noisy.shape)
        noisy = noisy.reshape(x.shape)
        moved = gradient_x_input(net, noisy, y)
        top = np.linalg.norm(relative(moved, a))
        with torch.no_grad():
            hs = logits(noisy)
        # Quantus 0.6 divides RIS by the relative change of the input, ROS by the plain L2 change
        # of the logits (the paper's ROS divides by the relative change).
        if name == "relative-input-stability":
            bottom = np.linalg.norm(relative(noisy, x))
        elif name == "relative-output-stability":
            bottom = np.linalg.norm(h - hs)
        else:
            bottom = np.linalg.norm(relative(representation(noisy), representation(x)))
        bottom += (bottom == 0) * EPS
        ratios.append(float("nan") if hs.argmax() != h.argmax() else float(top / bottom))
    assert abs(np.max(ratios) - result[name]) <= 1e-4 * abs(result[name]), (name, ratios, result[name])
    result[name + " ratios"] = ratios
    print(name, result[name], ratios)
with open(os.path.join(out, "quantus.json"), "w") as f:
    json.dump(result, f, indent=1)
