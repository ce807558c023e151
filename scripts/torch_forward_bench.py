"""PyTorch's CPU forward time for the backbones of nas, to compare with
`cargo run --release -p nas-plugins --example forward_bench` (docs/parity.md, "CPU speed").

    python torch_forward_bench.py [--threads 2] [--runs 5] [--warmup 5] [ARCH ...]

ARCH: resnet18 resnet50 vgg16 vit_b_16 efficientnet-lite0 (default: these), or any other ResNet (Wide ResNets and ResNeXts included),
VGG (with or without BatchNorm), ViT, ConvNeXt, EfficientNet-B, Swin, MaxViT, MNASNet, ShuffleNet V2 or mobilenet_v2 of nas. Weights are random
(speed does not depend on them). Prints the median (and the fastest) of `runs` timed passes of the
plain module after `warmup` untimed ones (PyTorch's CPU kernels need 3-4 calls before they reach
their steady speed: the first calls were 10-100x slower here), at 224x224, batch 1, in inference
mode, and the median split of a staged forward (the same stages as make_refs.py) into the
stretches between depth levels, as the Rust benchmark does.
Needs torch, torchvision, numpy, pillow (and efficientnet-lite-pytorch for efficientnet-lite0), and
make_refs.py from the shared reference folder ($NAS_SHARED, default /work/shared)."""
import argparse, os, sys, time
import numpy as np, torch

sys.path.insert(0, os.path.join(os.environ.get("NAS_SHARED", "/work/shared"), "reference"))
import make_refs  # noqa: E402  (builds the models exactly as the parity references do)


