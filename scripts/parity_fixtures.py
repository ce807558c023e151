"""Compacts full PyTorch reference arrays (from ../shared/reference/make_refs.py) into the small
fixtures committed under nas-plugins/tests/fixtures/<arch>/, or checks that a weight file matches
the fixtures. Called by scripts/make_parity_fixtures.sh; see docs/parity.md.

    python parity_fixtures.py write --arch A --weights W.pth --refs DIR --out FIXDIR --images STEM...
    python parity_fixtures.py check --weights W.pth --out FIXDIR
    python parity_fixtures.py seed-weights --arch A --weights W.pth
    python parity_fixtures.py random-weights --arch A --weights W.pth [--seed 0]
    python parity_fixtures.py mnasnet-v1-weights --weights W.pth --out FIXDIR [--seed 0]
    python parity_fixtures.py vit-grid-refs --make-refs .../make_refs.py --weights W.pth --out FIXDIR --refs DIR
    python parity_fixtures.py refs --make-refs .../make_refs.py --arch A --weights W.pth --out DIR IMG.png...

`refs` runs make_refs.py with every ReLU made out-of-place: make_refs.py records VGG-16's levels
(the convolutions before each max-pool, *before* their ReLU) by keeping a reference to the
convolution's output, which torchvision's `ReLU(inplace=True)` then overwrites, so run directly it
would store the levels after the ReLU.

Random weights (random-weights): nas's `random:SEED` weights for torchvision's <arch>() state dict,
drawn as nas draws them (scripts/nas_random_weights.py), so that the test can load `random:SEED`
itself and no weight file has to exist where the tests run (fixtures under <arch>-random0/).

Seeded weights: torchvision's <arch>() built right after torch.manual_seed(0), as make_refs.py
does, except that for vit_b_16 torchvision's all-zero head (heads.head) and class token would give
all-zero logits that test nothing: they are redrawn from N(0, 0.02^2) after torch.manual_seed(1).

Fixture layout, per image stem S (all float32 unless said):
  S.logits.npy                 the full logits (classes,)
  S.level{L}.npy               the full level (C, h, w)           when C*h*w <= FULL_LIMIT
  S.level{L}.positions.npy     int64 (SAMPLES, 3): (c, y, x)      otherwise: seeded sample positions,
  S.level{L}.values.npy        (SAMPLES,) the values there,
  S.level{L}.channel_means.npy (C,) the mean of each channel over (y, x), computed in float64.
  manifest.toml                arch, versions, the weights' content hash, level shapes and storage.
The weights' content hash is the sha256 of, for each key in sorted order, the key, its shape and its
float32 little-endian bytes: torch.save files themselves are not byte-reproducible."""
import argparse, hashlib, importlib.util, os, sys
import numpy as np

# Elements: ResNet-50 level 4 (2048x7x7) and VGG-16 level 4 (512x14x14) are kept whole;
# NAS_PARITY_FULL_LIMIT lowers it (the added backbones' fixtures use 20000, to keep them small).
FULL_LIMIT = int(os.environ.get("NAS_PARITY_FULL_LIMIT", 110_000))
SAMPLES = 512
SAMPLE_SEED = 20240611


def content_hash(weights):
    import torch
    sd = torch.load(weights, map_location="cpu")
    h = hashlib.sha256()
    for key in sorted(sd):
        t = sd[key]
        if not t.is_floating_point():
            continue  # num_batches_tracked
        h.update(key.encode()); h.update(repr(tuple(t.shape)).encode())
        h.update(t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes())
    return h.hexdigest()


def seed_weights(a):
    import torch, torchvision
    torch.manual_seed(0)
    m = getattr(torchvision.models, a.arch.replace("-", "_"))()
    if a.arch == "vit_b_16":
        torch.manual_seed(1)
        with torch.no_grad():
            for t in (m.heads.head.weight, m.heads.head.bias, m.class_token):
                t.normal_(0.0, 0.02)
    torch.save(m.state_dict(), a.weights)


