#!/usr/bin/env bash
# NAS segmentation speed: `nas bench` and the PyTorch + scikit-learn baseline, back to back on the
# same photo, so that the ratio holds on a noisy machine. Usage:
#   PY=/path/to/venv/bin/python scripts/bench-nas.sh RESNET18.pth EFFICIENTNET_LITE0.pth
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p nas-cli
./target/release/nas bench --runs 5 --weights "resnet18=$1" --weights "efficientnet-lite0=$2"
"${PY:-python3}" scripts/bench_pytorch_nas.py --weights "$1" --runs 5 --threads 2
