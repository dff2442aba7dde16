#!/usr/bin/env bash
# Control for v10 (eval/QUALITY.md row 48): did the shadows make v10's gain, or the continuation itself? The same
# round as default-v10.sh, the shadows left out and nothing else changed: v9 (the file shipped before v10, 07f190d)
# continued for 1,200 steps with the same settings and seed (10) on the same 24 renders and the same 3,000
# composites without their shadows (seed 101 and --shadow 0: shadows draw from their own generator, so these are
# v10's pairs, pixel for pixel, minus the shadows), then souped with v9. Scored on sets 27-30, where v9 and v10 were
# both labelled (their reports are copied from runs/v10s and runs/v10c rather than labelled again).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/v10ctl}
source eval/recipes/splits.sh
mkdir -p $RUNS
V9=$RUNS/v9.safetensors
[ -f $V9 ] || git show 07f190d:distinctnet/assets/default.safetensors > $V9
v10_training_data
[ -d data/v10/pairs-plain ] || $DN synth composite data/v10/pairs-plain --robots data/v10/robots \
  --objects data/v10/objects --backgrounds data/v3/bg_train --num 3000 --size 240x416 --seed 101 --workers 2
continue_default $RUNS $V9 10 data/v10/robots,data/v10/pairs-plain
[ -f $RUNS/control.safetensors ] || $PY -m training.export $V9 $RUNS/control.safetensors \
  --average $RUNS/g/semantic.safetensors --fp16
for k in 27 28 29 30; do
  d=runs/v10s; [ $k -ge 29 ] && d=runs/v10c
  for m in shipped v10; do
    [ -f $RUNS/${m/shipped/v9}-heldout${k}_ext.json ] || cp $d/$m-heldout${k}_ext.json $RUNS/${m/shipped/v9}-heldout${k}_ext.json
  done
done
judge_sets $RUNS "control:$RUNS/control.safetensors" "27:1490 28:1510 29:1530 30:1550"
$PY eval/recipes/round_rule.py $RUNS v9 control 27 28 29 30 || true    # the control against v9
$PY eval/recipes/round_rule.py $RUNS control v10 27 28 29 30 || true   # v10 (with shadows) against the control