def random_weights(a):
    import torch, torchvision
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from nas_random_weights import random_state_dict
    m = getattr(torchvision.models, a.arch.replace("-", "_"))()
    torch.save(random_state_dict(m, a.seed), a.weights)


def mnasnet_v1_weights(a):
    """torchvision's older MNASNet-0.5 layout (its standard file's: a 32- and 16-channel stem
    whatever the width, state-dict version 1) with nas's random values, and the list of its keys
    and shapes (`<out>/keys.txt`), from which the test writes the same weights itself."""
    import torch, torchvision
    from torchvision.models.mnasnet import _stack, _BN_MOMENTUM, _get_depths
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from nas_random_weights import random_state_dict
    nn = torch.nn
    m = torchvision.models.mnasnet0_5()
    v1_stem = [nn.Conv2d(3, 32, 3, padding=1, stride=2, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
               nn.Conv2d(32, 32, 3, padding=1, groups=32, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
               nn.Conv2d(32, 16, 1, bias=False), nn.BatchNorm2d(16),
               _stack(16, _get_depths(0.5)[2], 3, 2, 3, 3, _BN_MOMENTUM)]
    for i, layer in enumerate(v1_stem):
        m.layers[i] = layer
    sd = random_state_dict(m, a.seed)
    sd._metadata[""]["version"] = 1
    torch.save(sd, a.weights)
    write_keys(sd, a.out)


def write_keys(sd, out):
    """`out/keys.txt`: each float tensor's key and shape, from which a test writes nas's random
    values for them itself (as a safetensors file) instead of committing the weights."""
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "keys.txt"), "w") as f:
        for k, v in sd.items():
            if v.is_floating_point():
                f.write(k + " " + " ".join(str(d) for d in v.shape) + "\n")


def vit_grid_refs(a):
    """ViT-B/32 trained at another size than 224 (as torchvision's SWAG files are): torchvision's
    vit_b_32(image_size=288), a 9x9 grid of position embeddings, with nas's random values; the
    reference at its own size, on chelsea.png's top-left 288x288 pixels (no resampling), written
    as `out/chelsea-crop288.png` for the test to read, levels and logits into `refs`."""
    import torch, torchvision
    from PIL import Image
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from nas_random_weights import random_state_dict
    spec = importlib.util.spec_from_file_location("make_refs", a.make_refs)
    make_refs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_refs)
    m = torchvision.models.vit_b_32(image_size=288)
    sd = random_state_dict(m, a.seed)
    m.load_state_dict(sd)
    m.eval()
    torch.save(sd, a.weights)
    write_keys(sd, a.out)
    shared = os.path.dirname(os.path.dirname(os.path.abspath(a.make_refs)))
    crop = Image.open(os.path.join(shared, "images/chelsea.png")).convert("RGB").crop((0, 0, 288, 288))
    crop.save(os.path.join(a.out, "chelsea-crop288.png"))
    mean, std = make_refs.MEAN["default"]
    im = np.asarray(crop, np.float32) / 255.0
    x = torch.from_numpy(((im - mean) / std).transpose(2, 0, 1)[None].astype(np.float32))
    with torch.no_grad():
        logits, lv = make_refs.levels("vit_b_16", m, x)
    os.makedirs(a.refs, exist_ok=True)
    np.save(os.path.join(a.refs, "chelsea-crop288.logits.npy"), logits[0].numpy().astype(np.float32))
    for i, level in enumerate(lv):
        np.save(os.path.join(a.refs, f"chelsea-crop288.level{i}.npy"), level[0].numpy().astype(np.float32))
    print("top5", logits[0].topk(5).indices.tolist(), [tuple(l.shape[1:]) for l in lv])


