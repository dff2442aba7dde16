"""Does the labeller's review flag point at the bad frames? Per part: how well the per-frame confidence margin
(``quality/{video}.csv``, written by ``distinctnet label``) tracks the frame's IoU against ground truth, and, for
a few margin thresholds, how many frames would be flagged and the mean IoU of flagged vs unflagged frames.

    distinctnet eval --data GT --checkpoint C --out PRED      # keeps the labeller's tree, quality/ included
    python -m eval.review_flags --data GT --pred PRED [--thresholds 0.3,0.4,0.5,0.6] [--json F]
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from distinctnet.errors import UserError, fail
from distinctnet.layout import PARTS, Recording

from .metrics import confusion, iou_from_counts


def frame_rows(gt: Path, pred: Path) -> list[tuple[str, float, float]]:
    """(part, margin, IoU in percent) for every frame and part the labeller predicted non-empty."""
    csvs = sorted((pred / "quality").glob("*.csv"))
    if not csvs:
        raise fail(pred / "quality", "no quality/*.csv here: pass the tree `distinctnet label` or "
                                     "`distinctnet eval --out` wrote")
    gt_rec, pred_rec = Recording(gt), Recording(pred)
    rows = []
    for q in csvs:
        video = q.stem
        with open(q, newline="") as fh:
            for r in csv.DictReader(fh):
                frame = int(r["frame"])
                for name in PARTS.values():
                    margin = r.get(f"{name}_margin", "")
                    if margin in ("", None):
                        continue  # empty prediction: nothing to flag
                    g = gt_rec.read_mask(video, name, frame)
                    try:
                        counts = confusion(pred_rec.read_mask(video, name, frame), g)
                    except ValueError as e:  # sizes differ
                        raise fail(pred_rec.mask_path(video, name, frame), str(e)) from None
                    rows.append((name, float(margin), iou_from_counts(*counts)))
    return rows


def summarise(rows: list[tuple[str, float, float]], thresholds: list[float]) -> dict:
    out = {}
    for name in PARTS.values():
        m = np.array([r[1] for r in rows if r[0] == name])
        iou = np.array([r[2] for r in rows if r[0] == name])
        if len(m) == 0:
            continue
        corr = float(np.corrcoef(m, iou)[0, 1]) if len(m) > 1 and m.std() > 0 and iou.std() > 0 else None
        per = []
        for th in thresholds:
            low = m < th
            per.append({"threshold": th, "flagged_pct": float(low.mean() * 100),
                        "iou_flagged": float(iou[low].mean()) if low.any() else None,
                        "iou_unflagged": float(iou[~low].mean()) if (~low).any() else None})
        out[name] = {"frames": int(len(m)), "corr_margin_iou": corr, "thresholds": per}
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.review_flags", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, help="ground-truth labelled-recording tree")
    p.add_argument("--pred", required=True, type=Path, help="the labeller's output tree (with quality/)")
    p.add_argument("--thresholds", default="0.3,0.4,0.5,0.6", help="margin thresholds to tabulate")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    try:
        try:
            ths = [float(x) for x in args.thresholds.split(",") if x]
        except ValueError:
            raise UserError(f"--thresholds {args.thresholds!r}: expected numbers separated by commas") from None
        res = summarise(frame_rows(args.data, args.pred), ths)
    except UserError as e:
        print(f"review_flags: error: {e}", file=sys.stderr)
        return 1
    for name, r in res.items():
        corr = "–" if r["corr_margin_iou"] is None else f"{r['corr_margin_iou']:.2f}"
        print(f"{name}: {r['frames']} frames, correlation(margin, IoU) {corr}")
        for t in r["thresholds"]:
            fl = "–" if t["iou_flagged"] is None else f"{t['iou_flagged']:.1f}"
            un = "–" if t["iou_unflagged"] is None else f"{t['iou_unflagged']:.1f}"
            print(f"  margin < {t['threshold']:.2f}: {t['flagged_pct']:.0f}% flagged, mean IoU flagged {fl}, "
                  f"unflagged {un}")
    if args.json:
        from distinctnet.io import atomic_write_json

        atomic_write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
