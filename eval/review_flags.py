"""Does the labeller's review flag point at the bad frames? Per part: how well the per-frame confidence margin
(``quality/{video}.csv``, written by ``distinctnet label``) tracks the frame's IoU against ground truth, and, for
a few margin thresholds, how many frames would be flagged and the mean IoU of flagged vs unflagged frames.

    distinctnet eval --data GT --checkpoint C --out PRED      # keeps the labeller's tree, quality/ included
    python -m eval.review_flags --data GT --pred PRED [--thresholds 0.3,0.4,0.5,0.6] [--json F]

Calibration: ``--calibrate`` picks, per part, the margin that best tells frames with a bad mask (IoU below
``--bad-iou``, 50) from good ones: the largest Youden index (share of bad frames flagged minus share of good
frames flagged) over a grid of margins. ``--write OUT --checkpoint C`` stores them in a copy of C
(``meta["review_margins"]``), which ``distinctnet label`` then uses. ``--data``/``--pred`` repeat to pool sets.
``--margins CKPT`` instead scores a checkpoint's stored margins on these sets (flag rate, precision, recall per
part and per frame), e.g. on sets other than those they were calibrated on.

    python -m eval.review_flags --data GT1 --pred PRED1 --data GT2 --pred PRED2 --calibrate \
        --checkpoint C --write calibrated.safetensors
    python -m eval.review_flags --data GT3 --pred PRED3 --margins calibrated.safetensors
"""
from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

from distinctnet.errors import UserError, fail
from distinctnet.layout import PARTS, Recording, read_meta

from .metrics import confusion, iou_from_counts


#: a frame's part mask is "bad" below this IoU (percent) for --calibrate
BAD_IOU = 50.0
#: the margins --calibrate chooses from
GRID = [round(0.05 * k, 2) for k in range(1, 20)]


def frame_rows(gt: Path, pred: Path, videos: list[str] | None = None) -> list[tuple[str, float, float, str, int]]:
    """(part, margin, IoU in percent, video, frame) for every frame and part the labeller predicted non-empty
    (of ``videos`` only, when given)."""
    csvs = sorted(q for q in (pred / "quality").glob("*.csv") if videos is None or q.stem in videos)
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
                    rows.append((name, float(margin), iou_from_counts(*counts), video, frame))
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


def _rates(flagged: np.ndarray, bad: np.ndarray) -> dict:
    """Flag rate, precision (share of flagged frames that are bad), recall (share of bad frames flagged),
    Youden index (recall minus the share of good frames flagged); None where undefined."""
    def share(num, den):
        return float(num.sum() / den.sum()) if den.any() else None

    recall, false_alarm = share(flagged & bad, bad), share(flagged & ~bad, ~bad)
    return {"frames": int(len(bad)), "bad_pct": float(bad.mean() * 100), "flagged_pct": float(flagged.mean() * 100),
            "precision": share(flagged & bad, flagged), "recall": recall,
            "youden": None if recall is None or false_alarm is None else recall - false_alarm}


def calibrate(rows, bad_iou: float = BAD_IOU, grid: list[float] = GRID, parts: list[str] | None = None) -> dict:
    """Per part, the margin of ``grid`` with the largest Youden index for "IoU < bad_iou" (ties: the smaller
    margin, fewer flags), with its rates. Parts whose frames are all good or all bad are left out (no margin
    separates them; the labeller then keeps its default for them), as are parts not in ``parts`` when given."""
    out = {}
    for name in PARTS.values():
        if parts is not None and name not in parts:
            continue
        m = np.array([r[1] for r in rows if r[0] == name])
        bad = np.array([r[2] < bad_iou for r in rows if r[0] == name])
        if len(m) == 0 or bad.all() or not bad.any():
            continue
        best = max(((_rates(m < t, bad), t) for t in grid), key=lambda rt: (rt[0]["youden"], -rt[1]))
        out[name] = {"margin": best[1], **best[0]}
    return out


def assess(rows, margins: dict[str, float], bad_iou: float = BAD_IOU, default: float | None = None) -> dict:
    """How given per-part margins flag these frames: rates per part, and per frame (a frame is flagged when any
    of its parts is, and bad when any of its parts' masks is). Parts missing from ``margins`` use ``default``
    (the labeller's 0.6 when None)."""
    from distinctnet.label.quality import DEFAULT_REVIEW_MARGIN

    default = DEFAULT_REVIEW_MARGIN if default is None else default
    out, frames = {}, {}
    for name in PARTS.values():
        sel = [r for r in rows if r[0] == name]
        if not sel:
            continue
        t = float(margins.get(name, default))
        flagged = np.array([r[1] < t for r in sel])
        bad = np.array([r[2] < bad_iou for r in sel])
        out[name] = {"margin": t, **_rates(flagged, bad)}
        for r, f, b in zip(sel, flagged, bad):
            key = (r[3], r[4])
            ff, bb = frames.get(key, (False, False))
            frames[key] = (ff or bool(f), bb or bool(b))
    if frames:
        f, b = (np.array(x) for x in zip(*frames.values()))
        out["frame"] = {"margin": None, **_rates(f, b)}
    return out


