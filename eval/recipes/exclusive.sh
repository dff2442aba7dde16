#!/usr/bin/env bash
# The grasped object and the distractors never share a pixel in the layout's ground truth, but the labeller's
# object and distractor masks overlap: `--exclusive distractor` gives the shared pixels to the distractor.
# eval/QUALITY.md rows 41-; distinctnet/label/parts.py (make_exclusive).
# Exploration, on set 21 only (seed 1370; the default labeller's masks, `python -m eval.where_missed --confusion` and a
# throwaway script on the masks): 46% of the pixels the default labels object are ground-truth distractor, 26%
# background, 21% object. Every one of the 26,502 object pixels that the distractor mask has too was a
# distractor's: dropping them from the object raised its IoU 27.3 -> 34.1, nothing else changes. Keeping only the
# object pieces within 3 pixels of the gripper gave +3.9 alone, +0.7 on top; not taken (a second parameter).
# Rule fixed (and committed in 45f05a4) before sets 23-24 were rendered (seeds 1410, 1430; no labeller has seen
# them): `--exclusive distractor` becomes the labeller's default only if, on each of sets 23 and 24, against today's
# default (`--exclusive none`), the object IoU rises, no other part's IoU (foreground, robot, arm, gripper,
# distractor) moves by more than 0.05, at least 95% of the robot IoU is kept 20 frames into a stop, and it labels
# at least 0.9 times as many pairs/s as the default on the same machine (the absolute 3 pairs/s of issue 7 is
# judged on the default itself: it depends on the CPU, see eval/RESULTS.md).
# Then, on set 22 (seed 1390, the second set the default's masks were looked at), the same drop LOWERED the object
# IoU 36.1 -> 27.3: there the weak distractor mask (IoU 29) lies over 16,000 true object pixels. So a second mode,
# `--exclusive larger` (each shared pixel to the part further above its own threshold), was added; on set 21 it
# gave object +3.6, distractor -0.35 (distractor: +6.8, 0). Its rule, fixed (and committed) after sets 23-24 were
# rendered but before any labeller was run on them: on each of sets 23 and 24, against `--exclusive none`, the
# object IoU rises, the distractor IoU falls by at most 0.5, no other part moves by more than 0.05, the stop and
# speed clauses as above. If both modes pass, the default becomes the one whose summed object and distractor IoU
# change over the two sets is larger.
set -euo pipefail
cd "$(dirname "$0")/../.."
DN=${DN:-.venv/bin/distinctnet}
PY=${PY:-.venv/bin/python}
RUNS=${RUNS:-runs/exclusive}
C=${C:-distinctnet/assets/default.safetensors}
source eval/recipes/splits.sh
heldout_sets "23:1410 24:1430"
label_modes $RUNS exclusive "23 24" "none distractor larger"
$PY - "$RUNS" <<'PYEOF'
import json, sys
runs = sys.argv[1]
ok = True
others = ("foreground", "robot", "arm", "gripper")
print("mode        set  d.obj  d.dist  max|d.other|  stop kept  pairs/s (none)  rule")
verdict, gain = {}, {}
for mode, (dist_lo, dist_hi) in (("distractor", (-0.05, 0.05)), ("larger", (-0.5, float("inf")))):
    ok, gain[mode] = True, 0.0
    for k in (23, 24):
        s = f"heldout{k}_ext"
        a, b = (json.load(open(f"{runs}/{s}-{m}.json")) for m in ("none", mode))
        d = {c: b["iou"][c]["iou"] - a["iou"][c]["iou"] for c in others + ("object", "distractor")}
        d_other = max(abs(d[c]) for c in others)
        kept, speed, speed0 = b["motion_stop"]["parts"]["robot"]["kept"], b["run"]["pairs_per_s"], a["run"]["pairs_per_s"]
        passed = (d["object"] > 0 and dist_lo <= d["distractor"] <= dist_hi and d_other <= 0.05 and kept >= 95
                  and speed >= 0.9 * speed0)
        ok &= passed
        gain[mode] += d["object"] + d["distractor"]
        print(f"{mode:10s}  {k:3d}{d['object']:+7.2f}{d['distractor']:+8.2f}{d_other:13.3f}{kept:11.1f}{speed:8.2f} "
              f"({speed0:.2f})  " + ("pass" if passed else "FAIL"))
    verdict[mode] = ok
    print(f"rule for --exclusive {mode} (sets 23-24):", "passed" if ok else "failed",
          f"(object + distractor change summed over both sets {gain[mode]:+.2f})")
passing = [m for m in verdict if verdict[m]]
print("new default:", f"--exclusive {max(passing, key=gain.get)}" if passing else "none (keep --exclusive none)")
sys.exit(0 if passing else 1)
PYEOF
