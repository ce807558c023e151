"""Reference for the faithfulness metrics: Quantus 0.6.0's PixelFlipping, RegionPerturbation,
Selectivity, IROF, FaithfulnessEstimate and FaithfulnessCorrelation (run as they are, with torch 2.15, torchvision 0.29, numpy 2.4, scikit-image
0.26), their raw per-step curves and scores.

Input: chelsea-224.png (RGB, /255, ImageNet mean [0.485,0.456,0.406] and std [0.229,0.224,0.225]),
x of shape (1,3,224,224) float32; torchvision resnet18 with ../shared/weights/resnet18-seed0.pth,
eval mode, no softmax layer (Quantus appends Softmax(dim=-1) itself, softmax=True); y = the
argmax class. Maps, both already fixtures, read as (1,1,224,224) float32:
  A: gradient x input, nas-plugins/tests/fixtures/gradient/resnet18-seed0.chelsea-224.npy;
  B: Grad-CAM of layer4, nas-plugins/tests/fixtures/grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy.
Every call: metric(model, x, y, a, device="cpu", softmax=True), disable_warnings, no progress bar.

What Quantus does with the map first (every metric here, normalise=True by default): a / max|a|
over the whole map, then |.| if abs=True, then broadcast to the (3,224,224) shape of x. p(.) below
is the softmax probability (float32) of class y.

pixel-flipping (features_in_step=5376, perturb_baseline="black", abs=False, normalise=True):
  order = np.argsort(-a) over the flattened broadcast (3,224,224) map (numpy's default quicksort);
  a pixel's three channel copies tie and lie side by side, so each step of 3*1792 channel values
  is 1792 whole pixels; 28 steps, each sets its values of the current perturbed array to "black" =
  min over the whole current perturbed array, all channels (in effect min(x), as it never changes).
  curve[i] = p(x after step i+1) (28 values, no unperturbed point); score = np.trapz(curve, dx=1).
  pixel-flipping-abs: the same with abs=True.
region-perturbation (patch_size=8, regions_evaluation=100, order="morf", perturb_baseline="black"):
  H and W are padded to a multiple of patch_size, split floor/ceil on the two sides (none for 8 or
  16; 8+8 for 30, to 240x240): the map with zeros, the image with numpy's mode="edge" (copies of
  the border row/column). Patches: non-overlapping patch_size^2 blocks of the padded image,
  row-major, all 3 channels; patch score = sum of the broadcast map over the block's 3*p*p values.
  morf: np.argsort(-sums), lerf: np.argsort(sums). For each of the first regions_evaluation patches
  in that order: the block (padding included) of the current padded array is set to "black" = min
  over the whole current padded array, all channels (in effect min(x)), the 224x224 centre is
  predicted. curve[i] = p(x) - p(x after i+1 patches); score = np.trapz(curve, dx=1).
  region-perturbation-b: map B. region-perturbation-lerf-30: patch_size=30, regions_evaluation=20,
  order="lerf", map A.
selectivity (patch_size=16, perturb_baseline="black"): patches and scores as region-perturbation,
  order np.argsort(-sums), all 196 patches removed one at a time into "black"; curve[i] = p(x after
  i+1 patches) (196 values, the last of an all-black image); score = np.trapz(curve, dx=1).
irof (segmentation_method="slic", perturb_baseline="mean", return_aggregate=False):
  segments = skimage slic(np.moveaxis(x[0],0,-1).astype("double"), start_label=0), its defaults
  otherwise (n_segments=100, compactness=10, max_num_iter=10, sigma=0, Lab conversion, enforce
  connectivity) on the *normalised* image; segment score = mean of the broadcast map over the
  segment's pixels, all 3 channels; order np.argsort(-scores). For each segment in order, its
  pixels (all channels) of the current perturbed array are set to "mean" = mean over the whole
  current perturbed array, all channels, recomputed at every step. curve[i] = p(x after i+1
  segments) / p(x); score (Quantus's AOC) = n_segments - np.trapz(curve, dx=1). Quantus returns
  only the AOC, so the segments and the curve are recomputed here with Quantus's own helpers and
  checked against it.

faithfulness-estimate (features_in_step=3*1792 on map A, perturb_baseline="black", softmax=False,
  its default; faithfulness-estimate-abs: 3*3136, abs=True, softmax=True): for each group
  of the np.argsort(-a) order, x with that group alone set to "black" = min(x); score = Pearson's
  r (scipy.stats.pearsonr) between the groups' sums of the broadcast map and the score drops
  score(x) - score(perturbed). Only the score is saved (Quantus returns nothing else).

faithfulness-correlation (nr_runs=20, subset_size=224, perturb_baseline="black", softmax=False, its
  default; np.random.seed(5) first): each run draws np.random.choice(3*224*224, 224,
  replace=False) channel values of x, which Quantus's baseline lookup follows with one unused
  np.random.uniform draw, sets them to min(x) in x alone; score = Pearson's r between the
  subsets' sums of the broadcast map and the logit drops. The drops and sums are saved too.

Writes <case>.npy (the curve, float64), irof-segments.npy (int32, 224x224) and quantus.json
({"target_class", "p_target" = p(x), "maps", "cases": {case: {metric, map, params, curve,
curve_len, score}}}). Three things Quantus 0.6.0 needs to run here, none of which changes a value:
  numpy 2.4 has no np.trapz, which utils.calculate_auc calls: it is set to np.trapezoid (renamed);
  PixelFlipping (and FaithfulnessEstimate) assert H*W % features_in_step == 0 (50176 % 5376 != 0; it forgets the channels,
    3*224*224 = 28 * 5376): a subclass skips that check, evaluate_batch is Quantus's own;
  IROF's default baseline_replacement_by_mask asserts mask.shape == arr.shape, but IROF passes a
    (1,1,H,W) mask for the (1,3,H,W) image: it is given, as perturb_func, the same function with
    the mask broadcast over the channels first (what np.where would do anyway).

    /work/venv-torch/bin/python scripts/make_faithfulness_fixture.py ../shared nas-plugins/tests/fixtures/faithfulness
"""
import json
import os
import sys

