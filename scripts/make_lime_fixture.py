"""References for the `lime` saliency method: the `lime` package's LimeImageExplainer
(lime 0.2.0.1) for the predicted class of two photos, resnet18 with the seed-0 weights of
../shared/weights/resnet18-seed0.pth, ImageNet normalisation, softmax probabilities (the package's
classifier_fn returns them), default explain_instance settings (hide_color None: each "off"
superpixel takes its mean colour; cosine distance; kernel width 0.25; Ridge(alpha=1)) but for
num_samples = 200 and segmentation_fn = scikit-image's slic(photo, n_segments=50, start_label=0)
(the labels make-ablation-fixture saves as {photo}.slic-50.npy). The explainer is made with
random_state = 0 for chelsea-224 and 7 for astronaut-224, and explain_instance is called without
random_seed, so it first draws one randint(0, 1000) for its segmentation, as by default.
Saves each superpixel's coefficient spread over its pixels (float32).

    python scripts/make_lime_fixture.py ../shared nas-plugins/tests/fixtures/ablation
Needs torch, torchvision, lime, scikit-image, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np, torch, torchvision
from PIL import Image
from lime.lime_image import LimeImageExplainer

shared, out = sys.argv[1], sys.argv[2]
model = torchvision.models.resnet18()
model.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"))); model.eval()
mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
torch.set_grad_enabled(False)


def probabilities(images):
    x = torch.from_numpy(((images - mean) / std).transpose(0, 3, 1, 2).astype(np.float32))
    return torch.softmax(model(x), 1).numpy()


for photo, seed in [("chelsea-224", 0), ("astronaut-224", 7)]:
    im = np.asarray(Image.open(os.path.join(shared, f"images/{photo}.png")).convert("RGB"), np.float64) / 255
    segments = np.load(os.path.join(out, f"{photo}.slic-50.npy")).astype(np.int64)
    target = int(probabilities(im[None]).argmax())
    explanation = LimeImageExplainer(random_state=seed).explain_instance(
        im, probabilities, labels=(target,), top_labels=None, num_samples=200, batch_size=16,
        segmentation_fn=lambda image: segments)
    coefficients = np.zeros(segments.max() + 1)
    for feature, weight in explanation.local_exp[target]:
        coefficients[feature] = weight
    np.save(os.path.join(out, f"resnet18-seed0.{photo}.lime-slic-50-seed{seed}.npy"), coefficients[segments].astype(np.float32))
    print(photo, "target", target, "features", len(coefficients), "coefficients", coefficients.min(), coefficients.max(),
          "intercept", explanation.intercept[target], "score", explanation.score)
