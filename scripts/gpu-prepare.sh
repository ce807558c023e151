#!/usr/bin/env bash
# Fills gpu/ (git-ignored) with what scripts/gpu-check.sh needs on a lent GPU machine, within the
# 64 MiB a run may carry: the CUDA nas binary (gzipped), EfficientNet-Lite0's weights and the
# seeded ResNet-18 of ../shared as float16 safetensors (half the size; both devices load the
# same file, so agreement is unaffected).
#   scripts/gpu-prepare.sh /work/target-cuda/release/nas
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: scripts/gpu-prepare.sh PATH/TO/CUDA/nas}
PY=${PY:-/work/venv-torch/bin/python}
SHARED=${NAS_SHARED:-../shared}
mkdir -p gpu/weights
rm -f gpu/nas
gzip -9 -c "$BIN" > gpu/nas.gz
cp "$SHARED/weights/efficientnet-lite0-57934424.pth" gpu/weights/
[ -f gpu/weights/resnet18-seed0-f16.safetensors ] || "$PY" - "$SHARED/weights/resnet18-seed0.pth" <<'PYEOF'
import sys, torch
from safetensors.torch import save_file
sd = torch.load(sys.argv[1], map_location="cpu")
save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in sd.items()},
          "gpu/weights/resnet18-seed0-f16.safetensors")
PYEOF
du -sh gpu
