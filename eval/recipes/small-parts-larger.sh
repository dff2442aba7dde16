#!/usr/bin/env bash
# Gripper and object from the larger pass (eval/QUALITY.md row 53): `distinctnet label --small-parts larger`. The
# default labeller runs the model at 192x336 and at 256x448 and averages foreground, robot and distractor over both,
# but takes the gripper and object from the first pass (192x336) only. The swapped passes of row 52 (`--input-size
# 256x448 --second-scale 0.75`) took them from 256x448 and raised them a lot on sets 39-42 (gripper +1.9 to +8.1,
# object +2.2 to +13.1), but moved the robot by -0.61 to +0.50, because the native size also sets the refinement's
# filter and the motion gate's thumbnails; the swap failed its rule on set 41 by 0.11 (robot -0.61, limit -0.5).
# `--small-parts larger` keeps the default's passes and everything else, and takes only the gripper and object from
# the larger pass, so the other parts are the default's by construction.
#
# Rule fixed (and committed) before sets 43 and 44 (seeds 1810, 1830) were rendered: `--small-parts larger` becomes
# the labeller's default only if, on each of sets 43 and 44, against today's default on the shipped model (both run
# back to back, the default first): the gripper and the object IoU rise, no other part's IoU (foreground, robot, arm,
# distractor) moves by more than 0.05, at least 95% of the robot IoU is kept 20 frames into a stop, and it labels at
# least 0.9 times as many pairs/s as the default. Sets 31-32 stay reserved for the GPU round (gpu-judge.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/small-parts}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
heldout_sets "43:1810 44:1830"
[ "${RENDER_ONLY:-0}" = 1 ] && exit 0
label_modes $RUNS small-parts "43 44" "first larger"
$PY - "$RUNS" <<'PYEOF'
import json, sys
runs = sys.argv[1]
ok = True
others = ("foreground", "robot", "arm", "distractor")
print("set  d.grip   d.obj  max|d.other|  stop kept  pairs/s (first)  rule")
for k in (43, 44):
    a, b = (json.load(open(f"{runs}/heldout{k}_ext-{m}.json")) for m in ("first", "larger"))
    d = {c: b["iou"][c]["iou"] - a["iou"][c]["iou"] for c in others + ("gripper", "object")}
    d_other = max(abs(d[c]) for c in others)
    kept, speed, speed0 = b["motion_stop"]["parts"]["robot"]["kept"], b["run"]["pairs_per_s"], a["run"]["pairs_per_s"]
    passed = d["gripper"] > 0 and d["object"] > 0 and d_other <= 0.05 and kept >= 95 and speed >= 0.9 * speed0
    ok &= passed
    print(f"{k:3d}{d['gripper']:+8.2f}{d['object']:+8.2f}{d_other:13.3f}{kept:11.1f}{speed:8.2f} ({speed0:.2f})  "
          + ("pass" if passed else "FAIL"))
print("rule for --small-parts larger (sets 43, 44):", "passed" if ok else "failed")
sys.exit(0 if ok else 1)
PYEOF
