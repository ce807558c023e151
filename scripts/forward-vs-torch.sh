#!/usr/bin/env bash
# CPU forward pass of every backbone, nas against PyTorch, alternating ROUNDS times so that both
# see the same machine load; prints each pair's medians and the ratio. Usage:
#   PY=/path/to/venv/bin/python ROUNDS=3 scripts/forward-vs-torch.sh WEIGHTS_DIR
# WEIGHTS_DIR holds resnet18-seed0.pth, resnet50-seed0.pth, vgg16-seed0.pth, vit_b_16-seed0.pth
# (written by ../shared/reference/make_refs.py) and efficientnet-lite0-57934424.pth; an ARCH
# without a file there runs on nas's `random:0` weights (speed does not depend on the values).
# ARCHS (default "resnet18 resnet50 vgg16 vit_b_16 efficientnet-lite0") picks the backbones.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:?usage: scripts/forward-vs-torch.sh WEIGHTS_DIR}
rounds=${ROUNDS:-3}
cargo build --release -q -p nas-plugins --example forward_bench
for arch in ${ARCHS:-resnet18 resnet50 vgg16 vit_b_16 efficientnet-lite0}; do
  weights="$dir/$arch-seed0.pth"
  [ "$arch" = efficientnet-lite0 ] && weights="$dir/efficientnet-lite0-57934424.pth"
  [ -f "$weights" ] || weights=random:0
  runs=9
  case "$arch" in vgg*|vit_b_16|resnet152) runs=5 ;; esac
  for round in $(seq "$rounds"); do
    ours=$(target/release/examples/forward_bench "$arch" "$weights" "$runs" | sed -n 's/.*forward median of [0-9]* = \([0-9.]*\) ms.*/\1/p')
    torch=$("${PY:-python3}" scripts/torch_forward_bench.py --runs "$runs" "$arch" 2>&1 | sed -n 's/.*forward median of [0-9]* = \([0-9.]*\) ms.*/\1/p')
    echo "$arch round $round: nas $ours ms, PyTorch $torch ms, ratio $(echo "scale=2; $ours / $torch" | bc)"
  done
done
