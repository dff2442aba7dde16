"""``distinctnet eval``: score predicted masks against a labelled-recording tree.

    distinctnet eval --data GT --pred PRED --json scores.json --report report/   # score an existing prediction
    distinctnet eval --data GT --checkpoint model.safetensors --json scores.json  # label GT's images first

Without ``--pred`` the labeller (``distinctnet.label.runner.label_recordings``) runs over the images of
``--data`` into ``--out`` (default: a temporary folder, removed afterwards), timed; the JSON's ``run``
section then holds pairs/s and the model's parameter count. The JSON schema is in ``eval/SCHEMA.md``.
"""
from __future__ import annotations

import argparse

CLASS_HELP = "background, foreground, robot, arm, gripper, object, distractor"


def _csv(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def add_arguments(p: argparse.ArgumentParser) -> None:
    from distinctnet.label.cli import add_pass_arguments

    p.add_argument("--data", required=True, metavar="ROOT", help="ground-truth labelled-recording tree")
    p.add_argument("--pred", metavar="PRED", help="predicted tree to score (same layout, same video names)")
    p.add_argument("--checkpoint", metavar="C", help="model to run the labeller with when --pred is not given")
    p.add_argument("--out", metavar="DIR", help="where the labeller writes its masks (default: temporary)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda (labeller only; default auto)")
    p.add_argument("--tta", default="none", choices=("none", "flip", "bidir"),
                   help="labeller test-time augmentation (see distinctnet label --tta; default none)")
    p.add_argument("--input-size", metavar="HxW", help="labeller input size (default: the model's native size)")
    p.add_argument("--clean", type=float, default=0.0, metavar="RATIO",
                   help="labeller: drop robot mask pieces smaller than RATIO x the largest (see distinctnet label "
                        "--clean; default 0, off)")
    add_pass_arguments(p, prefix="labeller: ")
    p.add_argument("--threshold", type=float, default=None,
                   help="labeller mask threshold for all parts (default: the checkpoint's calibrated per-part "
                        "thresholds, else 0.5)")
    p.add_argument("--json", metavar="FILE", help="write the scores (schema in eval/SCHEMA.md)")
    p.add_argument("--report", metavar="DIR", help="write a Markdown report with plots and worst-frame overlays")
    p.add_argument("--classes", type=_csv, metavar="LIST", help=f"classes to score (default all: {CLASS_HELP})")
    p.add_argument("--motion-parts", type=_csv, default=["robot", "foreground"], metavar="LIST",
                   help="classes for the motion-stop curve (default robot,foreground)")
    p.add_argument("--videos", type=_csv, metavar="LIST", help="score only these videos")
    p.add_argument("--skip-first-and-last", action="store_true",
                   help="J&F: skip each video's first and last frame (DAVIS semi-supervised protocol)")
    p.add_argument("--worst", type=int, default=20, help="worst frames to list (default 20)")
    p.add_argument("--overlays", type=int, default=12, help="worst frames drawn in the report (default 12)")
    p.add_argument("--workers", type=int, default=1, help="score videos in this many processes (default 1)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def run_labeller(data: str, out: str, checkpoint: str, device: str, tta: str = "none",
                 input_size: tuple[int, int] | None = None, threshold: float | None = None, clean: float = 0.0,
                 reference: str | None = None, gap: int | None = None, zoom: float = 0.0,
                 second_scale: float | None = None, refine: str | None = None, exclusive: str | None = None,
                 small_parts: str | None = None, unmoved: str | None = None) -> dict:
    """Label ``data``'s images into ``out`` with the model; returns the ``run`` section of the scores."""
    import time

    from distinctnet.errors import UserError, fail
    from distinctnet.layout import Recording

    try:
        from distinctnet.label.runner import label_recordings
    except ImportError:
        raise UserError("labeller not available (distinctnet.label.runner.label_recordings is missing); "
                        "label the recordings first and pass --pred") from None
    from pathlib import Path

    if not Path(checkpoint).is_file():
        raise fail(checkpoint, "checkpoint not found")
    t0 = time.perf_counter()
    info = label_recordings(data, out, checkpoint=checkpoint, device=device, tta=tta, input_size=input_size,
                            threshold=threshold, clean=clean, reference=reference, gap=gap,
                            zoom=zoom, second_scale=second_scale, refine=refine, exclusive=exclusive,
                            small_parts=small_parts, unmoved=unmoved)
    seconds = time.perf_counter() - t0
    info = info if isinstance(info, dict) else {}
    pairs = info.get("pairs")
    if pairs is None:  # one pair (target, reference) per labelled frame
        rec = Recording(out)
        pairs = sum(rec.num_frames(v) for v in rec.videos)
    seconds = float(info.get("seconds", seconds))
    return {"checkpoint": str(checkpoint), "device": str(info.get("device", device)), "pairs": int(pairs),
            "seconds": seconds, "pairs_per_s": pairs / seconds if seconds > 0 else None,
            "parameters": info.get("parameters", parameter_count(checkpoint)), "pred_root": str(out),
            "tta": tta, "input_size": list(input_size) if input_size else None,
            "thresholds": info.get("thresholds"), "clean": clean,
            "reference": info.get("reference", reference), "gap": info.get("gap", gap), "zoom": info.get("zoom", zoom),
            "second_size": info.get("second_size"), "refine": info.get("refine", refine),
            "exclusive": info.get("exclusive", exclusive), "small_parts": info.get("small_parts", small_parts),
            "unmoved": info.get("unmoved", unmoved)}


def parameter_count(checkpoint: str) -> int | None:
    """Number of parameters of the checkpoint's network (None when the model code cannot load it)."""
    try:
        from distinctnet.modeling import load_checkpoint

        model = load_checkpoint(checkpoint, map_location="cpu")
    except Exception:  # noqa: BLE001 - the count is informative only; the labeller reports bad checkpoints
        return None
    return int(sum(p.numel() for p in model.parameters()))


def print_summary(result: dict) -> None:
    from .review_flags import pct

    def f(v):
        return "   -" if v is None else f"{v:5.1f}"

    print(f"{result['summary']['videos']} videos, {result['summary']['frames']} frames")
    print("IoU  " + "  ".join(f"{c} {f(r['iou'])}" for c, r in result["iou"].items()))
    print("J&F  " + "  ".join(f"{p} {f(r['JF'])}" for p, r in result["jf"].items()))
    for p, r in result["motion_stop"]["parts"].items():
        if r["videos"]:
            print(f"motion stop {p}: kept after {result['motion_stop']['kept_after']} static frames "
                  f"{f(r['kept'])} % ({len(r['videos'])} videos)")
    if (rv := result.get("review")) and (fr := rv["parts"].get("frame")):
        print(f"review flags: {fr['flagged_pct']:.0f}% of {fr['frames']} frames flagged; {fr['bad_pct']:.0f}% have a "
              f"part with IoU < {rv['bad_iou']:g}; precision {pct(fr['precision'])}, recall {pct(fr['recall'])}")
    if result.get("run"):
        r = result["run"]
        print(f"labeller: {r['pairs']} pairs in {r['seconds']:.1f} s = {r['pairs_per_s'] or 0:.2f} pairs/s, "
              f"{r['parameters']} parameters")


def run(args: argparse.Namespace) -> int:
    import shutil
    import tempfile

    from distinctnet.errors import UserError
    from distinctnet.io import atomic_write_json

    from .metrics import CLASSES
    from .report import write_report
    from .score import score

    if args.worst < 0 or args.overlays < 0:
        raise UserError("--worst and --overlays must be >= 0")
    tmp = None
    try:
        run_info = None
        pred = args.pred
        if pred is None:
            if not args.checkpoint:
                raise UserError("give --pred (a predicted tree) or --checkpoint (a model to label --data with)")
            pred = args.out or (tmp := tempfile.mkdtemp(prefix="distinctnet-eval-"))
            from distinctnet.label.cli import pass_options

            size = None
            if args.input_size:
                from distinctnet.argtypes import parse_size

                size = parse_size(args.input_size, option="--input-size")
            if args.threshold is not None and not 0.0 < args.threshold < 1.0:
                raise UserError("--threshold must be between 0 and 1")
            run_info = run_labeller(args.data, pred, args.checkpoint, args.device, args.tta, size, args.threshold,
                                    args.clean, **pass_options(args))
        result = score(args.data, pred, args.classes or CLASSES, motion_parts=args.motion_parts,
                       skip_first_and_last=args.skip_first_and_last, worst_k=args.worst,
                       videos=args.videos, progress=not args.quiet, workers=args.workers)
        result["run"] = run_info
        from .review_flags import review_section

        if review := review_section(args.data, pred, [v["video"] for v in result["videos"]]):
            result["review"] = review
        if run_info and tmp:
            run_info["pred_root"] = None  # removed below
        if args.json:
            atomic_write_json(args.json, result)
        if args.report:
            md = write_report(result, args.report, gt_root=args.data, pred_root=pred, overlays=args.overlays)
            print(f"report: {md}")
        print_summary(result)
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0
