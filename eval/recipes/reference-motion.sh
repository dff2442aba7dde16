#!/usr/bin/env bash
# Still frames paired with the last frame that differs (eval/QUALITY.md rows 26-): score the shipped default with
# `--reference previous` (the default) and `--reference motion` on the four closed-grasp held-out sets: the strict
# set (seed 950), set 2 (990), set 3 (1010) and set 4 (seed 1030, rendered for this comparison). The gate's
# parameters (reference.py: MotionGate) were set before any IoU figure and not tuned.
# Rule fixed before any figure: `motion` becomes the labeller's default only if, on every one of the four sets, it
# lowers none of the four IoU targets (foreground, robot, gripper, object) by more than 0.1 and does not lower the
# robot IoU kept 20 frames into a stop, and on sets 2, 3 and 4 (below the 90% target with the default) raises it.
# Outcome (QUALITY.md row 27): it failed that rule on one figure (set 2 object 25.67 -> 25.40) and met it on the
# rest. Second rule, fixed before set 5 (seed 1050) was rendered, the only further test: `motion` becomes the
# default only if on set 5 it raises the stop figure and lowers none of the four IoU targets by more than 0.1 (the
# first rule, on fresh data). If it does, `--clean 0.2` is judged on top of it on set 5 by the rule of rows 24-25
# (raises robot and foreground IoU, lowers none of the five target figures by more than 0.1, against motion alone).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/reference}
C=${C:-distinctnet/assets/default.safetensors}
. eval/recipes/splits.sh
heldout_set data/v4/heldout 950
heldout_set data/v4/heldout2 990
heldout_set data/v4/heldout3 1010
heldout_set data/v4/heldout4 1030
heldout_set data/v4/heldout5 1050
# gap 1 throughout: these rows were measured before --gap 2 became the default
mkdir -p $RUNS
for set_ in heldout_ext heldout2_ext heldout3_ext heldout4_ext; do
  for ref in previous motion; do
    [ -f $RUNS/$set_-$ref.json ] || $DN eval --data data/v4/$set_ --checkpoint $C --reference $ref --gap 1 --second-scale 1 \
      --json $RUNS/$set_-$ref.json --report $RUNS/$set_-$ref
  done
done
S5=data/v4/heldout5_ext
[ -f $RUNS/heldout5_ext-previous.json ] || $DN eval --data $S5 --checkpoint $C $PLAIN_PAIRS \
  --json $RUNS/heldout5_ext-previous.json --report $RUNS/heldout5_ext-previous
[ -f $RUNS/heldout5_ext-motion.json ] || $DN eval --data $S5 --checkpoint $C --reference motion --gap 1 --second-scale 1 \
  --json $RUNS/heldout5_ext-motion.json --report $RUNS/heldout5_ext-motion
[ -f $RUNS/heldout5_ext-motion-clean.json ] || $DN eval --data $S5 --checkpoint $C --reference motion --gap 1 --second-scale 1 \
  --clean 0.2 --json $RUNS/heldout5_ext-motion-clean.json --report $RUNS/heldout5_ext-motion-clean
echo "figures: $RUNS/*.json"
