#!/usr/bin/env bash
# Fills gpu/ (git-ignored) with what scripts/gpu-check.sh needs on a lent GPU machine, within the
# 64 MiB a run may carry with the tracked files: the CUDA nas binary, stripped and xz-compressed
# (an older build: 80 MB, 18.7 MB gzipped, 10.3 MB stripped and xz'd). Every backbone runs on
# `random:0` weights (the same computation as trained ones, and the same tensors on both
# devices): with the tracked files (50.4 MiB in session 17) no weight file fits beside the
# binary. The script prints the total; keep it under 64 MiB.
#   scripts/gpu-prepare.sh /work/target-cuda/release/nas
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: scripts/gpu-prepare.sh PATH/TO/CUDA/nas}
rm -rf gpu
mkdir -p gpu
cp "$BIN" gpu/nas.stripped
strip gpu/nas.stripped
xz -9e -T2 -c gpu/nas.stripped > gpu/nas.xz
rm gpu/nas.stripped
tracked=$(git ls-files -z | du -cb --files0-from=- | tail -1 | cut -f1)
binary=$(stat -c %s gpu/nas.xz)
echo "gpu/nas.xz: $binary bytes; with the tracked files $(( (tracked + binary) / 1048576 )) MiB of the 64 MiB a run carries"
