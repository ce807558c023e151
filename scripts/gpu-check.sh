#!/usr/bin/env bash
# One script for a lent GPU machine (no Rust toolchain there). Build here first:
#   CARGO_TARGET_DIR=/work/target-cuda cargo build --release -p nas-cli --features cuda
#   mkdir -p gpu/weights && cp <target>/release/nas gpu/ && cp <cache>/weights/efficientnet-lite0-57934424.pth gpu/weights/
# then run it with `gpu/` carried. It checks CPU-vs-GPU agreement of the five levels and logits,
# NAS label agreement (adjusted Rand index), and prints throughput for features and full NAS at
# batch 1 and 32. Every nas process pays the CUDA kernel compilation once (its first call), so
# the timed runs come after a warm-up inside `nas bench`, and batch throughput is reported with
# and without that first-call cost.
set -uo pipefail
cd "$(dirname "$0")/.."
NAS="${NAS_BIN:-gpu/nas} --cache gpu"
DEVICE=${DEVICE:-cuda}
W=${W:-gpu/weights/efficientnet-lite0-57934424.pth}
IMG=examples/images/chelsea.png
OUT=${OUT:-/tmp}/gpu-check
mkdir -p "$OUT/batch"
for i in $(seq -w 1 32); do cp "$IMG" "$OUT/batch/img$i.png"; done
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true

echo "== agreement: efficientnet-lite0 levels and logits, CPU vs GPU"
$NAS features --weights "$W" --out "$OUT/cpu" "$IMG"
$NAS --device $DEVICE features --weights "$W" --out "$OUT/gpu" "$IMG"
for f in "$OUT"/cpu/*.npy; do python3 scripts/npy_compare.py "$OUT/gpu/$(basename "$f")" "$f"; done

echo "== agreement: NAS labels (levels 2,3,4, K=5), CPU vs GPU"
$NAS segment --weights "$W" --out "$OUT/seg-cpu" "$IMG"
$NAS --device $DEVICE segment --weights "$W" --out "$OUT/seg-gpu" "$IMG"
python3 scripts/npy_compare.py "$OUT/seg-gpu/chelsea.clusters.npy" "$OUT/seg-cpu/chelsea.clusters.npy"

echo "== NAS stage times on the GPU (median of 10 after a warm-up)"
$NAS --device $DEVICE bench --runs 10 --backbone efficientnet-lite0 --weights "efficientnet-lite0=$W"

# Each process pays start-up and kernel compilation; a 1-image run measures that, so
# steady-state images/s = 31 / (time for 32 images - time for 1 image).
run_time() {
  local start end
  start=$(date +%s.%N)
  $NAS --device $DEVICE "$@" > /dev/null 2>&1
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}
for cmd in features segment; do
  one=$(run_time $cmd --weights "$W" --batch 1 --out "$OUT/$cmd-1" "$OUT/batch/img01.png")
  for b in 1 32; do
    all=$(run_time $cmd --weights "$W" --batch $b --out "$OUT/$cmd-b$b" "$OUT"/batch/*.png)
    python3 -c "print('$cmd batch $b: 32 images %.2f s, first image (start-up + compile) %.2f s, steady %.1f images/s' % ($all, $one, 31 / max($all - $one, 1e-9)))"
  done
done