def refs(a):
    import importlib.util, torch
    spec = importlib.util.spec_from_file_location("make_refs", a.make_refs)
    make_refs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_refs)
    build = make_refs.build

    def build_out_of_place(arch, weights, seed):
        m = build(arch, weights, seed)
        for mod in m.modules():
            if isinstance(mod, torch.nn.ReLU):
                mod.inplace = False
        return m

    make_refs.build = build_out_of_place
    # make_refs.py knows VGG-16's levels; VGG-11, -13 and -19 have them at the same places (the
    # convolution before each max-pool, before its ReLU); with BatchNorm (`_bn`) they are the
    # BatchNorm's output before that ReLU.
    levels = make_refs.levels

    def bn_levels(m, x):
        out, h, feats = [], x, list(m.features)
        for i, mod in enumerate(feats):
            h = mod(h)
            if isinstance(mod, torch.nn.BatchNorm2d) and i + 2 < len(feats) and isinstance(feats[i + 2], torch.nn.MaxPool2d):
                out.append(h)
        return m.classifier(torch.flatten(m.avgpool(h), 1)), out

    # MobileNetV2, chosen as EfficientNet-Lite0's levels: the last block before each stride-2
    # block, then the head's activation.
    def mobilenet_levels(m, x):
        out, h = [], m.features[0](x)
        blocks = list(m.features)[1:-1]
        for i, block in enumerate(blocks):
            h = block(h)
            if i + 1 < len(blocks) and blocks[i + 1].stride > 1:
                out.append(h)
        h = m.features[-1](h)
        out.append(h)
        return m.classifier(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(h, 1), 1)), out

    # DenseNets: the stem's max pooling, dense blocks 1-3 before their transitions, the final
    # BatchNorm's ReLU.
    def densenet_levels(m, x):
        f, out = m.features, []
        h = f.pool0(f.relu0(f.norm0(f.conv0(x))))
        out.append(h)
        for i in (1, 2, 3):
            h = getattr(f, f"denseblock{i}")(h)
            out.append(h)
            h = getattr(f, f"transition{i}")(h)
        h = torch.relu(f.norm5(f.denseblock4(h)))
        out.append(h)
        return m.classifier(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(h, 1), 1)), out

    # ViT-L: make_refs.py's ViT levels at blocks 4, 8, 12, 16, 20 of 24.
    def vit_large_levels(m, x, blocks=(4, 8, 12, 16, 20)):
        n, out = x.shape[0], []
        h = m._process_input(x)
        h = torch.cat([m.class_token.expand(n, -1, -1), h], 1)
        h = m.encoder.dropout(h + m.encoder.pos_embedding)
        for i, blk in enumerate(m.encoder.layers):
            h = blk(h)
            if i in blocks:
                t = h[:, 1:, :]
                g = int(t.shape[1] ** 0.5)
                out.append(t.transpose(1, 2).reshape(n, -1, g, g))
        return m.heads(m.encoder.ln(h)[:, 0]), out

    # ConvNeXts: the stem's output, then each stage's (features 1, 3, 5, 7).
    def convnext_levels(m, x):
        out, h = [], x
        for i, stage in enumerate(m.features):
            h = stage(h)
            if i % 2 == 0 and i > 0:
                continue
            out.append(h)
        return m.classifier(m.avgpool(h)), out

    # torchvision's EfficientNet-B and V2: stages 1, 2, 3 and 5 (features 1, 2, 3, 5; each the
    # last before a stride-2 stage), then the head (the last of `features`).
    def efficientnet_levels(m, x):
        out, h = [], x
        for i, stage in enumerate(m.features):
            h = stage(h)
            if i in (1, 2, 3, 5, len(m.features) - 1):
                out.append(h)
        return m.classifier(torch.flatten(m.avgpool(h), 1)), out

    # Swin Transformers: the patch embedding, then each stage (features 1, 3, 5, 7), channels
    # first.
    def swin_levels(m, x):
        out, h = [], x
        for i, stage in enumerate(m.features):
            h = stage(h)
            if i == 0 or i % 2 == 1:
                out.append(h.permute(0, 3, 1, 2))
        return m.head(m.flatten(m.avgpool(m.permute(m.norm(h))))), out

    # MobileNetV3: the output before each stride-2 block (the stem's when the first block has
    # stride 2), then the head's activation.
    def mobilenet_v3_levels(m, x):
        out, h = [], m.features[0](x)
        blocks = list(m.features)[1:-1]
        for blk in blocks:
            depthwise = next(c for c in blk.modules() if isinstance(c, torch.nn.Conv2d) and c.groups > 1)
            if depthwise.stride[0] > 1 and len(out) < 4:
                out.append(h)
            h = blk(h)
        h = m.features[-1](h)
        out.append(h)
        return m.classifier(torch.flatten(m.avgpool(h), 1)), out

    # A stem's output, then each stage's, then the head's logits.
    def staged_levels(stem, stages, head, x):
        h = stem(x)
        out = [h]
        for stage in stages:
            h = stage(h)
            out.append(h)
        return head(h), out

    # RegNets: the stem's output, then each stage's (trunk_output.block1 to block4).
    def regnet_levels(m, x):
        return staged_levels(m.stem, m.trunk_output, lambda h: m.fc(torch.flatten(m.avgpool(h), 1)), x)

    # AlexNet: each of its five convolutions before its ReLU (features 0, 3, 6, 8, 10).
    def alexnet_levels(m, x):
        out, h = [], x
        for i, mod in enumerate(m.features):
            h = mod(h)
            if isinstance(mod, torch.nn.Conv2d):
                out.append(h)
        return m.classifier(torch.flatten(m.avgpool(h), 1)), out

    # GoogLeNet: the stem's first max pool, conv3, inception 3b, 4e and 5b.
    def googlenet_levels(m, x):
        h = m.maxpool1(m.conv1(x))
        out = [h]
        h = m.conv3(m.conv2(h))
        out.append(h)
        h = m.inception3b(m.inception3a(m.maxpool2(h)))
        out.append(h)
        h = m.maxpool3(h)
        for name in ("4a", "4b", "4c", "4d", "4e"):
            h = getattr(m, "inception" + name)(h)
        out.append(h)
        h = m.inception5b(m.inception5a(m.maxpool4(h)))
        out.append(h)
        return m.fc(torch.flatten(m.avgpool(h), 1)), out

    # Inception v3: the stem's two max pools, Mixed_5d, Mixed_6e, Mixed_7c.
    def inception_levels(m, x):
        h = m.maxpool1(m.Conv2d_2b_3x3(m.Conv2d_2a_3x3(m.Conv2d_1a_3x3(x))))
        out = [h]
        h = m.maxpool2(m.Conv2d_4a_3x3(m.Conv2d_3b_1x1(h)))
        out.append(h)
        for name in ("5b", "5c", "5d", "6a", "6b", "6c", "6d", "6e", "7a", "7b", "7c"):
            h = getattr(m, "Mixed_" + name)(h)
            if name in ("5d", "6e", "7c"):
                out.append(h)
        return m.fc(torch.flatten(m.avgpool(h), 1)), out

    # SqueezeNets: the stem's ReLU, the Fire module before the second and the third max pool,
    # the last Fire module, the classifier's class maps after their ReLU.
    def squeezenet_levels(arch, m, x):
        picks = (1, 5, 10, 12) if arch == "squeezenet1_0" else (1, 4, 7, 12)
        out, h = [], x
        for i, mod in enumerate(m.features):
            h = mod(h)
            if i in picks:
                out.append(h)
        classes = m.classifier[2](m.classifier[1](h))
        out.append(classes)
        return torch.flatten(m.classifier[3](classes), 1), out

    # MNASNet: the last block at strides 2, 4, 8 and 16 (layers.7, .8, .9, .11), then the head's
    # ReLU (layers.16).
    def mnasnet_levels(m, x):
        out, h = [], x
        for i, mod in enumerate(m.layers):
            h = mod(h)
            if i in (7, 8, 9, 11, 16):
                out.append(h)
        return m.classifier(h.mean([2, 3])), out

    # MaxViT: the stem's output, then each block's.
    def maxvit_levels(m, x):
        return staged_levels(m.stem, m.blocks, m.classifier, x)

    # ShuffleNet V2: the stem's max pool, stages 2, 3 and 4, conv5's ReLU.
    def shufflenet_levels(m, x):
        h = m.maxpool(m.conv1(x))
        out = [h]
        for stage in (m.stage2, m.stage3, m.stage4):
            h = stage(h)
            out.append(h)
        h = m.conv5(h)
        out.append(h)
        return m.fc(h.mean([2, 3])), out

    def any_levels(arch, m, x):
        if arch.startswith("squeezenet"):
            return squeezenet_levels(arch, m, x)
        if arch.startswith("mnasnet"):
            return mnasnet_levels(m, x)
        if arch == "maxvit_t":
            return maxvit_levels(m, x)
        if arch.startswith("shufflenet"):
            return shufflenet_levels(m, x)
        if arch == "inception_v3":
            return inception_levels(m, x)
        if arch == "googlenet":
            return googlenet_levels(m, x)
        if arch == "alexnet":
            return alexnet_levels(m, x)
        if arch.startswith("regnet"):
            return regnet_levels(m, x)
        if arch.startswith("mobilenet_v3"):
            return mobilenet_v3_levels(m, x)
        if arch.startswith("swin"):
            return swin_levels(m, x)
        if arch.startswith(("efficientnet_b", "efficientnet_v2")):
            return efficientnet_levels(m, x)
        if arch.startswith("convnext"):
            return convnext_levels(m, x)
        if arch.startswith("densenet"):
            return densenet_levels(m, x)
        if arch == "mobilenet_v2":
            return mobilenet_levels(m, x)
        if arch.startswith("vgg") and arch.endswith("_bn"):
            return bn_levels(m, x)
        if arch.startswith("vit_h"):
            return vit_large_levels(m, x, (5, 11, 16, 21, 27))
        if arch.startswith("vit_"):
            return levels("vit_b_16", m, x) if arch.startswith("vit_b") else vit_large_levels(m, x)
        if arch.startswith(("wide_resnet", "resnext")):
            return levels("resnet50", m, x)
        return levels("vgg16" if arch.startswith("vgg") else arch, m, x)

    make_refs.levels = any_levels
    # EfficientNetV2-L's weights' transforms normalise with 0.5 and 0.5, as nas does for it.
    make_refs.MEAN["efficientnet_v2_l"] = ([0.5] * 3, [0.5] * 3)
    # GoogLeNet's weights expect transform_input=True, i.e. inputs normalised with 0.5 and 0.5,
    # which nas gives it directly; the reference model (transform_input=False) gets the same.
    make_refs.MEAN["googlenet"] = ([0.5] * 3, [0.5] * 3)
    make_refs.MEAN["inception_v3"] = ([0.5] * 3, [0.5] * 3)
    sys.argv = ["make_refs.py", "--arch", a.arch, "--weights", a.weights, "--out", a.out] + a.images
    make_refs.main()


