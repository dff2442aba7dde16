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
for seed in 950 990; do
  set_=data/v4/heldout$([ $seed = 950 ] || echo 2)
  $DN synth robots $set_ --robots xarm,jaco --count 8 --frames 24 --size 240x416 --seed $seed \
    --objects data/v0/ycb_heldout --no-builtin-objects --textures data/v3/bg_heldout --no-builtin-textures \
    --stop-p 1 --object-p 0.9
  [ -d ${set_}_ext ] || $PY -m synth.extend_stop $set_ ${set_}_ext --static 24
done
mkdir -p $RUNS
for set_ in heldout_ext heldout2_ext; do
  for tta in none bidir; do
    [ -f $RUNS/$set_-$tta.json ] || $DN eval --data data/v4/$set_ --checkpoint $C --tta $tta \
      --json $RUNS/$set_-$tta.json --report $RUNS/$set_-$tta
  done
done
echo "figures: $RUNS/*.json"
