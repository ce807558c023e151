#!/usr/bin/env bash
# Saliency speed on resnet18 at 224x224, `nas explain` and its PyTorch baseline back to back on
# the same photo, so that the ratio holds on a noisy machine. Usage:
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh ig RESNET18.pth
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh lrp RESNET18.pth
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh deep-lift RESNET18.pth
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh rise RESNET18.pth [MASKS]
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh occlusion RESNET18.pth
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh lime RESNET18.pth
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh kernel-shap RESNET18.pth
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh shapley-sampling RESNET18.pth
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh neuron-ig RESNET18.pth
#   PY=/path/to/venv/bin/python scripts/bench-saliency.sh layer-ablation RESNET18.pth
# ig: Integrated Gradients, 50 steps; lrp: EpsilonPlusFlat; deep-lift: zero baseline; these
# three run three times. rise: 1000 masks by default, run once. occlusion: 15x15 windows at
# stride 8 (785 passes), run once. lime: 1000 patterns over SLIC's superpixels (n_segments 50),
# run once. kernel-shap: 200 coalitions, shapley-sampling: 10 orders, both over SLIC's superpixels
# (n_segments 50), run once. neuron-ig: NeuronIntegratedGradients of channel 5 of level 3
# (`layer3`) summed over its positions, 50 steps; layer-ablation: LayerFeatureAblation at level 3
# with every channel of a position together (196 ablated copies); both run three times.
# The nas figures are whole processes (start-up, weights, photo, map files). NAS_PROFILE=dev
# times the workspace's dev build (its heavy crates at opt-level 3) instead of a release build.
set -euo pipefail
cd "$(dirname "$0")/.."
method=$1 weights=$2 masks=${3:-1000}
if [ "${NAS_PROFILE:-release}" = dev ]; then
  cargo build -q -p nas-cli
  nas=./target/debug/nas
else
  cargo build --release -q -p nas-cli
  nas=./target/release/nas
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
case $method in
  ig) args=(--method integrated-gradients) runs=3 ;;
  lrp) args=(--method lrp) runs=3 ;;
  deep-lift) args=(--method deep-lift) runs=3 ;;
  rise) args=(--method rise --param masks="$masks") runs=1 ;;
  occlusion) args=(--method occlusion) runs=1 ;;
  lime) args=(--method lime --param segmentation.name=slic --param segmentation.n_segments=50) runs=1 ;;
  kernel-shap) args=(--method kernel-shap --param samples=200 --param segmentation.name=slic --param segmentation.n_segments=50) runs=1 ;;
  shapley-sampling) args=(--method shapley-sampling --param samples=10 --param segmentation.name=slic --param segmentation.n_segments=50) runs=1 ;;
  neuron-ig) args=(--method neuron-integrated-gradients --param level=3 --param channel=5 --param steps=50) runs=3 ;;
  layer-ablation) args=(--method layer-feature-ablation --param level=3 --param groups=position) runs=3 ;;
  *) echo "unknown method $method: ig, lrp, deep-lift, rise, occlusion, lime, kernel-shap, shapley-sampling, neuron-ig or layer-ablation" >&2; exit 2 ;;
esac
for run in $(seq $runs); do
  start=$(date +%s.%N)
  $nas explain --backbone resnet18 --weights "$weights" "${args[@]}" \
    --segmenter none --out "$out" examples/images/chelsea.png > /dev/null 2>&1
  python3 -c "print('nas explain ${args[*]}, run $run: %.2f s' % ($(date +%s.%N) - $start))"
done
"${PY:-python3}" scripts/bench_saliency_pytorch.py "$method" --weights "$weights" --masks "$masks" --runs 3 --threads 2