def read_manifest_hash(out):
    path = os.path.join(out, "manifest.toml")
    if not os.path.exists(path):
        return None
    for line in open(path):
        if line.startswith("weights_content_sha256"):
            return line.split("=", 1)[1].strip().strip('"')
    return None


def write(a):
    import torch, torchvision
    os.makedirs(a.out, exist_ok=True)
    levels = None
    for stem in a.images:
        logits = np.load(os.path.join(a.refs, f"{stem}.logits.npy")).astype(np.float32)
        np.save(os.path.join(a.out, f"{stem}.logits.npy"), logits)
        shapes = []
        for lv in range(5):
            x = np.load(os.path.join(a.refs, f"{stem}.level{lv}.npy")).astype(np.float32)
            shapes.append(x.shape)
            base = os.path.join(a.out, f"{stem}.level{lv}")
            if x.size <= FULL_LIMIT:
                np.save(base + ".npy", x)
                continue
            # The same positions for every image of a level: seeded by the level index only.
            rng = np.random.default_rng(SAMPLE_SEED + lv)
            flat = np.sort(rng.choice(x.size, size=SAMPLES, replace=False))
            pos = np.stack(np.unravel_index(flat, x.shape), axis=1).astype(np.int64)
            np.save(base + ".positions.npy", pos)
            np.save(base + ".values.npy", x.reshape(-1)[flat].astype(np.float32))
            np.save(base + ".channel_means.npy", x.astype(np.float64).mean(axis=(1, 2)).astype(np.float32))
        if levels is not None and levels != shapes:
            sys.exit(f"{stem}: level shapes differ between images")
        levels = shapes
    with open(os.path.join(a.out, "manifest.toml"), "w") as f:
        f.write("# Written by scripts/make_parity_fixtures.sh (scripts/parity_fixtures.py); see docs/parity.md.\n")
        f.write(f'arch = "{a.arch}"\nseed = 0\nweights_file = "{a.weights_name or a.arch + "-seed0.pth"}"\n')
        if a.arch == "vit_b_16" and not a.weights_name:
            f.write('weights_note = "heads.head and class_token redrawn from N(0, 0.02^2) after torch.manual_seed(1)"\n')
        f.write(f'weights_content_sha256 = "{content_hash(a.weights)}"\n')
        f.write(f'torch = "{torch.__version__}"\ntorchvision = "{torchvision.__version__}"\n')
        f.write("images = [" + ", ".join(f'"{s}"' for s in a.images) + "]\n")
        f.write(f"samples = {SAMPLES}\nsample_seed = {SAMPLE_SEED}\n")
        for lv, shape in enumerate(levels):
            stored = "full" if int(np.prod(shape)) <= FULL_LIMIT else "samples"
            f.write(f'\n[[level]]\nindex = {lv}\nshape = [{", ".join(map(str, shape))}]\nstored = "{stored}"\n')
    total = sum(os.path.getsize(os.path.join(a.out, n)) for n in os.listdir(a.out))
    print(f"{a.out}: {total / 1e6:.2f} MB")


