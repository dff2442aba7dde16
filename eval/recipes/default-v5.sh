#!/usr/bin/env bash
# v5 candidate (eval/QUALITY.md rows 36-): the shipped model (v3 + thresholds) continued for 1,200 steps with the
# whole network trained, on new renders of the six training embodiments (half of them repainted) and composites
# of them, with rendered pairs up to two frames apart (the labeller's --gap 2; v3 and v4 were trained on gap 1),
# then the mean of its weights with the shipped model's (a model soup, as v3 and the v4 candidate were made). The
# soup keeps the shipped model's mask thresholds (training.export takes the first checkpoint's meta).
# The training data of v3 and v4 (data/v3/robots*, data/v4/robots, their composites) are no longer on disk, so the
# continuation sees only the new renders; the soup with v3 is what keeps v3's fit to them.
#
# Rule fixed (and committed) before any labeller was run on sets 13-14 (seeds 1210, 1230; rendered this round):
# the candidate replaces the shipped model only if, on each of sets 13 and 14, with the labeller's defaults of
# today (--reference motion --gap 2 --second-scale 1.333 --refine both), against the shipped model,
#   (a) robot and foreground IoU rise,
#   (b) the mean of the four target IoUs (foreground, robot, gripper, object) rises,
#   (c) neither gripper nor object IoU falls by more than 1.0,
#   (d) at least 95% of the robot IoU is kept 20 frames into a stop,
#   (e) it labels at least 3 pairs/s end to end on the 2-core CPU (the same network as the shipped one).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/v5}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
# 1. training data: 24 recordings of the six training embodiments (half repainted), object cut-outs, composites
[ -d data/v5/robots ] || $DN synth robots data/v5/robots --robots ur5e,kinova3,sawyer,panda140,panda,kuka --count 24 \
  --frames 16 --size 240x416 --seed 500 --objects data/v1/objects_ycb_train --textures data/v3/bg_train --repaint 0.5
[ -d data/v5/objects ] || $DN synth objects data/v5/objects --objects data/v1/objects_ycb_train --count 30 --views 6
$DN synth composite data/v5/pairs --robots data/v5/robots --objects data/v5/objects --backgrounds data/v3/bg_train \
  --num 3000 --size 240x416 --seed 51 --workers 2
# 2. the shipped model + 1,200 steps, whole network (as the v4 candidate, eval/recipes/default-v4.sh); soup with it
continue_default $RUNS $C 5 data/v5/robots,data/v5/pairs
[ -f $RUNS/default-v5.safetensors ] || $PY -m training.export $C $RUNS/default-v5.safetensors \
  --average $RUNS/g/semantic.safetensors --fp16
# 3. fresh held-out sets and the rule
judge_sets $RUNS "v3t:$C v5:$RUNS/default-v5.safetensors" "13:1210 14:1230"
$PY eval/recipes/round_rule.py $RUNS v3t v5 13 14 || true   # the verdict is printed; this recipe went on (exit 0) either way
# 4. (added after the rule passed) review margins per part for the shipped file: calibrated on v5's outputs of sets
#    13-14, each set checked on the other; only the parts whose margin beat 0.6 on the other set in both directions
#    (robot, gripper) are stored (eval/QUALITY.md "Review margins per part"). The result is what ships.
for ab in "13 14" "14 13"; do
  set -- $ab
  $PY -m eval.review_flags --data data/v4/heldout$1_ext --pred $RUNS/pred-v5-$1 --calibrate --checkpoint \
    $RUNS/default-v5.safetensors --write $RUNS/rm-$1.safetensors
  $PY -m eval.review_flags --data data/v4/heldout$2_ext --pred $RUNS/pred-v5-$2 --margins $RUNS/rm-$1.safetensors
done
$PY -m eval.review_flags --data data/v4/heldout13_ext --pred $RUNS/pred-v5-13 --data data/v4/heldout14_ext \
  --pred $RUNS/pred-v5-14 --calibrate --parts robot,gripper --checkpoint $RUNS/default-v5.safetensors \
  --write $RUNS/default-v5-rm.safetensors
echo "shipped as distinctnet/assets/default.safetensors: $RUNS/default-v5-rm.safetensors"
