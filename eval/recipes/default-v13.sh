#!/usr/bin/env bash
# v13 candidate (eval/QUALITY.md row 50): v10's round on fresh renders. v11 (row 47) and v12 (row 49) continued the
# shipped model v10 on new composites of the same 24 renders v10 had been trained on, and both failed their rules.
# The control (row 48) left open whether what paid in v10's round was continuing from a soup or the renders being
# new to the model. This round gives the continuation new renders: 24 recordings of the six training embodiments
# from a new seed (800), half repainted, as data/v10's, and 3,000 shadow composites of them.
#
# Recipe: data/v13/robots (seed 800) with data/v10's object cut-outs; 3,000 composites --shadow 0.5 (seed
# 131); the shipped model (v10) continued on them for 1,200 steps with v10's settings (seed 13), then the mean of
# its weights with the shipped model's.
#
# Rule fixed (and committed) before any training and before sets 37 and 38 (seeds 1690, 1710) were rendered: the
# candidate replaces the shipped model only if round_rule.py --relative-speed 0.9 passes on each of them (both
# models labelled back to back, the shipped one first). Sets 31-32 stay reserved for the GPU round (gpu-judge.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/v13}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
if [ "${RENDER_ONLY:-0}" = 1 ]; then heldout_sets "37:1690 38:1710"; exit 0; fi
# 1. training data: 24 new recordings of the six training embodiments + 3,000 composites with shadows
v10_objects
six_robot_renders data/v13/robots 800
[ -d data/v13/pairs-shadow ] || $DN synth composite data/v13/pairs-shadow --robots data/v13/robots \
  --objects data/v10/objects --backgrounds data/v3/bg_train --num 3000 --size 240x416 --seed 131 --workers 2 \
  --shadow 0.5
# 2. the shipped model + 1,200 steps, then the soup with it
continue_default $RUNS $C 13 data/v13/robots,data/v13/pairs-shadow
[ -f $RUNS/default-v13.safetensors ] || $PY -m training.export $C \
  $RUNS/default-v13.safetensors --average $RUNS/g/semantic.safetensors --fp16
# 3. the rule on fresh sets 37 and 38
judge_sets $RUNS "shipped:$C v13:$RUNS/default-v13.safetensors" "37:1690 38:1710"
$PY eval/recipes/round_rule.py $RUNS shipped v13 37 38 --relative-speed 0.9 || true   # the verdict is printed
