"""Reference for `sobel-cam`: pytorch-grad-cam 1.5.7's `sobel_cam` (OpenCV 5.0.0: RGB to grey, 3x3 Sobel
in x and y as float64, `convertScaleAbs` each, `addWeighted` 0.5 / 0.5) on the top-left 96x96
corners of chelsea-224.png and coffee-224.png (uint8 RGB).

    /work/venv-torch/bin/python scripts/make_sobel_cam_fixture.py ../shared nas-plugins/tests/fixtures/sobel_cam
Writes <photo>.npy ((96, 96) int32, the uint8 map). Needs numpy, pillow, opencv, grad-cam."""
import os, sys
import numpy as np
from PIL import Image
from pytorch_grad_cam.sobel_cam import sobel_cam

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
for name in ("chelsea", "coffee"):
    img = np.asarray(Image.open(os.path.join(shared, f"images/{name}-224.png")).convert("RGB"))[:96, :96].copy()
    grad = sobel_cam(img)
    assert grad.dtype == np.uint8
    np.save(os.path.join(out, f"{name}.npy"), grad.astype(np.int32))
    print(name, "mean", float(grad.mean()), "max", int(grad.max()))
