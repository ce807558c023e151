"""Reference for the `sparseness`, `complexity` and `effective-complexity` metrics: Quantus 0.6's
Sparseness (Chalasani et al. 2020, the Gini index), Complexity (Bhatt et al. 2020, the entropy of
the fractional contributions) and EffectiveComplexity (Nguyen and Martínez 2020, eps 1e-5, and
once with eps 1e-2) with their defaults (abs=True, normalise=True by the maximum absolute value), on
every 224 x 224 saliency map fixture of nas-plugins/tests/fixtures, passed as float64 (Quantus computes
in the array's precision; float64 makes the reference exact to rounding). Also
discrete-entropy: quantus.functions.complexity_func.discrete_entropy (100 equal bins over the
map's range, np.histogram, then scipy.stats.entropy), the complexity EfficientMPRT compares, on
the float32 map as an explanation function returns it.

    /work/venv-torch/bin/python scripts/make_complexity_fixture.py nas-plugins/tests/fixtures
"""
import glob
import json
import os
import sys

import numpy as np
import quantus
from quantus.functions.complexity_func import discrete_entropy

root = sys.argv[1]
out = {}
for path in sorted(glob.glob(os.path.join(root, "*", "*.npy"))):
    a = np.load(path)
    if a.shape != (224, 224) or a.dtype != np.float32:
        continue
    x = np.zeros((1, 3) + a.shape, np.float64)
    a_batch = a.astype(np.float64)[None, None]
    y = np.zeros(1, np.int64)
    kwargs = dict(model=None, x_batch=x, y_batch=y, channel_first=True)
    sparseness = quantus.Sparseness(disable_warnings=True)(a_batch=a_batch.copy(), **kwargs)[0]
    complexity = quantus.Complexity(disable_warnings=True)(a_batch=a_batch.copy(), **kwargs)[0]
    effective = quantus.EffectiveComplexity(disable_warnings=True)(a_batch=a_batch.copy(), **kwargs)[0]
    coarse = quantus.EffectiveComplexity(eps=1e-2, disable_warnings=True)(a_batch=a_batch.copy(), **kwargs)[0]
    out[os.path.relpath(path, root)] = {"sparseness": float(sparseness), "complexity": float(complexity),
                                        "effective-complexity": int(effective), "effective-complexity-1e-2": int(coarse),
                                        "discrete-entropy": float(discrete_entropy(a=a[None], x=None, n_bins=100))}
os.makedirs(os.path.join(root, "complexity"), exist_ok=True)
with open(os.path.join(root, "complexity", "quantus.json"), "w") as f:
    json.dump(out, f, indent=1)
print(len(out), "maps")
