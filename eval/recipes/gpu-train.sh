#!/usr/bin/env bash
# The shipped default network trained further in one lent GPU call: composites made on that machine's 16 cores
# from a carried bundle of renders (half of them with shadows, `--shadow 0.5`, as round v10, eval/QUALITY.md row 45), then training/configs/gpu-fast-semantic.yaml (whole network, bf16, batch 32,
# cosine over STEPS steps, stopped by TRAIN_S seconds at the latest), then the candidate twice (raw, and averaged
# with the shipped weights as every shipped model since v3 was made), in fp16, cut into parts for the trip back.
# Budget of one call (600 s): wheels ~15 s, NUM composites ~40 s (cut at COMP_S), training <= TRAIN_S (less when
# the steps before it ran late: everything is written by DEADLINE), export ~15 s.
#
# Prepare here, once: bash eval/recipes/gpu-bundle.sh (renders, the bundle .gpu-train, the wheels .whl, the size
# check: the call carries at most 64 MiB, working tree included).
# Try it here first (CPU, tiny budget; nothing installed):
#   INSTALL=0 PY=.venv/bin/python OUT=/tmp/gt-out WORK=/tmp/gt-work NUM=24 STEPS=4 bash eval/recipes/gpu-train.sh \
#     --trainer.accelerator=cpu --trainer.precision=32-true --data.batch_size=4 --data.num_workers=1 \
#     --trainer.val_check_interval=2 --trainer.limit_val_batches=1
# Run there: one call, carry [".whl", ".gpu-train"], timeout_s 600:  bash eval/recipes/gpu-train.sh
# Back here (FILES_AT = the call's files_at):  bash eval/recipes/gpu-judge.sh FILES_AT
set -uo pipefail
OUT=${OUT:-out/gpu-train}
B=${BUNDLE:-.gpu-train}
W=${WORK:-/tmp/gpu-train}
PY=${PY:-python3}
NUM=${NUM:-10000}
STEPS=${STEPS:-3000}
TRAIN_S=${TRAIN_S:-400}
COMP_S=${COMP_S:-120}
DEADLINE=${DEADLINE:-570}   # seconds from the start by which everything is written (a call is cut at 600)
C=distinctnet/assets/default.safetensors
mkdir -p "$OUT" "$W"
exec > >(tee -a "$OUT/log.txt") 2>&1
step() { echo "== $(date -u +%T) +$((SECONDS))s: $*"; }
if [ "${INSTALL:-1}" = 1 ]; then
  step "installing the carried wheels"
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
    || { echo "gpu-train: installing the carried wheels failed" >&2; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD
fi
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null || echo "no nvidia-smi"
for d in robots objects backgrounds; do
  [ -d "$B/$d" ] || { echo "gpu-train: $B/$d missing: pack the bundle first (header of this file)" >&2; exit 1; }
done

CORES=$(nproc); [ "$CORES" -gt 16 ] && CORES=16   # the lent machine has 16; a container may report its host's
step "composites: $NUM pairs on $CORES cores, at most $COMP_S s"
timeout "$COMP_S" $PY -m distinctnet.cli synth composite "$W/pairs" --robots "$B/robots" --objects "$B/objects" \
  --backgrounds "$B/backgrounds" --num "$NUM" --size 192x336 --seed 101 --workers "$CORES" --shadow 0.5
rc=$?   # 124: out of time; the pairs finished so far are complete (each one is written atomically) and are used
[ $rc = 0 ] || [ $rc = 124 ] || { echo "gpu-train: compositing failed" >&2; exit 1; }
echo "composites on disk: $(ls "$W/pairs/meta.d" 2>/dev/null | wc -l)"

left=$((DEADLINE - SECONDS - 90))   # 90 s kept: Lightning overshoots max_time (final validation, preview), then export
[ $left -lt "$TRAIN_S" ] && TRAIN_S=$left
[ "$TRAIN_S" -ge 60 ] || { echo "gpu-train: only $TRAIN_S s left for training" >&2; exit 1; }
step "training: at most $STEPS steps or $TRAIN_S s"
printf -v MAX_TIME "00:%02d:%02d:%02d" $((TRAIN_S / 3600)) $((TRAIN_S % 3600 / 60)) $((TRAIN_S % 60))
$PY -m distinctnet.cli train --config training/configs/gpu-fast-semantic.yaml \
  --data.roots="[$B/robots,$W/pairs]" --trainer.max_steps="$STEPS" --trainer.max_time="$MAX_TIME" \
  --trainer.default_root_dir="$W/run" --export="$W/raw32.safetensors" --trainer.enable_progress_bar=false "$@" \
  || { echo "gpu-train: training failed" >&2; exit 1; }

step "export: raw and soup in fp16, cut into parts"
$PY -m training.export "$W/raw32.safetensors" "$W/raw.safetensors" --fp16 --calibration-from "$C" || exit 1
$PY -m training.export "$C" "$W/soup.safetensors" --average "$W/raw32.safetensors" --fp16 || exit 1
$PY -m eval.gpu_bundle split "$W/raw.safetensors" --out "$OUT" && \
  $PY -m eval.gpu_bundle split "$W/soup.safetensors" --out "$OUT" || exit 1
CSV=$(ls -td "$W"/run/csv/version_* | head -1); cp "$CSV/metrics.csv" "$OUT/metrics.csv"; cp "$CSV/curves.png" "$OUT/curves.png" 2>/dev/null
step "done"
sleep 1   # let tee write the last lines of log.txt
