#!/usr/bin/env python3
"""Make the scikit-image reference fixtures for the `nas-superpixels` tests.

Runs scikit-image 0.26's ``slic`` and ``felzenszwalb`` on every photo in the
shared image folder (the full-size photos and their ``*-224.png`` crops) for a
few parameter settings each, and writes:

* ``tests/fixtures/<image>__<setting>.npy.gz``: the label map, as a gzip'd
  ``.npy`` array of dtype ``<u2`` (uint16) and shape (H, W);
* ``tests/fixtures/<image>.pixels.npy.gz``: for JPEG photos only, the uint8
  RGB pixels (H, W, 3) that scikit-image was given. JPEG decoders may differ by
  a few levels (PIL's libjpeg-turbo and the Rust ``image`` crate do, on about
  1% of values), which moves a few segment borders; the tests segment these
  exact pixels for the parity check and the Rust decoding separately;
* ``tests/fixtures/manifest.json``: one entry per fixture with the image file,
  the algorithm, its parameters, the label-map shape, scikit-image's segment
  count, and scikit-image's wall time per call (median and minimum of several
  runs after a warm-up, in milliseconds, on the machine that ran this script).

The photos are passed to scikit-image as uint8 RGB arrays, the usual way of
calling it (scikit-image then works in float64 on values / 255). The Rust tests
pass the same photos as f32 values / 255 and compare label maps with the
adjusted Rand index, so no Python is needed to run them.

Usage (from anywhere; a venv with scikit-image 0.26, numpy and pillow):

    python3 -m venv /work/venv-skimage
    /work/venv-skimage/bin/pip install "scikit-image==0.26.*" numpy pillow
    /work/venv-skimage/bin/python nas-superpixels/scripts/make_fixtures.py \
        [--shared /work/shared] [--out nas-superpixels/tests/fixtures]

The shared folder is taken from ``--shared``, else ``$NAS_SHARED``, else
``<crate>/../../shared``, else ``/work/shared``.
"""

import argparse
import gzip
import io
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import skimage
from PIL import Image
from skimage.segmentation import felzenszwalb, slic

CRATE = Path(__file__).resolve().parent.parent

# (name, parameters) for each setting; the names end up in the fixture file names.
SLIC_224 = [
    ("slic_n20", dict(n_segments=20)),
    ("slic_n100", dict(n_segments=100)),
    ("slic_n250", dict(n_segments=250)),
    ("slic_n100_c1", dict(n_segments=100, compactness=1.0)),
    ("slic_n100_sigma1", dict(n_segments=100, sigma=1.0)),
    ("slic_n100_zero", dict(n_segments=100, slic_zero=True)),
    ("slic_n100_noconn_start0", dict(n_segments=100, enforce_connectivity=False, start_label=0)),
]
SLIC_FULL = [
    ("slic_n20", dict(n_segments=20)),
    ("slic_n100", dict(n_segments=100)),
    ("slic_n250_sigma1", dict(n_segments=250, sigma=1.0)),
]
FELZ_224 = [
    ("felz_default", dict(scale=1.0, sigma=0.8, min_size=20)),
    ("felz_s100_sig05_m50", dict(scale=100.0, sigma=0.5, min_size=50)),
    ("felz_s500_sig08_m50", dict(scale=500.0, sigma=0.8, min_size=50)),
    ("felz_s100_sig08_m20", dict(scale=100.0, sigma=0.8, min_size=20)),
]
FELZ_FULL = [
    ("felz_default", dict(scale=1.0, sigma=0.8, min_size=20)),
    ("felz_s100_sig05_m50", dict(scale=100.0, sigma=0.5, min_size=50)),
    ("felz_s500_sig08_m50", dict(scale=500.0, sigma=0.8, min_size=50)),
]


def shared_dir(arg):
    candidates = [arg, os.environ.get("NAS_SHARED"), CRATE / ".." / ".." / "shared", "/work/shared"]
    for c in candidates:
        if c and (Path(c) / "images").is_dir():
            return Path(c).resolve()
    sys.exit("shared folder with images/ not found; pass --shared or set NAS_SHARED")


def timed(fn, image, params, repeats):
    """Run fn once to warm up, then `repeats` times; return (labels, median ms, min ms)."""
    labels = fn(image, **params)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn(image, **params)
        times.append((time.perf_counter() - t0) * 1e3)
    return labels, statistics.median(times), min(times)


def save_npy_gz(path, array):
    buf = io.BytesIO()
    np.save(buf, array)
    # mtime=0 keeps the files byte-identical between runs.
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as f:
        f.write(buf.getvalue())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=None)
    ap.add_argument("--out", default=str(CRATE / "tests" / "fixtures"))
    ap.add_argument("--repeats-224", type=int, default=7)
    ap.add_argument("--repeats-full", type=int, default=3)
    args = ap.parse_args()

    images_dir = shared_dir(args.shared) / "images"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in images_dir.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))

    entries = []
    for path in files:
        image = np.asarray(Image.open(path).convert("RGB"))
        if path.suffix.lower() in (".jpg", ".jpeg"):
            save_npy_gz(out / f"{path.stem}.pixels.npy.gz", image.astype("u1"))
        small = path.stem.endswith("-224")
        repeats = args.repeats_224 if small else args.repeats_full
        plan = [("slic", slic, p) for p in (SLIC_224 if small else SLIC_FULL)]
        plan += [("felzenszwalb", felzenszwalb, p) for p in (FELZ_224 if small else FELZ_FULL)]
        for algorithm, fn, (name, params) in plan:
            labels, ms, min_ms = timed(fn, image, params, repeats)
            fixture = f"{path.stem}__{name}.npy.gz"
            if labels.min() < 0 or labels.max() > np.iinfo(np.uint16).max:
                raise ValueError(f"labels of {fixture} do not fit uint16")
            save_npy_gz(out / fixture, labels.astype("<u2"))
            entry = dict(
                fixture=fixture,
                image=path.name,
                pixels=f"{path.stem}.pixels.npy.gz" if path.suffix.lower() in (".jpg", ".jpeg") else None,
                algorithm=algorithm,
                setting=name,
                params=params,
                shape=list(labels.shape),
                n_segments=int(len(np.unique(labels))),
                min_label=int(labels.min()),
                skimage_ms=round(ms, 3),
                skimage_min_ms=round(min_ms, 3),
                repeats=repeats,
            )
            entries.append(entry)
            print(f"{fixture}: {entry['n_segments']} segments, {ms:.1f} ms", flush=True)

    manifest = dict(
        generator="nas-superpixels/scripts/make_fixtures.py",
        skimage_version=skimage.__version__,
        numpy_version=np.__version__,
        python_version=platform.python_version(),
        machine=f"{platform.machine()}, {os.cpu_count()} logical CPUs",
        timing="skimage_ms / skimage_min_ms: median / minimum wall time of `repeats` calls after one warm-up call",
        fixtures=entries,
    )
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
