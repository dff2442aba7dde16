#!/usr/bin/env bash
# v8 candidate (eval/QUALITY.md rows 39-): the shipped model continued for 1,200 steps, whole network, on the
# training data of v5, v6 and v7 plus 24 new renders of the six training embodiments in which, in half of them, the
# arm's first joints hold still (`synth robots --hold-joints 0.5`: links near the base that stand still and are still
# robot), half repainted, and 3,000 composites of them; then the mean of its weights with the shipped model's (a
# soup; it keeps the shipped file's meta). Why: on the Jaco held-out videos, over half of the missed robot pixels
# never move (eval/where_missed.py, QUALITY.md row 37), and no training recording had still links beside moving ones.
#
# Rule fixed (and committed) before the training data and sets 19-20 (seeds 1330, 1350) were rendered: the
# candidate replaces the shipped model (whichever is shipped when this runs: v7 if it passed its rule, else v6)
# only if it passes eval/recipes/round_rule.py on each of sets 19 and 20 with the labeller's defaults of today:
# robot and foreground IoU rise, the mean of the four target IoUs rises, neither gripper nor object IoU falls by
# more than 1.0, at least 95% of the robot IoU is kept 20 frames into a stop, at least 3 pairs/s on the 2-core CPU.
# Looked at besides the rule, not part of it: where_missed's share of Jaco's never-moving robot pixels missed.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/v8}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
# 1. training data: v5's, v6's and v7's (made as their recipes make them) + 24 new recordings and 3,000 composites
R6="--robots ur5e,kinova3,sawyer,panda140,panda,kuka --count 24 --frames 16 --size 240x416"
T="--objects data/v1/objects_ycb_train --textures data/v3/bg_train --repaint 0.5"
[ -d data/v5/robots ] || $DN synth robots data/v5/robots $R6 --seed 500 $T        # as default-v5.sh
[ -d data/v5/objects ] || $DN synth objects data/v5/objects --objects data/v1/objects_ycb_train --count 30 --views 6
for v in "5 51" "6 61" "7 71"; do   # as default-v5/6/7.sh
  set -- $v
  [ -d data/v$1/robots ] || $DN synth robots data/v$1/robots $R6 --seed ${1}00 $T
  [ -d data/v$1/pairs ] || $DN synth composite data/v$1/pairs --robots data/v$1/robots --objects data/v5/objects \
    --backgrounds data/v3/bg_train --num 3000 --size 240x416 --seed $2 --workers 2
done
[ -d data/v8/robots ] || $DN synth robots data/v8/robots $R6 --seed 800 $T --hold-joints 0.5
[ -d data/v8/pairs ] || $DN synth composite data/v8/pairs --robots data/v8/robots --objects data/v5/objects \
  --backgrounds data/v3/bg_train --num 3000 --size 240x416 --seed 81 --workers 2
# 2. the shipped model + 1,200 steps, whole network (the settings of v5-v7); soup with it
continue_default $RUNS $C 8 data/v5/robots,data/v5/pairs,data/v6/robots,data/v6/pairs,data/v7/robots,data/v7/pairs,data/v8/robots,data/v8/pairs
[ -f $RUNS/default-v8.safetensors ] || $PY -m training.export $C $RUNS/default-v8.safetensors \
  --average $RUNS/g/semantic.safetensors --fp16
# 3. fresh held-out sets and the rule
judge_sets $RUNS "ship:$C v8:$RUNS/default-v8.safetensors" "19:1330 20:1350"
for m in ship v8; do   # besides the rule: where the misses are (embodiment x phase, never-moving pixels)
  [ -f $RUNS/where-missed-$m.json ] || $PY -m eval.where_missed --data data/v4/heldout19_ext --pred $RUNS/pred-$m-19 \
    --data data/v4/heldout20_ext --pred $RUNS/pred-$m-20 --json $RUNS/where-missed-$m.json || true
done
$PY eval/recipes/round_rule.py $RUNS ship v8 19 20
