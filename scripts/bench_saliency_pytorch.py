"""PyTorch baselines for `nas explain` on torchvision resnet18 at 224x224 (see bench-saliency.sh):
  ig:   Captum's IntegratedGradients, 50 Gauss-Legendre steps, zero baseline,
        internal_batch_size 10; median of --runs after one warm-up;
  lrp:  zennit's EpsilonPlusFlat with ResNetCanonizer, one-hot output relevance; median of --runs
        after one warm-up;
  rise: the RISE authors' algorithm (github.com/eclique/RISE, explanations.py): --masks masks
        made with scikit-image (timed apart), masked photos scored in batches of 100 (their
        default) and averaged;
  occlusion: Captum's Occlusion, (3, 15, 15) windows at strides (3, 8, 8), zero baseline,
        perturbations_per_eval 16, one run after one warm-up;
  deep-lift: Captum's DeepLift, zero baseline (each block's ReLU split into one module per call,
        which Captum requires; scripts/captum_unshared.py); median of --runs after one warm-up;
  lime: the lime package's LimeImageExplainer, 1000 samples over scikit-image's SLIC superpixels
        (n_segments 50), softmax classifier in batches of 16 (nas's batch), one run (SLIC timed
        with it).
  kernel-shap: Captum's KernelShap, 200 samples over scikit-image's SLIC superpixels (n_segments
        50), zero baseline, perturbations_per_eval 16, one run (SLIC timed with it);
  shapley-sampling: Captum's ShapleyValueSampling, 10 orders over the same superpixels, zero
        baseline, perturbations_per_eval 16, one run (SLIC timed with it).
    python scripts/bench_saliency_pytorch.py ig --weights resnet18.pth --runs 3 --threads 2
    python scripts/bench_saliency_pytorch.py rise --weights resnet18.pth --masks 1000 --threads 2"""
import argparse, time, numpy as np, torch, torchvision
from PIL import Image

