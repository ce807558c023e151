"""Photos and networks the newer fixture scripts share: a shared photo as floats in [0, 1], its
normalised input, torchvision networks with the shared seed-0 file or nas's `random:SEED` weights
(nas_random_weights.py), and EfficientNet-Lite0 with its ImageNet weights."""
import os
import numpy as np
import torch
import torchvision
from PIL import Image
from nas_random_weights import random_state_dict

IMAGENET = (np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225]))
LITE = (np.array([127.0 / 255] * 3), np.array([128.0 / 255] * 3))


def photo(shared, name):
    """images/NAME.png of the shared folder, RGB, float32 in [0, 1], (H, W, 3)."""
    return np.asarray(Image.open(os.path.join(shared, f"images/{name}.png")).convert("RGB"), np.float32) / 255


def normalised(im, stats):
    """A photo from `photo` as a (1, 3, H, W) float32 tensor normalised by (mean, std)."""
    mean, std = stats
    return torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))


def resnet18_seed0(shared):
    """torchvision resnet18 with ../shared/weights/resnet18-seed0.pth, in eval mode."""
    net = torchvision.models.resnet18()
    net.load_state_dict(torch.load(os.path.join(shared, "weights/resnet18-seed0.pth"), map_location="cpu"))
    return net.eval()


def random_weights(net, seed=0):
    """`net` with nas's `random:SEED` weights, in eval mode."""
    net.load_state_dict(random_state_dict(net, seed))
    return net.eval()


def efficientnet_lite0(shared):
    """EfficientNet-Lite0 (efficientnet-lite-pytorch) with its ImageNet weights, in eval mode."""
    from efficientnet_lite_pytorch import EfficientNet
    net = EfficientNet.from_name("efficientnet-lite0")
    net.load_state_dict(torch.load(os.path.join(shared, "weights/efficientnet-lite0-57934424.pth"), map_location="cpu"))
    return net.eval()


class LiteWithHead(torch.nn.Module):
    """EfficientNet-Lite0 with an identity module on the head activation (level 4), for hooks."""
    def __init__(self, m):
        super().__init__()
        self.m, self.head = m, torch.nn.Identity()

    def forward(self, x):
        m = self.m
        h = m._swish(m._bn0(m._conv_stem(x)))
        for blk in m._blocks:
            h = blk(h, drop_connect_rate=0.0)
        h = self.head(m._swish(m._bn1(m._conv_head(h))))
        return m._fc(torch.flatten(m._avg_pooling(h), 1))
