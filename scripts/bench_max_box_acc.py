"""Times wsolevaluation's box evaluation (compute_bboxes_from_scoremaps with OpenCV, then
calculate_multiple_iou, with multi_contour_eval), as scripts/make_max_box_acc_fixture.py
reproduces it, per map on the same 19 maps as nas-plugins/examples/max_box_acc_bench.rs, at
intervals 0.01 and 0.001: the median of several runs.

    /work/venv-torch/bin/python scripts/bench_max_box_acc.py [runs]
"""
import importlib.util
import json
import os
import sys
import time

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("reference", os.path.join(here, "make_max_box_acc_fixture.py"))
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)

runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
fixtures = os.path.join(here, "..", "nas-plugins", "tests", "fixtures")
cases = json.load(open(os.path.join(fixtures, "max_box_acc", "cases.json")))["cases"]
maps = [(reference.load_scoremap(os.path.join(fixtures, c["map"]), c["transform"]), np.asarray(c["gt_boxes"])) for c in cases]
for interval in (0.01, 0.001):
    thresholds = list(np.arange(0, 1, interval))
    times = []
    for _ in range(max(runs, 1)):
        start = time.perf_counter()
        for scoremap, truth in maps:
            for boxes in reference.boxes_at_thresholds(scoremap, thresholds, True):
                reference.multiple_iou(boxes, truth).max()
        times.append((time.perf_counter() - start) / len(maps))
    print(f"wsolevaluation (OpenCV) interval {interval}: {sorted(times)[len(times) // 2] * 1e3:.2f} ms per map (median of {runs}, {len(maps)} maps)")
