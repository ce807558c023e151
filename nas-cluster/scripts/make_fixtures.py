#!/usr/bin/env python3
"""Make the scikit-learn reference fixtures of the `nas-cluster` crate.

The Rust tests never run Python: this script is run once by hand, and what it
writes under `nas-cluster/tests/fixtures/` is committed.

Inputs are the PyTorch activation references of the shared folder
(`reference/<arch>/<image>.level<L>.npy`, float32 arrays of shape (C, h, w)).
Each matrix is built as the Rust tests build it (`tests/common/mod.rs`):

* `raw` datasets: one level flattened to (h*w, C), row = y*w + x.
* `nas` datasets: several levels upsampled to an S x S grid with bilinear
  interpolation (align_corners=False, as torch), each channel standardised over
  the grid (population std; a constant channel becomes 0), each level weighted
  by 1/sqrt(C_l), then concatenated: (S*S, sum C_l) float32. Upsampling factors
  are powers of two, so the bilinear weights are dyadic and the float64 sums
  are exact; Rust and numpy then agree to the last float32 bit (or nearly).

What it records (manifest.json, labels as uint8 .npy, components as uint16):

* KMeans(init='k-means++', n_init=10, tol=1e-4, max_iter=300, algorithm='lloyd')
  for several K and random_state: the inertia of each seed, the best labels,
  the inertias of 50 single-initialisation runs (n_init=1, seeds 0..49),
  and `self_ari`, the smallest ARI between the seeds' labels: when it is
  >= 0.99 every seed of scikit-learn found the same partition, which is what
  we call a well separated optimum (the Rust tests then require label ARI >= 0.9).
* AgglomerativeClustering(linkage='ward') labels for several K.
* adjusted_rand_score on pairs of those label vectors and on small handcrafted pairs.
* scipy.ndimage.label connected components (4- and 8-connectivity) of real
  k-means label maps (56 x 56 and 224 x 224), renumbered in raster order of
  first appearance.
* timings of KMeans(n_init=1) on the 224 x 224 benchmark matrix (the one
  `cargo run --release -p nas-cluster --example cluster_bench` times): 2 OpenMP threads, BLAS on 1
  thread (scikit-learn's fastest setting on this 2-core machine); and of
  AgglomerativeClustering(ward) on the 56 x 56 matrix of the same image.

Run (from the repository root, a venv outside the repo):

    python3 -m venv /work/venv-sklearn
    /work/venv-sklearn/bin/pip install scikit-learn numpy scipy threadpoolctl
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE \\
        /work/venv-sklearn/bin/python nas-cluster/scripts/make_fixtures.py

OPENBLAS_CORETYPE pins OpenBLAS to an older kernel on this machine; unsetting it
for this one command lets the timing use the kernel the CPU supports (the
manifest records which one ran). NAS_SHARED overrides the shared folder.
`--time-only` reruns just the benchmark timing and prints it (writes nothing).
"""

import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import scipy
import scipy.ndimage
import sklearn
from sklearn.cluster import AgglomerativeClustering, KMeans
from sklearn.metrics import adjusted_rand_score
from threadpoolctl import threadpool_info, threadpool_limits

CRATE = Path(__file__).resolve().parent.parent
OUT = CRATE / "tests" / "fixtures"


def shared_dir() -> Path:
    """Locate the shared folder as the Rust tests do."""
    env = os.environ.get("NAS_SHARED")
    candidates = [Path(env)] if env else []
    candidates += [CRATE.parent.parent / "shared", Path("/work/shared")]
    for c in candidates:
        if (c / "reference").is_dir():
            return c
    raise SystemExit(f"shared folder not found (tried {candidates}); set NAS_SHARED")


def level(arch: str, image: str, lvl: int) -> np.ndarray:
    """One reference activation, (C, h, w) float32."""
    return np.load(shared_dir() / "reference" / arch / f"{image}-224.level{lvl}.npy")


def raw_matrix(arch: str, image: str, lvl: int) -> np.ndarray:
    """(h*w, C) rows of one level."""
    a = level(arch, image, lvl)
    c, h, w = a.shape
    return np.ascontiguousarray(a.reshape(c, h * w).T)


