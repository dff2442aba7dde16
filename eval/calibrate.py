"""Per-class mask thresholds for a checkpoint, chosen on a labelled calibration set (not the test set).

A sigmoid channel thresholded at 0.5 is not what maximises IoU when the model is unsure of a small part: on
recordings unlike its training data it under-segments grippers and objects (probabilities of 0.1-0.4 on their
pixels). This runs the labeller over a labelled-recording tree, collects per class a histogram of the
probabilities of its ground-truth pixels and of all other pixels, reads off the dataset IoU at every threshold
of a grid, and takes the best one per class. ``--write`` stores them in a copy of the checkpoint
(``meta["thresholds"]``; the weights are copied byte for byte), which ``distinctnet label`` and
``distinctnet eval`` then use by default (``--threshold`` overrides them).

    python -m eval.calibrate --data CALIB --checkpoint model.safetensors --write calibrated.safetensors \\
        [--json thresholds.json] [--plot thresholds.png]

Pick the calibration set like a validation set: labelled recordings the model was not trained on and that
are not the ones you report figures on (e.g. renders of the training robots from new seeds, repainted).
Thresholds fit the labeller they were calibrated with: give the labeller options you label with
(``--input-size``, ``--second-scale``, ``--small-parts``, ...; the defaults are ``distinctnet label``'s); they are
recorded in the JSON and in the checkpoint's ``meta["thresholds_from"]``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from distinctnet.errors import UserError, fail

BINS = 100  # probability histogram resolution (0.01)


class ThresholdHistogram:
    """Per class: counts of ground-truth-positive and -negative pixels per probability bin."""

    def __init__(self, classes, bins: int = BINS):
        self.bins = bins
        self.pos = {c: np.zeros(bins, np.int64) for c in classes}
        self.neg = {c: np.zeros(bins, np.int64) for c in classes}

    def add(self, cls: str, prob: np.ndarray, gt: np.ndarray) -> None:
        b = np.minimum((np.asarray(prob, np.float32) * self.bins).astype(np.int64), self.bins - 1)
        gt = np.asarray(gt, bool)
        self.pos[cls] += np.bincount(b[gt], minlength=self.bins)
        self.neg[cls] += np.bincount(b[~gt], minlength=self.bins)

    def iou_curve(self, cls: str) -> np.ndarray:
        """IoU (percent) of the mask prob >= k / bins for k = 0..bins-1; nan where the union is empty."""
        tp = np.cumsum(self.pos[cls][::-1])[::-1]
        fp = np.cumsum(self.neg[cls][::-1])[::-1]
        union = self.pos[cls].sum() + fp
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(union > 0, 100.0 * tp / np.maximum(union, 1), np.nan)

    def best(self, cls: str, grid: list[float]) -> tuple[float, float, float]:
        """(threshold of the grid with the highest IoU, that IoU, IoU at 0.5); ties go to the one nearest 0.5."""
        curve = self.iou_curve(cls)
        at = {t: float(curve[int(round(t * self.bins))]) for t in grid}
        t_best = max(grid, key=lambda t: (np.nan_to_num(at[t], nan=-1.0), -abs(t - 0.5)))
        return t_best, at[t_best], float(curve[self.bins // 2])


def collect(data: str | Path, labeller, progress: bool = True) -> tuple[ThresholdHistogram, int]:
    """Run ``labeller`` over every video of the tree ``data``; histograms of its model classes and frames seen."""
    from tqdm import tqdm

    from distinctnet.layout import Recording

    from .metrics import class_masks, scored_classes

    rec = Recording(data)
    if not rec.videos:
        raise fail(data, "no videos in this labelled-recording tree")
    hist = ThresholdHistogram(labeller.classes)
    total = sum(rec.num_frames(v) for v in rec.videos)
    frames = 0
    with tqdm(total=total, desc="calibrating", unit="frame", disable=not progress) as bar:
        for video in rec.videos:
            scored = set(scored_classes(rec.video_meta(video).get("annotated_parts", ())))
            classes = [(i, c) for i, c in enumerate(labeller.classes) if c in scored]
            def images():
                return (rec.read_image(video, i) for i in range(rec.num_frames(video)))

            kw = {"moved": labeller.moved_map(images())} if getattr(labeller, "needs_moved_map", False) else {}
            for i, (rgb, probs) in enumerate(labeller.predict(images(), **kw)):
                gt = class_masks(rec.read_masks(video, i))
                for ch, c in classes:
                    if gt[c].shape != probs[ch].shape:
                        raise fail(rec.mask_path(video, c, i), f"mask is {gt[c].shape}, its image "
                                                               f"{probs[ch].shape}")
                    hist.add(c, probs[ch], gt[c])
                frames += 1
                bar.update()
    return hist, frames


def calibrate(hist: ThresholdHistogram, grid: list[float]) -> dict:
    """Per class {threshold, iou, iou_at_0.5, positives}; classes without ground-truth pixels keep 0.5."""
    out = {}
    for c in hist.pos:
        n = int(hist.pos[c].sum())
        if n == 0:
            out[c] = {"threshold": 0.5, "iou": None, "iou_at_0.5": None, "positives": 0}
            continue
        t, iou, iou05 = hist.best(c, grid)
        out[c] = {"threshold": t, "iou": round(iou, 2), "iou_at_0.5": round(iou05, 2), "positives": n}
    return out


def plot(hist: ThresholdHistogram, result: dict, path: str | Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from distinctnet.io import atomic_write_figure

    fig, ax = plt.subplots(figsize=(6.5, 4))
    x = np.arange(hist.bins) / hist.bins
    for c, r in result.items():
        if r["positives"]:
            line, = ax.plot(x[1:], hist.iou_curve(c)[1:], label=f"{c}: {r['threshold']:g}")
            ax.plot([r["threshold"]], [r["iou"]], "o", color=line.get_color())
    ax.axvline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("mask threshold")
    ax.set_ylabel("IoU on the calibration set (%)")
    ax.legend(title="class: chosen threshold", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    atomic_write_figure(path, fig, dpi=120)


def parse_grid(text: str) -> list[float]:
    try:
        step = float(text)
    except ValueError:
        raise UserError(f"--step {text!r}: expected a number such as 0.05") from None
    if not 0.01 <= step <= 0.5 or abs(round(step * BINS) - step * BINS) > 1e-6:
        raise UserError(f"--step {text!r}: expected a multiple of 0.01 between 0.01 and 0.5")
    k = int(round(step * BINS))
    return [i / BINS for i in range(k, BINS, k)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="\n".join(__doc__.splitlines()[1:]))
    p.add_argument("--data", required=True, help="labelled calibration recordings (not the test set)")
    p.add_argument("--checkpoint", default=None, help="model (default: the shipped default model)")
    p.add_argument("--write", metavar="OUT", help="copy of the checkpoint with these thresholds in its meta")
    p.add_argument("--json", metavar="FILE", help="write thresholds and IoU per class")
    p.add_argument("--plot", metavar="PNG", help="IoU against threshold per class")
    p.add_argument("--classes", metavar="LIST", default=None,
                   help="calibrate only these classes (comma-separated); the others keep 0.5 (default: all)")
    p.add_argument("--step", default="0.05", help="threshold grid step (default 0.05: 0.05 ... 0.95)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--input-size", metavar="HxW", help="labeller input size (default: the model's native size)")
    from distinctnet.label.cli import add_pass_arguments, pass_options

    add_pass_arguments(p, prefix="labeller: ")
    p.add_argument("--quiet", action="store_true")
    args = p.parse_args(argv)
    try:
        from distinctnet.device import resolve_device
        from distinctnet.io import atomic_write_json
        from distinctnet.label.model import checkpoint_path, load_model
        from distinctnet.label.runner import Labeller
        from distinctnet.modeling.checkpoint import rewrite_meta

        grid = parse_grid(args.step)
        ckpt = checkpoint_path(args.checkpoint)
        size = None
        if args.input_size:
            from distinctnet.argtypes import parse_size

            size = parse_size(args.input_size, option="--input-size")
        labeller = Labeller(load_model(ckpt), resolve_device(args.device), thresholds=0.5, input_size=size,
                            **pass_options(args))
        hist, frames = collect(args.data, labeller, progress=not args.quiet)
        result = calibrate(hist, grid)
        if args.classes:
            chosen = [c.strip() for c in args.classes.split(",") if c.strip()]
            unknown = sorted(set(chosen) - set(result))
            if unknown:
                raise UserError(f"--classes: {', '.join(unknown)} not among the model's classes "
                                f"({', '.join(result)})")
            for c, r in result.items():
                if c not in chosen:
                    r.update(threshold=0.5, iou=r["iou_at_0.5"], kept_at_half=True)
        print(f"{frames} frames of {args.data}; dataset IoU (%) at 0.5 and at the chosen threshold")
        print(f"{'class':<12}{'IoU@0.5':>9}{'threshold':>11}{'IoU':>7}")
        for c, r in result.items():
            f = (lambda v: "-" if v is None else f"{v:.1f}")
            print(f"{c:<12}{f(r['iou_at_0.5']):>9}{r['threshold']:>11g}{f(r['iou']):>7}")
        thresholds = {c: r["threshold"] for c, r in result.items()}
        info = {"checkpoint": str(ckpt), "data": str(args.data), "frames": frames, "grid_step": grid[0],
                "labeller": labeller.settings(), "thresholds": thresholds, "classes": result}
        if args.json:
            atomic_write_json(args.json, info)
        if args.plot:
            plot(hist, result, args.plot)
        if args.write:
            rewrite_meta(ckpt, args.write, {"thresholds": thresholds,
                                            "thresholds_from": {"data": str(args.data), "frames": frames,
                                                                "classes": args.classes or "all",
                                                                "labeller": labeller.settings(),
                                                                "tool": "python -m eval.calibrate"}})
            print(f"wrote {args.write}")
    except UserError as e:
        print(f"calibrate: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
