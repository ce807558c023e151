"""Reference for the `monotonicity-correlation` metric: Quantus 0.6.0's MonotonicityCorrelation
(Nguyen & Martinez 2020), run as it is, with torch 2.15.

Input: chelsea-224.png normalised with ImageNet's mean and std, torchvision resnet18 with
../shared/weights/resnet18-seed0.pth, y = the argmax class; the map is nas's `gradient` fixture
(nas-plugins/tests/fixtures/gradient/resnet18-seed0.chelsea-224.npy) read as (1,1,224,224).
Every case: features_in_step = 3*1792 (28 groups of 1792 whole pixels: the map broadcast over the
colour channels, ascending np.argsort, a pixel's three equal copies side by side), Quantus's
Spearman similarity, np.random.seed(SEED) before the call. Cases:
  uniform: Quantus's defaults (perturb_baseline="uniform": each replacement sets the group to
    one np.random.uniform(0, 1) value, abs=True, normalise=True, softmax=True), nr_samples=4;
  black-logit: perturb_baseline="black" (min(x)), abs=False, softmax=False, nr_samples=2.
Quantus's custom_preprocess asserts H*W % features_in_step == 0 (it forgets the channels;
3*224*224 = 28 * 5376): a subclass skips that check, evaluate_batch is Quantus's own. Quantus
returns only the correlation; the script re-runs its procedure (same draws) for the per-group
saliency sums and mean squared score changes, and checks their Spearman r against Quantus's.

    /work/venv-torch/bin/python scripts/make_monotonicity_fixture.py ../shared nas-plugins/tests/fixtures/faithfulness
"""
import json, os, sys, warnings
import numpy as np, quantus, scipy.stats, torch
from fixture_networks import IMAGENET, normalised, photo, resnet18_seed0

shared, out = sys.argv[1], sys.argv[2]
SEED, STEP = 11, 3 * 1792
x = normalised(photo(shared, "chelsea-224"), IMAGENET).numpy()
net = resnet18_seed0(shared)
with torch.no_grad():
    y = np.array([int(net(torch.from_numpy(x)).argmax())])
a = np.load(os.path.join(os.path.dirname(os.path.normpath(out)), "gradient/resnet18-seed0.chelsea-224.npy"))
a = a.astype(np.float32).reshape(1, 1, 224, 224)


class MonotonicityCorrelation(quantus.MonotonicityCorrelation):
    """Quantus's metric without its check that H*W be a multiple of features_in_step."""
    def custom_preprocess(self, **kwargs):
        return None


def scores(inputs, softmax):
    with torch.no_grad():
        out = net(torch.from_numpy(np.asarray(inputs, np.float32)))
        return (torch.softmax(out, 1) if softmax else out)[:, y[0]].numpy()


result = {"target_class": int(y[0]), "seed": SEED, "step": STEP // 3, "cases": {}}
for case, baseline, abs_, softmax, samples in [("uniform", "uniform", True, True, 4),
                                                ("black-logit", "black", False, False, 2)]:
    np.random.seed(SEED)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = MonotonicityCorrelation(features_in_step=STEP, nr_samples=samples, perturb_baseline=baseline,
                                        abs=abs_, disable_warnings=True, display_progressbar=False)(
            model=net, x_batch=x, y_batch=y, a_batch=a, device="cpu", softmax=softmax)[0]
    # The same procedure and draws, keeping the per-group values.
    m = a / np.abs(a).max()
    m = np.broadcast_to(np.abs(m) if abs_ else m, x.shape).reshape(-1)
    order = np.argsort(m)
    base = scores(x, softmax)[0]
    np.random.seed(SEED)
    totals, changes = [], []
    for k in range(len(order) // STEP):
        group = order[k * STEP:(k + 1) * STEP]
        moved = []
        for _ in range(samples):
            drawn = np.random.uniform(0, 1, size=1)[0]
            perturbed = x.reshape(-1).copy()
            perturbed[group] = drawn if baseline == "uniform" else x.min()
            moved.append(scores(perturbed.reshape(x.shape), softmax)[0])
        changes.append(float(np.mean((np.array(moved) - base) ** 2)))
        totals.append(float(m[group].sum() / 3))
    r = scipy.stats.spearmanr(totals, changes).statistic
    assert abs(r - score) < 1e-9, (case, r, score)
    print(case, "Quantus", score, "re-run", r)
    result["cases"][case] = dict(baseline=baseline, abs=abs_, scores="probability" if softmax else "logit",
                                 samples=samples, score=float(score), totals=totals, changes=changes)
with open(os.path.join(out, "monotonicity.json"), "w") as f:
    json.dump(result, f, indent=1)
