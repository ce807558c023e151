#!/usr/bin/env bash
# Fills gpu/ (git-ignored) with what scripts/gpu-check.sh needs on a lent GPU machine, within the
# 64 MiB a run may carry with the tracked files: the CUDA nas binary (gzipped) and
# EfficientNet-Lite0's weights. ResNet-18 and the other backbones run on `random:0` weights
# (the same computation as trained ones, and the same tensors on both devices).
#   scripts/gpu-prepare.sh /work/target-cuda/release/nas
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: scripts/gpu-prepare.sh PATH/TO/CUDA/nas}
SHARED=${NAS_SHARED:-../shared}
mkdir -p gpu/weights
rm -rf gpu/nas gpu/weights/resnet18-seed0-f16.safetensors
gzip -9 -c "$BIN" > gpu/nas.gz
cp "$SHARED/weights/efficientnet-lite0-57934424.pth" gpu/weights/
du -sh gpu
