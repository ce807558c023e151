#!/usr/bin/env bash
# CPU input gradient (one forward and one backward pass, what every gradient saliency method
# repeats) of backbones on nas's `random:0` weights against PyTorch's, alternating ROUNDS times
# so that both see the same machine load; prints each pair's medians and the ratio. Usage:
#   PY=/path/to/venv/bin/python ROUNDS=2 ARCHS="convnext_tiny swin_t" scripts/gradient-vs-torch.sh
# RUNS (default 5) timed runs per median, BATCH (default 1) images per pass.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${ROUNDS:-2} runs=${RUNS:-5} batch=${BATCH:-1}
cargo build --release -q -p nas-plugins --example gradient_bench
for arch in ${ARCHS:-resnet50 convnext_tiny efficientnet_b0 swin_t vit_b_16 densenet121}; do
  for round in $(seq "$rounds"); do
    ours=$(target/release/examples/gradient_bench "$arch" random:0 "$runs" "$batch" | sed -n 's/.*Backbone::input_gradient *\([0-9.]*\) ms.*/\1/p')
    torch=$("${PY:-python3}" scripts/torch_gradient_bench.py --runs "$runs" --batch "$batch" "$arch" | sed -n 's/.*median of [0-9]* = \([0-9.]*\) ms.*/\1/p')
    echo "$arch round $round: nas $ours ms, PyTorch $torch ms, ratio $(echo "scale=2; $ours / $torch" | bc)"
  done
done
