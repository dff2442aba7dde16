#!/usr/bin/env bash
# A longer baseline for moving frames: `--gap K` pairs a moving frame t with frame t-K (the composites the default
# was trained on use gaps of 1-5 frames). Exploratory: K = 2 and 3 on the five closed-grasp sets of
# reference-motion.sh (eval/QUALITY.md rows 29-); K = 2 was the candidate. It is judged on set 6 (seed 1070), rendered
# after that choice. Rule fixed before set 6 was rendered: `--gap 2` becomes the default only if, on set 6, against
# the current default (`--reference motion`, gap 1), it raises the foreground and the robot IoU, lowers neither the
# gripper nor the object IoU by more than 0.1, and keeps the robot IoU kept 20 frames into a stop at 95% or more.
# (The stop figure is near 100% with either gap and moves by +-1 between settings; the target is 90%.)
# Outcome (QUALITY.md row 29): on set 6 fg +1.3, robot +1.0, gripper +1.6, object -0.04, stop kept 100.6%: the default.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/reference}
C=${C:-distinctnet/assets/default.safetensors}
bash eval/recipes/reference-motion.sh   # renders sets 1-5 and scores gap 1
. eval/recipes/splits.sh
for set_ in heldout_ext heldout2_ext heldout3_ext heldout4_ext heldout5_ext; do
  for g in 2 3; do
    [ -f $RUNS/$set_-gap$g.json ] || $DN eval --data data/v4/$set_ --checkpoint $C --gap $g --second-scale 1 \
      --json $RUNS/$set_-gap$g.json
  done
done
heldout_set data/v4/heldout6 1070
[ -f $RUNS/heldout6_ext-previous.json ] || $DN eval --data data/v4/heldout6_ext --checkpoint $C $PLAIN_PAIRS \
  --json $RUNS/heldout6_ext-previous.json
for g in 1 2; do
  [ -f $RUNS/heldout6_ext-gap$g.json ] || $DN eval --data data/v4/heldout6_ext --checkpoint $C --gap $g --second-scale 1 \
    --json $RUNS/heldout6_ext-gap$g.json --report $RUNS/heldout6_ext-gap$g
done
echo "figures: $RUNS/*.json"
