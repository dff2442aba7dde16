"""Loss and IoU curves (PNG) from the CSV log of a training run.

    python -m training.plots runs/x/csv/version_0/metrics.csv curves.png
"""
from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path

from distinctnet.errors import UserError, fail


def read_metrics(csv_path: str | Path) -> dict[str, list[tuple[float, float]]]:
    """{metric: [(step, value), ...]} from Lightning's CSVLogger file (empty cells skipped)."""
    csv_path = Path(csv_path)
    if not csv_path.is_file():
        raise fail(csv_path, "metrics CSV not found")
    series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    with open(csv_path, newline="") as f:
        for row in csv.DictReader(f):
            step = row.get("step")
            if step in (None, ""):
                continue
            for key, value in row.items():
                if key in ("step", "epoch") or value in (None, ""):
                    continue
                try:
                    series[key].append((float(step), float(value)))
                except ValueError:
                    continue
    return dict(series)


def plot_curves(csv_path: str | Path, out_path: str | Path) -> Path:
    """Left: training loss per step and per epoch, validation loss; right: validation IoU per class."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from distinctnet.io import atomic_write_figure

    series = read_metrics(csv_path)
    if not series:
        raise fail(csv_path, "no metrics logged yet")
    fig, (ax_loss, ax_iou) = plt.subplots(1, 2, figsize=(11, 4))
    for key, style in (("train/loss_step", dict(alpha=0.35, lw=0.8)), ("train/loss_epoch", dict(marker="o")),
                       ("val/loss", dict(marker="s"))):
        if key in series:
            x, y = zip(*series[key])
            ax_loss.plot(x, y, label=key, **style)
    ax_loss.set(xlabel="step", ylabel="loss", title="loss")
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    iou_keys = sorted(k for k in series if k.startswith("val/iou_")) + (["val/miou"] if "val/miou" in series else [])
    for key in iou_keys:
        x, y = zip(*series[key])
        ax_iou.plot(x, y, marker="o", label=key[4:], lw=2.5 if key == "val/miou" else 1.2)
    ax_iou.set(xlabel="step", ylabel="IoU", title="validation IoU", ylim=(0, 1))
    if iou_keys:
        ax_iou.legend()
    ax_iou.grid(alpha=0.3)
    fig.tight_layout()
    return atomic_write_figure(out_path, fig, dpi=100)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m training.plots", description=__doc__.splitlines()[0])
    p.add_argument("csv")
    p.add_argument("out")
    args = p.parse_args(argv)
    try:
        print(plot_curves(args.csv, args.out))
    except UserError as e:
        print(f"plots: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