def pct(x) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def print_rates(res: dict) -> None:
    print("part        margin  frames  bad   flagged  precision  recall  youden")
    for name, r in res.items():
        t = "any" if r["margin"] is None else f"{r['margin']:.2f}"
        y = "–" if r["youden"] is None else f"{r['youden']:.2f}"
        print(f"{name:11s} {t:>6s} {r['frames']:7d} {r['bad_pct']:4.0f}% {r['flagged_pct']:7.0f}% "
              f"{pct(r['precision']):>10s} {pct(r['recall']):>7s} {y:>7s}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.review_flags", description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, type=Path, action="append",
                   help="ground-truth labelled-recording tree (repeat with --pred to pool sets)")
    p.add_argument("--pred", required=True, type=Path, action="append",
                   help="the labeller's output tree (with quality/), one per --data")
    p.add_argument("--thresholds", default="0.3,0.4,0.5,0.6", help="margin thresholds to tabulate")
    p.add_argument("--calibrate", action="store_true",
                   help="choose per part the margin that best flags the frames with IoU below --bad-iou")
    p.add_argument("--parts", metavar="LIST", help="with --calibrate: calibrate only these parts (comma-separated; "
                                                   "the others keep the labeller's default)")
    p.add_argument("--bad-iou", type=float, default=BAD_IOU, help=f"a mask is bad below this IoU (%%, {BAD_IOU:g})")
    p.add_argument("--checkpoint", type=Path, help="with --write: the checkpoint to copy")
    p.add_argument("--write", type=Path, metavar="OUT", help="with --calibrate: copy --checkpoint to OUT with "
                                                              "these review margins in its meta")
    p.add_argument("--margins", type=Path, metavar="CKPT",
                   help="score the review margins stored in this checkpoint on these sets")
    p.add_argument("--json", type=Path, help="also write the figures here")
    args = p.parse_args(argv)
    try:
        if len(args.data) != len(args.pred):
            raise UserError(f"{len(args.data)} --data but {len(args.pred)} --pred: give them in pairs")
        if args.write and not (args.calibrate and args.checkpoint):
            raise UserError("--write needs --calibrate and --checkpoint")
        try:
            ths = [float(x) for x in args.thresholds.split(",") if x]
        except ValueError:
            raise UserError(f"--thresholds {args.thresholds!r}: expected numbers separated by commas") from None
        rows = [r for gt, pred in zip(args.data, args.pred) for r in frame_rows(gt, pred)]
        if args.margins:
            from distinctnet.modeling.checkpoint import read_header

            margins = read_header(args.margins)["meta"].get("review_margins")
            if not margins:
                raise fail(args.margins, "no review margins in this checkpoint's meta (write them with --calibrate "
                                         "--write)")
            res = assess(rows, margins, args.bad_iou)
        elif args.calibrate:
            parts = [x.strip() for x in args.parts.split(",") if x.strip()] if args.parts else None
            if parts and (unknown := sorted(set(parts) - set(PARTS.values()))):
                raise UserError(f"--parts: unknown part(s) {', '.join(unknown)}; known: {', '.join(PARTS.values())}")
            res = calibrate(rows, args.bad_iou, parts=parts)
        else:
            res = summarise(rows, ths)
        if args.write:
            from distinctnet.modeling.checkpoint import read_header, rewrite_meta

            read_header(args.checkpoint)  # a clear error for a file that is not our checkpoint
            rewrite_meta(args.checkpoint, args.write, {
                "review_margins": {k: v["margin"] for k, v in res.items()},
                "review_margins_from": {"data": [str(d) for d in args.data], "bad_iou": args.bad_iou,
                                        "labeller": _labeller_settings(args.pred)}})
    except UserError as e:
        print(f"review_flags: error: {e}", file=sys.stderr)
        return 1
    if args.margins or args.calibrate:
        print_rates(res)
        if args.write:
            print(f"wrote {args.write}")
    for name, r in ({} if args.margins or args.calibrate else res).items():
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


def review_section(gt: Path, pred: Path, videos: list[str] | None = None, bad_iou: float = BAD_IOU) -> dict | None:
    """``distinctnet eval``'s ``review`` section: how the labeller's review margins (those recorded in the
    prediction's meta, else the default) flag the scored frames; None when the tree has no quality/ files (not
    written by ``distinctnet label``)."""
    pred = Path(pred)
    if not any((pred / "quality").glob("*.csv")):
        return None
    margins = next((v["review_margins"] for v in read_meta(pred)["videos"].values() if v.get("review_margins")), {})
    return {"bad_iou": bad_iou, "margins_from": "prediction meta" if margins else "default",
            "parts": assess(frame_rows(Path(gt), pred, videos), margins, bad_iou)}


def _labeller_settings(preds: list[Path]) -> list:
    """The labeller settings recorded in each prediction tree's meta (what the margins were measured with)."""
    return [next((v["labeller"] for v in read_meta(pred)["videos"].values() if v.get("labeller")), None)
            for pred in preds]


if __name__ == "__main__":
    sys.exit(main())
