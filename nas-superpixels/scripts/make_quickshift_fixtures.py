"""Fixtures for `quickshift`: scikit-image 0.26's `skimage.segmentation.quickshift` on the shared
photos chelsea-224 and astronaut-224 (PNG, RGB uint8), with
  default: its defaults (ratio 1, kernel_size 5, max_dist 10, sigma 0, convert2lab, rng=42);
  lime: the LIME package's default segmentation (kernel_size 4, max_dist 200, ratio 0.2);
  sigma1: kernel_size 3, max_dist 6, sigma 1 (the Gaussian smoothing first).
scikit-image 0.26 breaks density ties with np.random.default_rng(42).normal(scale=1e-5,
size=(H, W)) (a PCG64 Generator); those draws are saved too (noise-224.npy.gz, float64), for the
tests to hand the same noise in. Labels are saved as uint16 .npy.gz; manifest.json records each
setting's segment count and scikit-image's median time of 5 calls (for the bench example).

    /work/venv-torch/bin/python nas-superpixels/scripts/make_quickshift_fixtures.py ../shared nas-superpixels/tests/fixtures/quickshift
"""
import gzip, io, json, os, sys, time
import numpy as np
from PIL import Image
from skimage.segmentation import quickshift

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)


def save(name, array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    with open(os.path.join(out, name), "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
        f.write(buffer.getvalue())


settings = {
    "default": {},
    "lime": dict(kernel_size=4, max_dist=200, ratio=0.2),
    "sigma1": dict(kernel_size=3, max_dist=6, sigma=1.0),
}
manifest = []
for photo in ["chelsea-224", "astronaut-224"]:
    image = np.asarray(Image.open(os.path.join(shared, f"images/{photo}.png")).convert("RGB"))
    for name, params in settings.items():
        times = []
        for _ in range(5):
            start = time.perf_counter()
            labels = quickshift(image, rng=42, **params)
            times.append(1000 * (time.perf_counter() - start))
        ms = float(np.median(times))
        save(f"{photo}__{name}.npy.gz", labels.astype(np.uint16))
        manifest.append({"image": photo, "setting": name, "params": params, "segments": int(labels.max()) + 1,
                         "skimage_ms": ms})
        print(photo, name, "segments", labels.max() + 1, f"{ms:.0f} ms")
save("noise-224.npy.gz", np.random.default_rng(42).normal(scale=0.00001, size=(224, 224)))
with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump({"fixtures": manifest}, f, indent=1)