def bilinear_axis(n_in: int, n_out: int):
    """Source indices and weights of torch's bilinear, align_corners=False."""
    scale = n_in / n_out
    src = (np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5
    src = np.maximum(src, 0.0)
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w1 = src - i0
    return i0, i1, 1.0 - w1, w1


def upsample(a: np.ndarray, size: int) -> np.ndarray:
    """Bilinear (C, h, w) -> (C, size, size) in float64."""
    a = a.astype(np.float64)
    y0, y1, wy0, wy1 = bilinear_axis(a.shape[1], size)
    x0, x1, wx0, wx1 = bilinear_axis(a.shape[2], size)
    rows = a[:, y0, :] * wy0[None, :, None] + a[:, y1, :] * wy1[None, :, None]
    return rows[:, :, x0] * wx0[None, None, :] + rows[:, :, x1] * wx1[None, None, :]


def nas_matrix(arch: str, image: str, levels, size: int) -> np.ndarray:
    """Upsample, standardise per channel, weight by 1/sqrt(C), concatenate."""
    parts = []
    for lvl in levels:
        u = upsample(level(arch, image, lvl), size)
        c = u.shape[0]
        flat = u.reshape(c, size * size)
        mean = flat.mean(axis=1, keepdims=True)
        std = np.sqrt(((flat - mean) ** 2).mean(axis=1, keepdims=True))
        z = np.where(std > 0, (flat - mean) / np.where(std > 0, std, 1.0), 0.0)
        parts.append(z / np.sqrt(c))
    return np.ascontiguousarray(np.concatenate(parts, axis=0).T.astype(np.float32))


# name -> (kind, arch, image, levels, size); the Rust tests read the same table from the manifest.
DATASETS = {
    "r18-chelsea-l2": ("raw", "resnet18-seed0", "chelsea", [2], None),
    "r18-coffee-l3": ("raw", "resnet18-seed0", "coffee", [3], None),
    "eff-rocket-l2": ("raw", "efficientnet-lite0", "rocket", [2], None),
    "eff-chelsea-l3": ("raw", "efficientnet-lite0", "chelsea", [3], None),
    "r18-chelsea-nas56": ("nas", "resnet18-seed0", "chelsea", [2, 3, 4], 56),
    "eff-coffee-nas56": ("nas", "efficientnet-lite0", "coffee", [2, 3, 4], 56),
}
BENCH = ("nas", "resnet18-seed0", "chelsea", [2, 3, 4], 224)

KMEANS_KS = [3, 5, 8]
KMEANS_SEEDS = [0, 1, 2]
SINGLE_SEEDS = 50
WARD_KS = [2, 3, 5, 8, 12]


def checksum(x: np.ndarray) -> dict:
    """Sums the Rust tests compare to check that they rebuilt the same matrix."""
    x64 = x.astype(np.float64)
    return {"sum": float(x64.sum()), "sum_sq": float((x64 ** 2).sum()), "row0_head": [float(v) for v in x[0, :8]]}


def build(spec) -> np.ndarray:
    kind, arch, image, levels, size = spec
    if kind == "raw":
        return raw_matrix(arch, image, levels[0])
    return nas_matrix(arch, image, levels, size)


def save_labels(name: str, labels: np.ndarray) -> str:
    assert labels.max() < 256
    np.save(OUT / name, labels.astype(np.uint8))
    return name


def raster_relabel(cc: np.ndarray) -> np.ndarray:
    """Renumber a component map 0.. in raster order of first appearance."""
    flat = cc.ravel()
    _, first = np.unique(flat, return_index=True)
    order = np.argsort(first)
    remap = np.empty(flat.max() + 1, dtype=np.int64)
    remap[np.unique(flat)[order]] = np.arange(order.size)
    return remap[flat].reshape(cc.shape)


def components(label_map: np.ndarray, eight: bool):
    """scipy.ndimage.label of each cluster; returns (component map, cluster of each component)."""
    structure = np.ones((3, 3), dtype=int) if eight else None
    out = np.full(label_map.shape, -1, dtype=np.int64)
    offset = 0
    for c in np.unique(label_map):
        cc, n = scipy.ndimage.label(label_map == c, structure=structure)
        out[cc > 0] = cc[cc > 0] - 1 + offset
        offset += n
    out = raster_relabel(out)
    first = {}
    for comp, lab in zip(out.ravel(), label_map.ravel()):
        first.setdefault(int(comp), int(lab))
    return out, [first[i] for i in range(len(first))]


def time_bench(save: bool) -> dict:
    """Time KMeans(n_init=1) on the 224 x 224 NAS matrix, as the Rust example builds it."""
    x = build(BENCH)
    print("bench", x.shape, flush=True)
    # scikit-learn's Lloyd loop runs on 2 OpenMP threads; BLAS limited to 1 thread is its
    # fastest setting here (BLAS threads spinning beside the OpenMP ones cost 20-30%).
    with threadpool_limits(limits=2), threadpool_limits(limits=1, user_api="blas"):
        info = [{"prefix": i.get("prefix"), "architecture": i.get("architecture"), "num_threads": i.get("num_threads")}
                for i in threadpool_info()]
        KMeans(n_clusters=5, n_init=1, random_state=123).fit(x)  # warm-up
        runs = []
        for seed in range(5):
            best = None
            for _ in range(3):  # best of 3 repeats, as the Rust example
                t = time.perf_counter()
                km = KMeans(n_clusters=5, init="k-means++", n_init=1, tol=1e-4, max_iter=300,
                            algorithm="lloyd", random_state=seed).fit(x)
                dt = time.perf_counter() - t
                best = dt if best is None else min(best, dt)
            runs.append({"seed": seed, "seconds": best, "n_iter": int(km.n_iter_), "inertia": float(km.inertia_)})
            print(runs[-1], flush=True)
        t = time.perf_counter()
        km10 = KMeans(n_clusters=5, init="k-means++", n_init=10, random_state=0, algorithm="lloyd").fit(x)
        t10 = time.perf_counter() - t
        # Ward on the 56 x 56 grid of the same image (the grid Ward is meant for).
        x56 = build(DATASETS["r18-chelsea-nas56"])
        ward_s = []
        for _ in range(3):
            t = time.perf_counter()
            AgglomerativeClustering(n_clusters=5, linkage="ward").fit(x56)
            ward_s.append(time.perf_counter() - t)
    if save:
        save_labels("kmeans-r18-chelsea-nas224-k5.npy", km10.labels_)
    secs = sorted(r["seconds"] for r in runs)
    return {
        "dataset": {"kind": BENCH[0], "arch": BENCH[1], "image": BENCH[2], "levels": BENCH[3], "size": BENCH[4],
                    "shape": list(x.shape), "checksum": checksum(x)},
        "k": 5, "threads": "2 OpenMP, BLAS 1", "threadpools": info,
        "cpu": platform.processor() or platform.machine(),
        "n_init1_runs": runs, "n_init1_median_seconds": secs[len(secs) // 2],
        "n_init10_seconds": t10, "n_init10_inertia": float(km10.inertia_),
        "n_init10_labels": "kmeans-r18-chelsea-nas224-k5.npy",
        "ward_nas56_seconds": min(ward_s),
    }


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.glob("*.npy"):
        f.unlink()
    manifest = {
        "generator": "nas-cluster/scripts/make_fixtures.py",
        "versions": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "sklearn": sklearn.__version__,
        },
        "kmeans_params": {"init": "k-means++", "n_init": 10, "tol": 1e-4, "max_iter": 300, "algorithm": "lloyd"},
        "datasets": {},
        "kmeans": [],
        "ward": [],
        "ari": [],
        "components": [],
    }
    labels_by_key = {}
    with threadpool_limits(limits=2):
        for name, spec in DATASETS.items():
            kind, arch, image, levels, size = spec
            x = build(spec)
            manifest["datasets"][name] = {
                "kind": kind, "arch": arch, "image": image, "levels": levels, "size": size,
                "shape": list(x.shape), "checksum": checksum(x),
            }
            print(name, x.shape, flush=True)
            for k in KMEANS_KS:
                runs = []
                for seed in KMEANS_SEEDS:
                    km = KMeans(n_clusters=k, init="k-means++", n_init=10, tol=1e-4, max_iter=300,
                                algorithm="lloyd", random_state=seed).fit(x)
                    runs.append((float(km.inertia_), km.labels_.copy(), int(km.n_iter_)))
                best = min(range(len(runs)), key=lambda i: runs[i][0])
                aris = [adjusted_rand_score(runs[i][1], runs[j][1])
                        for i in range(len(runs)) for j in range(i + 1, len(runs))]
                # The distribution of single-initialisation runs, for a statistical comparison.
                singles = [float(KMeans(n_clusters=k, init="k-means++", n_init=1, tol=1e-4, max_iter=300,
                                        algorithm="lloyd", random_state=seed).fit(x).inertia_)
                           for seed in range(SINGLE_SEEDS)]
                fname = save_labels(f"kmeans-{name}-k{k}.npy", runs[best][1])
                labels_by_key[("kmeans", name, k)] = runs[best][1]
                manifest["kmeans"].append({
                    "dataset": name, "k": k, "seeds": KMEANS_SEEDS,
                    "inertia": [r[0] for r in runs], "best_inertia": runs[best][0],
                    "n_iter": [r[2] for r in runs],
                    "self_ari": float(min(aris)), "labels": fname,
                    "single_inertias": singles,
                })
            for k in WARD_KS:
                lab = AgglomerativeClustering(n_clusters=k, linkage="ward").fit(x).labels_
                fname = save_labels(f"ward-{name}-k{k}.npy", lab)
                labels_by_key[("ward", name, k)] = lab
                manifest["ward"].append({"dataset": name, "k": k, "labels": fname})

    # ARI between real label vectors (k-means vs Ward, different K) ...
    for name in DATASETS:
        for ka, kb in [(3, 3), (5, 5), (8, 8), (3, 8), (5, 12)]:
            a_key = ("kmeans", name, ka) if ka in KMEANS_KS else ("ward", name, ka)
            b_key = ("ward", name, kb)
            a, b = labels_by_key[a_key], labels_by_key[b_key]
            manifest["ari"].append({
                "a": f"{a_key[0]}-{name}-k{ka}.npy", "b": f"{b_key[0]}-{name}-k{kb}.npy",
                "value": float(adjusted_rand_score(a, b)),
            })
    # ... and on small handcrafted vectors (edge cases of the formula).
    small = [
        ([0, 0, 1, 1], [1, 1, 0, 0]),
        ([0, 0, 1, 2], [0, 0, 1, 1]),
        ([0, 0, 0, 0], [0, 1, 2, 3]),
        ([0, 1, 2, 3], [0, 1, 2, 3]),
        ([0, 0, 0, 0], [0, 0, 0, 0]),
        ([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 1, 1]),
        ([7, 7, 3, 3, 9, 9, 9], [1, 1, 1, 2, 2, 5, 5]),
        ([0, 1], [1, 0]),
        ([4], [2]),
    ]
    for a, b in small:
        manifest["ari"].append({"a": a, "b": b, "value": float(adjusted_rand_score(a, b))})

    manifest["bench"] = time_bench(save=True)
    labels_by_key[("kmeans", "r18-chelsea-nas224", 5)] = np.load(OUT / manifest["bench"]["n_init10_labels"])

    # Connected components of real label maps, 4- and 8-connectivity.
    for name, k, size in [("r18-chelsea-nas56", 5, 56), ("eff-coffee-nas56", 8, 56), ("r18-chelsea-nas224", 5, 224)]:
        lab = labels_by_key[("kmeans", name, k)].reshape(size, size)
        for eight in (False, True):
            cc, clusters = components(lab, eight)
            conn = 8 if eight else 4
            fname = f"components-{name}-k{k}-c{conn}.npy"
            np.save(OUT / fname, cc.astype(np.uint16))
            manifest["components"].append({
                "labels": f"kmeans-{name}-k{k}.npy", "shape": [size, size], "connectivity": conn,
                "components": fname, "clusters": clusters,
            })

    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print("wrote", OUT)


if __name__ == "__main__":
    if "--time-only" in sys.argv:
        # Only the benchmark timing, printed; no fixture is written.
        print(json.dumps(time_bench(save=False), indent=1))
    else:
        main()
