#!/usr/bin/env bash
# Per-class mask thresholds for default model v3 (eval/QUALITY.md, "Calibrated mask thresholds").
# 1. a calibration set: 10 recordings of the five training robots, all repainted, new seed, training objects and
#    photos (not the held-out set: its robots, objects and photos stay unseen by this step too);
# 2. python -m eval.calibrate picks the threshold per class with the best IoU there and writes a calibrated copy;
# 3. held-out evaluation of the calibrated copy on both protocols (the uncalibrated figures: default-v3.sh).
# Needs default-v3.sh's asset splits (data/v1/objects_ycb_train, data/v3/bg_train) and held-out sets.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
MODEL=${MODEL:-distinctnet/assets/default.safetensors}
OUT=${OUT:-runs/thresholds-v3}
mkdir -p $OUT
$DN synth robots data/v3/calib --robots panda,kuka,ur5e,kinova3,sawyer --count 10 --frames 16 --size 240x416 \
  --seed 970 --objects data/v1/objects_ycb_train --textures data/v3/bg_train --repaint 1 --object-p 0.9
[ -f $OUT/calibrated.safetensors ] || $PY -m eval.calibrate --data data/v3/calib --checkpoint $MODEL \
  --write $OUT/calibrated.safetensors --json $OUT/thresholds.json --plot $OUT/thresholds.png
for set in v0 v3; do
  [ -f $OUT/heldout-$set.json ] || $DN eval --data data/$set/heldout_ext --checkpoint $OUT/calibrated.safetensors \
    --json $OUT/heldout-$set.json --report $OUT/heldout-$set --out $OUT/pred-$set
done
echo "done: $OUT/calibrated.safetensors (held-out figures: $OUT/heldout-*.json)"
