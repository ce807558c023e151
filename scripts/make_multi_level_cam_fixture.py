"""References for CAMs over several depth levels and for `refine-cam`: pytorch-grad-cam with
several target layers (each layer's CAM rectified, scaled to [0, 1] and resized, their mean
scaled again) and its RefineCAM (each layer's finished CAM from the base method, multiplied,
scaled), resnet18 with the seed-0 weights of ../shared/weights/resnet18-seed0.pth on
chelsea-224.png, target the predicted class. Levels 2, 3, 4 are `layer2[-1]`, `layer3[-1]`,
`layer4[-1]`:
  levels [3, 4]: grad-cam, score-cam, ablation-cam, fem, eigen-cam (sign-corrected projection);
  levels [2, 4]: layer-cam with eigen_smooth (sign-corrected), kpca-cam (level 2 is 28 x 28);
  refine-cam: base GradCAMPlusPlus (RefineCAM's default) at levels [2, 3, 4], and base
    GradCAM at levels [3, 4].

    python scripts/make_multi_level_cam_fixture.py ../shared nas-plugins/tests/fixtures/grad_cam
Needs torch, torchvision, grad-cam, numpy, pillow (a venv outside the repo)."""
import sys, os, importlib, numpy as np, torch, torchvision
from PIL import Image
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, LayerCAM, ScoreCAM, AblationCAM, EigenCAM, FEM, KPCA_CAM
from pytorch_grad_cam.refine_cam import RefineCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection_with_sign_correction

shared, out = sys.argv[1], sys.argv[2]
for module in ["base_cam", "layer_cam", "eigen_cam"]:
    importlib.import_module(f"pytorch_grad_cam.{module}").get_2d_projection = get_2d_projection_with_sign_correction
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
targets = [ClassifierOutputTarget(int(model(x).argmax()))]
layers = {2: model.layer2[-1], 3: model.layer3[-1], 4: model.layer4[-1]}
cases = [(m, c, [3, 4], False) for m, c in [("grad-cam", GradCAM), ("score-cam", ScoreCAM), ("ablation-cam", AblationCAM),
                                            ("fem", FEM), ("eigen-cam", EigenCAM)]]
cases += [("layer-cam", LayerCAM, [2, 4], True), ("kpca-cam", KPCA_CAM, [2, 4], False)]
for name, method, levels, eigen in cases:
    with method(model=model, target_layers=[layers[l] for l in levels]) as cam:
        sal = cam(input_tensor=x, targets=targets, eigen_smooth=eigen)[0].astype(np.float32)
    tag = f"{name}{'-eigen' if eigen else ''}.levels{''.join(map(str, levels))}"
    np.save(os.path.join(out, f"resnet18-seed0.chelsea-224.{tag}.npy"), sal)
    print(tag, "mean", sal.mean())
for name, base, levels in [("grad-cam-plus-plus", GradCAMPlusPlus, [2, 3, 4]), ("grad-cam", GradCAM, [3, 4])]:
    sal = RefineCAM(model, [layers[l] for l in levels], base_method=base)(x, targets)[0].astype(np.float32)
    tag = f"refine-cam-{name}.levels{''.join(map(str, levels))}"
    np.save(os.path.join(out, f"resnet18-seed0.chelsea-224.{tag}.npy"), sal)
    print(tag, "mean", sal.mean())
