"""References for the `finer-cam` saliency method: pytorch-grad-cam's FinerCAM (Finer-CAM: the
target's logit minus alpha times those of the classes nearest to it in logit, weighted by their
softmax probabilities), resnet18 with the seed-0 weights of ../shared/weights/resnet18-seed0.pth on
chelsea-224.png and astronaut-224.png, for the predicted class (target_idx None):
  level 4 (`layer4[-1]`), base GradCAM, alpha 1, comparison categories [1, 2, 3] (the defaults);
  level 3 (`layer3[-1]`), base GradCAMPlusPlus, alpha 0.6, comparison categories [1, 4];
  level 3, base GradCAM, the defaults, eigen_smooth with the library's sign-corrected projection.
Prints how far each map is from the plain Grad-CAM of the same class and level.

    python scripts/make_finer_cam_fixture.py ../shared nas-plugins/tests/fixtures/grad_cam
Needs torch, torchvision, grad-cam, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch, torchvision
from PIL import Image
import pytorch_grad_cam.base_cam as base_cam
from pytorch_grad_cam import FinerCAM, GradCAM, GradCAMPlusPlus
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection_with_sign_correction

shared, out = sys.argv[1], sys.argv[2]
base_cam.get_2d_projection = get_2d_projection_with_sign_correction
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
cases = [(4, GradCAM, "grad-cam", 1.0, [1, 2, 3], False), (3, GradCAMPlusPlus, "grad-cam-plus-plus", 0.6, [1, 4], False),
         (3, GradCAM, "grad-cam", 1.0, [1, 2, 3], True)]
for photo in ["chelsea-224", "astronaut-224"]:
    im = np.asarray(Image.open(os.path.join(shared, f"images/{photo}.png")).convert("RGB"), np.float32) / 255
    x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
    logits = model(x)[0].detach().numpy()
    order = np.argsort(np.abs(logits - logits.max()))
    print(photo, "target", order[0], "nearest", order[1:5], "logits", logits[order[:5]])
    for level, base, name, alpha, comparisons, eigen in cases:
        layer = {3: model.layer3[-1], 4: model.layer4[-1]}[level]
        cam = FinerCAM(model, [layer], base_method=base)
        sal = cam(x, alpha=alpha, comparison_categories=comparisons, eigen_smooth=eigen)[0].astype(np.float32)
        tag = f"{photo}.finer-cam-{name}-alpha{alpha}-{'-'.join(map(str, comparisons))}{'-eigen' if eigen else ''}.level{level}"
        np.save(os.path.join(out, f"resnet18-seed0.{tag}.npy"), sal)
        with GradCAM(model, [layer]) as plain:
            ordinary = plain(x, targets=None)[0]
        print(" ", tag, "mean", sal.mean(), "largest difference from Grad-CAM", np.abs(sal - ordinary).max())
