"""Where does the labeller lose a part? Pooled IoU of one part (default: the robot) per embodiment and phase of
the video, and how much of what it misses lies in pixels the part covers in every frame (a base or a link that
never moves, which only the part's look can give away: a motion cue cannot).

    distinctnet eval --data GT --checkpoint C --out PRED       # keeps the labeller's masks
    python -m eval.where_missed --data GT --pred PRED [--data GT2 --pred PRED2 ...] [--part robot] [--json F]

Embodiment = the video name up to its first ``_`` (the renderer's ``{robot}_s{seed}_{k}``). Phases: ``start``
(the first ``--start`` frames), ``moving`` (up to ``static_from``), ``still`` (from ``static_from`` on). IoU is
pooled over the pixels of all frames in a group (as ``distinctnet eval`` pools per video, here per group).
``never-moving`` = the pixels inside the part's ground-truth mask in every frame of the video.

``--confusion`` adds, per embodiment, where each ground-truth part's pixels went and where each predicted part's
pixels came from: every pixel gets one label on each side, the first of gripper, object, arm, distractor that
covers it, else background (arm = robot minus gripper where a tree has no arm mask). Rows: ground truth; columns:
prediction; % of the row's pixels.

``--distance`` splits the part's errors by how far they lie from its ground-truth boundary (Euclidean pixels):
false positives at most B1 pixels outside it (an over-wide edge), up to B2 (a shadow, a blob beside the part),
further (something else taken for the part), and misses at most B1 pixels inside it (a thin edge) or deeper (a
piece not found). Each as % of the pooled union, with the IoU that the part would have without it, per
embodiment. Bands B1,B2 default to 3,15.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from distinctnet.errors import UserError, fail
from distinctnet.layout import PART_NAMES, Recording

from .metrics import confusion


def phase(frame: int, static_from: int | None, start: int) -> str:
    if frame < start:
        return "start"
    if static_from is None or frame < static_from:
        return "moving"
    return "still"


def matched_videos(pairs: list[tuple[Path, Path]], wanted: Callable[[set[str]], bool]) -> Iterator[tuple]:
    """(gt, pred, video, the ground truth's video meta, embodiment) for each ground-truth video of ``pairs``
    whose annotated parts satisfy ``wanted``; a video the prediction lacks is an error."""
    for gt_root, pred_root in pairs:
        gt, pred = Recording(gt_root), Recording(pred_root)
        for video in gt.videos:
            vm = gt.video_meta(video)
            if not wanted(set(vm.get("annotated_parts", PART_NAMES))):
                continue
            if video not in pred.meta["videos"]:
                raise fail(pred_root, f"no video {video} here (it is in {gt_root})")
            yield gt, pred, video, vm, video.split("_")[0]


def analyse(pairs: list[tuple[Path, Path]], part: str = "robot", start: int = 3) -> dict:
    """{embodiment: {"iou": {phase: IoU %}, "never_moving_share": % of the GT pixels that never move,
    "never_moving_missed": % of those missed, "missed_share_never_moving": % of all missed pixels that lie there,
    "missed": % of all GT pixels missed, "videos": n}} plus "all" pooled over embodiments."""
    tp, union = defaultdict(int), defaultdict(int)
    px = defaultdict(lambda: np.zeros(4, dtype=np.int64))  # gt, gt never moving, missed never moving, missed
    nvid = defaultdict(int)
    for gt, pred, video, vm, emb in matched_videos(pairs, lambda ann: part in ann):
        n, sf = int(vm["frames"]), vm.get("static_from")
        g = np.stack([gt.read_mask(video, part, f) for f in range(n)])
        p = np.stack([pred.read_mask(video, part, f) for f in range(n)])
        if g.shape != p.shape:
            raise fail(pred.mask_path(video, part, 0), f"masks are {p.shape[1:]}, the ground truth's {g.shape[1:]}")
        for f in range(n):
            hit, fp, fn = confusion(p[f], g[f])
            ph = phase(f, sf, start)
            for key in ((emb, ph), ("all", ph), (emb, "all"), ("all", "all")):
                tp[key] += hit
                union[key] += hit + fp + fn
        never = g.all(axis=0)[None]
        missed = g & ~p
        counts = np.array([g.sum(), (g & never).sum(), (missed & never).sum(), missed.sum()])
        px[emb] += counts
        px["all"] += counts
        nvid[emb] += 1
        nvid["all"] += 1
    if not nvid:
        raise UserError(f"no video with part {part!r} annotated in {', '.join(str(g) for g, _ in pairs)}")

    def pct(a, b):
        return round(100.0 * float(a) / float(b), 2) if b else None

    out = {}
    for emb in sorted(nvid, key=lambda e: (e == "all", e)):
        g, gn, mn, m = px[emb]
        out[emb] = {
            "videos": nvid[emb],
            "iou": {ph: pct(tp[(emb, ph)], union[(emb, ph)]) for ph in ("start", "moving", "still", "all")
                    if (emb, ph) in union},
            "never_moving_share": pct(gn, g),
            "never_moving_missed": pct(mn, gn),
            "missed_share_never_moving": pct(mn, m),
            "missed": pct(m, g),
        }
    return out


ERROR_KINDS = ("fp_edge", "fp_near", "fp_far", "fn_edge", "fn_deep")


def error_bands(gt: np.ndarray, pred: np.ndarray, bands: tuple[float, float]) -> dict[str, int]:
    """Pixel counts of one frame: "tp" and the ERROR_KINDS (see the module's ``--distance``)."""
    import cv2

    b1, b2 = bands
    if gt.any():
        outside = cv2.distanceTransform((~gt).astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    else:
        outside = np.full(gt.shape, np.inf, np.float32)
    inside = cv2.distanceTransform(gt.astype(np.uint8), cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    fp, fn = pred & ~gt, gt & ~pred
    return {"tp": int((gt & pred).sum()),
            "fp_edge": int((fp & (outside <= b1)).sum()), "fp_near": int((fp & (outside > b1) & (outside <= b2)).sum()),
            "fp_far": int((fp & (outside > b2)).sum()),
            "fn_edge": int((fn & (inside <= b1)).sum()), "fn_deep": int((fn & (inside > b1)).sum())}


def error_distance(pairs: list[tuple[Path, Path]], part: str = "foreground", bands: tuple[float, float] = (3, 15)) -> dict:
    """{embodiment: {"videos": n, "iou": pooled IoU %, "share": {kind: % of the union}, "iou_without": {kind: IoU %
    with that error removed}}} plus "all"; ``part`` may be any annotated part or ``foreground``."""
    from distinctnet.layout import foreground

    counts = defaultdict(lambda: defaultdict(int))
    nvid = defaultdict(int)
    for gt, pred, video, vm, emb in matched_videos(pairs, lambda ann: part == "foreground" or part in ann):
        for f in range(int(vm["frames"])):
            if part == "foreground":
                g, q = foreground(gt.read_masks(video, f)), foreground(pred.read_masks(video, f))
            else:
                g, q = gt.read_mask(video, part, f), pred.read_mask(video, part, f)
            if g.shape != q.shape:
                raise fail(pred.image_path(video, f).parent, f"masks are {q.shape}, the ground truth's {g.shape}")
            for k, v in error_bands(g, q, bands).items():
                counts[emb][k] += v
                counts["all"][k] += v
        nvid[emb] += 1
        nvid["all"] += 1
    if not nvid:
        raise UserError(f"no video with part {part!r} annotated in {', '.join(str(g) for g, _ in pairs)}")
    out = {}
    for emb in sorted(nvid, key=lambda e: (e == "all", e)):
        c = counts[emb]
        union = c["tp"] + sum(c[k] for k in ERROR_KINDS)
        out[emb] = {"videos": nvid[emb], "iou": round(100.0 * c["tp"] / union, 2) if union else None,
                    "share": {k: round(100.0 * c[k] / union, 2) if union else None for k in ERROR_KINDS},
                    "iou_without": {k: round(100.0 * c["tp"] / (union - c[k]), 2) if union - c[k] else None
                                    for k in ERROR_KINDS}}
    return out


def print_distance(res: dict, part: str, bands: tuple[float, float]) -> None:
    b1, b2 = (f"{b:g}" for b in bands)
    print(f"\n{part}: errors by distance from the ground-truth boundary, % of the union (IoU without them)")
    print(f"{'embodiment':12s} {'videos':>6s} {'IoU':>6s}   " + "  ".join(f"{k:>14s}" for k in ERROR_KINDS))
    for emb, r in res.items():
        cells = "  ".join(f"{r['share'][k]:5.1f} ({r['iou_without'][k]:5.1f})" for k in ERROR_KINDS)
        print(f"{emb:12s} {r['videos']:6d} {r['iou']:6.1f}   {cells}")
    print(f"fp_edge: false positives <= {b1} px outside the part; fp_near: up to {b2} px (shadows, blobs beside it); "
          f"fp_far: further; fn_edge: misses <= {b1} px inside its edge; fn_deep: deeper")


#: one label per pixel: the first part of this list whose mask covers it; index len() = background
LABELS = ("gripper", "object", "arm", "distractor")
CONF_NAMES = LABELS + ("background",)


def pixel_labels(masks: dict[str, np.ndarray], shape: tuple[int, ...]) -> np.ndarray:
    """uint8 labels (indices into CONF_NAMES) from part masks; absent parts are empty; ``arm`` falls back to
    ``robot & ~gripper`` when only robot is there."""
    lab = np.full(shape, len(LABELS), dtype=np.uint8)
    if masks.get("arm") is None and masks.get("robot") is not None:
        g = masks.get("gripper")
        masks = dict(masks, arm=masks["robot"] & ~g if g is not None else masks["robot"])
    for i in reversed(range(len(LABELS))):  # the first in LABELS is written last and wins
        m = masks.get(LABELS[i])
        if m is not None:
            lab[m] = i
    return lab


def read_labelled(rec: Recording, video: str, frame: int, annotated: set[str]) -> dict[str, np.ndarray]:
    """The masks :func:`pixel_labels` needs of one frame: the annotated ones among arm, gripper, object, distractor,
    and robot only where there is no arm mask."""
    names = [p for p in LABELS if p in annotated] + (["robot"] if "arm" not in annotated and "robot" in annotated else [])
    return {p: rec.read_mask(video, p, frame) for p in names}


def confusion_matrix(pairs: list[tuple[Path, Path]]) -> dict:
    """{embodiment: {"pixels": 5x5 counts (rows ground truth, columns prediction, order CONF_NAMES),
    "gt_to_pred": row %, "pred_from_gt": column %}} plus "all"; only videos whose ground truth annotates every
    labelled part (arm or robot, gripper, object, distractor) count."""
    k = len(CONF_NAMES)
    counts = defaultdict(lambda: np.zeros((k, k), dtype=np.int64))
    def all_labelled(ann: set[str]) -> bool:
        return {"gripper", "object", "distractor"} <= ann and bool(ann & {"arm", "robot"})

    for gt, pred, video, vm, emb in matched_videos(pairs, all_labelled):
        ann = set(vm.get("annotated_parts", PART_NAMES))
        pann = set(pred.video_meta(video).get("annotated_parts", PART_NAMES))
        for f in range(int(vm["frames"])):
            g, q = read_labelled(gt, video, f, ann), read_labelled(pred, video, f, pann)
            shape = next(iter(g.values())).shape
            lg, lp = pixel_labels(g, shape), pixel_labels(q, shape)
            c = np.bincount(lg.ravel().astype(np.int64) * k + lp.ravel(), minlength=k * k).reshape(k, k)
            counts[emb] += c
            counts["all"] += c
    if not counts:
        raise UserError(f"no video with all parts annotated in {', '.join(str(g) for g, _ in pairs)}")
    out = {}
    for emb in sorted(counts, key=lambda e: (e == "all", e)):
        c = counts[emb].astype(np.float64)
        rows = c.sum(1, keepdims=True)
        cols = c.sum(0, keepdims=True)
        out[emb] = {"pixels": counts[emb].tolist(),
                    "gt_to_pred": np.round(100 * c / np.maximum(rows, 1), 2).tolist(),
                    "pred_from_gt": np.round(100 * c / np.maximum(cols, 1), 2).tolist()}
    return out


def print_confusion(res: dict) -> None:
    head = " ".join(f"{n[:8]:>8s}" for n in CONF_NAMES)
    for emb, r in res.items():
        for key, title in (("gt_to_pred", "ground truth (rows) -> predicted, % of the row"),
                           ("pred_from_gt", "predicted (columns) <- ground truth, % of the column")):
            print(f"\n{emb}: {title}")
            print(f"{'':12s} {head}")
            for name, row in zip(CONF_NAMES, r[key]):
                print(f"{name:12s} " + " ".join(f"{v:8.1f}" for v in row))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m eval.where_missed", description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", action="append", required=True, type=Path, help="ground-truth tree (repeatable)")
    ap.add_argument("--pred", action="append", required=True, type=Path,
                    help="the labeller's tree for the --data of the same position (repeatable)")
    ap.add_argument("--part", default="robot", choices=PART_NAMES)
    ap.add_argument("--start", type=int, default=3, help="frames counted as the video's start (default 3)")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--confusion", action="store_true",
                    help="also print (and write) which part each part's pixels went to, per embodiment")
    ap.add_argument("--distance", nargs="?", const="3,15", metavar="B1,B2",
                    help="also split the errors of --distance-part by distance from its boundary (default bands 3,15)")
    ap.add_argument("--distance-part", default="foreground", choices=("foreground",) + PART_NAMES,
                    help="the part --distance looks at (default foreground)")
    args = ap.parse_args(argv)
    try:
        bands = None
        if args.distance is not None:
            try:
                bands = tuple(float(x) for x in args.distance.split(","))
            except ValueError:
                bands = ()
            if len(bands) != 2 or not 0 <= bands[0] < bands[1]:
                raise UserError(f"--distance {args.distance}: give two bands B1,B2 in pixels with 0 <= B1 < B2")
        if len(args.data) != len(args.pred):
            raise UserError(f"--data given {len(args.data)} times, --pred {len(args.pred)}: pass them in pairs")
        res = analyse(list(zip(args.data, args.pred)), args.part, args.start)
        conf = confusion_matrix(list(zip(args.data, args.pred))) if args.confusion else None
        dist = error_distance(list(zip(args.data, args.pred)), args.distance_part, bands) if bands else None
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    def f(x):
        return "   -" if x is None else f"{x:5.1f}"

    print(f"{args.part} IoU by embodiment and phase; missed pixels in parts that never move")
    print(f"{'embodiment':12s} {'videos':>6s} {'start':>6s} {'moving':>6s} {'still':>6s} {'all':>6s}   "
          f"{'missed':>6s} {'static':>6s} {'st.miss':>7s} {'of miss':>7s}")
    for emb, r in res.items():
        i = r["iou"]
        print(f"{emb:12s} {r['videos']:6d} " + " ".join(f(i.get(ph)).rjust(6) for ph in ("start", "moving", "still", "all"))
              + f"   {f(r['missed']).rjust(6)} {f(r['never_moving_share']).rjust(6)} "
              f"{f(r['never_moving_missed']).rjust(7)} {f(r['missed_share_never_moving']).rjust(7)}")
    print("missed: % of GT pixels missed; static: % of GT pixels that never move; st.miss: % of those missed; "
          "of miss: % of all missed pixels that never move")
    if conf is not None:
        print_confusion(conf)
    if dist is not None:
        print_distance(dist, args.distance_part, bands)
    if args.json:
        from distinctnet.io import atomic_write_json

        out = {"part": args.part, "start": args.start,
               "data": [str(d) for d in args.data], "pred": [str(p) for p in args.pred], "embodiments": res}
        if conf is not None:
            out["confusion"] = {"labels": list(CONF_NAMES), "embodiments": conf}
        if dist is not None:
            out["distance"] = {"part": args.distance_part, "bands": list(bands), "embodiments": dist}
        atomic_write_json(args.json, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
