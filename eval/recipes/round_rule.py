"""The rule a default-model round must pass (eval/QUALITY.md rows 21-): candidate against the shipped model.

    python eval/recipes/round_rule.py RUNS SHIPPED CANDIDATE SET [SET ...] [--relative-speed R]

reads RUNS/{SHIPPED,CANDIDATE}-heldout{SET}_ext.json (``distinctnet eval --json``) and, on each set, asks that
  (a) robot and foreground IoU rise,
  (b) the mean of the four target IoUs (foreground, robot, gripper, object) rises,
  (c) neither gripper nor object IoU falls by more than 1.0,
  (d) at least 95% of the robot IoU is kept 20 frames into a stop,
  (e) the candidate labels at least 3 pairs/s end to end; with ``--relative-speed R`` (rounds from row 46 on),
      at least R times the shipped model's pairs/s on the same set instead (the two run back to back, so the
      clause compares the models, not the machine of the day).
Prints one row per set and the verdict; exits 0 when every set passes, 1 when one fails.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

PARTS = ("foreground", "robot", "gripper", "object")


def judge(shipped: dict, candidate: dict, relative_speed: float | None = None) -> tuple[dict, float, float, float, bool]:
    """(IoU change per part, mean change of the four, robot IoU kept into a stop %, pairs/s, passed)."""
    d = {c: candidate["iou"][c]["iou"] - shipped["iou"][c]["iou"] for c in PARTS}
    mean4 = sum(d.values()) / len(PARTS)
    kept = candidate["motion_stop"]["parts"]["robot"]["kept"]
    speed = candidate["run"]["pairs_per_s"]
    fast = speed >= 3 if relative_speed is None else speed >= relative_speed * shipped["run"]["pairs_per_s"]
    passed = (min(d["foreground"], d["robot"]) > 0 and mean4 > 0 and min(d["gripper"], d["object"]) >= -1.0
              and kept >= 95 and fast)
    return d, mean4, kept, speed, passed


def main(argv: list[str]) -> int:
    relative = None
    if "--relative-speed" in argv:
        i = argv.index("--relative-speed")
        try:
            relative = float(argv[i + 1])
        except (IndexError, ValueError):
            print("round_rule: error: --relative-speed needs a number, e.g. 0.9", file=sys.stderr)
            return 2
        argv = argv[:i] + argv[i + 2:]
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    runs, shipped, candidate, sets = Path(argv[0]), argv[1], argv[2], argv[3:]
    ok = True
    print("set      d.fg   d.robot d.grip  d.obj   d.mean4  stop kept  pairs/s  rule"
          + ("" if relative is None else f"   (speed: at least {relative:g} x the shipped model's)"))
    for k in sets:
        a, b = (json.loads((runs / f"{m}-heldout{k}_ext.json").read_text()) for m in (shipped, candidate))
        d, mean4, kept, speed, passed = judge(a, b, relative)
        ok &= passed
        print(f"set {k}" + "".join(f"{d[c]:+8.2f}" for c in PARTS) + f"{mean4:+9.2f}{kept:10.1f}{speed:9.2f}  "
              + ("pass" if passed else "FAIL"))
    print(f"rule (sets {', '.join(sets)}):", "passed" if ok else "failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
