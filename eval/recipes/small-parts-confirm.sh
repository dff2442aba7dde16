#!/usr/bin/env bash
# `--small-parts larger` judged again (eval/QUALITY.md row 54), with a rule that counts what moves with the small
# parts. Row 53's rule said every part but the gripper and the object was unchanged by construction; it was wrong:
# the arm is the robot without the gripper, and the written foreground and robot masks hold the gripper and object
# pixels, so they move with them (sets 43-44: arm +1.30/+0.72, foreground +0.26/+0.02, robot -0.01/+0.12). The
# compute is the same (the same two passes), yet the two sets measured 0.88x and 1.06x the default's speed: one set's
# timing is noise of ~10% on this VM, so the speed clause pools both sets.
#
# Rule fixed (and committed) before sets 45 and 46 (seeds 1850, 1870) were rendered: `--small-parts larger` becomes
# the labeller's default only if, on each of sets 45 and 46, against today's default on the shipped model (both run
# back to back, the default first): the gripper and the object IoU rise; the arm does not fall by more than 0.05;
# foreground and robot do not fall by more than 0.25; the distractor does not move by more than 0.05; at least 95% of
# the robot IoU is kept 20 frames into a stop; and over both sets together it labels at least 0.9 times as many
# pairs/s as the default (pairs over seconds, pooled). Sets 31-32 stay reserved for the GPU round (gpu-judge.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/small-parts}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
heldout_sets "45:1850 46:1870"
[ "${RENDER_ONLY:-0}" = 1 ] && exit 0
label_modes $RUNS small-parts "45 46" "first larger"
$PY - "$RUNS" <<'PYEOF'
import json, sys
runs = sys.argv[1]
ok, time = True, {"first": [0.0, 0.0], "larger": [0.0, 0.0]}  # pairs, seconds
print("set  d.grip   d.obj   d.arm    d.fg  d.robot  d.distr  stop kept  rule")
for k in (45, 46):
    r = {m: json.load(open(f"{runs}/heldout{k}_ext-{m}.json")) for m in ("first", "larger")}
    d = {c: r["larger"]["iou"][c]["iou"] - r["first"]["iou"][c]["iou"]
         for c in ("gripper", "object", "arm", "foreground", "robot", "distractor")}
    kept = r["larger"]["motion_stop"]["parts"]["robot"]["kept"]
    for m in time:
        time[m][0] += r[m]["run"]["pairs"]
        time[m][1] += r[m]["run"]["seconds"]
    passed = (d["gripper"] > 0 and d["object"] > 0 and d["arm"] >= -0.05 and d["foreground"] >= -0.25
              and d["robot"] >= -0.25 and abs(d["distractor"]) <= 0.05 and kept >= 95)
    ok &= passed
    print(f"{k:3d}" + "".join(f"{d[c]:+8.2f}" for c in ("gripper", "object", "arm", "foreground", "robot", "distractor"))
          + f"{kept:11.1f}  " + ("pass" if passed else "FAIL"))
speed = {m: p / s for m, (p, s) in time.items()}
fast = speed["larger"] >= 0.9 * speed["first"]
print(f"pooled pairs/s: larger {speed['larger']:.2f}, first {speed['first']:.2f} ({speed['larger'] / speed['first']:.2f}x) "
      + ("pass" if fast else "FAIL"))
ok &= fast
print("rule for --small-parts larger (sets 45, 46):", "passed" if ok else "failed")
sys.exit(0 if ok else 1)
PYEOF
