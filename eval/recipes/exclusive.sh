#!/usr/bin/env bash
# The grasped object and the distractors never share a pixel in the layout's ground truth, but the labeller's
# object and distractor masks overlap: `--exclusive distractor` gives the shared pixels to the distractor.
# eval/QUALITY.md rows 41-; distinctnet/label/parts.py (make_exclusive).
# Exploration, on set 21 only (seed 1370; the default labeller's masks, `python -m eval.where_missed --confusion` and a
# throwaway script on the masks): 46% of the pixels the default labels object are ground-truth distractor, 26%
# background, 21% object. Every one of the 26,502 object pixels that the distractor mask has too was a
# distractor's: dropping them from the object raised its IoU 27.3 -> 34.1, nothing else changes. Keeping only the
# object pieces within 3 pixels of the gripper gave +3.9 alone, +0.7 on top; not taken (a second parameter).
# Rule fixed (and committed) before sets 23-24 were rendered (seeds 1410, 1430; no labeller has seen them):
# `--exclusive distractor` becomes the labeller's default only if, on each of sets 23 and 24, against today's
# default (`--exclusive none`), the object IoU rises, no other part's IoU (foreground, robot, arm, gripper,
# distractor) moves by more than 0.05, at least 95% of the robot IoU is kept 20 frames into a stop, and it labels
# at least 0.9 times as many pairs/s as the default on the same machine (the absolute 3 pairs/s of issue 7 is
# judged on the default itself: it depends on the CPU, see eval/RESULTS.md).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/exclusive}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
for ks in "23 1410" "24 1430"; do
  set -- $ks
  [ -d data/v4/heldout$1_ext ] || heldout_set data/v4/heldout$1 $2
done
mkdir -p $RUNS
for k in 23 24; do
  set_=heldout${k}_ext
  for mode in none distractor; do
    [ -f $RUNS/$set_-$mode.json ] || $DN eval --data data/v4/$set_ --checkpoint $C --exclusive $mode \
      --json $RUNS/$set_-$mode.json --report $RUNS/$set_-$mode --out $RUNS/pred-$k-$mode
  done
done
$PY - "$RUNS" <<'PYEOF'
import json, sys
runs = sys.argv[1]
ok = True
others = ("foreground", "robot", "arm", "gripper", "distractor")
print("set              d.obj  max|d.other|  stop kept  pairs/s (none)  rule")
for k in (23, 24):
    s = f"heldout{k}_ext"
    a, b = (json.load(open(f"{runs}/{s}-{m}.json")) for m in ("none", "distractor"))
    d_obj = b["iou"]["object"]["iou"] - a["iou"]["object"]["iou"]
    d_other = max(abs(b["iou"][c]["iou"] - a["iou"][c]["iou"]) for c in others)
    kept, speed, speed0 = b["motion_stop"]["parts"]["robot"]["kept"], b["run"]["pairs_per_s"], a["run"]["pairs_per_s"]
    passed = d_obj > 0 and d_other <= 0.05 and kept >= 95 and speed >= 0.9 * speed0
    ok &= passed
    print(f"set {k} {s:12s}{d_obj:+7.2f}{d_other:13.3f}{kept:11.1f}{speed:8.2f} ({speed0:.2f})  "
          + ("pass" if passed else "FAIL"))
print("rule (sets 23-24):", "passed" if ok else "failed")
sys.exit(0 if ok else 1)
PYEOF