p = argparse.ArgumentParser()
p.add_argument("method", choices=["ig", "lrp", "rise", "occlusion", "lime", "deep-lift", "kernel-shap", "shapley-sampling", "neuron-ig", "layer-ablation"])
p.add_argument("--weights", required=True)
p.add_argument("--image", default="examples/images/chelsea.png")
p.add_argument("--runs", type=int, default=3)
p.add_argument("--masks", type=int, default=1000)
p.add_argument("--threads", type=int, default=2)
a = p.parse_args()
torch.set_num_threads(a.threads)
m = torchvision.models.resnet18(); m.load_state_dict(torch.load(a.weights, map_location="cpu")); m.eval()
im = np.asarray(Image.open(a.image).convert("RGB").resize((224, 224)), np.float32) / 255
x = torch.from_numpy(((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32))
target = int(m(x).argmax())


def integrated_gradients():
    from captum.attr import IntegratedGradients
    ig, times = IntegratedGradients(m), []
    for _ in range(a.runs + 1):
        start = time.perf_counter()
        ig.attribute(x, target=target, n_steps=50, internal_batch_size=10)
        times.append(time.perf_counter() - start)
    print("captum integrated gradients, 50 steps, resnet18: median %.0f ms of %d runs after one warm-up"
          % (1000 * sorted(times[1:])[len(times[1:]) // 2], a.runs))


def rise():
    from skimage.transform import resize
    N, s, p1, size = a.masks, 8, 0.1, (224, 224)
    start = time.perf_counter()
    cell = np.ceil(np.array(size) / s)
    grid = (np.random.rand(N, s, s) < p1).astype("float32")
    masks = np.empty((N, *size))
    for i in range(N):
        r, c = np.random.randint(0, cell[0]), np.random.randint(0, cell[1])
        masks[i] = resize(grid[i], (s + 1) * cell, order=1, mode="reflect", anti_aliasing=False)[r:r + size[0], c:c + size[1]]
    masks = torch.from_numpy(masks.reshape(-1, 1, *size)).float()
    made = time.perf_counter() - start
    model = torch.nn.Sequential(m, torch.nn.Softmax(dim=1)).eval()
    start = time.perf_counter()
    with torch.no_grad():
        stack = torch.mul(masks, x)
        scores = torch.cat([model(stack[i:i + 100]) for i in range(0, N, 100)])
        torch.matmul(scores.transpose(0, 1), masks.view(N, -1)).view(-1, *size) / N / p1
    print("RISE authors' algorithm, resnet18, %d masks: masks %.1f s, scoring %.1f s" % (N, made, time.perf_counter() - start))


def lrp():
    from zennit.attribution import Gradient
    from zennit.composites import EpsilonPlusFlat
    from zennit.torchvision import ResNetCanonizer
    times = []
    with Gradient(model=m, composite=EpsilonPlusFlat(canonizers=[ResNetCanonizer()])) as attributor:
        for _ in range(a.runs + 1):
            start = time.perf_counter()
            attributor(x.clone(), torch.eye(1000)[[target]])
            times.append(time.perf_counter() - start)
    print("zennit EpsilonPlusFlat, resnet18: median %.0f ms of %d runs after one warm-up"
          % (1000 * sorted(times[1:])[len(times[1:]) // 2], a.runs))


def occlusion():
    from captum.attr import Occlusion
    method = Occlusion(m)
    for run in ["warm-up", "timed"]:
        start = time.perf_counter()
        method.attribute(x, sliding_window_shapes=(3, 15, 15), strides=(3, 8, 8), baselines=0, target=target,
                         perturbations_per_eval=16)
    print("captum occlusion 15x15 stride 8, resnet18: %.2f s" % (time.perf_counter() - start))


def lime():
    from lime.lime_image import LimeImageExplainer
    from skimage.segmentation import slic

    def probabilities(images):
        batch = torch.from_numpy(((images - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(0, 3, 1, 2).astype(np.float32))
        with torch.no_grad():
            return torch.softmax(m(batch), 1).numpy()

    start = time.perf_counter()
    LimeImageExplainer(random_state=0).explain_instance(
        im.astype(np.float64), probabilities, labels=(target,), top_labels=None, num_samples=1000, batch_size=16,
        segmentation_fn=lambda image: slic(image, n_segments=50, start_label=0))
    print("lime package, 1000 samples over SLIC (50), resnet18: %.2f s" % (time.perf_counter() - start))


def superpixel_method(name, method, **settings):
    from skimage.segmentation import slic
    start = time.perf_counter()
    mask = torch.from_numpy(slic(im.astype(np.float64), n_segments=50, start_label=0).astype(np.int64))[None, None]
    torch.manual_seed(0)
    method(m).attribute(x, baselines=0, target=target, feature_mask=mask, perturbations_per_eval=16, **settings)
    print("captum %s over SLIC (50), resnet18: %.2f s" % (name, time.perf_counter() - start))


def kernel_shap():
    from captum.attr import KernelShap
    superpixel_method("KernelShap, 200 samples", KernelShap, n_samples=200)


def shapley_sampling():
    from captum.attr import ShapleyValueSampling
    superpixel_method("ShapleyValueSampling, 10 orders", ShapleyValueSampling, n_samples=10)


def deep_lift():
    import os, sys
    from captum.attr import DeepLift
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from captum_unshared import unshare
    for module in m.modules():
        if isinstance(module, torch.nn.ReLU):
            module.inplace = False
    method, times = DeepLift(unshare(m, torch.nn.ReLU, torch.nn.ReLU)), []
    for _ in range(a.runs + 1):
        start = time.perf_counter()
        method.attribute(x, baselines=torch.zeros_like(x), target=target)
        times.append(time.perf_counter() - start)
    print("captum DeepLift, zero baseline, resnet18: median %.0f ms of %d runs after one warm-up"
          % (1000 * sorted(times[1:])[len(times[1:]) // 2], a.runs))


def neuron_integrated_gradients():
    from captum.attr import NeuronIntegratedGradients
    method, times = NeuronIntegratedGradients(m, m.layer3), []
    for _ in range(a.runs + 1):
        start = time.perf_counter()
        method.attribute(x, neuron_selector=lambda out: out[:, 5].sum((1, 2)), n_steps=50, internal_batch_size=10)
        times.append(time.perf_counter() - start)
    print("captum NeuronIntegratedGradients, layer3 channel 5, 50 steps, resnet18: median %.0f ms of %d runs after one warm-up"
          % (1000 * sorted(times[1:])[len(times[1:]) // 2], a.runs))


def layer_feature_ablation():
    from captum.attr import LayerFeatureAblation
    method, times = LayerFeatureAblation(m, m.layer3), []
    mask = torch.arange(14 * 14).reshape(1, 1, 14, 14)
    for _ in range(a.runs + 1):
        start = time.perf_counter()
        with torch.no_grad():
            method.attribute(x, target=target, layer_mask=mask, perturbations_per_eval=64)
        times.append(time.perf_counter() - start)
    print("captum LayerFeatureAblation, layer3 by position (196 copies), resnet18: median %.0f ms of %d runs after one warm-up"
          % (1000 * sorted(times[1:])[len(times[1:]) // 2], a.runs))


{"neuron-ig": neuron_integrated_gradients, "layer-ablation": layer_feature_ablation, "kernel-shap": kernel_shap, "shapley-sampling": shapley_sampling, "deep-lift": deep_lift, "ig": integrated_gradients, "lrp": lrp, "rise": rise, "occlusion": occlusion, "lime": lime}[a.method]()