def check(a):
    expected = read_manifest_hash(a.out)
    if expected is None:
        sys.exit(f"{a.out}/manifest.toml has no weights_content_sha256: run with --update-fixtures")
    found = content_hash(a.weights)
    if found != expected:
        sys.exit(f"{a.weights}: content hash {found[:16]}... differs from the fixtures' {expected[:16]}...; "
                 "the seeded initialisation of this torch/torchvision differs from the one in manifest.toml: "
                 "install those versions, or rerun with --update-fixtures to remake the fixtures")
    print(f"{a.weights}: matches {a.out}/manifest.toml")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["write", "check", "seed-weights", "random-weights", "mnasnet-v1-weights", "vit-grid-refs", "refs"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--weights-name", help="what the manifest names the weights (default <arch>-seed0.pth)")
    p.add_argument("--make-refs")
    p.add_argument("--arch"); p.add_argument("--weights", required=True)
    p.add_argument("--refs"); p.add_argument("--out")
    p.add_argument("--images", nargs="+", default=[])
    a = p.parse_args()
    {"write": write, "check": check, "seed-weights": seed_weights, "random-weights": random_weights,
     "mnasnet-v1-weights": mnasnet_v1_weights, "vit-grid-refs": vit_grid_refs, "refs": refs}[a.mode](a)


if __name__ == "__main__":
    main()