import numpy as np
import quantus
import torch
import torchvision
from PIL import Image
from quantus.functions.normalise_func import normalise_by_max
from quantus.functions.perturb_func import baseline_replacement_by_mask
from quantus.helpers import utils

if not hasattr(np, "trapz"):
    np.trapz = np.trapezoid

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
fixtures = os.path.dirname(os.path.normpath(out))

im = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
x = ((im - [0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225]).transpose(2, 0, 1)[None].astype(np.float32)
net = torchvision.models.resnet18()
net.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"), map_location="cpu"))
net.eval()
with torch.no_grad():
    c = int(net(torch.from_numpy(x)).argmax())
y = np.array([c])
p_target = float(utils.get_wrapped_model(model=net, channel_first=True, softmax=True, device="cpu").predict(x)[0, c])

maps = {"A": "gradient/resnet18-seed0.chelsea-224.npy", "B": "grad_cam/resnet18-seed0.chelsea-224.grad-cam.level4.npy"}
maps = {k: p for k, p in maps.items() if os.path.exists(os.path.join(fixtures, p))}
a_maps = {k: np.load(os.path.join(fixtures, p)).astype(np.float32).reshape(1, 1, 224, 224) for k, p in maps.items()}
print("target class", c, "p(x)", p_target)
print("map A: duplicate values in the flattened 224x224 map:", a_maps["A"].size - np.unique(a_maps["A"]).size)


def broadcast(a, abs_=False):
    """The map as Quantus uses it: normalise_by_max, |.| if asked, broadcast to x's shape."""
    a = normalise_by_max(a)
    return np.broadcast_to(np.abs(a) if abs_ else a, x.shape)


def report_ties(name, keys, n):
    """keys sorted as the metric sorts them; a tie among the first n+1 would change the curve."""
    d = np.diff(keys[: n + 1])
    print(f"  {name}: ties among the first {n} of {len(keys)} ranks: {int((d == 0).sum())}, smallest gap {d.min():.3g}")


def patch_sums(a, p):
    """RegionPerturbation's and Selectivity's patch scores (their own padding and block helpers)."""
    pad = ((0, 0), (0, 0), utils.get_padding_size(224, p), utils.get_padding_size(224, p))
    a_pad = utils._pad_array(a, pad, mode="constant", padded_axes=np.arange(4))
    return np.array([a_pad.reshape(1, -1)[:, b].sum() for b in utils.get_block_indices(a_pad, p)])


class PixelFlipping(quantus.PixelFlipping):
    """Quantus's PixelFlipping without its one check, that H*W be a multiple of features_in_step
    (50176 % 5376 != 0; it forgets the channels: 3*224*224 = 28 * 5376)."""
    def custom_preprocess(self, **kwargs):
        return None


cases = [
    ("pixel-flipping", PixelFlipping, "A",
     dict(features_in_step=3 * 1792, perturb_baseline="black", abs=False, normalise=True, return_auc_per_sample=False)),
    ("pixel-flipping-abs", PixelFlipping, "A",
     dict(features_in_step=3 * 1792, perturb_baseline="black", abs=True, normalise=True, return_auc_per_sample=False)),
    ("region-perturbation", quantus.RegionPerturbation, "A",
     dict(patch_size=8, regions_evaluation=100, order="morf", perturb_baseline="black")),
    ("region-perturbation-b", quantus.RegionPerturbation, "B",
     dict(patch_size=8, regions_evaluation=100, order="morf", perturb_baseline="black")),
    ("region-perturbation-lerf-30", quantus.RegionPerturbation, "A",
     dict(patch_size=30, regions_evaluation=20, order="lerf", perturb_baseline="black")),
    ("selectivity", quantus.Selectivity, "A", dict(patch_size=16, perturb_baseline="black")),
]
summary = {"target_class": c, "p_target": p_target, "maps": {k: "nas-plugins/tests/fixtures/" + p for k, p in maps.items()}, "cases": {}}
for name, metric, m, params in cases:
    if m not in a_maps:
        continue
    res = metric(**params, disable_warnings=True, display_progressbar=False)(
        model=net, x_batch=x, y_batch=y, a_batch=a_maps[m], device="cpu", softmax=True)
    curve = np.asarray(res[0], np.float64)
    score = float(utils.calculate_auc(curve))
    a = broadcast(a_maps[m], params.get("abs", False))
    if metric is PixelFlipping:
        keys, step = np.sort(-a.reshape(-1)), params["features_in_step"]
        print(f"  {name}: ties across a step boundary: {sum(int(keys[k - 1] == keys[k]) for k in range(step, keys.size, step))}")
    else:
        sums = patch_sums(a, params["patch_size"])
        keys = np.sort(sums) if params.get("order") == "lerf" else np.sort(-sums)
        report_ties(name, keys, params.get("regions_evaluation", len(sums)))
    np.save(os.path.join(out, name + ".npy"), curve)
    summary["cases"][name] = dict(metric=metric.__name__, map=m, params=params, curve=name + ".npy",
                                  curve_len=len(curve), score=score)
    print(name, "curve", len(curve), "score", score)

# IROF: Quantus's score, then its steps again (irof.py's evaluate_batch) for the segments and the curve.
def replace_by_mask(arr, mask, **kwargs):
    """Quantus's baseline_replacement_by_mask, the (B,1,H,W) mask IROF builds broadcast to arr's
    (B,3,H,W) first: as it is, the function asserts equal shapes and IROF fails on RGB images."""
    return baseline_replacement_by_mask(arr=arr, mask=np.broadcast_to(mask, arr.shape), **kwargs)


params = dict(segmentation_method="slic", perturb_baseline="mean", return_aggregate=False)
aoc = float(quantus.IROF(**params, perturb_func=replace_by_mask, disable_warnings=True, display_progressbar=False)(
    model=net, x_batch=x, y_batch=y, a_batch=a_maps["A"], device="cpu", softmax=True)[0])
model = utils.get_wrapped_model(model=net, channel_first=True, softmax=True, device="cpu")
a = broadcast(a_maps["A"])[0]
segments = utils.get_superpixel_segments(img=np.moveaxis(x[0], 0, -1).astype("double"), segmentation_method="slic")
n = len(np.unique(segments))
assert segments.min() == 0 and segments.max() == n - 1
att_segs = np.array([np.mean(a[:, segments == s]) for s in range(n)])
order = np.argsort(-att_segs)
report_ties("irof", np.sort(-att_segs), n - 1)
y_pred = model.predict(x)[0, c]
xp, curve = x.copy(), []
for s in order:
    xn = replace_by_mask(arr=xp, mask=(segments == s)[None, None], perturb_baseline="mean")
    curve.append(model.predict(xn)[0, c] / y_pred)
    xp = xn
curve = np.array(curve, np.float64)
assert abs(n - utils.calculate_auc(curve) - aoc) < 1e-9, (n - utils.calculate_auc(curve), aoc)
np.save(os.path.join(out, "irof.npy"), curve)
np.save(os.path.join(out, "irof-segments.npy"), segments.astype(np.int32))
summary["cases"]["irof"] = dict(metric="IROF", map="A", params=params, curve="irof.npy", curve_len=n,
                                n_segments=n, segments="irof-segments.npy", score=aoc)
print("irof segments", n, "aoc", aoc)

# FaithfulnessEstimate: logits (its default, softmax=False), each group removed from x alone; the
# score is Pearson's r between the groups' map sums and the drops of the logit.
class FaithfulnessEstimate(quantus.FaithfulnessEstimate):
    """Quantus's FaithfulnessEstimate without the same channel-blind check as PixelFlipping's."""
    def custom_preprocess(self, **kwargs):
        return None


# (Map B, Grad-CAM, is zero over much of the photo: groups cut through those ties, whose order
# numpy's sort leaves undefined, so it is not used here.)
for name, step, abs_, softmax in [("faithfulness-estimate", 1792, False, False), ("faithfulness-estimate-abs", 3136, True, True)]:
    params = dict(features_in_step=3 * step, perturb_baseline="black", abs=abs_)
    r = float(FaithfulnessEstimate(**params, disable_warnings=True, display_progressbar=False)(
        model=net, x_batch=x, y_batch=y, a_batch=a_maps["A"], device="cpu", softmax=softmax)[0])
    summary["cases"][name] = dict(metric="FaithfulnessEstimate", map="A", params=params, softmax=softmax, score=r)
    print(name, "pearson r", r)

# FaithfulnessCorrelation: random subsets drawn from NumPy's global state after np.random.seed,
# logits (its default, softmax=False). Quantus returns only Pearson's r; the drops and sums are
# recomputed here by its procedure (a choice, then the one uniform draw its baseline lookup
# makes) and checked against its r.
RUNS, SUBSET, SEED = 20, 224, 5
np.random.seed(SEED)
r = float(quantus.FaithfulnessCorrelation(nr_runs=RUNS, subset_size=SUBSET, disable_warnings=True, display_progressbar=False)(
    model=net, x_batch=x, y_batch=y, a_batch=a_maps["A"], device="cpu", softmax=False)[0])
np.random.seed(SEED)
flat_x = x.reshape(-1)
a_flat = np.broadcast_to(normalise_by_max(a_maps["A"]), x.shape).reshape(-1)
with torch.no_grad():
    logit = float(net(torch.from_numpy(x))[0, c])
    sums, drops = [], []
    for _ in range(RUNS):
        ix = np.random.choice(flat_x.size, SUBSET, replace=False)
        np.random.uniform()
        xp = flat_x.copy()
        xp[ix] = flat_x.min()
        drops.append(logit - float(net(torch.from_numpy(xp.reshape(x.shape)))[0, c]))
        sums.append(float(a_flat[ix].sum()))
assert abs(np.corrcoef(sums, drops)[0, 1] - r) < 1e-6, (np.corrcoef(sums, drops)[0, 1], r)
# With a numeric baseline Quantus's lookup draws nothing: only the choices consume the state.
np.random.seed(SEED)
summary["cases"]["faithfulness-correlation-zero"] = dict(metric="FaithfulnessCorrelation", map="A", softmax=False,
    params=dict(nr_runs=RUNS, subset_size=SUBSET, seed=SEED, perturb_baseline=0.0),
    score=float(quantus.FaithfulnessCorrelation(nr_runs=RUNS, subset_size=SUBSET, perturb_baseline=0.0, disable_warnings=True,
        display_progressbar=False)(model=net, x_batch=x, y_batch=y, a_batch=a_maps["A"], device="cpu", softmax=False)[0]))
print("faithfulness-correlation, baseline 0", summary["cases"]["faithfulness-correlation-zero"]["score"])
summary["cases"]["faithfulness-correlation"] = dict(metric="FaithfulnessCorrelation", map="A", softmax=False,
    params=dict(nr_runs=RUNS, subset_size=SUBSET, seed=SEED, perturb_baseline="black"), score=r, drops=drops, sums=sums)
print("faithfulness-correlation pearson r", r)

with open(os.path.join(out, "quantus.json"), "w") as f:
    json.dump(summary, f, indent=1)
