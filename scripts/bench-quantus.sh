#!/usr/bin/env bash
# Quantus's faithfulness and robustness metrics, nas against Quantus 0.6 itself on the same photo, map and
# settings, one after the other in this command (the machine is noisy: compare the two blocks
# of one run, not days). Usage:
#   PY=/work/venv-torch/bin/python scripts/bench-quantus.sh SHARED [runs]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=$1 runs=${2:-3}
cargo run -q --release -p nas-plugins --example quantus_bench -- "$shared" "$runs"
"${PY:-python3}" scripts/bench_quantus.py "$shared" "$runs"
