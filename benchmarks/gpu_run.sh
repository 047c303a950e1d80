#!/usr/bin/env bash
# One-shot GPU session: checks, throughput, then a time-boxed training run fed by simulation workers.
#
# Usage: benchmarks/gpu_run.sh OUTDIR
#   run from the repository root on a machine with one NVIDIA GPU, the Python packages preinstalled
#   (torch with CUDA, numba, numpy, scipy, pandas, safetensors, tqdm) and no network. Without a GPU it
#   runs everything on the CPU (how it is tested: GPU_RUN_TINY=1 benchmarks/gpu_run.sh /tmp/out).
#
# Writes at most 8 files into OUTDIR (flat, each well under 16 MiB):
#   gpu_bench.md / gpu_bench.json  checks of the chunked scan and of a whole Bi-Mamba against the CPU
#                                  reference, inference/training tracks/s, simulation tracks/s per process
#   config.json, model.safetensors the trained weights (a run folder: `andimamba predict --model OUTDIR`)
#   metrics.csv                    validation metrics per epoch
#   train_state.json, train_state.safetensors
#                                  optimizer state, so the run can be continued elsewhere (`train --resume`)
#   train.log                      the training log, with the report of the run at its end
#
# Settings (environment variables, defaults in brackets):
#   TRAIN_MINUTES [6]   wall-clock budget of the training run (stops at the end of the step that passes it)
#   ARCH [bimamba]  D_MODEL [32]  SEG_LAYERS [3]  BATCH [256]  LR [2e-3]  PRIOR [broad]  SEED [11]
#   SIM_WORKERS [CPU cores - 2]   simulation processes feeding the GPU
#   INIT_FROM []        shipped model name or run folder to start from (same architecture)
set -euo pipefail
OUT=${1:?usage: benchmarks/gpu_run.sh OUTDIR}
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT"
START=$(date +%s)

TINY=${GPU_RUN_TINY:-0}
TRAIN_MINUTES=${TRAIN_MINUTES:-6}
ARCH=${ARCH:-bimamba}
D_MODEL=${D_MODEL:-32}
SEG_LAYERS=${SEG_LAYERS:-3}
BATCH=${BATCH:-256}
LR=${LR:-2e-3}
PRIOR=${PRIOR:-broad}
SEED=${SEED:-11}
CORES=$(python3 -c "import os; print(len(os.sched_getaffinity(0)))")
SIM_WORKERS=${SIM_WORKERS:-$(( CORES > 3 ? CORES - 2 : 1 ))}
RUN=$(mktemp -d "${TMPDIR:-/tmp}/gpu_run.XXXXXX")  # the full run folder (val.npz is large): only chosen files go to OUT
N_VAL=10000
BENCH_ARGS=(--d-models 12 "$D_MODEL" --batch 512 --seconds 3)
if [ "$TINY" = 1 ]; then  # a CPU smoke test of the whole script, a few minutes
  TRAIN_MINUTES=0.1; D_MODEL=8; SEG_LAYERS=1; BATCH=32; N_VAL=256; SIM_WORKERS=1
  BENCH_ARGS=(--d-models 8 --batch 32 --seconds 0.3)
fi

echo "== 1/2 checks and throughput ($(date -u +%H:%M:%S))"
python3 benchmarks/gpu_bench.py --out "$OUT" "${BENCH_ARGS[@]}"

echo "== 2/2 training for at most $TRAIN_MINUTES min ($(date -u +%H:%M:%S)), $SIM_WORKERS simulation workers"
# steps: what the slower of GPU and simulation workers can deliver in the budget, so the cosine schedule ends with the run
STEPS=$(python3 - "$OUT/gpu_bench.json" "$ARCH" "$D_MODEL" "$BATCH" "$SIM_WORKERS" "$TRAIN_MINUTES" <<'EOF'
import json, sys
b = json.load(open(sys.argv[1])); arch, d, batch, workers, minutes = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
gpu = [t["train_tracks_per_s"] for t in b["throughput"] if t["arch"] == arch and t["d_model"] == d] or [t["train_tracks_per_s"] for t in b["throughput"]]
rate = min(max(gpu), 0.8 * workers * b["sim_tracks_per_s"])
print(max(int(0.85 * minutes * 60 * rate / batch), 10))
EOF
)
EPOCHS=10
SPE=$(( (STEPS + EPOCHS - 1) / EPOCHS ))
INIT=()
[ -n "${INIT_FROM:-}" ] && INIT=(--init-from "$INIT_FROM")
set +e
python3 -m andimamba.cli train --arch "$ARCH" --config paper --d-model "$D_MODEL" --seg-layers "$SEG_LAYERS" \
  --out "$RUN" --epochs "$EPOCHS" --steps-per-epoch "$SPE" --batch-size "$BATCH" --lr "$LR" --lr-schedule cosine \
  --prior "$PRIOR" --seed "$SEED" --n-val "$N_VAL" --device auto --sim-workers "$SIM_WORKERS" \
  --max-minutes "$TRAIN_MINUTES" --no-progress "${INIT[@]}" > "$OUT/train.log" 2>&1
RC=$?
set -e
for f in config.json model.safetensors metrics.csv train_state.json train_state.safetensors; do
  [ -f "$RUN/$f" ] && cp "$RUN/$f" "$OUT/"
done
{
  echo
  echo "== report: exit $RC, $STEPS steps planned ($EPOCHS x $SPE) x $BATCH tracks, $SIM_WORKERS workers, $(( $(date +%s) - START )) s in all"
  [ -f "$RUN/metrics.csv" ] && cat "$RUN/metrics.csv"
} >> "$OUT/train.log"
tail -n 15 "$OUT/train.log"
rm -rf "$RUN"
exit $RC
