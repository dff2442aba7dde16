#!/usr/bin/env bash
# v9 candidate (eval/QUALITY.md row 40): no new training. The uniform mean of three networks that share a start:
# the shipped v6 and the two 1,200-step continuations of it that rounds v7 and v8 trained (runs/v7/g, runs/v8/g:
# different data and seeds). Each of those, averaged with v6 alone, failed its rule (rows 38-39); a soup of several
# fine-tunings of one model is often better than any one of them. Needs runs/v7 and runs/v8 (default-v7.sh and
# default-v8.sh, which re-create them).
#
# Rule fixed (and committed) before sets 21-22 (seeds 1370, 1390) were rendered: the candidate replaces the shipped
# model only if it passes eval/recipes/round_rule.py on each of sets 21 and 22 with today's labeller defaults (robot
# and foreground IoU rise, the mean of the four target IoUs rises, neither gripper nor object IoU falls by more than
# 1.0, at least 95% of the robot IoU kept 20 frames into a stop, at least 3 pairs/s on the 2-core CPU).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/v9}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
for f in runs/v7/g/semantic.safetensors runs/v8/g/semantic.safetensors; do
  [ -f $f ] || { echo "soup-v9: $f missing: run eval/recipes/default-v${f:6:1}.sh first" >&2; exit 1; }
done
mkdir -p $RUNS
[ -f $RUNS/default-v9.safetensors ] || $PY -m training.export $C $RUNS/default-v9.safetensors \
  --average runs/v7/g/semantic.safetensors runs/v8/g/semantic.safetensors --fp16
judge_sets $RUNS "ship:$C v9:$RUNS/default-v9.safetensors" "21:1370 22:1390"
$PY eval/recipes/round_rule.py $RUNS ship v9 21 22
