"""References for the `random-logit` metric: Quantus 0.6's RandomLogit (Sixt et al. 2020) with its
defaults (similarity ssim, normalise by the largest magnitude, abs False) and num_classes 1000, on
resnet18 with the seed-0 weights of ../shared/weights/resnet18-seed0.pth, one photo per call (as
nas scores photo by photo), explanations by gradient x input summed over colour channels (nas's
`gradient` method), for the predicted class. Photos and seeds: chelsea-224 with 42 (Quantus's
default) and astronaut-224 with 3. Also Quantus's ssim
and correlation_spearman (SciPy's spearmanr) of two fixed maps (../nas-plugins/tests/fixtures/grad_cam's
level-4 Grad-CAM and Grad-CAM++ maps, flattened; `nas sanity` uses both).
Writes quantus.json.

    python scripts/make_randomisation_fixture.py ../shared nas-plugins/tests/fixtures/randomisation
Needs torch, torchvision, quantus, scikit-image, numpy, pillow (a venv outside the repo)."""
import sys, os, json, numpy as np, torch, torchvision
from PIL import Image
import quantus

shared, out = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(out, exist_ok=True)
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])


def gradient_x_input(model, inputs, targets, **kwargs):
    x = torch.from_numpy(np.asarray(inputs, np.float32)).requires_grad_()
    model(x)[torch.arange(len(x)), torch.as_tensor(np.asarray(targets))].sum().backward()
    return (x.grad * x).sum(1).detach().numpy()


result = {}
for photo, seed in [("chelsea-224", 42), ("astronaut-224", 3)]:
    im = np.asarray(Image.open(os.path.join(shared, f"images/{photo}.png")).convert("RGB"), np.float32) / 255
    x = ((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32)
    target = int(model(torch.from_numpy(x)).argmax())
    a = gradient_x_input(model, x, [target])
    np.random.seed(seed)
    off_index = int(np.random.randint(0, 999, 1)[0])
    off = off_index + (off_index >= target)
    metric = quantus.RandomLogit(num_classes=1000, seed=seed, disable_warnings=True)
    score = metric(model=model, x_batch=x, y_batch=np.array([target]), a_batch=a[:, None],
                   explain_func=gradient_x_input, device="cpu")[0]
    result[photo] = {"seed": seed, "target": target, "off_class": off, "score": float(score)}
    print(photo, result[photo])

cam = os.path.join(here, "../nas-plugins/tests/fixtures/grad_cam/resnet18-seed0.chelsea-224.{}.level4.npy")
first, second = np.load(cam.format("grad-cam")).ravel(), np.load(cam.format("grad-cam-plus-plus")).ravel()
result["ssim_grad_cam_vs_plus_plus"] = float(quantus.functions.similarity_func.ssim(first, second))
result["spearman_grad_cam_vs_plus_plus"] = float(quantus.functions.similarity_func.correlation_spearman(first, second))
print("ssim", result["ssim_grad_cam_vs_plus_plus"], "spearman", result["spearman_grad_cam_vs_plus_plus"])
with open(os.path.join(out, "quantus.json"), "w") as f:
    json.dump(result, f, indent=1)
