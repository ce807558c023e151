"""References for the `occlusion`, `feature-ablation`, `shapley` and `shapley-sampling` saliency
methods: Captum 0.9's Occlusion, FeatureAblation, ShapleyValues and ShapleyValueSampling for the predicted class (logit) of two photos,
resnet18 with the seed-0 weights of ../shared/weights/resnet18-seed0.pth, ImageNet normalisation.

  occlusion: sliding_window_shapes (3, 15, 15), strides (3, 8, 8) (Captum's tutorial values),
    baselines 0; and (3, 32, 32) windows at stride (3, 16, 16) with baselines -1.
  feature-ablation: feature mask = scikit-image's slic(photo, n_segments=50, start_label=0),
    baselines 0.
  shapley: feature mask = slic(photo, n_segments=8, start_label=0) (exact Shapley values over
    every permutation of its superpixels), baselines 0.
  shapley-sampling: the slic-50 mask, baselines 0, n_samples 3, torch.manual_seed(0) for chelsea
    and 5 for astronaut just before the call (the orders are torch.randperm draws).
Captum's maps are (1, 3, H, W) with the same value on every channel; channel 0 is saved, as is each
feature mask (int32), so that tests can check the segmentation as well as the maps.

    python scripts/make_ablation_fixture.py ../shared nas-plugins/tests/fixtures/ablation
Needs torch, torchvision, captum, scikit-image, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch, torchvision
from PIL import Image
from captum.attr import Occlusion, FeatureAblation, ShapleyValues, ShapleyValueSampling
from skimage.segmentation import slic

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
torch.set_grad_enabled(False)
for photo in ["chelsea-224", "astronaut-224"]:
    im = np.asarray(Image.open(os.path.join(shared, f"images/{photo}.png")).convert("RGB"), np.float32) / 255
    x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
    target = int(model(x).argmax())
    print(photo, "target", target)

    def save(name, attribution):
        a = attribution[0].numpy()
        assert np.allclose(a, a[0:1], equal_nan=True), "channels differ"
        np.save(os.path.join(out, f"resnet18-seed0.{photo}.{name}.npy"), a[0].astype(np.float32))
        print(" ", name, "min", np.nanmin(a), "max", np.nanmax(a), "nan", np.isnan(a).mean())

    occlusion = Occlusion(model)
    save("occlusion-15-8", occlusion.attribute(x, sliding_window_shapes=(3, 15, 15), strides=(3, 8, 8),
                                               baselines=0, target=target, perturbations_per_eval=16))
    save("occlusion-32-16-minus1", occlusion.attribute(x, sliding_window_shapes=(3, 32, 32), strides=(3, 16, 16),
                                                       baselines=-1.0, target=target, perturbations_per_eval=16))
    for name, method, segments in [("feature-ablation", FeatureAblation, 50), ("shapley", ShapleyValues, 8)]:
        mask = slic(im.astype(np.float64), n_segments=segments, start_label=0)
        np.save(os.path.join(out, f"{photo}.slic-{segments}.npy"), mask.astype(np.int32))
        feature_mask = torch.from_numpy(mask.astype(np.int64))[None, None]
        print(" ", name, "features", mask.max() + 1)
        save(f"{name}-slic-{segments}", method(model).attribute(x, baselines=0, target=target,
                                                               feature_mask=feature_mask, perturbations_per_eval=16))
    mask = torch.from_numpy(np.load(os.path.join(out, f"{photo}.slic-50.npy")).astype(np.int64))[None, None]
    seed = {"chelsea-224": 0, "astronaut-224": 5}[photo]
    torch.manual_seed(seed)
    save(f"shapley-sampling-slic-50-seed{seed}", ShapleyValueSampling(model).attribute(
        x, baselines=0, target=target, feature_mask=mask, n_samples=3, perturbations_per_eval=16))
