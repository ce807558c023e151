"""Reference for `xrai`'s regions and ranking: the PAIR saliency library's XRAI (saliency 0.2.1,
`saliency.core.XRAI().GetMask` with default parameters) on chelsea-224.png (pixels in [0, 1],
given as float64) with a fixed base attribution: the Integrated Gradients map of
nas-plugins/tests/fixtures/integrated_gradients (EfficientNet-Lite0, channels summed), repeated
over the three channels, so that XRAI's channel maximum gives it back.

    python scripts/make_xrai_fixture.py ../shared nas-plugins/tests/fixtures/xrai
Needs saliency, scikit-image, numpy, pillow (a venv outside the repo)."""
import sys, os, numpy as np
from PIL import Image
import saliency.core as saliency

shared, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
photo = np.asarray(Image.open(os.path.join(shared, "images/chelsea-224.png")).convert("RGB"), np.float32) / 255
here = os.path.dirname(os.path.abspath(__file__))
attr = np.load(os.path.join(here, "../nas-plugins/tests/fixtures/integrated_gradients/efficientnet-lite0.chelsea-224.gausslegendre-16-zero.npy"))
attr3 = np.repeat(attr[:, :, None], 3, axis=2).astype(np.float32)
xrai = saliency.XRAI()
result = xrai.GetMaskWithDetails(photo.astype(np.float64), lambda *a, **k: None, base_attribution=attr3,
                                 extra_parameters=saliency.XRAIParameters())
np.save(os.path.join(out, "chelsea-224.xrai.npy"), result.attribution_mask.astype(np.float32))
print("map", result.attribution_mask.shape, result.attribution_mask.min(), result.attribution_mask.max(),
      "distinct values", len(np.unique(result.attribution_mask)))

# The whole method: EfficientNet-Lite0 (its normalisation is the same affine map on every
# channel, so segmenting the normalised input, as the library does, segments the photo), 8
# Integrated Gradients steps per baseline, gradients of the predicted logit.
import torch
from efficientnet_lite_pytorch import EfficientNet
m = EfficientNet.from_name("efficientnet-lite0")
m.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu")); m.eval()
x = ((photo - 127.0 / 255) / (128.0 / 255)).astype(np.float32)
target = int(m(torch.from_numpy(x.transpose(2, 0, 1)[None])).argmax())


def gradients(batch, call_model_args=None, expected_keys=None):
    t = torch.from_numpy(np.asarray(batch, np.float32).transpose(0, 3, 1, 2)).requires_grad_()
    m(t)[:, target].sum().backward()
    return {saliency.base.INPUT_OUTPUT_GRADIENTS: t.grad.numpy().transpose(0, 2, 3, 1)}


params = saliency.XRAIParameters(steps=8)
full = xrai.GetMaskWithDetails(x.astype(np.float64), gradients, batch_size=8, extra_parameters=params)
np.save(os.path.join(out, "efficientnet-lite0.chelsea-224.xrai-8.npy"), full.attribution_mask.astype(np.float32))
print("target", target, "whole method: map", full.attribution_mask.min(), full.attribution_mask.max())
