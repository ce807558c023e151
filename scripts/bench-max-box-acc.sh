#!/usr/bin/env bash
# max-box-acc against wsolevaluation's box evaluation with OpenCV, per map, on the same 19 maps,
# one after the other in this command (the machine is noisy: compare the two lines, not days).
#   PY=/work/venv-torch/bin/python scripts/bench-max-box-acc.sh [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
cargo run -q --release -p nas-plugins --example max_box_acc_bench -- "$runs"
"${PY:-python3}" scripts/bench_max_box_acc.py "$runs"
