"""Reference for the `dff` segmenter: pytorch-grad-cam 1.5.7's Deep Feature Factorization
(`DeepFeatureFactorization(model, target_layer)(x, n_components=5)`, whose `dff` runs
scikit-learn 1.9's `NMF(n_components, init="random", random_state=0)` in float32) on chelsea-224:
  efficientnet-lite0: EfficientNet-Lite0 with its ImageNet weights, the head activation (level 4,
    an identity module after the head's ReLU6), input normalised with mean 127/255, std 128/255;
  resnet18-seed0: torchvision resnet18 with ../shared/weights/resnet18-seed0.pth, layer4 (level
    4), ImageNet's mean and std.
Each concept's map (pytorch-grad-cam's `scale_cam_image`: minus its minimum, over 1e-7 plus its
maximum, cv2.resize to 224x224) competes per pixel; the argmax is the pixel's concept
(`show_factorization_on_image`).

    /work/venv-torch/bin/python scripts/make_dff_fixture.py ../shared nas-plugins/tests/fixtures/dff
Writes <case>.concepts.npy ((5, 7, 7) float32: NMF's H on the level grid, the raw loadings) for
both cases, efficientnet-lite0.labels.npy ((224, 224) int32, each pixel's concept) and
nmf.json (NMF's iterations per case, recomputed with scikit-learn on the same matrix).
Needs torch, torchvision, numpy, pillow, grad-cam, scikit-learn, efficientnet-lite-pytorch."""
import json, os, sys
import numpy as np, torch, torchvision
from pytorch_grad_cam import DeepFeatureFactorization
from sklearn.decomposition import NMF
from fixture_networks import IMAGENET, LITE, LiteWithHead, efficientnet_lite0, normalised, photo

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
im = photo(shared, "chelsea-224")


lite = LiteWithHead(efficientnet_lite0(shared)).eval()
r18 = torchvision.models.resnet18()
r18.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"), map_location="cpu"))
r18.eval()
iterations = {}
for name, net, layer, x in [("efficientnet-lite0", lite, lite.head, normalised(im, LITE)),
                            ("resnet18-seed0", r18, r18.layer4, normalised(im, IMAGENET))]:
    factorization = DeepFeatureFactorization(model=net, target_layer=layer)
    _, maps = factorization(x, n_components=5)
    labels = maps[0].argmax(axis=0).astype(np.int32)
    # The NMF again, for its loadings on the level grid and its iteration count.
    captured = {}
    hook = layer.register_forward_hook(lambda m, i, o: captured.update(a=o.detach().numpy()))
    with torch.no_grad():
        net(x)
    hook.remove()
    a = captured["a"][0].reshape(captured["a"].shape[1], -1)
    a = a - a.min(axis=-1)[:, None]
    model = NMF(n_components=5, init="random", random_state=0)
    model.fit_transform(a)
    iterations[name] = int(model.n_iter_)
    concepts = model.components_.reshape(5, *captured["a"].shape[2:]).astype(np.float32)
    np.save(os.path.join(out, f"{name}.concepts.npy"), concepts)
    if name == "efficientnet-lite0":
        np.save(os.path.join(out, f"{name}.labels.npy"), labels)
    print(name, "iterations", model.n_iter_, "concept pixel counts", np.bincount(labels.ravel(), minlength=5).tolist())
with open(os.path.join(out, "nmf.json"), "w") as f:
    json.dump({"iterations": iterations}, f, indent=1)