def staged(arch, m, x, mark):
    """make_refs.levels' forward, calling mark() whenever a depth level is ready."""
    if arch.startswith(("resnet", "wide_resnet", "resnext")):
        h = m.maxpool(m.relu(m.bn1(m.conv1(x)))); mark()
        for l in (m.layer1, m.layer2, m.layer3, m.layer4):
            h = l(h); mark()
        return m.fc(torch.flatten(m.avgpool(h), 1))
    if arch.startswith("vgg"):
        feats = list(m.features); h = x
        for i, mod in enumerate(feats):
            h = mod(h)
            # The level: the convolution (or its BatchNorm) whose ReLU precedes a max-pool.
            if i + 2 < len(feats) and isinstance(feats[i + 2], torch.nn.MaxPool2d) and isinstance(
                    mod, (torch.nn.Conv2d, torch.nn.BatchNorm2d)):
                mark()
        return m.classifier(torch.flatten(m.avgpool(h), 1))
    if arch == "mobilenet_v2":
        h = m.features[0](x)
        for i, blk in enumerate(list(m.features)[1:-1]):
            h = blk(h)
            if i in (0, 2, 5, 12):
                mark()
        h = m.features[-1](h); mark()
        return m.classifier(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(h, 1), 1))
    if arch.startswith("vit_"):
        marks = {"vit_b": (2, 4, 6, 8, 10), "vit_l": (4, 8, 12, 16, 20), "vit_h": (5, 11, 16, 21, 27)}[arch[:5]]
        n = x.shape[0]
        h = m._process_input(x)
        h = torch.cat([m.class_token.expand(n, -1, -1), h], 1) + m.encoder.pos_embedding
        g = int((h.shape[1] - 1) ** 0.5)
        for i, blk in enumerate(m.encoder.layers):
            h = blk(h)
            if i in marks:
                h[:, 1:, :].transpose(1, 2).reshape(n, -1, g, g); mark()
        return m.heads(m.encoder.ln(h)[:, 0])
    if arch.startswith(("efficientnet_b", "efficientnet_v2", "swin", "convnext")):
        # Levels at these indices of `features`: EfficientNet's stages 1, 2, 3, 5 and head; the
        # stem and stages of Swin and ConvNeXt.
        efficient = arch.startswith("efficientnet")
        marks = (1, 2, 3, 5, len(m.features) - 1) if efficient else (0, 1, 3, 5, 7)
        h = x
        for i, stage in enumerate(m.features):
            h = stage(h)
            if i in marks:
                mark()
        if arch.startswith("swin"):
            return m.head(m.flatten(m.avgpool(m.permute(m.norm(h)))))
        return m.classifier(torch.flatten(m.avgpool(h), 1)) if efficient else m.classifier(m.avgpool(h))
    if arch == "maxvit_t":
        h = m.stem(x); mark()
        for block in m.blocks:
            h = block(h); mark()
        return m.classifier(h)
    if arch.startswith("mnasnet"):
        h = x
        for i, mod in enumerate(m.layers):
            h = mod(h)
            if i in (7, 8, 9, 11, 16):
                mark()
        return m.classifier(h.mean([2, 3]))
    if arch.startswith("shufflenet"):
        h = m.maxpool(m.conv1(x)); mark()
        for stage in (m.stage2, m.stage3, m.stage4):
            h = stage(h); mark()
        h = m.conv5(h); mark()
        return m.fc(h.mean([2, 3]))
    if arch.startswith("squeezenet"):
        picks = (1, 5, 10, 12) if arch == "squeezenet1_0" else (1, 4, 7, 12)
        h = x
        for i, mod in enumerate(m.features):
            h = mod(h)
            if i in picks:
                mark()
        classes = m.classifier[2](m.classifier[1](h)); mark()
        return torch.flatten(m.classifier[3](classes), 1)
    if arch == "inception_v3":
        h = m.maxpool1(m.Conv2d_2b_3x3(m.Conv2d_2a_3x3(m.Conv2d_1a_3x3(x)))); mark()
        h = m.maxpool2(m.Conv2d_4a_3x3(m.Conv2d_3b_1x1(h))); mark()
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            h = getattr(m, "Mixed_" + name)(h)
            if name in ("5d", "6e", "7c"):
                mark()
        return m.fc(torch.flatten(m.avgpool(h), 1))
    if arch == "googlenet":
        h = m.maxpool1(m.conv1(x)); mark()
        h = m.conv3(m.conv2(h)); mark()
        h = m.inception3b(m.inception3a(m.maxpool2(h))); mark()
        h = m.maxpool3(h)
        for name in ("4a", "4b", "4c", "4d", "4e"):
            h = getattr(m, "inception" + name)(h)
        mark()
        h = m.inception5b(m.inception5a(m.maxpool4(h))); mark()
        return m.fc(torch.flatten(m.avgpool(h), 1))
    if arch == "alexnet":
        h = x
        for mod in m.features:
            h = mod(h)
            if isinstance(mod, torch.nn.Conv2d):
                mark()
        return m.classifier(torch.flatten(m.avgpool(h), 1))
    if arch.startswith("regnet"):
        h = m.stem(x); mark()
        for stage in m.trunk_output:
            h = stage(h); mark()
        return m.fc(torch.flatten(m.avgpool(h), 1))
    if arch == "efficientnet-lite0":
        h = m._swish(m._bn0(m._conv_stem(x)))
        for i, blk in enumerate(m._blocks):
            h = blk(h, drop_connect_rate=0.0)
            if i in (0, 2, 4, 10):
                mark()
        h = m._swish(m._bn1(m._conv_head(h))); mark()
        return m._fc(torch.flatten(m._avg_pooling(h), 1))
    raise SystemExit(f"unknown arch {arch}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2); p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("archs", nargs="*", default=["resnet18", "resnet50", "vgg16", "vit_b_16", "efficientnet-lite0"])
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    names = ["input -> level 0"] + [f"level {i - 1} -> level {i}" for i in range(1, 5)] + ["level 4 -> logits"]
    for arch in a.archs:
        m = make_refs.build(arch, None, 0)
        plain, parts = [], []
        with torch.inference_mode():
            for i in range(a.warmup + a.runs):
                t = time.perf_counter(); m(x); dt = time.perf_counter() - t
                if i >= a.warmup:
                    plain.append(dt)
            for i in range(a.runs + 1):
                stamps = [time.perf_counter()]
                staged(arch, m, x, lambda: stamps.append(time.perf_counter()))
                stamps.append(time.perf_counter())
                if i:
                    parts.append(np.diff(stamps))
        total = np.median(plain) * 1e3
        print(f"{arch}: forward median of {a.runs} = {total:.1f} ms (fastest {min(plain) * 1e3:.1f} ms)")
        for n, v in zip(names, np.median(np.array(parts), axis=0) * 1e3):
            print(f"  {n:<20} {v:8.1f} ms  {100 * v / total:5.1f}%")


if __name__ == "__main__":
    main()
