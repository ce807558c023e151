"""References for the CAM methods' `eigen_smooth` and for `aug-smooth`: pytorch-grad-cam's
`eigen_smooth=True` and `aug_smooth=True`, resnet18 with the seed-0 weights of
../shared/weights/resnet18-seed0.pth on chelsea-224.png, target the predicted class (given as
ClassifierOutputTarget, so every augmented copy explains the same class):
  eigen_smooth: grad-cam, grad-cam-plus-plus, xgrad-cam, hires-cam, layer-cam,
    grad-cam-elementwise at level 3 (`layer3[-1]`); ablation-cam and score-cam at level 4
    (`layer4[-1]`);
  aug_smooth (ttach's HorizontalFlip x Multiply(0.9, 1, 1.1), the library's default): grad-cam at
    level 4, and grad-cam-plus-plus at level 3 with eigen_smooth as well.
Also vit_b_16 with nas's `random:0` weights (scripts/nas_random_weights.py) at level 4, the
output of `encoder.layers[10]` laid out by the library's ViT `reshape_transform`: layer-cam and
grad-cam-elementwise with eigen_smooth. After a ReLU a negative activation has no gradient, so
LayerCAM's max(g, 0) a and the element-wise max(g a, 0) are one map at ResNet's levels; ViT's
tokens are negative with gradients, where the two differ.
eigen_smooth projects the weighted activations on their first principal component; the plain
projection's sign is LAPACK's arbitrary choice, so the library's sign-corrected projection
(`get_2d_projection_with_sign_correction`, which nas's EigenCAM follows) is put in its place in
every module that uses it; the script says for each case whether the plain one agrees.

    python scripts/make_cam_smoothing_fixture.py ../shared nas-plugins/tests/fixtures/grad_cam
Needs torch, torchvision, grad-cam (with ttach), numpy, pillow (a venv outside the repo)."""
import sys, os, importlib, numpy as np, torch, torchvision
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nas_random_weights import random_values
from PIL import Image
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM, GradCAMElementWise, ScoreCAM, AblationCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection, get_2d_projection_with_sign_correction

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
target = int(model(x).argmax())
modules = [importlib.import_module(f"pytorch_grad_cam.{m}") for m in ["base_cam", "hirescam", "layer_cam", "grad_cam_elementwise"]]


def projection(corrected):
    for module in modules:
        module.get_2d_projection = get_2d_projection_with_sign_correction if corrected else get_2d_projection


methods = {"grad-cam": GradCAM, "grad-cam-plus-plus": GradCAMPlusPlus, "xgrad-cam": XGradCAM, "hires-cam": HiResCAM,
           "layer-cam": LayerCAM, "grad-cam-elementwise": GradCAMElementWise, "score-cam": ScoreCAM, "ablation-cam": AblationCAM}
layers = {3: model.layer3[-1], 4: model.layer4[-1]}
cases = [(m, 3, True, False) for m in ["grad-cam", "grad-cam-plus-plus", "xgrad-cam", "hires-cam", "layer-cam", "grad-cam-elementwise"]]
cases += [("ablation-cam", 4, True, False), ("score-cam", 4, True, False), ("grad-cam", 4, False, True),
          ("grad-cam-plus-plus", 3, True, True)]
for method, level, eigen, aug in cases:
    def run(corrected):
        projection(corrected)
        with methods[method](model=model, target_layers=[layers[level]]) as cam:
            return cam(input_tensor=x, targets=[ClassifierOutputTarget(target)], eigen_smooth=eigen, aug_smooth=aug)[0].astype(np.float32)
    sal = run(True)
    suffix = ("-eigen" if eigen else "") + ("-aug" if aug else "")
    np.save(os.path.join(out, f"resnet18-seed0.chelsea-224.{method}{suffix}.level{level}.npy"), sal)
    print(method, "level", level, suffix, "mean", sal.mean(), "nonzero", (sal > 0).mean(),
          "plain projection differs by", np.abs(run(False) - sal).max() if eigen else "-")


vit = torchvision.models.vit_b_16()
vit.load_state_dict({k: torch.from_numpy(random_values(0, k, tuple(v.shape))) for k, v in vit.state_dict().items()}); vit.eval()
vit_target = [ClassifierOutputTarget(int(vit(x).argmax()))]


def tokens_to_grid(tokens):
    """pytorch-grad-cam's reshape_transform for ViTs: drop the class token, lay out 14 x 14."""
    return tokens[:, 1:, :].reshape(tokens.size(0), 14, 14, tokens.size(2)).permute(0, 3, 1, 2)


maps = {}
for method in ["layer-cam", "grad-cam-elementwise"]:
    projection(True)
    with methods[method](model=vit, target_layers=[vit.encoder.layers[10]], reshape_transform=tokens_to_grid) as cam:
        maps[method] = cam(input_tensor=x, targets=vit_target, eigen_smooth=True)[0].astype(np.float32)
    np.save(os.path.join(out, f"vit_b_16-random0.chelsea-224.{method}-eigen.level4.npy"), maps[method])
    print("vit_b_16", method, "level 4 -eigen mean", maps[method].mean())
print("  LayerCAM and element-wise differ by", np.abs(maps["layer-cam"] - maps["grad-cam-elementwise"]).max())
