"""Reference for nas-core's paired significance tests (nas-core/src/significance.rs): SciPy's
`scipy.stats.wilcoxon(a, b)` and `scipy.stats.ttest_rel(a, b)` with their defaults (two-sided;
Wilcoxon: zero_method="wilcox", correction=False, method="auto", i.e. exact for n <= 50 without
ties or zeros, an exact sign-flip permutation test for n <= 13 with them, else the normal
approximation with the tie correction), on seeded random paired samples: continuous values,
values rounded to make ties, pairs with equal values (zero differences), both, n from 1 to 80,
and samples whose pairs are all equal.

    /work/venv-torch/bin/python scripts/make_significance_fixture.py nas-core/tests/fixtures/significance.json
"""
import json
import sys
import warnings

import numpy as np
import scipy
from scipy import stats

rng = np.random.default_rng(7)
cases = []
for n in [1, 2, 3, 5, 8, 12, 13, 14, 20, 30, 50, 51, 80]:
    for kind in ["continuous", "ties", "zeros", "ties+zeros", "shifted"]:
        a = rng.normal(size=n)
        b = a + rng.normal(scale=0.5, size=n) + (0.4 if kind == "shifted" else 0.0)
        if "ties" in kind:
            a, b = np.round(a, 1), np.round(b, 1)
        if "zeros" in kind:
            b[: max(1, n // 4)] = a[: max(1, n // 4)]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                w = stats.wilcoxon(a, b)
                w = [float(w.statistic), float(w.pvalue)]
            except ValueError:
                w = [float("nan"), float("nan")]
            t = stats.ttest_rel(a, b)
        cases.append({"kind": kind, "a": a.tolist(), "b": b.tolist(), "wilcoxon": w,
                      "ttest": [float(t.statistic), float(t.pvalue)]})
# Every pair equal: no rank left (SciPy: statistic 0; p 1 up to 13 pairs, NaN above).
for n in [2, 5, 13, 14, 51]:
    a = rng.normal(size=n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = stats.wilcoxon(a, a)
        t = stats.ttest_rel(a, a)
    cases.append({"kind": "all equal", "a": a.tolist(), "b": a.tolist(), "wilcoxon": [float(w.statistic), float(w.pvalue)],
                  "ttest": [float(t.statistic), float(t.pvalue)]})
json.dump({"scipy": scipy.__version__, "cases": cases}, open(sys.argv[1], "w"), indent=0, allow_nan=True)
print(len(cases), "cases")
