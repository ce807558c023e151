#!/usr/bin/env bash
# Integrated Gradients speed (50 Gauss-Legendre steps, resnet18, 224x224): `nas explain` and
# Captum, back to back on the same photo, so that the ratio holds on a noisy machine. Usage:
#   PY=/path/to/venv/bin/python scripts/bench-integrated-gradients.sh RESNET18.pth
# The nas figure is the whole process (start-up, weights, photo, map files), run three times.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p nas-cli
out=$(mktemp -d)
for run in 1 2 3; do
  start=$(date +%s.%N)
  ./target/release/nas explain --backbone resnet18 --weights "$1" --method integrated-gradients \
    --segmenter none --out "$out" examples/images/chelsea.png > /dev/null 2>&1
  python3 -c "print('nas explain --method integrated-gradients, run $run: %.0f ms' % (1000 * ($(date +%s.%N) - $start)))"
done
rm -rf "$out"
"${PY:-python3}" scripts/bench_captum_ig.py --weights "$1" --runs 3 --threads 2
