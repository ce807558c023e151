#!/usr/bin/env bash
# Fills gpu/ (git-ignored) with what scripts/gpu-check.sh needs on a lent GPU machine, within the
# 64 MiB a run may carry with the tracked files: the CUDA nas binary (gzipped). Every backbone
# runs on `random:0` weights (the same computation as trained ones, and the same tensors on both
# devices): with the tracked files (38 MiB in session 12) no weight file fits beside the binary.
#   scripts/gpu-prepare.sh /work/target-cuda/release/nas
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:?usage: scripts/gpu-prepare.sh PATH/TO/CUDA/nas}
rm -rf gpu
mkdir -p gpu
gzip -9 -c "$BIN" > gpu/nas.gz
du -sh gpu
