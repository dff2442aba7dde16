"""The rule for a labeller change that leaves most videos alone (eval/QUALITY.md rows 59-): gain pooled, harm per set.

    python eval/recipes/pooled_rule.py RUNS BASE CANDIDATE SET [SET ...]

reads RUNS/heldout{SET}_ext-{BASE,CANDIDATE}.json (``distinctnet eval --json``, both run back to back) and asks that
  (a) the mean over the sets of the change of the mean of the four target IoUs (foreground, robot, gripper, object)
      is positive;
  (b) on each set, none of the five parts (those four and the distractor) falls by more than 0.25;
  (c) on each set, at least 95% of the robot IoU is kept 20 frames into a stop;
  (d) over the sets together, the candidate labels at least 0.9 times the base's pairs/s (pairs over seconds).
Prints one row per set and the verdict; exits 0 when the rule passes, 1 when it fails.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

PARTS = ("foreground", "robot", "gripper", "object", "distractor")


def judge(runs: Path, base: str, candidate: str, sets: list[str]) -> bool:
    ok, mean4s, time = True, [], {base: [0.0, 0.0], candidate: [0.0, 0.0]}  # pairs, seconds
    print("set    d.fg  d.robot  d.grip   d.obj  d.distr  d.mean4  stop kept  per set")
    for k in sets:
        r = {m: json.loads((runs / f"heldout{k}_ext-{m}.json").read_text()) for m in (base, candidate)}
        d = {c: r[candidate]["iou"][c]["iou"] - r[base]["iou"][c]["iou"] for c in PARTS}
        mean4 = sum(d[c] for c in PARTS[:4]) / 4
        mean4s.append(mean4)
        kept = r[candidate]["motion_stop"]["parts"]["robot"]["kept"]
        for m in time:
            time[m][0] += r[m]["run"]["pairs"]
            time[m][1] += r[m]["run"]["seconds"]
        passed = min(d.values()) >= -0.25 and kept >= 95
        ok &= passed
        print(f"{k:>3}" + "".join(f"{d[c]:+8.2f}" for c in PARTS) + f"{mean4:+9.2f}{kept:11.1f}  "
              + ("pass" if passed else "FAIL"))
    pooled = sum(mean4s) / len(mean4s)
    speed = {m: p / s for m, (p, s) in time.items()}
    ratio = speed[candidate] / speed[base]
    print(f"mean over the sets of d.mean4: {pooled:+.2f} ({'pass' if pooled > 0 else 'FAIL'}); pooled speed "
          f"{speed[candidate]:.2f} vs {speed[base]:.2f} pairs/s = {ratio:.2f}x ({'pass' if ratio >= 0.9 else 'FAIL'})")
    return ok and pooled > 0 and ratio >= 0.9


def main(argv: list[str]) -> int:
    if len(argv) < 4:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    runs, base, candidate, sets = Path(argv[0]), argv[1], argv[2], argv[3:]
    ok = judge(runs, base, candidate, sets)
    print(f"rule for {candidate} (sets {', '.join(sets)}):", "passed" if ok else "failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
