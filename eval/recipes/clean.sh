#!/usr/bin/env bash
# Dropping small robot pieces (eval/QUALITY.md rows 24-): R = 0.2 was chosen on the two closed-grasp sets of
# tta-bidir.sh; this renders a third set after that choice (seed 1010, same protocol) and scores the shipped
# default on it without and with `--clean 0.2`. Rule fixed before its figures: --clean 0.2 becomes the default
# only if it raises the robot and foreground IoU and lowers none of the five target figures by more than 0.1.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/clean}
C=${C:-distinctnet/assets/default.safetensors}
. eval/recipes/splits.sh
heldout_set data/v4/heldout3 1010
mkdir -p $RUNS
for clean in 0 0.2; do
  [ -f $RUNS/heldout3_ext-clean$clean.json ] || $DN eval --data data/v4/heldout3_ext --checkpoint $C $PLAIN_PAIRS \
    --clean $clean --json $RUNS/heldout3_ext-clean$clean.json --report $RUNS/heldout3_ext-clean$clean
done
echo "figures: $RUNS/*.json"
