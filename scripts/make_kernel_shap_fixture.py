"""References for the `kernel-shap` saliency method: Captum 0.9's KernelShap for the predicted
class (logit) of two photos, resnet18 with the seed-0 weights of ../shared/weights/resnet18-seed0.pth,
ImageNet normalisation, baselines 0, feature masks from scikit-image's slic(photo, start_label=0)
(the {photo}.slic-8.npy and .slic-50.npy labels make_ablation_fixture.py saves):

  slic-8, n_samples 25 (Captum's default), torch.manual_seed(0)      (both photos)
  slic-50, n_samples 80, torch.manual_seed(0)                         (chelsea: more samples than features)
  slic-50, n_samples 25, torch.manual_seed(2)                         (astronaut: fewer: minimum-norm fit)

torch.manual_seed is called just before `attribute`; Captum then draws each coalition's size
(Categorical.sample) and members (torch.randn) from torch's global generator.
Captum fits scikit-learn's LinearRegression on float32 arrays (float32 LAPACK). The saved
reference is the same fit in float64, on the coalitions, weights and logits Captum produced
(captured by wrapping its interpretable model's fit); the gap between Captum's float32 result and
the float64 one is printed. Saves each feature's coefficient spread over its pixels (float32),
and checks the float64 refit reproduces Captum's map to float32 accuracy.

    python scripts/make_kernel_shap_fixture.py ../shared nas-plugins/tests/fixtures/ablation
Needs torch, torchvision, captum, scikit-learn, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch, torchvision
from PIL import Image
from captum.attr import KernelShap
from sklearn.linear_model import LinearRegression

shared, out = sys.argv[1], sys.argv[2]
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
torch.set_grad_enabled(False)

cases = {"chelsea-224": [(8, 25, 0), (50, 80, 0)], "astronaut-224": [(8, 25, 0), (50, 25, 2)]}
for photo, runs in cases.items():
    im = np.asarray(Image.open(os.path.join(shared, f"images/{photo}.png")).convert("RGB"), np.float32) / 255
    x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
    target = int(model(x).argmax())
    for segments, samples, seed in runs:
        mask = np.load(os.path.join(out, f"{photo}.slic-{segments}.npy")).astype(np.int64)
        explainer = KernelShap(model)
        captured = {}
        fit = explainer.interpretable_model.fit

        def capture(train_data, **kwargs):
            xs, ys, ws = next(iter(train_data))
            captured.update(x=xs.numpy().astype(np.float64), y=ys.numpy().astype(np.float64),
                            w=ws.numpy().astype(np.float64))
            return fit(train_data, **kwargs)

        explainer.interpretable_model.fit = capture
        torch.manual_seed(seed)
        theirs = explainer.attribute(x, baselines=0, target=target, n_samples=samples,
                                     feature_mask=torch.from_numpy(mask)[None, None])[0, 0].numpy()
        refit = LinearRegression().fit(captured["x"], captured["y"].ravel(), sample_weight=captured["w"].ravel())
        ours = refit.coef_[mask].astype(np.float32)
        gap = np.abs(ours - theirs).max() / np.abs(ours).max()
        print(photo, f"slic-{segments}", "features", mask.max() + 1, "samples", samples, "seed", seed,
              "distinct coalitions", len({tuple(r) for r in captured["x"]}),
              "float32 Captum vs float64 fit", f"{gap:.2e}")
        assert gap < 1e-2
        np.save(os.path.join(out, f"resnet18-seed0.{photo}.kernel-shap-slic-{segments}-n{samples}-seed{seed}.npy"), ours)
