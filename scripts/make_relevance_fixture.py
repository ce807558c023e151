"""Reference for the box localisation metrics: Quantus 0.6's RelevanceMassAccuracy and
RelevanceRankAccuracy (Arras et al. 2022) with their defaults (abs=False, normalise=True), and its
TopKIntersection (k=1000, and with concept_influence=True), AttributionLocalisation (defaults:
abs=True; and abs=False with positive_attributions=True) and AUC (defaults), on the maps and hand-drawn boxes of the max-box-acc fixture
(nas-plugins/tests/fixtures/max_box_acc/cases.json, transforms applied), the ground-truth mask
being the pixels inside any box (corners inclusive). Maps are passed as float64; only maps
whose value at the mask's size-th rank (the 1000th for TopKIntersection) is not tied are kept
for the rank metrics (Quantus sorts with numpy's unstable quicksort, so ties there have no
defined order).

    /work/venv-torch/bin/python scripts/make_relevance_fixture.py nas-plugins/tests/fixtures
"""
import json
import os
import sys

import numpy as np
import quantus

root = sys.argv[1]
cases = json.load(open(os.path.join(root, "max_box_acc", "cases.json")))["cases"]
out = []
for i, case in enumerate(cases):
    a = np.load(os.path.join(root, case["map"])).astype(np.float64)
    if case["transform"] == "abs":
        a = np.abs(a)
    mask = np.zeros(a.shape, bool)
    for x0, y0, x1, y1 in case["gt_boxes"]:
        mask[y0:y1 + 1, x0:x1 + 1] = True
    kwargs = dict(model=None, x_batch=np.zeros((1, 3) + a.shape), y_batch=np.zeros(1, np.int64),
                  a_batch=a[None, None].copy(), s_batch=mask[None, None].astype(np.float64), channel_first=True)
    mass = quantus.RelevanceMassAccuracy(disable_warnings=True)(**kwargs)[0]
    rank = quantus.RelevanceRankAccuracy(disable_warnings=True)(**kwargs)[0]
    values = np.sort(a.ravel())[::-1]
    k = int(mask.sum())
    tied = k < values.size and values[k - 1] == values[k]
    top = quantus.TopKIntersection(k=1000, disable_warnings=True)(**kwargs)[0]
    concept = quantus.TopKIntersection(k=1000, concept_influence=True, disable_warnings=True)(**kwargs)[0]
    top_tied = values[999] == values[1000]
    localisation = quantus.AttributionLocalisation(disable_warnings=True)(**kwargs)[0]
    positive = quantus.AttributionLocalisation(abs=False, positive_attributions=True, disable_warnings=True)(**kwargs)[0]
    auc = quantus.AUC(disable_warnings=True)(**kwargs)[0]
    out.append({"case": i, "mass": float(mass), "rank": None if tied else float(rank),
                "top_k": None if top_tied else float(top), "top_k_concept": None if top_tied else float(concept),
                "attribution_localisation": float(localisation), "attribution_localisation_positive": float(positive),
                "auc": float(auc)})
os.makedirs(os.path.join(root, "relevance"), exist_ok=True)
with open(os.path.join(root, "relevance", "quantus.json"), "w") as f:
    json.dump(out, f, indent=1)
print(len(out), "cases,", sum(o["rank"] is not None for o in out), "with untied ranks,",
      sum(o["top_k"] is not None for o in out), "untied at 1000")
