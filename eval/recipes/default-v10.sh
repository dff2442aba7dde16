#!/usr/bin/env bash
# v10 candidate (eval/QUALITY.md row 45): shadows in the composites. The shipped model (v9) labels the moving
# shadow of a robot as robot and foreground: within 3-15 pixels of the true foreground, false positives are 2-9% of
# the foreground union on held-out sets 21-28 (python -m eval.where_missed shows where). Composites have no
# shadows (cut-outs pasted on photos); only the renders do. `synth composite --shadow P` casts soft shadows of
# everything pasted onto the background, with one light per pair, so a shadow moves with its caster while its label
# stays background.
#
# Recipe: 3,000 composites with --shadow 0.5 (seed 101) of the 24 training recordings of data/v10 (the renders that
# eval/recipes/gpu-bundle.sh makes: six embodiments, seed 700, half repainted; the same as v7's renders), the
# shipped model continued on them and on the recordings for 1,200 steps, whole network, v7's settings (seed 10),
# then the mean of its weights with the shipped model's (a soup; it keeps the shipped file's meta).
#
# Rule fixed (and committed) before any training: the candidate replaces the shipped model only if
# eval/recipes/round_rule.py passes on each of held-out sets 27 and 28 (seeds 1490, 1510). Those sets were rendered
# in the previous session for the GPU round (eval/recipes/gpu-judge.sh); nothing was trained or tuned on them, but
# the shipped model's errors on set 27 are what suggested this round.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/v10s}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
# 1. training data: the 24 recordings of data/v10 (rendered as gpu-bundle.sh does) + 3,000 composites with shadows
v10_training_data
[ -d data/v10/pairs-shadow ] || $DN synth composite data/v10/pairs-shadow --robots data/v10/robots \
  --objects data/v10/objects --backgrounds data/v3/bg_train --num 3000 --size 240x416 --seed 101 --workers 2 \
  --shadow 0.5
# 2. the shipped model + 1,200 steps, whole network (v7's settings); soup with it
continue_default $RUNS $C 10 data/v10/robots,data/v10/pairs-shadow
[ -f $RUNS/default-v10.safetensors ] || $PY -m training.export $C $RUNS/default-v10.safetensors \
  --average $RUNS/g/semantic.safetensors --fp16
# 3. the rule on sets 27 and 28
judge_sets $RUNS "shipped:$C v10:$RUNS/default-v10.safetensors" "27:1490 28:1510"
$PY eval/recipes/round_rule.py $RUNS shipped v10 27 28 || true   # the verdict is printed; the recipe exits 0 either way
# Outcome (2026-12-01): all four target IoUs rose on both sets, but the candidate's two runs labelled 2.65 and 2.76
# pairs/s, under clause (e)'s 3, on a network identical in shape and operations to the shipped one (the shipped
# model's own runs: 3.03 and 3.99). Decided before measuring again: the two files are timed back to back, twice
# each, alternating, on set 28 with nothing else running (SPEED=1 below); v10 ships only if each of its runs is at
# least 3 pairs/s and its median is within 10% of the shipped model's.
if [ "${SPEED:-0}" = 1 ]; then
  for k in 1 2; do
    for m in "shipped:$C" "v10:$RUNS/default-v10.safetensors"; do
      [ -f $RUNS/speed-${m%%:*}-$k.json ] || $DN eval --data data/v4/heldout28_ext --checkpoint ${m#*:} \
        --json $RUNS/speed-${m%%:*}-$k.json --out $RUNS/speed-pred-${m%%:*}-$k --quiet
    done
  done
  $PY - $RUNS <<'PY'
import json, sys
from pathlib import Path
runs = Path(sys.argv[1])
for m in ("shipped", "v10"):
    print(m, [round(json.loads((runs / f"speed-{m}-{k}.json").read_text())["run"]["pairs_per_s"], 2) for k in (1, 2)])
PY
fi
