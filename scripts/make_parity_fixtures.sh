#!/usr/bin/env bash
# Regenerates the seeded torchvision weights that the torchvision parity tests read
# (nas-plugins/tests/parity_torchvision.rs), and optionally the committed fixtures.
#
#   NAS_PARITY_WEIGHTS=/some/folder scripts/make_parity_fixtures.sh [--update-fixtures] [ARCH...]
#   NAS_PARITY_WEIGHTS=/some/folder scripts/make_parity_fixtures.sh --random [ARCH...]
#
# --random writes, instead, the fixtures of nas's own `random:0` weights (drawn in Python as nas
# draws them: scripts/nas_random_weights.py) into nas-plugins/tests/fixtures/<arch>-random0/; the
# tests load `random:0` themselves, so those run everywhere, with no weight file (rerun and
# `git diff` the fixtures to check them).
#
# NAS_PARITY_IMAGES (default "chelsea-224 coffee-224") names the shared photos; the fixtures of
# the backbones beyond the paper's (resnet34, resnet101, resnet152, wide_resnet50_2, wide_resnet101_2,
# resnext50_32x4d, resnext101_32x8d, resnext101_64x4d, vgg11, vgg13, vgg19, and
# vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn, mobilenet_v2, mobilenet_v3_large, mobilenet_v3_small, densenet121/161/169/201, vit_b_32,
# vit_l_16, vit_l_32, convnext_tiny, convnext_small, convnext_base, convnext_large,
# efficientnet_b0 ... efficientnet_b7, efficientnet_v2_s/m/l, swin_t, swin_s, swin_b, regnet_x_400mf,
# regnet_y_400mf, regnet_x_8gf, regnet_y_1_6gf, alexnet, googlenet, inception_v3, squeezenet1_0,
# squeezenet1_1, mnasnet0_5, mnasnet1_0, mnasnet1_3, shufflenet_v2_x0_5, shufflenet_v2_x1_0) were
# made with --random, NAS_PARITY_IMAGES=chelsea-224 and NAS_PARITY_FULL_LIMIT=20000 (levels of
# more values are stored as samples and channel means), to keep the repository small.
#
# ARCH defaults to "resnet50 vgg16 vit_b_16". For each, it writes
#   $NAS_PARITY_WEIGHTS/<arch>-seed0.pth   torchvision's <arch>() after torch.manual_seed(0) (for
#                                          vit_b_16 with a random instead of an all-zero head and
#                                          class token: scripts/parity_fixtures.py, seed-weights)
#   $NAS_PARITY_WEIGHTS/refs/<arch>/       the full PyTorch reference arrays (make_refs.py, run with
#                                          out-of-place ReLUs so that VGG-16's levels are pre-ReLU)
# (about 1 GB in all: vgg16 528 MB, vit_b_16 330 MB, resnet50 98 MB), then checks that the weights'
# content hash equals the one in nas-plugins/tests/fixtures/<arch>/manifest.toml. With
# --update-fixtures it rewrites the fixtures from the new references instead (do this when the
# architecture, the images or the fixture format change, or with another torch version).
#
# Needs Python with torch, torchvision, numpy and pillow ($PYTHON, default: /work/venv-torch/bin/python
# if it exists, else python3), e.g. `python3 -m venv ~/venv-torch && ~/venv-torch/bin/pip install
# torch torchvision numpy pillow`, and the shared reference folder ($NAS_SHARED, default ../shared
# beside the repository, else /work/shared) for make_refs.py and the photos.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
update=0
random=0
archs=()
for arg in "$@"; do
    case "$arg" in
        --update-fixtures) update=1 ;;
        --random) random=1 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) archs+=("$arg") ;;
    esac
done
[ ${#archs[@]} -gt 0 ] || archs=(resnet50 vgg16 vit_b_16)

: "${NAS_PARITY_WEIGHTS:?set NAS_PARITY_WEIGHTS to the folder that receives the weights (about 1 GB)}"
if [ -z "${PYTHON:-}" ]; then
    if [ -x /work/venv-torch/bin/python ]; then PYTHON=/work/venv-torch/bin/python; else PYTHON=python3; fi
fi
shared=${NAS_SHARED:-}
if [ -z "$shared" ]; then
    if [ -d "$repo/../shared/reference" ]; then shared="$repo/../shared"; else shared=/work/shared; fi
fi
[ -f "$shared/reference/make_refs.py" ] || { echo "no $shared/reference/make_refs.py: set NAS_SHARED" >&2; exit 1; }
"$PYTHON" -c 'import torch, torchvision, numpy, PIL' || { echo "$PYTHON lacks torch/torchvision/numpy/pillow" >&2; exit 1; }

read -r -a images <<< "${NAS_PARITY_IMAGES:-chelsea-224 coffee-224}"
paths=()
for i in "${images[@]}"; do paths+=("$shared/images/$i.png"); done

mkdir -p "$NAS_PARITY_WEIGHTS"
if [ "$random" = 1 ]; then
    for arch in "${archs[@]}"; do
        weights="$NAS_PARITY_WEIGHTS/$arch-random0.pth"
        refs="$NAS_PARITY_WEIGHTS/refs/$arch-random0"
        echo "== $arch: nas's random:0 weights"
        "$PYTHON" "$repo/scripts/parity_fixtures.py" random-weights --arch "$arch" --weights "$weights" --seed 0
        "$PYTHON" "$repo/scripts/parity_fixtures.py" refs --make-refs "$shared/reference/make_refs.py" \
            --arch "$arch" --weights "$weights" --out "$refs" --images "${paths[@]}"
        "$PYTHON" "$repo/scripts/parity_fixtures.py" write --arch "$arch" --weights "$weights" --refs "$refs" \
            --out "$repo/nas-plugins/tests/fixtures/$arch-random0" --weights-name random:0 --images "${images[@]}"
    done
    exit 0
fi
for arch in "${archs[@]}"; do
    weights="$NAS_PARITY_WEIGHTS/$arch-seed0.pth"
    refs="$NAS_PARITY_WEIGHTS/refs/$arch"
    fixtures="$repo/nas-plugins/tests/fixtures/$arch"
    echo "== $arch: $weights"
    "$PYTHON" "$repo/scripts/parity_fixtures.py" seed-weights --arch "$arch" --weights "$weights"
    # make_refs.py through a wrapper that turns torchvision's in-place ReLUs off (parity_fixtures.py, refs)
    "$PYTHON" "$repo/scripts/parity_fixtures.py" refs --make-refs "$shared/reference/make_refs.py" \
        --arch "$arch" --weights "$weights" --out "$refs" --images "${paths[@]}"
    if [ "$update" = 1 ]; then
        "$PYTHON" "$repo/scripts/parity_fixtures.py" write --arch "$arch" --weights "$weights" --refs "$refs" --out "$fixtures" --images "${images[@]}"
    else
        "$PYTHON" "$repo/scripts/parity_fixtures.py" check --weights "$weights" --out "$fixtures"
    fi
done
