#!/usr/bin/env bash
# Both neighbours as references (eval/QUALITY.md rows 22-): score the shipped default with `--tta none` and
# `--tta bidir` (frame t against t-1 and against t+1, probabilities averaged) on two held-out sets rendered with
# closed grasps: the strict set (seed 950, as default-v4.sh renders it) and set 2 (seed 990, closed grasps: new).
# The rule was fixed before any figure: bidir becomes the default only if, on each set, it raises at least
# 4 of the 5 target figures (IoU foreground, robot, gripper, object; robot IoU kept 20 frames into a stop).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/tta-bidir}
C=${C:-distinctnet/assets/default.safetensors}
. eval/recipes/splits.sh
heldout_set data/v4/heldout 950
heldout_set data/v4/heldout2 990
mkdir -p $RUNS
for set_ in heldout_ext heldout2_ext; do
  for tta in none bidir; do
    [ -f $RUNS/$set_-$tta.json ] || $DN eval --data data/v4/$set_ --checkpoint $C --tta $tta $PLAIN_PAIRS \
      --json $RUNS/$set_-$tta.json --report $RUNS/$set_-$tta
  done
done
echo "figures: $RUNS/*.json"
