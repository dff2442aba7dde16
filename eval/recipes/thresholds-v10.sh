#!/usr/bin/env bash
# Small-part thresholds calibrated again, for today's model and labeller (eval/QUALITY.md row 55). The shipped
# thresholds (gripper 0.1, object 0.3, distractor 0.3; foreground and robot 0.5) were calibrated for v3 (row 20) with
# a one-pass labeller on data/v3/calib; v5-v10 inherited them. Since then the labeller gained a second pass, the
# refinement and the motion reference, and the weights changed five times.
# 1. a calibration set: 10 recordings of the six training embodiments (half repainted, like their training
#    renders), training objects and photos, new seed 1950: not a held-out set;
# 2. python -m eval.calibrate --classes gripper,object,distractor with today's default labeller (foreground and
#    robot stay 0.5, as in row 20); if it picks the shipped thresholds, the round ends there;
# 3. two fresh held-out sets, 47 and 48 (seeds 1890, 1910), rendered after the choice, and both checkpoints on them.
# Rule fixed (and committed) before any of it was rendered: the recalibrated thresholds ship (the same weights, the
# thresholds in the header) only if, on each of sets 47 and 48, against the shipped model (run back to back, the
# shipped first): the mean of the four target IoUs (foreground, robot, gripper, object) rises, none of the four falls
# by more than 0.25, the distractor does not fall by more than 1.0, and at least 95% of the robot IoU is kept 20 frames
# into a stop. (The thresholds change no compute, so there is no speed clause.)
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/thresholds-v10}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
mkdir -p $RUNS
six_robot_renders data/v10/calib 1950 10 --object-p 0.9
[ -f $RUNS/v10t.safetensors ] || $PY -m eval.calibrate --data data/v10/calib --checkpoint $C \
  --classes gripper,object,distractor --write $RUNS/v10t.safetensors --json $RUNS/thresholds.json \
  --plot $RUNS/thresholds.png
$PY - "$C" "$RUNS/v10t.safetensors" <<'PYEOF' || { echo "the calibration picked the shipped thresholds: nothing to judge"; exit 0; }
import sys
from distinctnet.modeling.checkpoint import read_header
old, new = (read_header(p)["meta"]["thresholds"] for p in sys.argv[1:])
print("shipped:", old, "\nrecalibrated:", new)
sys.exit(0 if old != new else 1)
PYEOF
[ "${CALIB_ONLY:-0}" = 1 ] && exit 0
judge_sets $RUNS "v10:$C v10t:$RUNS/v10t.safetensors" "47:1890 48:1910"
$PY - "$RUNS" <<'PYEOF'
import json, sys
runs, parts, ok = sys.argv[1], ("foreground", "robot", "gripper", "object"), True
print("set    d.fg  d.robot  d.grip   d.obj  d.mean4  d.distr  stop kept  rule")
for k in (47, 48):
    a, b = (json.load(open(f"{runs}/{m}-heldout{k}_ext.json")) for m in ("v10", "v10t"))
    d = {c: b["iou"][c]["iou"] - a["iou"][c]["iou"] for c in parts + ("distractor",)}
    mean4 = sum(d[c] for c in parts) / 4
    kept = b["motion_stop"]["parts"]["robot"]["kept"]
    passed = mean4 > 0 and min(d[c] for c in parts) >= -0.25 and d["distractor"] >= -1.0 and kept >= 95
    ok &= passed
    print(f"{k:3d}" + "".join(f"{d[c]:+8.2f}" for c in parts) + f"{mean4:+9.2f}{d['distractor']:+9.2f}{kept:11.1f}  "
          + ("pass" if passed else "FAIL"))
print("rule for the recalibrated thresholds (sets 47, 48):", "passed" if ok else "failed")
sys.exit(0 if ok else 1)
PYEOF
